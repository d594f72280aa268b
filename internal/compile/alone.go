package compile

import (
	"bytes"
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"cuelang.org/go/cue"
	"cuelang.org/go/cue/ast"
	"cuelang.org/go/cue/build"
	"cuelang.org/go/cue/format"
	"cuelang.org/go/cue/parser"
	"cuelang.org/go/cue/token"
)

// Apps evaluated alone.
//
// Evaluating `#deploy` for a cluster evaluates the whole catalog bound to
// it: every app's values, deployed or not, and the catalog around them,
// half of the cost before any value. An app's values alone cost a tenth
// of that (docs/performance.md). When the reading of the platform shows
// that `#deploy` puts nothing in its apps but the catalog's, each under
// its own name (Reads.blocks), an app's values are what the catalog
// declares for it, and a definition holding only that declaration gives
// the same values:
//
//	#fleetcAlone3: {
//		cluster: _
//		let proxy = cluster.registry   // the lets of its block it uses
//		apps: [string]: #AppFields      // what the catalog says for every app
//		apps: "node-exporter": {...}    // its declaration, as written
//	}
//
// aloneFiles writes these definitions into the catalog's package, and
// names them from the shared package, as source added to a fresh copy of
// the shared instance before it is built. An app declared in more than one
// block, or whose declaration refers to anything but the cluster, its
// block's lets, its own fields and the package's, is left out, and so is
// every app when a block adds to the apps in a way the reading does not
// follow: such apps are evaluated with `#deploy`, as before.

// aloneField is the field of the shared package that names each app's
// definition, and alonePrefix the prefix of the definitions.
const (
	aloneField  = "#fleetcAlone"
	alonePrefix = "#fleetcAlone"
)

