package compile_test

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/fleetc/fleetc/internal/compile"
	"github.com/fleetc/fleetc/internal/fleetgen"
	"github.com/fleetc/fleetc/internal/load"
	"github.com/fleetc/fleetc/internal/render"
	"github.com/fleetc/fleetc/internal/testplatform"
)

// TestAloneMatchesDeploy compiles generated fleets twice, evaluating
// apps alone where it can (Options.Rendered, as build.Plan sets it) and
// evaluating #deploy for every cluster, and wants the same bytes in every
// file, or the same errors. The platforms vary what evaluating apps
// alone must follow or refuse: the reference platform, whose apps it
// evaluates alone; imports and lets of an app's own; an app declared in
// two blocks, one that reads another's values, a file's let, a block that
// adds to every app, a pattern that adds to every app's values, apps
// outside a cluster's namespaces, conditions of #deploy that choose apps
// by the cluster's env, by an app's values or by the bound catalog's
// cluster, a check of #deploy's own, values that fail on some clusters
// only, a pattern inside values, names a definition would hide (a
// package field named like a let, an import named like a field, a block
// without its own cluster), a check of #AppFields on the values, and
// values that are not a struct on some clusters.
func TestAloneMatchesDeploy(t *testing.T) {
	defer compile.SetFastMin(1)()
	tests := []struct {
		name string
		// files are added to the fleet, by path.
		files map[string]string
		// rewrite replaces text in a file of the fleet: old, new, by path.
		rewrite map[string][2]string
		// alone says apps must be evaluated alone, and either that they
		// may or may not be (some apps can, others cannot).
		alone, either bool
	}{
		{name: "reference", alone: true},
		{name: "imports and an app's lets", alone: true, files: map[string]string{"defs/zz_alone.cue": `package defs

import "strings"

#Catalog: {
	cluster: _
	let up = strings.ToUpper(cluster.env)
	apps: "zz-tool": {
		bundle:   "core-basic"
		category: "core"
		let tag = "\(up)-" + strings.Repeat("x", 2)
		values: podLabels: {tier: tag, env: up}
	}
}
`}},
		{name: "an app in two blocks", alone: true, files: map[string]string{"defs/zz_alone.cue": `package defs

#Catalog: {
	cluster: _
	apps: falco: values: extra: cluster.env
}
`}},
		{name: "another app's values", alone: true, files: map[string]string{"defs/zz_alone.cue": `package defs

#Catalog: {
	cluster: _
	apps: kyverno: values: copied: #Catalog.apps["node-exporter"].bundle
}
`}},
		{name: "a file's let", alone: true, files: map[string]string{"defs/zz_alone.cue": `package defs

let suffix = "-x"

#Catalog: {
	cluster: _
	apps: "node-exporter": values: suffixed: cluster.env + suffix
}
`}},
		{name: "a block that adds to every app", files: map[string]string{"defs/zz_alone.cue": `package defs

#Catalog: {
	cluster: _
	if cluster.env == "prod" {
		apps: [string]: values: prod: true
	}
}
`}},
		{name: "values that fail on some clusters", alone: true, files: map[string]string{"defs/zz_alone.cue": `package defs

#Catalog: {
	cluster: _
	apps: falco: values: falco: driver: kind: cluster.security.falco.driver & "modern_ebpf"
}
`}},
		{name: "what the catalog says for every app's values", alone: true, files: map[string]string{"defs/zz_alone.cue": `package defs

import "strings"

#Catalog: {
	cluster: _
	apps: [string]: values: managedBy: strings.ToUpper("fleetc")
}
`}},
		{name: "apps outside a cluster's namespaces", alone: true, files: map[string]string{"defs/zz_alone.cue": `package defs

#Catalog: {
	cluster: _
	apps: falco: namespace: "falco-system"
}
`}},
		{name: "a condition that reads an app's values", rewrite: map[string][2]string{
			"defs/catalog.cue": {"for name, app in catalog if app.bundle == b {", "for name, app in catalog if app.bundle == b if app.values.zzSkip == _|_ {"},
		}, files: map[string]string{"defs/zz_alone.cue": `package defs

#Catalog: {
	cluster: _
	apps: "zz-tool": {
		bundle:   "core-basic"
		category: "core"
		values: {
			if cluster.env == "dev" {zzSkip: true}
			x: 1
		}
	}
}
`}},
		{name: "a condition that reads the bound catalog's cluster", rewrite: map[string][2]string{
			"defs/catalog.cue": {"for b, on in cluster.bundles if on", "for b, on in cluster.bundles if on if (#Catalog & {\"cluster\": cluster}).cluster.env != \"dev\" || b != \"monitoring-basic\""},
		}},
		{name: "a pattern inside values", alone: true, files: map[string]string{"defs/zz_alone.cue": `package defs

#Catalog: {
	cluster: _
	apps: [string]: values: [=~"^falco$"]: {zz: 1}
}
`}},
		{name: "a pattern naming a field its definition would hide", either: true, files: map[string]string{"defs/zz_alone.cue": `package defs

proxy: "docker.io"

#Catalog: {
	cluster: _
	apps: [string]: values: mirror: proxy
}
`}},
		{name: "an import and a field of one name", alone: true, files: map[string]string{"defs/zz_alone.cue": `package defs

import "math"

#Catalog: {
	cluster: _
	apps: "zz-a": {bundle: "core-basic", category: "core", values: pi: math.Pi}
}
`, "defs/zz_alone_b.cue": `package defs

math: {Pi: 3}

#Catalog: {
	cluster: _
	apps: "zz-b": {bundle: "core-basic", category: "core", values: pi: math.Pi}
}
`}},
		{name: "a check of #AppFields on the values", either: true, rewrite: map[string][2]string{
			"defs/catalog.cue": {"#AppFields: {", "#AppFields: {\n\t_small: len(values) < 2 & true"},
		}, files: map[string]string{"defs/zz_alone.cue": `package defs

#Catalog: {
	cluster: _
	apps: "zz-tool": {bundle: "core-basic", category: "core", values: {a: 1, if cluster.env == "prod" {b: 2}}}
}
`}},
		{name: "values that are not a struct on some clusters", either: true, files: map[string]string{"defs/zz_alone.cue": `package defs

#Catalog: {
	cluster: _
	apps: "zz-tool": {bundle: "core-basic", category: "core", values: {dev: {a: 1}, staging: {a: 1}, prod: "oops"}[cluster.env]}
}
`}},
		{name: "a block without its own cluster", files: map[string]string{"defs/zz_alone.cue": `package defs

cluster: {env: "fixed"}

#Catalog: {
	apps: "zz-c": {bundle: "core-basic", category: "core", values: env: cluster.env}
}
`}},
		{name: "apps chosen by env", alone: true, rewrite: map[string][2]string{
			"defs/catalog.cue": {"for b, on in cluster.bundles if on", "for b, on in cluster.bundles if on && (b != \"monitoring-basic\" || cluster.env != \"dev\")"},
		}},
		{name: "a check of #deploy's own", alone: true, rewrite: map[string][2]string{
			"defs/catalog.cue": {"\tcluster: _\n\tlet catalog", "\tcluster: _\n\t_check: cluster.env & (\"dev\" | \"prod\")\n\tlet catalog"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := fleetgen.Generate(testplatform.Repo(), dir, 150, 11); err != nil {
				t.Fatal(err)
			}
			for name, r := range tt.rewrite {
				path := filepath.Join(dir, name)
				src, err := os.ReadFile(path)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Contains(src, []byte(r[0])) {
					t.Fatalf("%s does not say %q", name, r[0])
				}
				if err := os.WriteFile(path, bytes.Replace(src, []byte(r[0]), []byte(r[1]), 1), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			for name, src := range tt.files {
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
			compileWith := func(alone bool) (map[string][]byte, compile.Stats, error) {
				memo := &render.Memo{}
				var stats compile.Stats
				opts := compile.Options{Stats: &stats}
				if alone {
					opts.Rendered = func(c *compile.Cluster, a compile.App) bool { return memo.Serves(c, a, p.Root) }
				}
				results, err := compile.Fleet(p, opts, func(c *compile.Cluster) (*render.Output, error) {
					return render.Cluster(c, settings, p.Root, memo)
				})
				files := map[string][]byte{}
				for _, r := range results {
					for _, f := range r.Value.Files {
						files[f.Path] = f.Data
					}
				}
				return files, stats, err
			}
			want, _, wantErr := compileWith(false)
			got, stats, err := compileWith(true)
			if fmt.Sprint(err) != fmt.Sprint(wantErr) {
				t.Fatalf("evaluating apps alone: %v\nwith #deploy: %v", err, wantErr)
			}
			if len(got) != len(want) {
				t.Errorf("%d files evaluating apps alone, %d with #deploy", len(got), len(want))
			}
			for path, data := range want {
				if !bytes.Equal(got[path], data) {
					t.Errorf("%s evaluating apps alone:\n%s\nwith #deploy:\n%s", path, got[path], data)
				}
			}
			t.Logf("%d clusters with the apps of an earlier one, %d apps evaluated alone; %d files; error: %v", stats.Chosen, stats.Alone, len(got), err)
			if tt.either {
				return
			}
			if tt.alone && (stats.Chosen == 0 || stats.Alone == 0) {
				t.Errorf("no app was evaluated alone")
			}
			if !tt.alone && stats.Chosen > 0 {
				t.Errorf("%d clusters were evaluated with apps alone, on a platform whose apps it cannot follow", stats.Chosen)
			}
		})
	}
}
