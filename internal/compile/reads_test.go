package compile

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"cuelang.org/go/cue"
	"cuelang.org/go/cue/build"

	"github.com/fleetc/fleetc/internal/load"
	"github.com/fleetc/fleetc/internal/testplatform"
)

// describe writes r as one line per app: its reads, each path with how
// it is used (= opaque, * iterated, + data); "whole" if r knows nothing.
func describe(r *Reads) string {
	if r.whole {
		return "whole"
	}
	var lines []string
	if r.apps == nil {
		r = &Reads{apps: map[string][]read{"every": r.every}}
	}
	for name, rs := range r.apps {
		var parts []string
		for _, rd := range rs {
			parts = append(parts, cue.MakePath(rd.path...).String()+[]string{"=", "*", "+"}[rd.flow])
		}
		lines = append(lines, strings.TrimSpace(name+": "+strings.Join(parts, " ")))
	}
	slices.Sort(lines)
	return strings.Join(lines, "\n")
}

// readsWith reads the reference platform with files added or replaced
// (by path relative to the module; "" content removes the file), and
// with each edit of edits (old, new) made to defs/catalog.cue.
func readsWith(t *testing.T, files map[string]string, edits ...string) *Reads {
	t.Helper()
	return readsOf(sharedWith(t, files, edits...))
}