// aloneFiles returns the files that define, for each app of rs's
// catalog that can be evaluated alone, a definition of its own in the
// catalog's package, and name them from shared (`#fleetcAlone: {<app>:
// <definition>}`); nil when there are none. names are the apps it defines.
func aloneFiles(rs *Reads, shared *build.Instance) (files map[*build.Instance]*ast.File, names []string, err error) {
	if !rs.chooseOK || rs.blocks == nil || rs.catalogPkg == nil {
		return nil, nil, nil
	}
	pkg := rs.catalogPkg
	for _, inst := range []*build.Instance{pkg, shared} {
		for _, f := range inst.Files {
			for _, d := range f.Decls {
				if l := staticLabel(d); len(l) >= len(alonePrefix) && l[:len(alonePrefix)] == alonePrefix {
					return nil, nil, nil // the platform's own name
				}
			}
		}
	}
	type decl struct {
		block *ast.StructLit
		field *ast.Field
	}
	decls := map[string][]decl{}
	var every []*ast.Field // the patterns of the blocks' apps
	for _, b := range rs.blocks {
		if blockFile(pkg, b) == nil {
			return nil, nil, nil
		}
		for _, e := range b.Elts {
			switch x := e.(type) {
			case *ast.LetClause, *ast.CommentGroup, *ast.Attribute:
				continue
			case *ast.Field:
				switch staticLabel(x) {
				case "":
					return nil, nil, nil // a pattern or a computed label of the block
				case "apps":
				default:
					continue // another field: an app reaches it only by a reference, which makes it unknown
				}
			default:
				return nil, nil, nil // an embedding or a comprehension may add to any app
			}
			apps, ok := e.(*ast.Field).Value.(*ast.StructLit)
			if !ok {
				return nil, nil, nil
			}
			for _, ae := range apps.Elts {
				af, ok := ae.(*ast.Field)
				switch {
				case !ok:
					if _, comment := ae.(*ast.CommentGroup); !comment {
						return nil, nil, nil
					}
				case isPattern(af):
					every = append(every, af)
				case staticLabel(af) == "" || af.Constraint != token.ILLEGAL:
					return nil, nil, nil
				case hiddenOrDef(af, "_") || hiddenOrDef(af, "#"):
				default:
					if !clusterFree(af.Value, b) {
						// Which apps a cluster gets may then depend on more
						// than Reads.choose.
						return nil, nil, nil
					}
					decls[staticLabel(af)] = append(decls[staticLabel(af)], decl{b, af})
				}
			}
		}
	}
	// What the catalog says for every app must not depend on a block.
	imports := map[*ast.ImportSpec]bool{}
	for _, p := range every {
		_, specs, ok := references(p, nil)
		if !ok {
			return nil, nil, nil
		}
		for _, s := range specs {
			imports[s] = true
		}
	}
	var src bytes.Buffer
	fmt.Fprintf(&src, "package %s\n\n", pkg.PkgName)
	var defs bytes.Buffer
	for i, app := range sortedKeys(decls) {
		ds := decls[app]
		if len(ds) != 1 || !readsKnown(rs, app) {
			continue
		}
		d := ds[0]
		lets, specs, ok := references(d.field.Value, d.block)
		if !ok {
			continue
		}
		var letText, everyText bytes.Buffer
		for _, l := range lets {
			text, err := format.Node(l)
			if err != nil {
				return nil, nil, err
			}
			fmt.Fprintf(&letText, "\t%s\n", text)
		}
		for _, p := range every {
			text, err := format.Node(p)
			if err != nil {
				return nil, nil, err
			}
			fmt.Fprintf(&everyText, "\tapps: %s\n", text)
		}
		text, err := format.Node(d.field.Value)
		if err != nil {
			return nil, nil, err
		}
		label := strconv.Quote(app)
		// The app with what the catalog says for every app; without it,
		// for when that says nothing of the values (aloneValues); and
		// what it says alone.
		fmt.Fprintf(&defs, "%s%d: {\n\tcluster: _\n%s%s\tapps: %s: %s\n}\n\n", alonePrefix, i, letText.Bytes(), everyText.Bytes(), label, text)
		fmt.Fprintf(&defs, "%sLean%d: {\n\tcluster: _\n%s\tapps: %s: %s\n}\n\n", alonePrefix, i, letText.Bytes(), label, text)
		fmt.Fprintf(&defs, "%sEvery%d: {\n%s\tapps: %s: _\n}\n\n", alonePrefix, i, everyText.Bytes(), label)
		for _, s := range specs {
			imports[s] = true
		}
		names = append(names, app)
	}
	if len(names) == 0 {
		return nil, nil, nil
	}
	for _, s := range slices.SortedFunc(maps.Keys(imports), func(a, b *ast.ImportSpec) int { return strings.Compare(a.Path.Value, b.Path.Value) }) {
		name := ""
		if s.Name != nil {
			name = s.Name.Name + " "
		}
		fmt.Fprintf(&src, "import %s%s\n", name, s.Path.Value)
	}
	src.WriteString("\n")
	src.Write(defs.Bytes())
	// The shared package names each definition.
	var refs bytes.Buffer
	qual := ""
	if pkg != shared {
		qual = "fleetcAlonePkg."
		fmt.Fprintf(&refs, "package %s\n\nimport fleetcAlonePkg %q\n\n", shared.PkgName, pkg.ImportPath)
	}
	fmt.Fprintf(&refs, "%s: {\n", aloneField)
	for i, app := range sortedKeys(decls) {
		if slices.Contains(names, app) {
			fmt.Fprintf(&refs, "\t%s: {full: %s%s%d, lean: %[2]s%[3]sLean%[4]d, every: %[2]s%[3]sEvery%[4]d}\n", strconv.Quote(app), qual, alonePrefix, i)
		}
	}
	refs.WriteString("}\n")
	files = map[*build.Instance]*ast.File{}
	if pkg == shared {
		src.Write(refs.Bytes())
	} else {
		f, err := parser.ParseFile(filepath.Join(shared.Dir, "fleetc-alone.cue"), refs.Bytes())
		if err != nil {
			return nil, nil, err
		}
		files[shared] = f
	}
	f, err := parser.ParseFile(filepath.Join(pkg.Dir, "fleetc-alone-defs.cue"), src.Bytes())
	if err != nil {
		return nil, nil, err
	}
	files[pkg] = f
	return files, names, nil
}

// readsKnown reports whether the reading knows what app reads: an app
// whose reads are unknown refers to something it could not follow.
func readsKnown(rs *Reads, app string) bool {
	_, ok := rs.apps[app]
	return ok
}

// isPattern reports whether f is a pattern constraint, [X]: V.
func isPattern(f *ast.Field) bool {
	_, ok := f.Label.(*ast.ListLit)
	return ok && f.Alias == nil
}

// blockFile is the file of pkg that declares block.
func blockFile(pkg *build.Instance, block *ast.StructLit) *ast.File {
	for _, f := range pkg.Files {
		for _, d := range f.Decls {
			if fd, ok := d.(*ast.Field); ok && fd.Value == block {
				return f
			}
		}
	}
	return nil
}

