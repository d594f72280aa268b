package render_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/fleetc/fleetc/internal/compile"
	"github.com/fleetc/fleetc/internal/fleetgen"
	"github.com/fleetc/fleetc/internal/load"
	"github.com/fleetc/fleetc/internal/render"
	"github.com/fleetc/fleetc/internal/testplatform"
)

// TestMemoShares compiles generated fleets with a Memo that renders every
// values file it shares again: a file shared between clusters whose
// values (or their order) differ fails, and so does one whose values
// evaluated alone (compile/fast.go) differ from the memo's. The platforms vary the ways an
// app's values can depend on the cluster, including the ones that bring
// a cluster's own structs, whose field order comes from its file.
func TestMemoShares(t *testing.T) {
	// Clusters alike but for the order of their labels and annotations,
	// and for their names.
	alike := func(name, labels, annotations string) string {
		return "package clusters\n\nclusters: \"" + name + "\": {\n\tenv: \"dev\"\n\tserver: \"https://" + name + ".example.com:6443\"\n" +
			"\tlabels: {" + labels + "}\n\tannotations: {" + annotations + "}\n}\n"
	}
	extraClusters := map[string]string{
		"clusters/alike-a.cue": alike("alike-a", `region: "eu", team: "blue"`, `a: "1", b: "2"`),
		"clusters/alike-b.cue": alike("alike-b", `team: "blue", region: "eu"`, `b: "2", a: "1"`),
		"clusters/alike-c.cue": alike("alike-c", `region: "eu", team: "blue"`, `a: "1", b: "2"`),
	}
	tests := []struct {
		name     string
		defs     string
		minShare int64
	}{
		{name: "reference", minShare: 800},
		{name: "a cluster's struct as data", defs: `
#Catalog: {
	cluster: _
	apps: "node-exporter": values: podLabels: cluster.labels
	apps: falco: values: falco: podAnnotations: {fixed: "x"} & cluster.annotations
}`},
		{name: "comprehensions over the cluster", defs: `
#Catalog: {
	cluster: _
	let meta = cluster.annotations
	apps: "node-exporter": values: podAnnotations: {for k, v in meta {(k): v}}
	apps: falco: values: falco: labels: [for k, v in cluster.labels {"\(k)=\(v)"}]
}`},
		{name: "patterns and conditions", defs: `
#Catalog: {
	cluster: _
	apps: [string]: values: platform: {env: cluster.env, team: *cluster.labels.team | "none"}
	if cluster.env == "prod" {
		apps: kyverno: values: kyverno: prod: true
	}
}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := fleetgen.Generate(testplatform.Repo(), dir, 120, 7); err != nil {
				t.Fatal(err)
			}
			files := map[string]string{}
			for k, v := range extraClusters {
				files[k] = v
			}
			if tt.defs != "" {
				files["defs/zz_memo.cue"] = "package defs\n" + tt.defs
			}
			for name, src := range files {
				if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			p, err := load.Load(load.Config{Dir: dir})
			if err != nil {
				t.Fatal(err)
			}
			settings, err := compile.ReadSettings(p)
			if err != nil {
				t.Fatal(err)
			}
			memo := render.CheckedMemo()
			// As build.Plan asks: a checked memo serves nothing, so the
			// apps of every cluster whose apps an earlier one's #deploy
			// chose are evaluated alone, and checked against the memo.
			rendered := func(c *compile.Cluster, a compile.App) bool { return memo.Serves(c, a, p.Root) }
			_, err = compile.Fleet(p, compile.Options{Rendered: rendered}, func(c *compile.Cluster) (*render.Output, error) {
				return render.Cluster(c, settings, p.Root, memo)
			})
			if err != nil {
				t.Fatal(err)
			}
			if got := memo.Shared.Load(); got < tt.minShare {
				t.Errorf("%d values files shared, want at least %d", got, tt.minShare)
			}
			t.Logf("%d values files shared", memo.Shared.Load())
		})
	}
}

// TestMemoOrder is a platform whose values unify a struct of the cluster
// with one of the platform: CUE orders the fields by the struct literals
// they come from, so clusters with equal annotations, one of which sets
// them in two declarations, get different values files. They must not be
// shared (a struct read as data is never shared).
func TestMemoOrder(t *testing.T) {
	clusters := map[string]string{
		"split": "clusters: split: server: \"https://split.example.com\"\nclusters: split: annotations: a: \"1\"\nclusters: split: annotations: b: \"2\"\n",
	}
	for _, name := range []string{"alike-a", "zz-alike", "alike-b"} {
		clusters[name] = "clusters: \"" + name + "\": {server: \"https://" + name + ".example.com\", annotations: {a: \"1\", b: \"2\"}}\n"
	}
	compileShared(t, `hello: values: {b: "2", fixed: "x", a: "1"} & cluster.annotations`, clusters)
	// Iterating a list of them makes each one a value of the loop.
	compileShared(t, `hello: values: {for x in [cluster.annotations] {v: {b: "2", fixed: "x", a: "1"} & x}}`, clusters)
}

// TestMemoDefaults is a platform whose values unify a field of the
// cluster that has a default with alternatives of their own: the same
// default, with other alternatives, gives another value.
func TestMemoDefaults(t *testing.T) {
	compileShared(t, `hello: values: m: cluster.mode & ("b" | "c")`, map[string]string{
		"one": "clusters: one: {server: \"https://one.example.com\", mode: *\"a\" | \"b\"}\n",
		"two": "clusters: two: {server: \"https://two.example.com\", mode: *\"a\" | \"c\"}\n",
		"six": "clusters: six: {server: \"https://six.example.com\", mode: *\"a\" | \"b\"}\n",
	})
}

// TestMemoKinds has clusters whose fields differ only in kind: bytes and
// the string of their base64, an int and a float, null and "null".
func TestMemoKinds(t *testing.T) {
	clusters := map[string]string{}
	for name, v := range map[string]string{"b": "'abc'", "s": `"YWJj"`, "i": "1", "f": "1.0", "n": "null", "q": `"null"`} {
		clusters[name] = "clusters: " + name + ": {server: \"https://" + name + ".example.com\", extra: " + v + "}\n"
	}
	compileShared(t, `hello: values: v: cluster.extra`, clusters)
	compileShared(t, `hello: values: {v: cluster.extra, if (cluster.extra & int) != _|_ {isint: true}}`, map[string]string{
		"i": "clusters: i: {server: \"https://i.example.com\", extra: 1}\n",
		"e": "clusters: e: {server: \"https://e.example.com\", extra: 1e0}\n",
	})
}

// TestMemoTestedStructs has values that only test what a struct of the
// cluster unifies with: closedness, optional fields, patterns and
// definitions decide it, and CUE does not write them out, so such a
// struct is never shared.
func TestMemoTestedStructs(t *testing.T) {
	for _, tt := range []struct{ values, one, two string }{
		{`v: (cluster.extra & {b: 1}) != _|_`, `close({a: 1})`, `{a: 1}`},
		{`v: (cluster.extra & {a: 2}) != _|_`, `{a?: 1, b: 2}`, `{b: 2}`},
		{`v: (cluster.extra & {b: "s"}) != _|_`, `{[string]: int, a: 1}`, `{a: 1}`},
		{`v: (cluster.extra & [{a: 1, b: 2}]) != _|_`, `[close({a: 1})]`, `[{a: 1}]`},
	} {
		compileShared(t, `hello: values: {`+tt.values+`}`, map[string]string{
			"one": "clusters: one: {server: \"https://one.example.com\", extra: " + tt.one + "}\n",
			"two": "clusters: two: {server: \"https://two.example.com\", extra: " + tt.two + "}\n",
		})
	}
}

// TestMemoQuotedLabel has an app whose name starts with an underscore,
// quoted: a regular field, not a hidden one to leave out.
func TestMemoQuotedLabel(t *testing.T) {
	compileShared(t, `{hello: values: a: 1, "_x": values: v: cluster.extra}`, map[string]string{
		"d": "clusters: d: {server: \"https://d.example.com\", extra: \"dev\"}\n",
		"p": "clusters: p: {server: \"https://p.example.com\", extra: \"prod\"}\n",
	})
}

// compileShared compiles, with a memo that renders every file it shares
// again, a small platform whose #deploy has apps and whose clusters files
// say what clusters does (by name, without their package clause).
func compileShared(t *testing.T, apps string, clusters map[string]string) {
	t.Helper()
	dir := t.TempDir()
	files := map[string]string{
		"cue.mod/module.cue": "module: \"example.com/memo@v0\"\nlanguage: version: \"v0.17.0\"\n",
		"clusters/platform.cue": `package clusters

import "strings"

platform: {
	output: "out"
	argocd: namespace: "argocd"
	secretStore: {kind: "ClusterSecretStore", name: "vault", tokenProperty: "token", caProperty: "ca", refreshInterval: "1h"}
}
clusters: [Name=string]: {
	name:   Name
	env:    "dev"
	server: strings.HasPrefix("https://")
	annotations: [string]: string
	mode?: string
	extra?: _
	bundles: core: true
	credentials: key: "clusters/\(Name)"
}
#catalog: {
	hello: {bundle: "core", category: "apps", chart: "apps/hello"}
	"_x": {bundle: "core", category: "apps", chart: "apps/x"}
}
#deploy: {
	cluster: _
	apps: ` + apps + `
}
deploy: {for cname, c in clusters {(cname): (#deploy & {cluster: c}).apps}}
`,
	}
	for name, src := range clusters {
		files["clusters/"+name+".cue"] = "package clusters\n\n" + src
	}
	for name, src := range files {
		os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755)
		if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	p, err := load.Load(load.Config{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	settings, err := compile.ReadSettings(p)
	if err != nil {
		t.Fatal(err)
	}
	memo := render.CheckedMemo()
	_, err = compile.Fleet(p, compile.Options{Workers: 1}, func(c *compile.Cluster) (*render.Output, error) {
		return render.Cluster(c, settings, p.Root, memo)
	})
	if err != nil {
		t.Fatal(err)
	}
}
