package compile

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"cuelang.org/go/cue"
	"cuelang.org/go/cue/ast"
	"cuelang.org/go/cue/format"
	"cuelang.org/go/cue/parser"
)

// aloneDefs writes, into the catalog package of the fleet in dir, one
// definition per app of the catalog that holds only what the app's
// values need: `cluster: _`, the lets of its block and its own that its values use,
// and its values, as in
//
//	#FleetcAlone3: {
//		cluster: _
//		let proxy = cluster.registry
//		values: {...}
//	}
//
// and makes the clusters package name each (`#alone3: defs.#FleetcAlone3`).
// It returns the field of the clusters package for each app. Apps declared
// in more than one block, or without values, are left out, as are catalog
// files that import anything.
func aloneDefs(b *testing.B, dir string) map[string]string {
	files, err := filepath.Glob(filepath.Join(dir, "defs", "*.cue"))
	if err != nil || len(files) == 0 {
		b.Fatalf("no defs: %v", err)
	}
	type decl struct {
		values ast.Expr
		lets   map[string]*ast.LetClause
	}
	decls := map[string][]decl{}
	for _, name := range files {
		f, err := parser.ParseFile(name, nil, parser.ParseComments)
		if err != nil {
			b.Fatal(err)
		}
		if slices.ContainsFunc(f.Decls, func(d ast.Decl) bool { _, ok := d.(*ast.ImportDecl); return ok }) {
			continue
		}
		for _, d := range f.Decls {
			fd, label := staticField(d)
			block, ok := fd.Value.(*ast.StructLit)
			if label != "#Catalog" || !ok {
				continue
			}
			lets := map[string]*ast.LetClause{}
			for _, e := range block.Elts {
				if l, ok := e.(*ast.LetClause); ok {
					lets[l.Ident.Name] = l
				}
			}
			for _, e := range block.Elts {
				apps, label := staticField(e)
				lit, ok := apps.Value.(*ast.StructLit)
				if label != "apps" || !ok {
					continue
				}
				for _, a := range lit.Elts {
					app, name := staticField(a)
					body, ok := app.Value.(*ast.StructLit)
					if name == "" || !ok {
						continue
					}
					// The app's own lets, and its block's.
					scope := maps.Clone(lets)
					for _, v := range body.Elts {
						if l, ok := v.(*ast.LetClause); ok {
							scope[l.Ident.Name] = l
						}
					}
					for _, v := range body.Elts {
						if vf, l := staticField(v); l == "values" {
							decls[name] = append(decls[name], decl{vf.Value, scope})
						}
					}
				}
			}
		}
	}
	var src, refs strings.Builder
	src.WriteString("package defs\n\n")
	fields := map[string]string{}
	for i, app := range slices.Sorted(maps.Keys(decls)) {
		ds := decls[app]
		if len(ds) != 1 {
			continue
		}
		// The lets the values use, and the lets those use.
		used := identNames(ds[0].values)
		for changed := true; changed; {
			changed = false
			for name, l := range ds[0].lets {
				if !used[name] {
					continue
				}
				for n := range identNames(l.Expr) {
					if _, isLet := ds[0].lets[n]; isLet && !used[n] {
						used[n], changed = true, true
					}
				}
			}
		}
		fmt.Fprintf(&src, "#FleetcAlone%d: {\n\tcluster: _\n", i)
		for _, name := range slices.Sorted(maps.Keys(ds[0].lets)) {
			if used[name] {
				text, err := format.Node(ds[0].lets[name])
				if err != nil {
					b.Fatal(err)
				}
				fmt.Fprintf(&src, "\t%s\n", text)
			}
		}
		text, err := format.Node(ds[0].values)
		if err != nil {
			b.Fatal(err)
		}
		fmt.Fprintf(&src, "\tvalues: %s\n}\n\n", text)
		fmt.Fprintf(&refs, "\n#alone%d: defs.#FleetcAlone%d\n", i, i)
		fields[app] = fmt.Sprintf("#alone%d", i)
	}
	if len(fields) == 0 {
		b.Fatal("no app's values were found: the catalog's apps are no longer written as `#Catalog: {apps: <app>: {values: ...}}`")
	}
	if err := os.WriteFile(filepath.Join(dir, "defs", "zz_alone.cue"), []byte(src.String()), 0o644); err != nil {
		b.Fatal(err)
	}
	shared := filepath.Join(dir, "clusters", "platform.cue")
	text, err := os.ReadFile(shared)
	if err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(shared, append(text, refs.String()...), 0o644); err != nil {
		b.Fatal(err)
	}
	return fields
}

// appsAlone evaluates the values of each app the i-th cluster gets and
// only apps selects, each from its definition of its own (aloneDefs), as
// a compile that knew which apps a cluster gets could. It first checks,
// on every cluster, that each app's values come out as #deploy has them.
func appsAlone(b *testing.B, ev *evaluator, clusters []*Cluster, fields map[string]string, only func(string) bool) func(i int) {
	defs := map[string]cue.Value{}
	for app, field := range fields {
		defs[app] = ev.shared.LookupPath(cue.ParsePath(field))
	}
	alone := func(c *Cluster, a App) cue.Value {
		v := defs[a.Name].FillPath(cue.MakePath(cue.Str("cluster")), c.Value).LookupPath(cue.MakePath(cue.Str("values")))
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
