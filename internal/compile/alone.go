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
	"cuelang.org/go/cue/literal"
	"cuelang.org/go/cue/parser"
	"cuelang.org/go/cue/token"

	"github.com/fleetc/fleetc/internal/load"
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
//		apps: [string]: {...}           // what the catalog says for every app, unless #AppFields
//		apps: "node-exporter": values: {...}
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
// definition, and the prefix of the definitions' own names
// (#fleetcAlone3), which the platform must not use.
const aloneField = "#fleetcAlone"

// aloneFiles returns the files that define, for each app of rs's
// catalog that can be evaluated alone, a definition of its own in the
// catalog's package, one file per app with the imports it uses, and name
// them from shared (`#fleetcAlone: {<app>: <definition>}`); nil when there
// are none. names are the apps it defines.
func aloneFiles(rs *Reads, shared *build.Instance) (files map[*build.Instance][]*ast.File, names []string, err error) {
	if !rs.chooseOK || rs.blocks == nil || rs.catalogPkg == nil {
		return nil, nil, nil
	}
	pkg := rs.catalogPkg
	if mentions(shared, aloneField) {
		return nil, nil, nil // the platform's own name, which the definitions would change
	}
	type decl struct {
		block *ast.StructLit
		field *ast.Field
	}
	decls := map[string][]decl{}
	var every []*ast.Field // the patterns of the blocks' apps
	for _, b := range rs.blocks {
		if blockFile(pkg, b) == nil || !slices.ContainsFunc(b.Elts, func(e ast.Decl) bool { return staticLabel(e) == "cluster" }) {
			// Without its own `cluster`, a block's cluster.x is the
			// package's, which the definition's would hide.
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
	// What the catalog says for every app must not depend on a block; it
	// is left out of the definitions when it says nothing of the values.
	var everyRefs []refs
	keep := false
	for _, p := range every {
		r, ok := references(p, nil)
		if !ok {
			return nil, nil, nil
		}
		everyRefs = append(everyRefs, r)
		keep = keep || !keepsValues(p, pkg)
	}
	if !keep {
		every, everyRefs = nil, nil
	}
	var refsSrc bytes.Buffer
	fmt.Fprintf(&refsSrc, "package %s\n\n", shared.PkgName)
	qual := ""
	if pkg != shared {
		qual = "fleetcAlonePkg."
		fmt.Fprintf(&refsSrc, "import fleetcAlonePkg %q\n\n", pkg.ImportPath)
	}
	fmt.Fprintf(&refsSrc, "%s: {\n", aloneField)
	files = map[*build.Instance][]*ast.File{}
	for i, app := range slices.Sorted(maps.Keys(decls)) {
		ds := decls[app]
		if _, known := rs.apps[app]; len(ds) != 1 || !known {
			continue // declared twice, or reading what the reading does not follow
		}
		d := ds[0]
		r, ok := references(d.field.Value, d.block)
		if !ok {
			continue
		}
		src, ok := aloneSource(pkg.PkgName, fmt.Sprintf("%s%d", aloneField, i), app, d.field.Value, every, append([]refs{r}, everyRefs...))
		if !ok {
			continue
		}
		f, err := parser.ParseFile(filepath.Join(pkg.Dir, fmt.Sprintf("fleetc-alone-%d.cue", i)), src)
		if err != nil {
			return nil, nil, err
		}
		files[pkg] = append(files[pkg], f)
		fmt.Fprintf(&refsSrc, "\t%s: %s%s%d\n", literal.String.Quote(app), qual, aloneField, i)
		names = append(names, app)
	}
	if len(names) == 0 {
		return nil, nil, nil
	}
	refsSrc.WriteString("}\n")
	f, err := parser.ParseFile(filepath.Join(shared.Dir, "fleetc-alone.cue"), refsSrc.Bytes())
	if err != nil {
		return nil, nil, err
	}
	files[shared] = append(files[shared], f)
	return files, names, nil
}

// aloneSource is the file of one app's definition, def: its declaration
// v, the lets and imports it uses (all), and the patterns every.
// False when a name the definition declares (cluster, apps, a let, an
// import) would capture a reference that, where it was written, meant a
// field of the package, or two imports take one name.
func aloneSource(pkgName, def, app string, v ast.Expr, every []*ast.Field, all []refs) ([]byte, bool) {
	bound := map[string]bool{"cluster": true, "apps": true}
	imports := map[string]string{} // name -> path
	var lets []*ast.LetClause
	for _, r := range all {
		for _, l := range r.lets {
			if !slices.Contains(lets, l) {
				lets = append(lets, l)
			}
			bound[l.Ident.Name] = true
		}
		for name, path := range r.imports {
			if p, ok := imports[name]; ok && p != path {
				return nil, false
			}
			imports[name] = path
			bound[name] = true
		}
	}
	for _, r := range all {
		for name := range r.pkgNames {
			if bound[name] {
				return nil, false
			}
		}
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "package %s\n\n", pkgName)
	for _, name := range slices.Sorted(maps.Keys(imports)) {
		fmt.Fprintf(&b, "import %s %s\n", name, literal.String.Quote(imports[name]))
	}
	fmt.Fprintf(&b, "\n%s: {\n\tcluster: _\n", def)
	for _, l := range lets {
		text, err := format.Node(l)
		if err != nil {
			return nil, false
		}
		fmt.Fprintf(&b, "\t%s\n", text)
	}
	for _, p := range every {
		text, err := format.Node(p)
		if err != nil {
			return nil, false
		}
		fmt.Fprintf(&b, "\tapps: %s\n", text)
	}
	text, err := format.Node(v)
	if err != nil {
		return nil, false
	}
	// Values are a struct, as #AppFields says; where the catalog does not
	// say so, a cluster whose values are not is evaluated with #deploy.
	label := literal.String.Quote(app)
	fmt.Fprintf(&b, "\tapps: %s: values: {...}\n\tapps: %s: %s\n}\n", label, label, text)
	return b.Bytes(), true
}

// keepsValues reports whether p, a pattern of the catalog's apps, leaves
// every app as it is but for its values being a struct: its value is a
// definition of pkg declared only as struct literals of fields that are
// `_`, and `values: {...}` (#AppFields). Unified with anything else, an
// app could gain fields, or be refused; the definitions say `values:
// {...}` themselves.
func keepsValues(p *ast.Field, pkg *build.Instance) bool {
	id, ok := p.Value.(*ast.Ident)
	if !ok || !strings.HasPrefix(id.Name, "#") || !(id.Scope == nil || isFile(id.Scope)) {
		return false
	}
	found := false
	for _, f := range pkg.Files {
		for _, d := range f.Decls {
			fd, ok := d.(*ast.Field)
			if !ok {
				continue
			}
			switch staticLabel(fd) {
			case "":
				return false // a computed label may be the definition
			case id.Name:
			default:
				continue
			}
			lit, ok := fd.Value.(*ast.StructLit)
			if !ok {
				return false
			}
			found = true
			for _, e := range lit.Elts {
				switch x := e.(type) {
				case *ast.CommentGroup, *ast.Attribute:
				case *ast.Field:
					switch staticLabel(x) {
					case "":
						return false
					case "values":
						v, ok := x.Value.(*ast.StructLit)
						if !ok || len(v.Elts) != 1 {
							return false
						}
						if e, ok := v.Elts[0].(*ast.Ellipsis); !ok || e.Type != nil {
							return false
						}
					default:
						// Anything but _ may check the app, its values
						// included, where they are evaluated alone.
						if v, ok := x.Value.(*ast.Ident); !ok || v.Name != "_" {
							return false
						}
					}
				default:
					return false
				}
			}
		}
	}
	return found
}

// mentions reports whether any file of inst or the packages it imports
// has an identifier or label that starts with prefix.
func mentions(inst *build.Instance, prefix string) bool {
	for _, pkg := range load.Packages(inst, "") {
		for _, f := range pkg.Files {
			found := false
			ast.Walk(f, func(n ast.Node) bool {
				switch x := n.(type) {
				case *ast.Ident:
					found = found || strings.HasPrefix(x.Name, prefix)
				case *ast.BasicLit:
					if s, err := strconv.Unquote(x.Value); err == nil {
						found = found || strings.HasPrefix(s, prefix)
					}
				}
				return !found
			}, nil)
			if found {
				return true
			}
		}
	}
	return false
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

// refs is what a declaration written out of its place refers to: the
// lets of its block it uses, directly or through each other (in the
// block's order), its imports by name, and the names it reads as fields
// of the package, which nothing the definition declares may hide.
type refs struct {
	lets     []*ast.LetClause
	imports  map[string]string
	pkgNames map[string]bool
}

// references follows what n refers to: the cluster (the block's
// `cluster`), the lets of block it uses, the imports, fields of the
// package, and what n declares itself. Anything else, such as another
// field of the block, a file's let or an alias around n, and ok is false:
// n cannot be written out of its place. With a nil block, n may refer to
// nothing of a block.
func references(n ast.Node, block *ast.StructLit) (r refs, ok bool) {
	r.imports, r.pkgNames = map[string]string{}, map[string]bool{}
	used := map[*ast.LetClause]bool{}
	roots := []ast.Node{n}
	ok = true
	for i := 0; i < len(roots) && ok; i++ {
		root := roots[i]
		labels := map[*ast.Ident]bool{} // a field's name, not a reference
		ast.Walk(root, func(x ast.Node) bool {
			if f, isField := x.(*ast.Field); isField {
				if id, isIdent := f.Label.(*ast.Ident); isIdent {
					labels[id] = true
				}
			}
			switch y := x.(type) {
			case *ast.SelectorExpr:
				if id, isIdent := y.Sel.(*ast.Ident); isIdent {
					labels[id] = true
				}
			case *ast.LetClause: // what it declares
				labels[y.Ident] = true
			case *ast.ForClause:
				labels[y.Key], labels[y.Value] = true, true
			case *ast.Alias:
				labels[y.Ident] = true
			}
			id, isIdent := x.(*ast.Ident)
			if !isIdent || !ok || labels[id] {
				return ok
			}
			if spec, isImport := id.Node.(*ast.ImportSpec); isImport {
				path, err := strconv.Unquote(spec.Path.Value)
				if err != nil {
					ok = false
					return false
				}
				r.imports[id.Name] = path
				return true
			}
			switch {
			case id.Name == "_":
			case id.Scope == nil && id.Node == nil:
				// A builtin, or a field of the package in another file.
				if id.Name == "self" || strings.HasPrefix(id.Name, "__") {
					ok = false
				}
				r.pkgNames[id.Name] = true
			case isFile(id.Scope):
				switch id.Node.(type) {
				case *ast.LetClause, *ast.Alias:
					ok = false // the file's own
				default:
					r.pkgNames[id.Name] = true
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
		return refs{}, false
	}
	if block != nil {
		for _, e := range block.Elts {
			if l, isLet := e.(*ast.LetClause); isLet && used[l] {
				r.lets = append(r.lets, l)
			}
		}
	}
	return r, true
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
// package built names them.
func aloneValues(shared cue.Value, names []string) map[string]cue.Value {
	out := make(map[string]cue.Value, len(names))
	for _, app := range names {
		if def := shared.LookupPath(cue.MakePath(cue.Def(aloneField), cue.Str(app))); def.Exists() && def.Err() == nil {
			out[app] = def
		}
	}
	return out
}
