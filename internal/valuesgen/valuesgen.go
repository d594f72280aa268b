// Package valuesgen writes what a team brings to fleetc from an old
// templater, for the tests and the benchmark of `fleetc import values`:
// the values tree it rendered (cluster/<cluster>/<category>/<app>/values.yaml)
// and the Argo CD cluster Secrets `argocd cluster add` made, for a fleet
// that internal/fleetgen draws. The values are the reference platform's
// for that fleet (with its per-cluster overrides, names inside strings and
// env-dependent settings), then changed as hand-kept templates drift:
// sporadic overrides, keys only some clusters have, lists that differ,
// values whose type differs, and an app the catalog does not have. The
// same seed gives the same bytes.
package valuesgen

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"

	"go.yaml.in/yaml/v3"

	"github.com/fleetc/fleetc/internal/argocd"
	"github.com/fleetc/fleetc/internal/compile"
	"github.com/fleetc/fleetc/internal/fleetgen"
	"github.com/fleetc/fleetc/internal/load"
	"github.com/fleetc/fleetc/internal/render"
)

// NewApp is the app the generated tree has on every cluster that the
// reference catalog does not: its bundle must be given (core-basic, which
// every cluster has, as security-basic does).
const (
	NewApp      = "stakater-reloader"
	NewCategory = "core"
	NewBundle   = "core-basic"
)

// Options say what to write besides the values of the deployed apps.
type Options struct {
	// Unused writes, for some clusters, values of an app whose bundle
	// they do not enable, as an old templater that rendered every
	// template for every cluster left them.
	Unused bool
}

// Write writes into dir the values tree (dir/cluster/...) and the cluster
// Secrets (dir/secrets.json, a List as kubectl prints it) of the fleet of
// n clusters that fleetgen.Generate draws from seed, using the reference
// platform at repo to compute the values. work is a scratch directory.
func Write(repo, work, dir string, n int, seed uint64, opts Options) error {
	if err := fleetgen.Generate(repo, work, n, seed); err != nil {
		return err
	}
	p, err := load.Load(load.Config{Dir: work})
	if err != nil {
		return err
	}
	r := fleetgen.NewRand(seed)
	specs := make([]fleetgen.Spec, n)
	byName := map[string]int{}
	for i := range n {
		specs[i] = fleetgen.NewSpec(r, i)
		byName[specs[i].Name] = i
	}
	type file struct {
		path string
		data []byte
	}
	results, err := compile.Fleet(p, compile.Options{}, func(c *compile.Cluster) ([]file, error) {
		i := byName[c.Name]
		rc := rand.New(rand.NewPCG(seed, uint64(i)+1))
		var out []file
		var unusedSrc *yaml.Node
		for _, app := range c.Apps {
			data, err := render.YAML(app.Values, "")
			if err != nil {
				return nil, err
			}
			var doc yaml.Node
			if err := yaml.Unmarshal(data, &doc); err != nil {
				return nil, err
			}
			top := doc.Content[0]
			drift(rc, top, specs[i])
			if app.Name == "goldilocks" {
				unusedSrc = top
			}
			b, err := encode(top)
			if err != nil {
				return nil, err
			}
			out = append(out, file{render.ValuesPath(c.Name, app.Category, app.Name), b})
		}
		// The app the catalog lacks, on every cluster.
		reloader := newAppValues(specs[i])
		b, err := encode(reloader)
		if err != nil {
			return nil, err
		}
		out = append(out, file{render.ValuesPath(c.Name, NewCategory, NewApp), b})
		if opts.Unused && unusedSrc == nil && rc.IntN(2) == 0 {
			// finops-basic is off here; the templater wrote the file anyway.
			var n yaml.Node
			if err := yaml.Unmarshal([]byte("goldilocks:\n  vpa:\n    enabled: true\n"), &n); err != nil {
				return nil, err
			}
			b, err := encode(n.Content[0])
			if err != nil {
				return nil, err
			}
			out = append(out, file{render.ValuesPath(c.Name, "finops", "goldilocks"), b})
		}
		return out, nil
	})
	if err != nil {
		return err
	}
	for _, res := range results {
		for _, f := range res.Value {
			path := filepath.Join(dir, filepath.FromSlash(f.path))
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				return err
			}
			if err := os.WriteFile(path, f.data, 0o644); err != nil {
				return err
			}
		}
	}
	secrets, err := Secrets(specs)
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "secrets.json"), secrets, 0o644)
}

// encode writes a values file as a templater would: two-space YAML, no
// header.
func encode(n *yaml.Node) ([]byte, error) {
	return yaml.Marshal(n)
}

// drift changes a cluster's values the way hand-kept templates drift, a
// few draws per file: the draws are in a fixed order so a seed means one
// tree.
func drift(r *rand.Rand, top *yaml.Node, s fleetgen.Spec) {
	chart := top
	if len(top.Content) == 2 && top.Content[1].Kind == yaml.MappingNode {
		chart = top.Content[1]
	}
	// A key only some clusters have: a team's annotation on its pods.
	if r.IntN(5) == 0 {
		add(chart, "podAnnotations", mapping("team.corp.local/owner", s.Team))
	}
	// A key most clusters have and a few lost.
	if r.IntN(12) == 0 && len(chart.Content) >= 4 {
		chart.Content = chart.Content[2:]
	}
	// A sporadic override of a scalar somewhere.
	if r.IntN(8) == 0 {
		if leaf := pick(r, chart); leaf != nil {
			switch leaf.Tag {
			case "!!int":
				x, _ := strconv.Atoi(leaf.Value)
				leaf.Value = strconv.Itoa(x + 1)
			case "!!bool":
				leaf.Value = strconv.FormatBool(leaf.Value != "true")
			default:
				leaf.Value += "-" + s.Region
				leaf.Style = 0
			}
		}
	}
	// A list that differs: one more item.
	if r.IntN(6) == 0 {
		if l := pickList(r, chart); l != nil && len(l.Content) > 0 {
			l.Content = append(l.Content, clone(l.Content[len(l.Content)-1]))
		}
	}
	// A value whose type differs: a number written as a string.
	if r.IntN(15) == 0 {
		if leaf := pick(r, chart); leaf != nil && leaf.Tag == "!!int" {
			leaf.Tag, leaf.Style = "!!str", yaml.DoubleQuotedStyle
		}
	}
}

