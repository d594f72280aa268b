package compile

import (
	"encoding/json"
	"reflect"
	"testing"

	"cuelang.org/go/cue"
	"cuelang.org/go/cue/cuecontext"
	cueload "cuelang.org/go/cue/load"

	"github.com/fleetc/fleetc/internal/fleetgen"
	"github.com/fleetc/fleetc/internal/load"
	"github.com/fleetc/fleetc/internal/testplatform"
)

// TestDeployMatchesPackage: fleetc evaluates `#deploy` one cluster at a
// time, and the whole package's `deploy` (what `cue export ./clusters -e
// deploy` prints) must hold exactly the same apps and values, on the
// reference platform and on a generated fleet; an app's chart, which may
// be #App's default, comes from the package's `#catalog`.
func TestDeployMatchesPackage(t *testing.T) {
	gen := t.TempDir()
	if err := fleetgen.Generate(testplatform.Repo(), gen, 40, 7); err != nil {
		t.Fatal(err)
	}
	for name, root := range map[string]string{"reference": testplatform.Repo(), "generated": gen} {
		t.Run(name, func(t *testing.T) {
			p, err := load.Load(load.Config{Dir: root})
			if err != nil {
				t.Fatal(err)
			}
			// Steps run on several workers at once: each returns its
			// cluster's apps.
			results, err := Fleet(p, Options{}, func(c *Cluster) (map[string]any, error) {
				apps := map[string]any{}
				for _, a := range c.Apps {
					values, err := asData(a.Values)
					if err != nil {
						return nil, err
					}
					apps[a.Name] = map[string]any{"bundle": a.Bundle, "category": a.Category, "chart": a.Chart, "values": values}
				}
				return apps, nil
			})
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]any{}
			for _, r := range results {
				got[r.Cluster] = r.Value
			}

			insts := cueload.Instances([]string{"./" + load.ClustersDir}, &cueload.Config{Dir: root})
			pkg := cuecontext.New().BuildInstance(insts[0])
			whole, catalog := pkg.LookupPath(cue.ParsePath("deploy")), pkg.LookupPath(CatalogPath)
			if err := whole.Validate(cue.Concrete(true)); err != nil {
				t.Fatal(err)
			}
			want := map[string]any{}
			iter, err := whole.Fields()
			if err != nil {
				t.Fatal(err)
			}
			for iter.Next() {
				apps := map[string]any{}
				ai, _ := iter.Value().Fields()
				for ai.Next() {
					// deploy has each app as the catalog file says it;
					// the chart may be #App's default, which only
					// #catalog fills in.
					name := ai.Selector().Unquoted()
					meta := catalog.LookupPath(cue.MakePath(cue.Str(name)))
					field := func(v cue.Value, f string) any { return plain(t, v.LookupPath(cue.ParsePath(f))) }
					apps[name] = map[string]any{"bundle": field(ai.Value(), "bundle"), "category": field(ai.Value(), "category"), "chart": field(meta, "chart"), "values": field(ai.Value(), "values")}
				}
				want[iter.Selector().Unquoted()] = apps
			}
			if len(want) != len(p.Clusters) {
				t.Fatalf("deploy of the whole package has %d clusters, the platform %d", len(want), len(p.Clusters))
			}
			for c := range want {
				if !reflect.DeepEqual(got[c], want[c]) {
					g, _ := json.MarshalIndent(got[c], "", " ")
					w, _ := json.MarshalIndent(want[c], "", " ")
					t.Errorf("cluster %s: fleetc:\n%s\nwhole package:\n%s", c, g, w)
				}
			}
		})
	}
}

// plain is v as Go data, for comparing values however their fields are
// ordered.
func plain(t *testing.T, v cue.Value) any {
	t.Helper()
	out, err := asData(v)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func asData(v cue.Value) (any, error) {
	b, err := v.MarshalJSON()
	if err != nil {
		return nil, err
	}
	var out any
	err = json.Unmarshal(b, &out)
	return out, err
}

// BenchmarkCluster is the per-cluster path of a compile: evaluate one
// generated cluster file against the platform and read its apps' values.
func BenchmarkCluster(b *testing.B) {
	dir := b.TempDir()
	if err := fleetgen.Generate(testplatform.Repo(), dir, 64, 1); err != nil {
		b.Fatal(err)
	}
	p, err := load.Load(load.Config{Dir: dir})
	if err != nil {
		b.Fatal(err)
	}
	ev, err := newEvaluator(p, true, nil)
	if err != nil {
		b.Fatal(err)
	}
	apps := 0
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		c, _, ds := ev.cluster(p.Clusters[i%len(p.Clusters)])
		if len(ds) > 0 {
			b.Fatal(ds)
		}
		for _, a := range c.Apps {
			if _, err := a.Values.MarshalJSON(); err != nil {
				b.Fatal(err)
			}
		}
		apps += len(c.Apps)
	}
	b.ReportMetric(float64(apps)/float64(b.N), "apps/op")
}