// sharedWith is the shared instance of the reference platform changed as
// readsWith says, loaded and not built.
func sharedWith(t *testing.T, files map[string]string, edits ...string) *build.Instance {
	t.Helper()
	dir := t.TempDir()
	if err := testplatform.Copy(dir); err != nil {
		t.Fatal(err)
	}
	for name, src := range files {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if len(edits) > 0 {
		path := filepath.Join(dir, "defs", "catalog.cue")
		src, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i+1 < len(edits); i += 2 {
			if !strings.Contains(string(src), edits[i]) {
				t.Fatalf("defs/catalog.cue no longer has %q", edits[i])
			}
			src = []byte(strings.Replace(string(src), edits[i], edits[i+1], 1))
		}
		if err := os.WriteFile(path, src, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	p, err := load.Load(load.Config{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	inst, err := p.LoadShared()
	if err != nil {
		t.Fatal(err)
	}
	return inst
}

// line is the line of describe's output for app.
func line(r *Reads, app string) string {
	for _, l := range strings.Split(describe(r), "\n") {
		if name, _, _ := strings.Cut(l, ":"); name == app {
			return l
		}
	}
	return app + " unknown"
}

func TestReads(t *testing.T) {
	const deployApp = "(name): app\n"
	tests := []struct {
		name  string
		files map[string]string
		edits []string
		// want are lines of describe's output; "whole" for no reading.
		want []string
	}{{
		name: "reference",
		want: []string{
			// Through a let (proxy), in an interpolation, and the
			// cluster's schema field as data.
			"falco: registry= security.falco.driver+",
			// #Scheduling's #nodetype is data.
			"cert-manager: nodetype+ registry=",
			// A let naming part of the cluster, selected from.
			"victoria-metrics-operator: monitoring.victoriametricsoperator.jimmydysonimagetag= monitoring.victoriametricsoperator.promconfigreloadimagetag= monitoring.victoriametricsoperator.toleration.nodetype+ registry=",
			// A let holding a struct of cluster fields.
			"infrastructure-alerts: env+ name+",
			// Nothing of the cluster: what #deploy's comprehension reads
			// (bundles, argocd.namespaces) decides which apps there are,
			// not their values.
			"prometheus-operator-crds:",
		},
	}, {
		name: "another app's values",
		files: map[string]string{"defs/zz.cue": `package defs
#Catalog: {
	cluster: _
	apps: falco: values: copy: apps.kyverno.values.kyverno.global
}
`},
		want: []string{"falco unknown", "kyverno: env= nodetype+ registry+"},
	}, {
		name: "a pattern over the apps reads for every app",
		files: map[string]string{"defs/zz.cue": `package defs
#Catalog: {
	cluster: _
	apps: [string]: values: global: region: cluster.labels.region
}
`},
		want: []string{"node-exporter: labels.region+ registry=", "prometheus-operator-crds: labels.region+"},
	}, {
		name: "a comprehension over the cluster in an app's values",
		files: map[string]string{"defs/zz.cue": `package defs
#Catalog: {
	cluster: _
	let meta = cluster.annotations
	apps: "node-exporter": values: podAnnotations: {for k, v in meta {(k): v}}
}
`},
		want: []string{"node-exporter: annotations* registry="},
	}, {
		name: "lets within the app, naming lets",
		files: map[string]string{"defs/zz.cue": `package defs
#Catalog: {
	cluster: _
	let m = cluster.monitoring
	apps: "node-exporter": {
		let r = m.retention
		values: retention: "keep \(r)"
	}
}
`},
		want: []string{"node-exporter: monitoring.retention= registry="},
	}, {
		name: "a block's cluster must be any cluster",
		files: map[string]string{"defs/zz.cue": `package defs
#Catalog: {
	cluster: #Cluster
	apps: falco: values: x: 1
}
`},
		want: []string{"whole"},
	}, {
		name: "a reference to another field of the block",
		files: map[string]string{"defs/zz.cue": `package defs
#Catalog: {
	cluster: _
	domain: "\(cluster.name).example.com"
	apps: falco: values: host: domain
}
`},
		want: []string{"falco unknown", "node-exporter: registry="},
	}, {
		name: "a definition of the cluster",
		files: map[string]string{"defs/zz.cue": `package defs
#Catalog: {
	cluster: _
	apps: falco: values: x: cluster.#internal
}
`},
		want: []string{"falco unknown"},
	}, {
		name: "an embedding in a block reads for every app",
		files: map[string]string{"defs/zz.cue": `package defs
#Catalog: {
	cluster: _
	if cluster.env == "prod" {
		apps: falco: values: falco: replicas: 2
	}
}
`},
		want: []string{"prometheus-operator-crds: env=", "node-exporter: env= registry="},
	}, {
		name: "a struct embedded in a block",
		// Its own `cluster` is the cluster too.
		files: map[string]string{"defs/zz.cue": `package defs
_extra: {cluster: _, apps: "metrics-server": values: zz: cluster.env}
#Catalog: {cluster: _, _extra}
`},
		want: []string{"whole"},
	}, {
		name: "a literal embedded in a block, and a comprehension's body",
		files: map[string]string{"defs/zz.cue": `package defs
#Catalog: {
	cluster: _
	{cluster: _, apps: "metrics-server": values: zz: cluster.env}
	if true {cluster: _, apps: falco: values: yy: cluster.labels.team}
}
`},
		want: []string{"node-exporter: env+ labels.team+ registry="},
	}, {
		name:  "#deploy's conditions look into the values beside the routing",
		edits: []string{deployApp, deployApp + "if app.values != _|_ {(name): values: seen: true}\n"},
		want:  []string{"whole"},
	}, {
		name:  "#deploy looks into the values outside a comprehension",
		edits: []string{"apps: {\n", "apps: {\n\t\tif catalog.falco.values.falco.driver.kind == \"ebpf\" {falco: values: ebpf: true}\n"},
		want:  []string{"whole"},
	}, {
		name:  "a hidden field of #deploy referenced from another of its blocks",
		files: map[string]string{"defs/zz.cue": "package defs\n#Deploy: {cluster: _, _h: cluster.env}\n"},
		edits: []string{"apps: {\n", "_h: _\n\tapps: {\n\t\t[string]: values: h: _h\n"},
		want:  []string{"prometheus-operator-crds: argocd.namespaces+ bundles* env+"},
	}, {
		name:  "a pattern beside #deploy's cluster",
		edits: []string{"apps: {\n", "[=~\"^c\"]: {...}\n\tapps: {\n"},
		want:  []string{"whole"},
	}, {
		name: "#Deploy re-exported from another package, with its catalog",
		files: map[string]string{"base/base.cue": `package base

#Catalog: {cluster: _, apps: falco: {bundle: "security-basic", category: "security", values: v: cluster.env}}
#Deploy: {
	cluster: _
	let catalog = (#Catalog & {"cluster": cluster}).apps
	apps: {for name, app in catalog {(name): app}}
}
`},
		edits: []string{"import \"list\"", "import (\n\t\"list\"\n\t\"fleetc.dev/platform/base\"\n)\n\n#Deploy: base.#Deploy", "#Deploy: {", "#Deploy2: {"},
		want:  []string{"falco: env+"},
	}, {
		name:  "#deploy gives an app another app's values",
		edits: []string{deployApp, "(name): catalog[\"falco\"]\n"},
		want:  []string{"whole"},
	}, {
		name:  "#deploy adds to the values it gives",
		edits: []string{deployApp, "(name): app & {values: {}}\n"},
		want:  []string{"whole"},
	}, {
		name:  "#deploy adds to every app in a field of its own",
		edits: []string{deployApp, deployApp + "[string]: values: global: env: cluster.env\n"},
		// In the routing comprehension's body: whether it is there
		// depends on which app is iterated, so no app can be read.
		want: []string{"whole"},
	}, {
		name:  "a hidden field #deploy reads from is read",
		edits: []string{"apps: {\n", "_env: cluster.env\n\tapps: {\n\t\t[string]: values: e: _env\n"},
		// Something besides the catalog adds to the apps: the routing
		// conditions count too.
		want: []string{"prometheus-operator-crds: argocd.namespaces+ bundles* env+"},
	}, {
		name:  "a condition whose body adds more than the apps",
		edits: []string{deployApp, deployApp + "if cluster.env == \"prod\" {(name): values: prod: true}\n"},
		want:  []string{"whole"},
	}, {
		name:  "a routing condition, and something else adds to the same app",
		edits: []string{"apps: {\n", "apps: {\n\t\tfalco: values: y: 1\n"},
		want:  []string{"falco: argocd.namespaces+ bundles* registry= security.falco.driver+"},
	}, {
		name:  "#deploy looks at another app's bundle where it adds",
		edits: []string{deployApp, deployApp + "(name): values: wb: catalog.falco.bundle == \"core\"\n"},
		want:  []string{"whole"},
	}, {
		name:  "an experiment, such as self",
		files: map[string]string{"defs/zz.cue": "@experiment(aliasv2)\n\npackage defs\n\n#Catalog: {cluster: _, let top = self, apps: falco: values: e: top.cluster.env}\n"},
		want:  []string{"whole"},
	}, {
		name:  "#deploy binds nothing the reading knows",
		edits: []string{`(#Catalog & {"cluster": cluster}).apps`, `(#Catalog & {"cluster": cluster, extra: 1}).apps`},
		// No catalog: every app reads what #deploy does, here all of
		// the cluster (the empty path).
		want: []string{"every: + argocd.namespaces+ bundles*"},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := readsWith(t, tt.files, tt.edits...)
			for _, want := range tt.want {
				var got string
				if want == "whole" {
					got = describe(r)
				} else {
					app, _, _ := strings.Cut(want, ":")
					app, _, _ = strings.Cut(app, " unknown")
					got = line(r, app)
				}
				if got != want {
					t.Errorf("got  %s\nwant %s", got, want)
				}
			}
		})
	}
}
