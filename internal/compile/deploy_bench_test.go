package compile

import (
	"maps"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"cuelang.org/go/cue"
	"cuelang.org/go/cue/ast"
	"cuelang.org/go/cue/build"

	"github.com/fleetc/fleetc/internal/fleetgen"
	"github.com/fleetc/fleetc/internal/load"
	"github.com/fleetc/fleetc/internal/testplatform"
)

// BenchmarkDeploy splits a cluster's evaluation on a generated fleet into
// what it costs and what evaluating fewer apps could save. Each op runs
// every variant below once, in turn, on the next cluster, so that the
// drift of a loaded machine hits them alike, and reports each one's time
// per cluster:
//
//   - evaluate: all of it, as a compile evaluates a cluster;
//   - deploy: only filling the evaluated cluster into #deploy and
//     validating its apps, the largest part;
//   - deploy-no-values: the same on a catalog whose apps have no values at
//     all, the floor that skipping the values of every app could reach;
//   - deploy-unshared-values: the same on a catalog that keeps only the
//     values of the apps whose values differ on every cluster (say because
//     they read its name): what a memo keyed on the cluster fields each app
//     reads would leave to evaluate if it never missed;
//   - required-deploy and required-deploy-deployed-values: #deploy of the
//     clusters that get only the required bundles' apps, on the catalog as
//     it is and on one that keeps only the values of the apps they get,
//     which shows that CUE evaluates the values of every app of the catalog
//     for every cluster, deployed or not (#Deploy binds the whole catalog
//     to the cluster in a let, and finalizing #deploy finalizes it);
//   - catalog-one-app: the values of one app the cluster gets, looked up in
//     the catalog filled with the cluster (#Catalog, which the benchmark
//     adds to the fleet's shared file), which is no cheaper: filling it
//     evaluates every app;
//   - deploy-as-data: #deploy filled with the cluster's JSON rather than
//     its evaluated value, which is no cheaper either (the JSON included);
//   - apps-alone: the values of every app the cluster gets, each from a
//     definition of its own that holds only its declaration, the lets it
//     uses and what the catalog says for every app (alone.go): what
//     evaluating an app costs without the catalog, #deploy and the other
//     apps around it;
//   - unshared-apps-alone: the same for only the apps whose values differ
//     on every cluster: what a compile evaluates for a cluster whose apps
//     an earlier cluster's #deploy chose, when the memo has every other
//     app's values (fast.go).
//
// Setting up the last two checks, on every cluster, that each app's values
// alone are what #deploy gives it.
//
// docs/performance.md reads these figures.
func BenchmarkDeploy(b *testing.B) {
	const n, seed = 240, 1
	dir := b.TempDir()
	if err := fleetgen.Generate(testplatform.Repo(), dir, n, seed); err != nil {
		b.Fatal(err)
	}
	shared := filepath.Join(dir, "clusters", "platform.cue")
	src, err := os.ReadFile(shared)
	if err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(shared, append(src, "\n#Catalog: defs.#Catalog\n"...), 0o644); err != nil {
		b.Fatal(err)
	}
	p, err := load.Load(load.Config{Dir: dir})
	if err != nil {
		b.Fatal(err)
	}
	optional := fleetgen.OptionalBundles()
	var requiredOnly []string
	r := fleetgen.NewRand(seed)
	for i := range n {
		if s := fleetgen.NewSpec(r, i); len(s.Bundles) == 0 {
			requiredOnly = append(requiredOnly, s.Name)
		}
	}

	full := evaluatorFor(b, p, nil)
	alike := sharedValues(b, full, p)
	b.Logf("apps whose values some clusters share: %d of %d: %v", len(alike), len(full.apps), slices.Sorted(maps.Keys(alike)))
	none := evaluatorFor(b, p, func(string) bool { return true })
	unshared := evaluatorFor(b, p, func(app string) bool { return alike[app] })
	deployed := evaluatorFor(b, p, func(app string) bool { return slices.Contains(optional, full.apps[app].Bundle) })
	withAlone, err := newEvaluator(p, true, &fast{rendered: func(*Cluster, App) bool { return false }})
	if err != nil {
		b.Fatal(err)
	}
	all := compiled(b, withAlone, p)
	variants := []struct {
		name string
		run  func(i int)
	}{
		{"evaluate", func(i int) {
			if _, ds := full.evaluate(p.Clusters[i%len(p.Clusters)]); len(ds) > 0 {
				b.Fatal(ds)
			}
		}},
		{"deploy", deployer(b, full, evaluated(b, full, p, nil))},
		{"deploy-no-values", deployer(b, none, evaluated(b, none, p, nil))},
		{"deploy-unshared-values", deployer(b, unshared, evaluated(b, unshared, p, nil))},
		{"required-deploy", deployer(b, full, evaluated(b, full, p, requiredOnly))},
		{"required-deploy-deployed-values", deployer(b, deployed, evaluated(b, deployed, p, requiredOnly))},
		{"catalog-one-app", oneApp(b, full, p)},
		{"deploy-as-data", filledAsData(b, full, evaluated(b, full, p, nil))},
		{"apps-alone", appsAlone(b, withAlone, all, func(string) bool { return true })},
		{"unshared-apps-alone", appsAlone(b, withAlone, all, func(app string) bool { return !alike[app] })},
	}
	spent := make([]time.Duration, len(variants))
	for i := 0; b.Loop(); i++ {
		for j, v := range variants {
			t0 := time.Now()
			v.run(i)
			spent[j] += time.Since(t0)
		}
	}
	for j, v := range variants {
		b.ReportMetric(float64(spent[j].Microseconds())/1e3/float64(b.N), v.name+"-ms/cluster")
	}
}

