package compile

import (
	"slices"
	"testing"

	"cuelang.org/go/cue/cuecontext"
)

// TestAloneFiles checks which apps of a platform get a definition of
// their own (aloneFiles): those whose declaration it can write out of its
// place, and none when a block may add to any app. TestAloneMatchesDeploy
// checks that what they evaluate to is what #deploy gives.
func TestAloneFiles(t *testing.T) {
	tests := []struct {
		name, src string
		// with and without are apps that must and must not have a
		// definition; none says no app may.
		with, without []string
		none          bool
	}{
		{name: "reference", with: []string{"falco", "node-exporter", "victoria-metrics-operator", "grafana"}},
		{name: "imports and an app's lets", with: []string{"zz-tool"}, src: `package defs

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
`},
		{name: "an app in two blocks", with: []string{"kyverno"}, without: []string{"falco"}, src: `package defs

#Catalog: {
	cluster: _
	apps: falco: values: extra: cluster.env
}
`},
		{name: "a file's let", with: []string{"falco"}, without: []string{"zz-tool"}, src: `package defs

let suffix = "-x"

#Catalog: {
	cluster: _
	apps: "zz-tool": {bundle: "core-basic", category: "core", values: suffixed: cluster.env + suffix}
}
`},
		{name: "another field of the block", with: []string{"falco"}, without: []string{"zz-tool"}, src: `package defs

#Catalog: {
	cluster: _
	extra: {a: 1}
	apps: "zz-tool": {bundle: "core-basic", category: "core", values: copied: extra}
}
`},
		{name: "a pattern with an import", with: []string{"falco", "node-exporter"}, src: `package defs

import "strings"

#Catalog: {
	cluster: _
	apps: [string]: values: managedBy: strings.ToUpper("fleetc")
}
`},
		{name: "a pattern that reads the cluster", none: true, src: `package defs

#Catalog: {
	cluster: _
	apps: [string]: values: env: cluster.env
}
`},
		{name: "a block that adds to every app", none: true, src: `package defs

#Catalog: {
	cluster: _
	if cluster.env == "prod" {
		apps: [string]: values: prod: true
	}
}
`},
		{name: "a bundle that reads the cluster", none: true, src: `package defs

#Catalog: {
	cluster: _
	apps: falco: serverSideApply: cluster.env == "prod"
}
`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var files map[string]string
			if tt.src != "" {
				files = map[string]string{"defs/zz_alone.cue": tt.src}
			}
			inst := sharedWith(t, files)
			defs, names, err := aloneFiles(readsOf(inst), inst)
			if err != nil {
				t.Fatal(err)
			}
			if tt.none {
				if len(names) > 0 {
					t.Errorf("definitions for %v", names)
				}
				return
			}
			for _, app := range tt.with {
				if !slices.Contains(names, app) {
					t.Errorf("no definition for %s; for %v", app, names)
				}
			}
			for _, app := range tt.without {
				if slices.Contains(names, app) {
					t.Errorf("a definition for %s", app)
				}
			}
			// What is written builds, and names a definition per app.
			for pkg, fs := range defs {
				for _, f := range fs {
					if err := pkg.AddSyntax(f); err != nil {
						t.Fatal(err)
					}
				}
			}
			shared := cuecontext.New().BuildInstance(inst)
			if err := shared.Err(); err != nil {
				t.Fatal(err)
			}
			if got := aloneValues(shared, names); len(got) != len(names) {
				t.Errorf("%d definitions evaluate, of %d", len(got), len(names))
			}
		})
	}
}

// TestChoiceReadsNothing is a #deploy whose choice of apps reads nothing
// of the cluster: every cluster gets the apps of the first.
func TestChoiceReadsNothing(t *testing.T) {
	f := &fast{rendered: func(*Cluster, App) bool { return false }}
	rs := &Reads{chooseOK: true}
	first := &Cluster{Name: "a", Apps: []App{{Name: "falco"}, {Name: "kyverno"}}}
	key, names := f.choice(rs, first)
	if key == "" || names != nil {
		t.Fatalf("first cluster: key %q, apps %v; want a key and no apps yet", key, names)
	}
	f.remember(key, first)
	if _, names := f.choice(rs, &Cluster{Name: "b"}); !slices.Equal(names, []string{"falco", "kyverno"}) {
		t.Errorf("second cluster: apps %v, want the first's", names)
	}
	if key, names := f.choice(&Reads{}, first); key != "" || names != nil {
		t.Errorf("a platform whose choice is unknown: key %q, apps %v", key, names)
	}
}