// newAppValues are the values of NewApp: the cluster's name in a string,
// a setting per env, and a registry some clusters override.
func newAppValues(s fleetgen.Spec) *yaml.Node {
	registry := "pullproxy.corp.local"
	if s.Registry != "" {
		registry = s.Registry
	}
	replicas := map[string]int{"dev": 1, "staging": 1, "prod": 2}[s.Env]
	src := fmt.Sprintf(`reloader:
  image:
    repository: %s/ghcr.io/stakater/reloader
  reloader:
    watchGlobally: true
    deployment:
      replicas: %d
      labels:
        cluster: %s
  extraArgs:
  - --namespace-selector=platform.corp.local/cluster=%s
`, registry, replicas, s.Name, s.Name)
	var n yaml.Node
	if err := yaml.Unmarshal([]byte(src), &n); err != nil {
		panic(err)
	}
	return n.Content[0]
}

func add(m *yaml.Node, key string, v *yaml.Node) {
	if m.Kind != yaml.MappingNode {
		return
	}
	for i := 0; i < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return
		}
	}
	m.Content = append(m.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: key}, v)
}

func mapping(k, v string) *yaml.Node {
	return &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Content: []*yaml.Node{
		{Kind: yaml.ScalarNode, Tag: "!!str", Value: k},
		{Kind: yaml.ScalarNode, Tag: "!!str", Value: v},
	}}
}

// walk lists the nodes under n in document order.
func walk(n *yaml.Node, visit func(*yaml.Node)) {
	visit(n)
	for i, c := range n.Content {
		if n.Kind == yaml.MappingNode && i%2 == 0 {
			continue // a key
		}
		walk(c, visit)
	}
}

// pick draws one scalar value under n.
func pick(r *rand.Rand, n *yaml.Node) *yaml.Node {
	var leaves []*yaml.Node
	walk(n, func(c *yaml.Node) {
		if c.Kind == yaml.ScalarNode {
			leaves = append(leaves, c)
		}
	})
	if len(leaves) == 0 {
		return nil
	}
	return leaves[r.IntN(len(leaves))]
}

// pickList draws one list under n.
func pickList(r *rand.Rand, n *yaml.Node) *yaml.Node {
	var lists []*yaml.Node
	walk(n, func(c *yaml.Node) {
		if c.Kind == yaml.SequenceNode {
			lists = append(lists, c)
		}
	})
	if len(lists) == 0 {
		return nil
	}
	return lists[r.IntN(len(lists))]
}

func clone(n *yaml.Node) *yaml.Node {
	c := *n
	c.Content = make([]*yaml.Node, len(n.Content))
	for i, x := range n.Content {
		c.Content[i] = clone(x)
	}
	return &c
}

// Secrets are the Argo CD cluster Secrets of the fleet, as `kubectl get
// secrets -l argocd.argoproj.io/secret-type=cluster -o json` lists them:
// name, server, env and bundle labels, project, namespaces; a fake config.
// Each is named as `argocd cluster add` names it.
func Secrets(specs []fleetgen.Spec) ([]byte, error) {
	b64 := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	var items []any
	for _, s := range specs {
		labels := map[string]string{
			"argocd.argoproj.io/secret-type": "cluster",
			"env":                            s.Env,
			"core-basic":                     "enabled",
			"security-basic":                 "enabled",
			"region":                         s.Region,
			"team":                           s.Team,
		}
		if s.Provider != "" {
			labels["provider"] = s.Provider
		}
		for _, b := range s.Bundles {
			labels[b] = "enabled"
		}
		data := map[string]string{"name": b64(s.Name), "server": b64(s.Server), "config": b64(`{"bearerToken":"FAKE"}`)}
		if s.Project != "" {
			data["project"] = b64(s.Project)
		}
		if len(s.Namespaces) > 0 {
			ns := slices.Clone(s.Namespaces)
			data["namespaces"] = b64(joinComma(ns))
		}
		if s.ClusterResources != nil {
			data["clusterResources"] = b64(strconv.FormatBool(*s.ClusterResources))
		}
		name, err := argocd.SecretName(s.Server)
		if err != nil {
			return nil, err
		}
		items = append(items, map[string]any{
			"apiVersion": "v1", "kind": "Secret",
			"metadata": map[string]any{"name": name, "namespace": "argocd", "labels": labels, "annotations": s.Annotations},
			"type":     "Opaque",
			"data":     data,
		})
	}
	return json.MarshalIndent(map[string]any{"apiVersion": "v1", "kind": "List", "items": items}, "", "  ")
}

func joinComma(s []string) string {
	out := ""
	for i, x := range s {
		if i > 0 {
			out += ","
		}
		out += x
	}
	return out
}