// deployer fills the i-th of the evaluated clusters into ev's #deploy and
// validates its apps, as evaluate does.
func deployer(b *testing.B, ev *evaluator, clusters []cue.Value) func(i int) {
	return func(i int) {
		dv := ev.deploy.FillPath(cue.MakePath(cue.Str("cluster")), clusters[i%len(clusters)]).LookupPath(cue.MakePath(cue.Str("apps")))
		if err := dv.Validate(cue.Concrete(true)); err != nil {
			b.Fatal(err)
		}
	}
}

// oneApp looks the values of the first app each cluster of p gets up in
// the catalog filled with the cluster, and validates them.
func oneApp(b *testing.B, ev *evaluator, p *load.Platform) func(i int) {
	catalog := ev.shared.LookupPath(cue.ParsePath("#Catalog"))
	if !catalog.Exists() {
		b.Fatal("the fleet's shared file has no #Catalog")
	}
	type first struct {
		cluster cue.Value
		app     string
	}
	var firsts []first
	for _, f := range p.Clusters {
		c, ds := ev.evaluate(f)
		if len(ds) > 0 {
			b.Fatal(ds)
		}
		firsts = append(firsts, first{c.Value, c.Apps[0].Name})
	}
	return func(i int) {
		x := firsts[i%len(firsts)]
		v := catalog.FillPath(cue.MakePath(cue.Str("cluster")), x.cluster).LookupPath(cue.MakePath(cue.Str("apps"), cue.Str(x.app), cue.Str("values")))
		if err := v.Validate(cue.Concrete(true)); err != nil {
			b.Fatal(err)
		}
	}
}

// compiled evaluates every cluster of p with ev.
func compiled(b *testing.B, ev *evaluator, p *load.Platform) []*Cluster {
	var out []*Cluster
	for _, f := range p.Clusters {
		c, ds := ev.evaluate(f)
		if len(ds) > 0 {
			b.Fatal(ds)
		}
		out = append(out, c)
	}
	return out
}

// filledAsData fills the i-th cluster into ev's #deploy as its JSON, compiled
// as plain data, and validates the apps.
func filledAsData(b *testing.B, ev *evaluator, clusters []cue.Value) func(i int) {
	return func(i int) {
		j, err := clusters[i%len(clusters)].MarshalJSON()
		if err != nil {
			b.Fatal(err)
		}
		dv := ev.deploy.FillPath(cue.MakePath(cue.Str("cluster")), ev.ctx.CompileBytes(j)).LookupPath(cue.MakePath(cue.Str("apps")))
		if err := dv.Validate(cue.Concrete(true)); err != nil {
			b.Fatal(err)
		}
	}
}

// sharedValues names the apps whose values (as JSON) are the same on at
// least two clusters of p.
func sharedValues(b *testing.B, ev *evaluator, p *load.Platform) map[string]bool {
	seen := map[string]map[string]bool{}
	shared := map[string]bool{}
	for _, f := range p.Clusters {
		c, ds := ev.evaluate(f)
		if len(ds) > 0 {
			b.Fatal(ds)
		}
		for _, a := range c.Apps {
			j, err := a.Values.MarshalJSON()
			if err != nil {
				b.Fatal(err)
			}
			if seen[a.Name] == nil {
				seen[a.Name] = map[string]bool{}
			}
			if seen[a.Name][string(j)] {
				shared[a.Name] = true
			}
			seen[a.Name][string(j)] = true
		}
	}
	return shared
}