// references follows what n refers to: the cluster (the block's
// `cluster`), the lets of block it uses, directly or through each other
// (returned in the block's order), the imports (specs), fields of the
// package, and what n declares itself. Anything else, such as another
// field of the block, a file's let or an alias around n, and ok is false:
// n cannot be written out of its place. With a nil block, n may refer to
// nothing of a block.
func references(n ast.Node, block *ast.StructLit) (lets []*ast.LetClause, specs []*ast.ImportSpec, ok bool) {
	used := map[*ast.LetClause]bool{}
	roots := []ast.Node{n}
	ok = true
	for i := 0; i < len(roots) && ok; i++ {
		root := roots[i]
		ast.Walk(root, func(x ast.Node) bool {
			id, isIdent := x.(*ast.Ident)
			if !isIdent || !ok {
				return ok
			}
			if spec, isImport := id.Node.(*ast.ImportSpec); isImport {
				if !slices.Contains(specs, spec) {
					specs = append(specs, spec)
				}
				return true
			}
			switch {
			case id.Name == "_" || id.Scope == nil && id.Node == nil:
				// Top, a builtin, or a field of the package in another file.
				if id.Name == "self" || len(id.Name) > 1 && id.Name[:2] == "__" {
					ok = false
				}
			case isFile(id.Scope):
				switch id.Node.(type) {
				case *ast.LetClause, *ast.Alias:
					ok = false // the file's own
				}
			case block != nil && id.Scope == ast.Node(block) && id.Name == "cluster":
			case inside(id.Node, root):
			default:
				l, isLet := id.Node.(*ast.LetClause)
				if block == nil || !isLet || !slices.Contains(block.Elts, ast.Decl(l)) {
					ok = false
					return false
				}
				if !used[l] {
					used[l] = true
					roots = append(roots, l)
				}
			}
			return ok
		}, nil)
	}
	if !ok {
		return nil, nil, false
	}
	if block != nil {
		for _, e := range block.Elts {
			if l, isLet := e.(*ast.LetClause); isLet && used[l] {
				lets = append(lets, l)
			}
		}
	}
	return lets, specs, true
}

// clusterFree reports whether the fields of the app declaration v other
// than its values refer to nothing of the cluster: not to block's cluster
// or lets, nor to the app's own lets. #deploy's conditions may look at
// them (an app's bundle), so only then does what they read of the cluster
// (Reads.choose) decide which apps a cluster gets.
func clusterFree(v ast.Expr, block *ast.StructLit) bool {
	lit, ok := v.(*ast.StructLit)
	if !ok {
		return false
	}
	for _, e := range lit.Elts {
		switch x := e.(type) {
		case *ast.LetClause, *ast.CommentGroup, *ast.Attribute:
		case *ast.Field:
			if staticLabel(x) == "values" {
				continue
			}
			free := true
			ast.Walk(x, func(n ast.Node) bool {
				id, ok := n.(*ast.Ident)
				if !ok {
					return free
				}
				if id.Scope == ast.Node(block) || id.Scope == ast.Node(lit) {
					free = false // the cluster, a let, another field of the block or the app
				}
				if _, isLet := id.Node.(*ast.LetClause); isLet && !isFile(id.Scope) {
					free = false
				}
				return free
			}, nil)
			if !free {
				return false
			}
		default:
			return false // an embedding or a comprehension may set any field
		}
	}
	return true
}

// aloneValues are the definitions aloneFiles wrote, by app, as the shared
// package built names them: the one without what the catalog says for
// every app when that adds nothing to the app's values, which spares a
// third of the app's evaluation, else the whole one.
func aloneValues(shared cue.Value, names []string) map[string]cue.Value {
	out := make(map[string]cue.Value, len(names))
	for _, app := range names {
		defs := shared.LookupPath(cue.MakePath(cue.Def(aloneField), cue.Str(app)))
		def := defs.LookupPath(cue.MakePath(cue.Str("full")))
		every := defs.LookupPath(cue.MakePath(cue.Str("every"), cue.Str("apps"), cue.Str(app), cue.Str("values")))
		if addsNothing(every) {
			def = defs.LookupPath(cue.MakePath(cue.Str("lean")))
		}
		if def.Exists() && def.Err() == nil {
			out[app] = def
		}
	}
	return out
}

// addsNothing reports whether v, what the catalog says for the values of
// every app, changes no values it is unified with: there is none, or it is
// an open struct with no field and no constraint (#AppFields' `{...}`).
// Closed, it could refuse values; with fields, add to them.
func addsNothing(v cue.Value) bool {
	if !v.Exists() {
		return true
	}
	if v.Err() != nil || fmt.Sprint(v) != "{}" || !v.Allows(cue.AnyString) {
		return false
	}
	iter, err := v.Fields(cue.All())
	return err == nil && !iter.Next()
}

func sortedKeys[V any](m map[string]V) []string {
	return slices.Sorted(maps.Keys(m))
}
