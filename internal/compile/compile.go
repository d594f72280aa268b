// Package compile evaluates clusters: each cluster file is unified with the
// shared clusters package (and through it the platform's schema, defaults
// and catalog) on its own, validated, and returned as plain data plus the
// CUE values of its apps. It never touches disk or prints.
package compile

import (
	"fmt"
	"net/url"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"

	"cuelang.org/go/cue"
	"cuelang.org/go/cue/cuecontext"
	"cuelang.org/go/cue/token"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/fleetc/fleetc/internal/diag"
	"github.com/fleetc/fleetc/internal/load"
)

// The CUE paths fleetc reads from the clusters package.
var (
	// ClustersPath holds every cluster, keyed by name.
	ClustersPath = cue.ParsePath(load.ClustersField)
	// DeployPath holds, per cluster, the apps it gets.
	DeployPath = cue.ParsePath("deploy")
	// PlatformPath holds the platform settings fleetc itself reads.
	PlatformPath = cue.ParsePath("platform")
)

// Cluster is one evaluated, valid cluster.
type Cluster struct {
	Name   string
	File   string // absolute path of the cluster's file
	Env    string
	Server string
	// Bundles are the enabled bundles, sorted.
	Bundles     []string
	Labels      map[string]string
	Annotations map[string]string
	ArgoCD      ArgoCD
	// CredentialsKey is where the secret store keeps this cluster's
	// credentials.
	CredentialsKey string
	// Apps are the apps the cluster gets, in the catalog's order.
	Apps []App
	// Value is the evaluated cluster, for tools that explain it.
	Value cue.Value
}

// ArgoCD holds the optional Argo CD settings of a cluster.
type ArgoCD struct {
	Project          string   `json:"project"`
	Namespaces       []string `json:"namespaces"`
	ClusterResources *bool    `json:"clusterResources"`
}

// App is one app deployed to a cluster.
type App struct {
	Name     string `json:"name"`
	Bundle   string `json:"bundle"`
	Category string `json:"category"`
	Chart    string `json:"chart"`
	// Values is the app's values file, as a concrete CUE value.
	Values cue.Value `json:"-"`
}

// Options selects what Fleet compiles.
type Options struct {
	// Clusters limits the compile to these cluster names; empty means all.
	Clusters []string
	// Workers is how many clusters are evaluated at once; 0 means one per
	// CPU.
	Workers int
}

// Result is what one cluster yields after the caller's step.
type Result[T any] struct {
	Cluster string
	Value   T
}

// Fleet evaluates the selected clusters of p, in parallel, and passes each
// valid cluster to step on the worker that evaluated it, so its CUE values
// can be turned into bytes and dropped before the next cluster. Results
// come back sorted by cluster name. Every problem in every cluster is
// reported; if there is any, the results are nil.
func Fleet[T any](p *load.Platform, opts Options, step func(*Cluster) (T, error)) ([]Result[T], error) {
	files, err := selectClusters(p, opts.Clusters)
	if err != nil {
		return nil, err
	}
	workers := opts.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	workers = max(1, min(workers, len(files)))

	results := make([]Result[T], len(files))
	diags := make([]diag.List, len(files))
	servers := make([]string, len(files))
	next := make(chan int)
	var wg sync.WaitGroup
	var setupErr error
	var setupOnce sync.Once
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ev, err := newEvaluator(p, w == 0)
			if err != nil {
				setupOnce.Do(func() { setupErr = err })
				for range next {
				}
				return
			}
			for i := range next {
				c, ds := ev.cluster(files[i])
				if len(ds) > 0 {
					diags[i] = ds
					continue
				}
				servers[i] = c.Server
				v, err := step(c)
				if err != nil {
					diags[i] = diag.List{{Pos: token.Position{Filename: c.File}, Cluster: c.Name, Message: err.Error()}}
					continue
				}
				results[i] = Result[T]{Cluster: c.Name, Value: v}
			}
		}()
	}
	for i := range files {
		next <- i
	}
	close(next)
	wg.Wait()
	if setupErr != nil {
		return nil, setupErr
	}

	var all diag.List
	for _, ds := range diags {
		all = append(all, ds...)
	}
	all = append(all, duplicateServers(p.Root, files, servers)...)
	if len(all) > 0 {
		return nil, all.Sorted()
	}
	return results, nil
}