// evaluated evaluates the clusters of p that names lists (all if nil)
// with ev, so that their values belong to ev's context.
func evaluated(b *testing.B, ev *evaluator, p *load.Platform, names []string) []cue.Value {
	var out []cue.Value
	for _, f := range p.Clusters {
		if names != nil && !slices.Contains(names, f.Name) {
			continue
		}
		c, ds := ev.evaluate(f)
		if len(ds) > 0 {
			b.Fatal(ds)
		}
		out = append(out, c.Value)
	}
	if len(out) == 0 {
		b.Fatal("no clusters")
	}
	return out
}

// evaluatorFor builds an evaluator of p whose catalog has no values for
// the apps drop says so of (nil: none), by removing them from the syntax
// of a fresh copy of the shared package.
func evaluatorFor(b *testing.B, p *load.Platform, drop func(app string) bool) *evaluator {
	q := *p
	if drop != nil {
		inst, err := p.LoadShared()
		if err != nil {
			b.Fatal(err)
		}
		if dropValues(inst, drop, map[*build.Instance]bool{}) == 0 {
			b.Fatal("no app's values were found to remove: the catalog's apps are no longer written as `apps: <app>: {values: ...}`")
		}
		q.Shared = inst
	}
	ev, err := newEvaluator(&q, true, nil)
	if err != nil {
		b.Fatal(err)
	}
	return ev
}

// dropValues turns `values: X` of every app struct `apps: <app>: {...}`
// that drop names, in inst and the packages it imports, into
// `if false {values: X}`: the app has no values, and the lets X reads are
// still referenced, as CUE requires. It returns how many it turned.
func dropValues(inst *build.Instance, drop func(string) bool, seen map[*build.Instance]bool) int {
	if seen[inst] {
		return 0
	}
	dropped := 0
	seen[inst] = true
	for _, f := range inst.Files {
		ast.Walk(f, func(n ast.Node) bool {
			apps, name := staticField(n)
			st, ok := apps.Value.(*ast.StructLit)
			if name != "apps" || !ok {
				return true
			}
			for _, e := range st.Elts {
				app, name := staticField(e)
				body, ok := app.Value.(*ast.StructLit)
				if name == "" || !ok || !drop(name) {
					continue
				}
				for i, e := range body.Elts {
					if vf, name := staticField(e); name == "values" {
						body.Elts[i] = &ast.Comprehension{
							Clauses: []ast.Clause{&ast.IfClause{Condition: ast.NewBool(false)}},
							Value:   ast.NewStruct(vf),
						}
						dropped++
					}
				}
			}
			return true
		}, nil)
	}
	for _, imp := range inst.Imports {
		dropped += dropValues(imp, drop, seen)
	}
	return dropped
}

// staticField is n as a field and its label, if n is a field with a label
// known without evaluation; else an empty field and "".
func staticField(n ast.Node) (*ast.Field, string) {
	if f, ok := n.(*ast.Field); ok {
		if name, _, err := ast.LabelName(f.Label); err == nil {
			return f, name
		}
	}
	return &ast.Field{}, ""
}

// appsAlone evaluates the values of each app the i-th cluster gets and
// only selects, each from its definition of its own (alone.go), as a
// compile does for a cluster whose apps an earlier cluster's #deploy
// chose. ev must evaluate apps alone. It first checks, on every cluster,
// that each app's values come out as #deploy has them.
func appsAlone(b *testing.B, ev *evaluator, clusters []*Cluster, only func(string) bool) func(i int) {
	defs := ev.alone
	if len(defs) == 0 {
		b.Fatal("no app of the catalog can be evaluated alone")
	}
	alone := func(c *Cluster, a App) cue.Value {
		v := defs[a.Name].FillPath(clusterField, c.Value).LookupPath(cue.MakePath(cue.Str("apps"), cue.Str(a.Name), cue.Str("values")))
		if err := v.Validate(cue.Concrete(true)); err != nil {
			b.Fatalf("%s on %s: %v", a.Name, c.Name, err)
		}
		return v
	}
	picked := 0
	for _, c := range clusters {
		for _, a := range c.Apps {
			if _, ok := defs[a.Name]; !ok || !only(a.Name) {
				continue
			}
			picked++
			got, err := alone(c, a).MarshalJSON()
			if err != nil {
				b.Fatal(err)
			}
			want, err := a.Values.MarshalJSON()
			if err != nil {
				b.Fatal(err)
			}
			if string(got) != string(want) {
				b.Fatalf("%s on %s: its values alone differ from #deploy's:\n%s\n%s", a.Name, c.Name, got, want)
			}
		}
	}
	if picked == 0 {
		b.Fatal("no cluster gets any of the apps")
	}
	return func(i int) {
		c := clusters[i%len(clusters)]
		for _, a := range c.Apps {
			if _, ok := defs[a.Name]; ok && only(a.Name) {
				alone(c, a)
			}
		}
	}
}