func selectClusters(p *load.Platform, names []string) ([]*load.ClusterFile, error) {
	if len(names) == 0 {
		return p.Clusters, nil
	}
	byName := map[string]*load.ClusterFile{}
	for _, c := range p.Clusters {
		byName[c.Name] = c
	}
	var out []*load.ClusterFile
	var unknown []string
	seen := map[string]bool{}
	for _, n := range names {
		c, ok := byName[n]
		switch {
		case !ok:
			unknown = append(unknown, n)
		case !seen[n]:
			seen[n] = true
			out = append(out, c)
		}
	}
	if len(unknown) > 0 {
		return nil, fmt.Errorf("no such cluster: %s (the platform has %d clusters in %s/)", strings.Join(unknown, ", "), len(p.Clusters), load.ClustersDir)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// duplicateServers reports clusters that register the same API server:
// Argo CD keys clusters by server URL, so the second would overwrite the
// first.
func duplicateServers(root string, files []*load.ClusterFile, servers []string) diag.List {
	first := map[string]int{}
	var out diag.List
	for i, s := range servers {
		if s == "" {
			continue
		}
		if j, ok := first[s]; ok {
			other := files[j].Pos.Position()
			rel, _ := filepath.Rel(root, other.Filename)
			out = append(out, diag.Errorf(files[i].Pos, files[i].Name,
				"server %s is also the server of cluster %q (%s:%d:%d): Argo CD keys clusters by server URL",
				s, files[j].Name, filepath.ToSlash(rel), other.Line, other.Column))
			continue
		}
		first[s] = i
	}
	return out
}

// evaluator compiles clusters one at a time in its own cue.Context; a
// context is not safe for concurrent use, so each worker has one.
type evaluator struct {
	ctx    *cue.Context
	shared cue.Value
}

// newEvaluator builds the shared package in a new context. Building an
// instance mutates it, so only the first worker uses the one Load made;
// the others load their own.
func newEvaluator(p *load.Platform, first bool) (*evaluator, error) {
	inst := p.Shared
	if !first {
		var err error
		if inst, err = p.LoadShared(); err != nil {
			return nil, err
		}
	}
	ctx := cuecontext.New()
	shared := ctx.BuildInstance(inst)
	if err := shared.Err(); err != nil {
		return nil, diag.FromCUE(err, "", "", token.NoPos, nil).Sorted()
	}
	return &evaluator{ctx: ctx, shared: shared}, nil
}

// cluster evaluates one cluster file against the shared package.
func (ev *evaluator) cluster(f *load.ClusterFile) (*Cluster, diag.List) {
	data := ev.ctx.BuildFile(f.Syntax, cue.Filename(f.Path))
	if err := data.Err(); err != nil {
		return nil, diag.FromCUE(err, f.Name, f.Path, f.Pos, trimmer(f.Name))
	}
	v := ev.shared.Unify(data)
	cv := v.LookupPath(ClustersPath).LookupPath(cue.MakePath(cue.Str(f.Name)))
	if ds := ev.validate(f, data, cv); len(ds) > 0 {
		return nil, ds
	}
	c := &Cluster{Name: f.Name, File: f.Path, Value: cv}
	var fields struct {
		Env         string            `json:"env"`
		Server      string            `json:"server"`
		Bundles     map[string]bool   `json:"bundles"`
		Labels      map[string]string `json:"labels"`
		Annotations map[string]string `json:"annotations"`
		ArgoCD      ArgoCD            `json:"argocd"`
		Credentials struct {
			Key string `json:"key"`
		} `json:"credentials"`
	}
	if err := cv.Decode(&fields); err != nil {
		return nil, diag.FromCUE(err, f.Name, f.Path, f.Pos, trimmer(f.Name))
	}
	c.Env, c.Server, c.Labels, c.Annotations, c.ArgoCD = fields.Env, fields.Server, fields.Labels, fields.Annotations, fields.ArgoCD
	c.CredentialsKey = fields.Credentials.Key
	for b, on := range fields.Bundles {
		if on {
			c.Bundles = append(c.Bundles, b)
		}
	}
	sort.Strings(c.Bundles)
	if ds := kubernetesRules(c, cv, f); len(ds) > 0 {
		return nil, ds
	}

	dv := v.LookupPath(DeployPath).LookupPath(cue.MakePath(cue.Str(f.Name)))
	if err := dv.Validate(cue.Concrete(true)); err != nil {
		return nil, diag.FromCUE(err, f.Name, "", token.NoPos, trimmer(f.Name))
	}
	iter, err := dv.Fields()
	if err != nil {
		return nil, diag.FromCUE(err, f.Name, "", token.NoPos, trimmer(f.Name))
	}
	for iter.Next() {
		var app App
		if err := iter.Value().Decode(&app); err != nil {
			return nil, diag.FromCUE(err, f.Name, "", token.NoPos, trimmer(f.Name))
		}
		app.Values = iter.Value().LookupPath(cue.ParsePath("values"))
		c.Apps = append(c.Apps, app)
	}
	return c, nil
}

// validate checks the cluster in two passes so that a user sees causes,
// not their echoes: first conflicts, fields the schema does not allow and
// required fields left out; only when there are none, values that are not
// concrete (which a missing required field would otherwise cause by the
// dozen).
func (ev *evaluator) validate(f *load.ClusterFile, data, cv cue.Value) diag.List {
	// CUE leaves out "field not allowed" and missing required fields when
	// a struct has other errors, and an erroneous value allows anything,
	// so compare the file's own fields with the schema of any cluster.
	own := data.LookupPath(ClustersPath).LookupPath(cue.MakePath(cue.Str(f.Name)))
	schema := ev.shared.LookupPath(ClustersPath).LookupPath(cue.MakePath(cue.AnyString))
	ds := append(notAllowed(f, own, schema, nil), missingRequired(f, own, schema, nil)...)
	if err := cv.Validate(); err != nil {
		ds = append(ds, diag.FromCUE(err, f.Name, f.Path, f.Pos, trimmer(f.Name))...)
	}
	if len(ds) == 0 {
		if err := cv.Validate(cue.Concrete(true)); err != nil {
			ds = diag.FromCUE(err, f.Name, f.Path, f.Pos, trimmer(f.Name))
		}
	}
	return ds.Sorted()
}

// notAllowed reports the fields that the cluster file sets (own) and that
// the schema (the evaluated cluster, closed) does not allow.
func notAllowed(f *load.ClusterFile, own, schema cue.Value, path []cue.Selector) diag.List {
	iter, err := own.Fields()
	if err != nil {
		return nil
	}
	var out diag.List
	for iter.Next() {
		sel := iter.Selector()
		p := append(append([]cue.Selector(nil), path...), sel)
		if !schema.Allows(sel) {
			out = append(out, diag.Diagnostic{
				Pos: iter.Value().Pos().Position(), Cluster: f.Name,
				Path: cue.MakePath(p...).String(), Message: "field not allowed",
			})
			continue
		}
		if iter.Value().IncompleteKind() == cue.StructKind {
			out = append(out, notAllowed(f, iter.Value(), fieldSchema(schema, sel), p)...)
		}
	}
	return out
}

// fieldSchema returns the schema of the field sel of schema, whether it is
// declared regular, optional or required, or only allowed by a pattern.
func fieldSchema(schema cue.Value, sel cue.Selector) cue.Value {
	for _, s := range []cue.Selector{sel, sel.Optional(), sel.Required()} {
		if v := schema.LookupPath(cue.MakePath(s)); v.Exists() {
			return v
		}
	}
	return schema.LookupPath(cue.MakePath(cue.AnyString))
}

// missingRequired reports the required fields of the schema that the
// cluster file does not set, at the cluster's own position: CUE reports
// them only when nothing else is wrong.
func missingRequired(f *load.ClusterFile, own, schema cue.Value, path []cue.Selector) diag.List {
	iter, err := schema.Fields(cue.Optional(true))
	if err != nil {
		return nil
	}
	var out diag.List
	for iter.Next() {
		sel := iter.Selector()
		if len(path) == 0 && sel.Unquoted() == "name" {
			continue // set from the key under `clusters:`
		}
		plain := cue.Str(sel.Unquoted())
		p := append(append([]cue.Selector(nil), path...), plain)
		mine := own.LookupPath(cue.MakePath(plain))
		if sel.ConstraintType() == cue.RequiredConstraint {
			if !mine.Exists() {
				out = append(out, diag.Diagnostic{
					Pos: f.Pos.Position(), Cluster: f.Name,
					Path: cue.MakePath(p...).String(), Message: "field is required but not present",
				})
			}
			continue
		}
		if mine.Exists() && mine.IncompleteKind() == cue.StructKind {
			out = append(out, missingRequired(f, mine, iter.Value(), p)...)
		}
	}
	return out
}

// kubernetesRules checks what Kubernetes itself would reject, with the
// rules of k8s.io/apimachinery: names, label keys and values, annotation
// keys, and the server URL.
func kubernetesRules(c *Cluster, v cue.Value, f *load.ClusterFile) diag.List {
	var out diag.List
	report := func(path cue.Path, msgs []string) {
		if len(msgs) == 0 {
			return
		}
		pos := posIn(v.LookupPath(path), f)
		out = append(out, diag.Diagnostic{Pos: pos, Cluster: c.Name, Path: path.String(), Message: strings.Join(msgs, "; ")})
	}
	report(cue.ParsePath("name"), validation.IsDNS1123Label(c.Name))
	for _, k := range sortedKeys(c.Labels) {
		p := cue.MakePath(cue.Str("labels"), cue.Str(k))
		report(p, validation.IsQualifiedName(k))
		report(p, validation.IsValidLabelValue(c.Labels[k]))
	}
	for _, k := range sortedKeys(c.Annotations) {
		report(cue.MakePath(cue.Str("annotations"), cue.Str(k)), validation.IsQualifiedName(strings.ToLower(k)))
	}
	if u, err := url.Parse(c.Server); err != nil || u.Scheme != "https" || u.Host == "" || u.Hostname() == "" {
		report(cue.ParsePath("server"), []string{fmt.Sprintf("%q is not an https URL with a host", c.Server)})
	}
	return out
}

// posIn returns where v is set in the cluster's file, or else the
// cluster's own position there.
func posIn(v cue.Value, f *load.ClusterFile) token.Position {
	if p := v.Pos(); p.IsValid() && p.Position().Filename == f.Path {
		return p.Position()
	}
	return f.Pos.Position()
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// requiresField is the hidden field of #Cluster that checks bundle
// dependencies.
const requiresField = "_requires"

// trimmer shows CUE paths relative to the cluster: `clusters.a.env`
// becomes `env` and `deploy.a.grafana.values.x` becomes
// `apps.grafana.values.x`.
func trimmer(cluster string) func([]string) string {
	return func(p []string) string {
		if len(p) >= 2 && p[1] == cluster || len(p) >= 2 && p[1] == fmt.Sprintf("%q", cluster) {
			switch p[0] {
			case load.ClustersField:
				p = p[2:]
				// The bundle dependency check reports under a hidden
				// field; the user wrote the bundle.
				if len(p) > 0 && p[0] == requiresField {
					p = append([]string{"bundles"}, p[1:]...)
				}
			case "deploy":
				p = append([]string{"apps"}, p[2:]...)
			}
		}
		return strings.Join(p, ".")
	}
}
