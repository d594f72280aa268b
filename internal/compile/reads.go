package compile

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"cuelang.org/go/cue"
	"cuelang.org/go/cue/ast"
	"cuelang.org/go/cue/build"
	"cuelang.org/go/cue/token"
)

// Which fields of the cluster each app's values read.
//
// Most apps' values files come out the same on many clusters: they read a
// few fields of the cluster (its registry, its env) and nothing else. An
// app whose values read the same fields with the same values has the same
// values file, so it is rendered once (App.Memo names what it read).
// Knowing what an app reads is a conservative reading of the platform's
// syntax, never of its evaluation: whatever the reading does not
// understand makes the app, or the whole platform, read the whole cluster,
// which no other cluster shares, and the app is rendered as before.
//
// The reading follows the shape docs/platform.md ("Shared values files")
// documents:
// `#deploy` is an imported definition, or a struct, whose `cluster: _`
// fleetc fills; it binds a catalog definition to the cluster, as in
// `(#Catalog & {cluster: cluster}).apps`, and puts each app of it under
// its own name, as in `for name, app in catalog {(name): app}`. The
// catalog's blocks, `#Catalog: {cluster: _, let ..., apps: name: {...}}`,
// each declare `cluster: _`. An app then reads:
//
//   - the cluster fields its own declarations reference, through the
//     block's `cluster` and the lets of its block, each with how it is
//     used (flow);
//   - what the catalog's blocks say for every app (patterns, embeddings,
//     comprehensions);
//   - what `#deploy` itself references, other than through a hidden
//     field no one in its package references or, when nothing but the
//     catalog's apps goes into its apps, in the conditions that choose
//     them (they decide which apps a cluster gets, not what they hold).
//
// A reference the reading cannot follow (another app's values, a field of
// the block other than cluster and its lets, an alias) makes the app read
// the whole cluster; a `#deploy` or catalog outside this shape makes
// every app do so.

// flow is how an expression's value is used, which decides what a
// reading needs to know about the field it reads.
type flow uint8

const (
	// opaque values only feed a computation whose result is a new value:
	// a comparison, arithmetic, an interpolation, a condition. Their
	// value decides the result; their structure cannot reach the values.
	opaque flow = iota
	// iterated values are the source of a for clause: their elements
	// may become part of the values, in the source's order.
	iterated
	// data values may become part of the values as they are. A struct
	// from the cluster unified into the values would bring its own
	// fields' positions, which decide the order of the values' fields
	// and differ between cluster files: such a read is shared only when
	// it holds no struct (see Reads.key).
	data
)

// read is one cluster field an app's values may depend on.
type read struct {
	path []cue.Selector
	flow flow
}

// Reads is what each app of a platform reads of the cluster.
type Reads struct {
	// apps are the reads of each app named in the catalog's syntax; an
	// app missing here (or every app, when all is nil) reads the whole
	// cluster.
	apps map[string][]read
	// every, without a catalog, is what #deploy reads, for every app.
	every []read
	// whole is set when no app's reads are known.
	whole bool
	// choose, when chooseOK, are the cluster fields that decide which apps
	// #deploy gives a cluster and whether its own checks pass: what the
	// conditions choosing the apps and its hidden fields read (the apps'
	// reads leave both out), and what else it reads. Two clusters alike in
	// these get the same apps (see fast.go).
	choose   []read
	chooseOK bool
	// blocks are the catalog's declarations, in catalogPkg, when #deploy
	// puts nothing in its apps but the catalog's, each under its own
	// name: then an app's values are what the catalog says, and can be
	// evaluated alone (alone.go).
	blocks     []*ast.StructLit
	catalogPkg *build.Instance
}

// wholeCluster is the reading of a platform it does not understand.
var wholeCluster = &Reads{whole: true}

// readsOf reads the shared package inst and the packages it imports.
func readsOf(inst *build.Instance) *Reads {
	pkgs := map[string]*build.Instance{}
	var collect func(*build.Instance)
	collect = func(i *build.Instance) {
		if _, ok := pkgs[i.ImportPath]; ok {
			return
		}
		pkgs[i.ImportPath] = i
		for _, imp := range i.Imports {
			collect(imp)
		}
	}
	collect(inst)
	for _, pkg := range pkgs {
		for _, f := range pkg.Files {
			for _, a := range f.Decls {
				if attr, ok := a.(*ast.Attribute); ok && strings.HasPrefix(attr.Text, "@experiment") {
					return wholeCluster // CUE as the reading does not know it (self, say)
				}
			}
		}
	}
	d := &deployReader{pkgs: pkgs}
	// `#deploy` in the shared package, and what it names.
	blocks, pkg, ok := d.blocks(inst, DeployDefPath.String())
	if !ok || len(blocks) == 0 {
		return wholeCluster
	}
	// A condition of #deploy that only routes catalog apps decides which
	// apps a cluster gets, not what they hold, unless something else adds
	// to the apps: read once as if nothing did, and again if something
	// does.
	d.routesOnly = true
	extra, ok := d.read(blocks, pkg)
	if ok && d.adds {
		*d = deployReader{pkgs: pkgs}
		extra, ok = d.read(blocks, pkg)
	}
	if !ok {
		return wholeCluster
	}
	if d.catalog == "" {
		// No catalog: every app is #deploy's own and reads what it does.
		return &Reads{every: dedupe(extra)}
	}
	cat, _, ok := d.blocks(d.catalogPkg, d.catalog)
	if !ok || len(cat) == 0 {
		return wholeCluster
	}
	reads := catalogReads(cat, extra)
	if !reads.whole && d.routesOnly && !d.adds && !d.chooseUnknown {
		reads.choose, reads.chooseOK = dedupe(append(d.choosing, extra...)), true
		reads.blocks, reads.catalogPkg = cat, d.catalogPkg
	}
	return reads
}

// read reads the blocks of #deploy, in package pkg.
func (d *deployReader) read(blocks []*ast.StructLit, pkg *build.Instance) ([]read, bool) {
	var extra []read
	for _, b := range blocks {
		r, ok := d.block(b, pkg)
		if !ok {
			return nil, false
		}
		extra = append(extra, r...)
	}
	return extra, true
}

// readsCluster is true for a path the cluster alone has: its name and
// its server are unique in the fleet, so an app reading either is never
// shared and the reading spares computing a key for it.
func readsCluster(rs []read) bool {
	for _, r := range rs {
		if len(r.path) == 0 {
			return true
		}
		if s := r.path[0]; s == cue.Str("name") || s == cue.Str("server") {
			return true
		}
	}
	return false
}

// blocks finds the declarations of the top-level field name of inst: the
// struct literals it is declared as, or what an imported definition it
// is declared as declares (`#deploy: defs.#Deploy`), with their package.
// False when a declaration is anything else, or when a file has
// top-level elements other than fields, lets and imports, which could
// declare the field in ways the reading does not follow.
func (d *deployReader) blocks(inst *build.Instance, name string) ([]*ast.StructLit, *build.Instance, bool) {
	var out []*ast.StructLit
	from := inst
	for _, f := range inst.Files {
		for _, decl := range f.Decls {
			switch x := decl.(type) {
			case *ast.Package, *ast.ImportDecl, *ast.CommentGroup, *ast.Attribute, *ast.LetClause:
				continue
			case *ast.Field:
				l, isIdent, err := ast.LabelName(x.Label)
				if err != nil || !isIdent || x.Alias != nil {
					if l == name || err != nil {
						return nil, nil, false
					}
					continue
				}
				if l != name {
					continue
				}
				switch v := x.Value.(type) {
				case *ast.StructLit:
					if from != inst {
						return nil, nil, false
					}
					out = append(out, v)
				case *ast.SelectorExpr:
					// An imported definition: read its declarations there.
					pkg, def, ok := d.imported(v)
					if !ok || len(out) > 0 {
						return nil, nil, false
					}
					bs, in, ok := d.blocks(pkg, def)
					if !ok {
						return nil, nil, false
					}
					out, from = bs, in // where the blocks are, through any re-export
				default:
					return nil, nil, false
				}
			default:
				return nil, nil, false
			}
		}
	}
	return out, from, true
}

// imported resolves pkg.#Def, with pkg an import, to the imported package
// and the definition's name.
func (d *deployReader) imported(x *ast.SelectorExpr) (*build.Instance, string, bool) {
	id, ok := x.X.(*ast.Ident)
	if !ok {
		return nil, "", false
	}
	spec, ok := id.Node.(*ast.ImportSpec)
	if !ok {
		return nil, "", false
	}
	path, err := strconv.Unquote(spec.Path.Value)
	if err != nil {
		return nil, "", false
	}
	pkg := d.pkgs[path]
	sel, isIdent, err := ast.LabelName(x.Sel)
	if pkg == nil || err != nil || !isIdent || !strings.HasPrefix(sel, "#") {
		return nil, "", false
	}
	return pkg, sel, true
}

// reader reads the expressions of one block: a `#Catalog: {...}` or a
// `#deploy`/`#Deploy: {...}` struct literal whose field `cluster` is the
// cluster being compiled.
type reader struct {
	// levels are the block and the struct literals embedded in it, by
	// itself or by its comprehensions: their fields are the block's, and
	// a `cluster` declared in any of them is the cluster.
	levels map[*ast.StructLit]bool
	// root is the expression being read; what is declared inside it is
	// read where it is declared.
	root ast.Node
	out  []read
	// unknown is set by a reference the reader cannot follow.
	unknown bool
	// letting are the lets being read, against cycles.
	letting map[*ast.LetClause]bool
	// derived, when set, recognizes the values that come from binding
	// the catalog (the deploy reader's): they are no reads, and their
	// only allowed use as data is where the deploy reader checks it.
	derived func(ast.Expr) binding
	// gating is set while the deploy reader reads the clauses of a
	// comprehension and #deploy only puts catalog apps under their names:
	// there a condition may look into the catalog (it decides which apps
	// a cluster gets, not what they hold). own are the for clauses over
	// the catalog whose app alone the comprehension being read puts in
	// place: its clauses may look at that app's fields other than its
	// values, which are the app's own declarations and so in its reads.
	gating bool
	own    map[*ast.ForClause]bool
	// lookedIn is set when a condition read while gating looks into the
	// catalog other than at the chosen app's own fields (its values, the
	// bound catalog's cluster): what it reads of the cluster is then not
	// among its reads, and Reads.choose would miss it.
	lookedIn bool
}

// newReader returns a reader of block, whose levels must each declare
// cluster as `_` if at all (anything else would change what the
// cluster's fields read as) and embed nothing but struct literals and
// comprehensions: an embedded definition's own `cluster` would be the
// cluster too, unseen.
func newReader(block *ast.StructLit) (*reader, bool) {
	r := &reader{levels: map[*ast.StructLit]bool{}, letting: map[*ast.LetClause]bool{}}
	return r, r.addLevel(block)
}

// addLevel adds lit and the struct literals it embeds to r's levels.
func (r *reader) addLevel(lit *ast.StructLit) bool {
	r.levels[lit] = true
	for _, e := range lit.Elts {
		switch x := e.(type) {
		case *ast.Field:
			if staticLabel(x) == "" && !isAlias(x) {
				return false // a pattern or a computed label may be cluster
			}
			if l, _, _ := ast.LabelName(x.Label); l == "cluster" {
				if id, ok := x.Value.(*ast.Ident); !ok || id.Name != "_" || x.Alias != nil {
					return false
				}
			}
		case *ast.EmbedDecl:
			inner, ok := x.Expr.(*ast.StructLit)
			if !ok || !r.addLevel(inner) {
				return false
			}
		case *ast.Comprehension:
			body, ok := x.Value.(*ast.StructLit)
			if !ok || !r.addLevel(body) {
				return false
			}
			if x.Fallback != nil && !r.addLevel(x.Fallback.Body) {
				return false
			}
		}
	}
	return true
}

// isAlias reports whether f's label is static but aliased: the reader
// makes whatever uses the alias unknown.
func isAlias(f *ast.Field) bool {
	if f.Alias != nil {
		return true
	}
	_, ok := f.Label.(*ast.Alias)
	return ok
}

// isCluster reports whether id names the cluster: a field `cluster` of
// the block's levels.
func (r *reader) isCluster(id *ast.Ident) bool {
	lit, ok := id.Scope.(*ast.StructLit)
	return ok && id.Name == "cluster" && r.levels[lit]
}

// read reads n, an expression or declaration of the block used as fl,
// as a root of its own: what n declares is read where it is declared.
func (r *reader) read(n ast.Node, fl flow) []read {
	saved := r.root
	r.root = n
	out := r.collect(n, fl)
	r.root = saved
	return out
}

// collect reads n, an expression, declaration or comprehension clause,
// within the current root.
func (r *reader) collect(n ast.Node, fl flow) []read {
	saved := r.out
	r.out = nil
	switch x := n.(type) {
	case ast.Expr:
		r.expr(x, fl)
	case ast.Decl:
		r.decls([]ast.Decl{x})
	case ast.Clause:
		r.clauses([]ast.Clause{x})
	default:
		r.unknown = true
	}
	out := r.out
	r.out = saved
	return out
}

func (r *reader) expr(n ast.Expr, fl flow) {
	if r.derived != nil {
		if b := r.derived(n); b != notBound {
			switch {
			case fl == iterated && b == boundApps:
			case fl == opaque && r.gating:
				r.lookedIn = true
			default:
				r.unknown = true // the catalog's apps, used in a way the reading does not follow
			}
			return
		}
	}
	switch x := n.(type) {
	case nil, *ast.BasicLit, *ast.BottomLit:
	case *ast.Ident, *ast.SelectorExpr, *ast.IndexExpr:
		r.chain(x, fl)
	case *ast.ParenExpr:
		r.expr(x.X, fl)
	case *ast.UnaryExpr:
		if x.Op == token.MUL { // a default: its value is the field's
			r.expr(x.X, fl)
		} else {
			r.expr(x.X, opaque)
		}
	case *ast.BinaryExpr:
		if x.Op == token.AND || x.Op == token.OR {
			r.expr(x.X, fl)
			r.expr(x.Y, fl)
		} else {
			r.expr(x.X, opaque)
			r.expr(x.Y, opaque)
		}
	case *ast.CallExpr:
		// A builtin may return its arguments' data (list.Concat).
		r.expr(x.Fun, opaque)
		for _, a := range x.Args {
			r.expr(a, max(fl, data))
		}
	case *ast.Interpolation:
		for _, e := range x.Elts {
			r.expr(e, opaque)
		}
	case *ast.StructLit:
		r.decls(x.Elts)
	case *ast.ListLit:
		// Iterated, each element is a value of the loop: data.
		for _, e := range x.Elts {
			r.expr(e, elements(fl))
		}
	case *ast.Ellipsis:
		r.expr(x.Type, elements(fl))
	case *ast.Comprehension:
		r.comprehension(x, func(v ast.Expr) { r.expr(v, elements(fl)) })
	case *ast.SliceExpr:
		r.expr(x.X, fl)
		r.expr(x.Low, opaque)
		r.expr(x.High, opaque)
	default:
		r.unknown = true // *ast.Func, *ast.Alias, *ast.PostfixExpr, …
	}
}

// elements is how the elements of a list or the yields of a
// comprehension are used when the whole is used as fl.
func elements(fl flow) flow {
	if fl == iterated {
		return data
	}
	return fl
}

// decls reads the elements of a struct literal; the values of its fields
// are data.
func (r *reader) decls(elts []ast.Decl) {
	for _, e := range elts {
		switch x := e.(type) {
		case *ast.Field:
			r.label(x)
			r.expr(x.Value, data)
		case *ast.EmbedDecl:
			r.expr(x.Expr, data)
		case *ast.Comprehension:
			r.comprehension(x, func(v ast.Expr) { r.expr(v, data) })
		case *ast.Ellipsis:
			r.expr(x.Type, data)
		case *ast.LetClause, *ast.CommentGroup, *ast.Attribute:
			// A let is read where it is used.
		default:
			r.unknown = true
		}
	}
}

// label reads the expressions in a field's label: a dynamic or pattern
// label is computed, and an alias is a reference the reader does not
// follow.
func (r *reader) label(f *ast.Field) {
	if f.Alias != nil {
		r.unknown = true
	}
	switch l := f.Label.(type) {
	case *ast.Ident, *ast.BasicLit:
	case *ast.ParenExpr:
		r.expr(l.X, opaque)
	case *ast.Interpolation:
		r.expr(l, opaque)
	case *ast.ListLit: // [pattern]
		for _, e := range l.Elts {
			r.expr(e, opaque)
		}
	default:
		r.unknown = true
	}
}

// comprehension reads clauses and hands the body to body.
func (r *reader) comprehension(c *ast.Comprehension, body func(ast.Expr)) {
	r.clauses(c.Clauses)
	body(c.Value)
	if c.Fallback != nil {
		body(c.Fallback.Body)
	}
}

// clauses reads the clauses of a comprehension: what a for clause ranges
// over may become part of the values; a condition decides only whether
// the body is there.
func (r *reader) clauses(cls []ast.Clause) {
	for _, cl := range cls {
		switch x := cl.(type) {
		case *ast.ForClause:
			r.expr(x.Source, iterated)
		case *ast.IfClause:
			r.expr(x.Condition, opaque)
		case *ast.LetClause:
		default:
			r.unknown = true
		}
	}
}

// chain reads a reference with the selectors after it, as in
// cluster.monitoring.retention or proxy, or any other expression that is
// selected from.
func (r *reader) chain(n ast.Expr, fl flow) {
	var sels []cue.Selector
	for {
		switch x := n.(type) {
		case *ast.SelectorExpr:
			name, _, err := ast.LabelName(x.Sel)
			if err != nil || strings.HasPrefix(name, "#") || strings.HasPrefix(name, "_") {
				r.unknown = true
				return
			}
			sels = append([]cue.Selector{cue.Str(name)}, sels...)
			n = x.X
			continue
		case *ast.IndexExpr:
			if s, ok := literalSelector(x.Index); ok {
				sels = append([]cue.Selector{s}, sels...)
			} else {
				// Any element may be selected: the read is of all of X.
				r.expr(x.Index, opaque)
				sels, fl = nil, max(fl, data)
			}
			n = x.X
			continue
		case *ast.ParenExpr:
			n = x.X
			continue
		}
		break
	}
	if r.derived != nil && r.derived(n) != notBound {
		switch own := r.ownField(n, sels); {
		case fl != opaque || !r.gating && !own:
			r.unknown = true // part of the catalog, where it may change what the apps hold
		case !own:
			r.lookedIn = true
		}
		return
	}
	id, ok := n.(*ast.Ident)
	if !ok {
		r.expr(n, fl)
		return
	}
	r.ident(id, sels, fl)
}

// ownField reports whether n.sels is a field other than values of the
// app of one of r.own's for clauses.
func (r *reader) ownField(n ast.Expr, sels []cue.Selector) bool {
	id, ok := n.(*ast.Ident)
	if !ok || len(sels) == 0 || sels[0] == cue.Str("values") {
		return false
	}
	fc, ok := id.Scope.(*ast.ForClause)
	return ok && r.own[fc] && fc.Value != nil && fc.Value.Name == id.Name
}

// literalSelector is the selector of a constant index, as in x["a"] or
// x[0].
func literalSelector(e ast.Expr) (cue.Selector, bool) {
	lit, ok := e.(*ast.BasicLit)
	if !ok {
		return cue.Selector{}, false
	}
	switch lit.Kind {
	case token.STRING:
		s, err := strconv.Unquote(lit.Value)
		if err != nil {
			return cue.Selector{}, false
		}
		return cue.Str(s), true
	case token.INT:
		i, err := strconv.Atoi(lit.Value)
		if err != nil || i < 0 {
			return cue.Selector{}, false
		}
		return cue.Index(i), true
	}
	return cue.Selector{}, false
}

// ident reads the reference id, followed by sels.
func (r *reader) ident(id *ast.Ident, sels []cue.Selector, fl flow) {
	switch {
	case id.Scope == nil && (id.Name == "self" || strings.HasPrefix(id.Name, "__")):
		r.unknown = true // the struct around it, which may be the block
	case id.Name == "_" || id.Scope == nil:
		// Top, a builtin, or a field of the package in another file: not
		// the cluster being compiled.
	case isFile(id.Scope):
		// A field of the package, or an import.
	case r.isCluster(id):
		r.out = append(r.out, read{path: sels, flow: fl})
	default:
		if let, ok := id.Node.(*ast.LetClause); ok {
			r.let(let, sels, fl)
			return
		}
		if !inside(id.Node, r.root) {
			r.unknown = true // a field of the block or around the root
		}
	}
}

// let reads a reference to a let, followed by sels. A let that names a
// part of the cluster (let proxy = cluster.registry) reads as that part;
// any other is read as data where it is declared.
func (r *reader) let(l *ast.LetClause, sels []cue.Selector, fl flow) {
	if r.letting[l] {
		return
	}
	r.letting[l] = true
	defer delete(r.letting, l)
	if base, ok := r.clusterPath(l.Expr); ok {
		r.out = append(r.out, read{path: append(slices.Clip(base), sels...), flow: fl})
		return
	}
	// A let of the block is a root of its own; one within the root (say
	// in a comprehension of the app) reads in it.
	saved := r.root
	if !inside(l, r.root) {
		r.root = l.Expr
	}
	r.expr(l.Expr, max(fl, data))
	r.root = saved
}

// clusterPath is the path of e if e names a part of the cluster through
// static selectors, as in cluster.monitoring or another such let.
func (r *reader) clusterPath(e ast.Expr) ([]cue.Selector, bool) {
	var sels []cue.Selector
	for {
		switch x := e.(type) {
		case *ast.SelectorExpr:
			name, _, err := ast.LabelName(x.Sel)
			if err != nil || strings.HasPrefix(name, "#") || strings.HasPrefix(name, "_") {
				return nil, false
			}
			sels = append([]cue.Selector{cue.Str(name)}, sels...)
			e = x.X
			continue
		case *ast.IndexExpr:
			s, ok := literalSelector(x.Index)
			if !ok {
				return nil, false
			}
			sels = append([]cue.Selector{s}, sels...)
			e = x.X
			continue
		case *ast.ParenExpr:
			e = x.X
			continue
		case *ast.Ident:
			if r.isCluster(x) {
				return sels, true
			}
			if l, ok := x.Node.(*ast.LetClause); ok && !r.letting[l] {
				r.letting[l] = true
				defer delete(r.letting, l)
				if base, ok := r.clusterPath(l.Expr); ok {
					return append(slices.Clip(base), sels...), true
				}
			}
		}
		return nil, false
	}
}

func isFile(n ast.Node) bool { _, ok := n.(*ast.File); return ok }

// inside reports whether the declaration n is within root's source.
func inside(n, root ast.Node) bool {
	if n == nil || root == nil {
		return false
	}
	p, start, end := n.Pos(), root.Pos(), root.End()
	if !p.IsValid() || !start.IsValid() || !end.IsValid() || p.Filename() != start.Filename() {
		return false
	}
	return start.Offset() <= p.Offset() && p.Offset() < end.Offset()
}

// catalogReads reads the catalog's blocks: each app's own declarations,
// plus what every app reads (extra: #deploy's, and the blocks' patterns,
// embeddings and comprehensions).
func catalogReads(blocks []*ast.StructLit, extra []read) *Reads {
	own := map[string][]read{}
	unknown := map[string]bool{}
	for _, b := range blocks {
		r, ok := newReader(b)
		if !ok {
			return wholeCluster
		}
		// anyApp reads what may add to any app; a reference it cannot follow
		// leaves every app unknown.
		anyApp := func(n ast.Node) bool {
			extra = append(extra, r.read(n, data)...)
			return !r.unknown
		}
		for _, e := range b.Elts {
			switch l := staticLabel(e); l {
			case "cluster":
			case "apps":
				lit, ok := e.(*ast.Field).Value.(*ast.StructLit)
				if !ok {
					if !anyApp(e) {
						return wholeCluster
					}
					continue
				}
				for _, ae := range lit.Elts {
					name := staticLabel(ae)
					switch {
					case name == "":
						// A pattern, a dynamic label, an embedding, a
						// comprehension: it may add to any app.
						if !isLet(ae) && !anyApp(ae) {
							return wholeCluster
						}
					case hiddenOrDef(ae, "_") || hiddenOrDef(ae, "#"):
						// Not an app: fleetc reads the regular fields.
					default:
						own[name] = append(own[name], r.read(ae.(*ast.Field).Value, data)...)
						if r.unknown {
							unknown[name], r.unknown = true, false
						}
					}
				}
			case "":
				// An embedding, a comprehension or a pattern: any app.
				if !isLet(e) && !anyApp(e) {
					return wholeCluster
				}
			default:
				// Another field of the block reaches an app only through a
				// reference, which leaves that app unknown.
			}
		}
	}
	reads := &Reads{apps: map[string][]read{}}
	for name, rs := range own {
		if !unknown[name] {
			reads.apps[name] = dedupe(append(slices.Clip(rs), extra...))
		}
	}
	return reads
}

// staticLabel is the label of a field that names it as an identifier or
// a string, without an alias; "" for anything else.
func staticLabel(d ast.Decl) string {
	f, ok := d.(*ast.Field)
	if !ok || f.Alias != nil {
		return ""
	}
	switch f.Label.(type) {
	case *ast.Ident, *ast.BasicLit:
	default:
		return ""
	}
	name, _, err := ast.LabelName(f.Label)
	if err != nil {
		return ""
	}
	return name
}

// dedupe keeps one read per path, with the strictest flow it is read as,
// in the order of their paths.
func dedupe(rs []read) []read {
	byPath := map[string]read{}
	for _, r := range rs {
		k := cue.MakePath(r.path...).String()
		if prev, ok := byPath[k]; ok {
			r.flow = max(r.flow, prev.flow)
		}
		byPath[k] = r
	}
	out := make([]read, 0, len(byPath))
	for _, k := range slices.Sorted(maps.Keys(byPath)) {
		out = append(out, byPath[k])
	}
	return out
}

func isLet(d ast.Decl) bool { _, ok := d.(*ast.LetClause); return ok }

// hiddenOrDef reports whether d is a field whose label is an identifier
// starting with prefix: "_" for a hidden field, "#" for a definition. A
// quoted label ("_x") is a regular field.
func hiddenOrDef(d ast.Decl, prefix string) bool {
	f, ok := d.(*ast.Field)
	if !ok {
		return false
	}
	id, ok := f.Label.(*ast.Ident)
	return ok && strings.HasPrefix(id.Name, prefix)
}

// binding is what a #deploy expression is in terms of the bound catalog.
type binding uint8

const (
	notBound  binding = iota
	bound             // #Catalog & {cluster: cluster}
	boundApps         // its apps
	boundApp          // one of them, the value of a for clause over boundApps
)

// deployReader reads #deploy's blocks and finds the catalog they bind.
type deployReader struct {
	pkgs map[string]*build.Instance
	// catalog is the name of the catalog definition bound to the cluster,
	// in catalogPkg.
	catalog    string
	catalogPkg *build.Instance
	// routesOnly says the reading may take #deploy's apps to be only the
	// catalog's, each under its own name; adds, that something else adds
	// to them (a field, a pattern, an embedding).
	routesOnly, adds bool
	// choosing are what the conditions that choose the catalog's apps and
	// the hidden fields no one references read, which the apps' reads
	// leave out; chooseUnknown, that the reading could not follow them.
	choosing      []read
	chooseUnknown bool
}

// block reads one #deploy block of package pkg: what it references of
// the cluster besides binding the catalog. Its apps must be the bound
// catalog's, each under its own name; false otherwise.
func (d *deployReader) block(b *ast.StructLit, pkg *build.Instance) ([]read, bool) {
	r, ok := newReader(b)
	if !ok {
		return nil, false
	}
	r.root = b
	referenced := map[string]bool{} // a hidden field may be referenced from anywhere in the package
	for _, f := range pkg.Files {
		maps.Copy(referenced, identNames(f))
	}
	r.derived = func(e ast.Expr) binding { return d.derived(r, e, pkg) }
	var out []read
	for _, e := range b.Elts {
		switch l := staticLabel(e); {
		case l == "cluster" || isLet(e):
		case l == "apps":
			reads, adds := d.apps(r, e.(*ast.Field).Value, referenced)
			d.adds = d.adds || adds
			out = append(out, reads...)
		case hiddenOrDef(e, "_") && !referenced[l]:
			// A hidden field no one references cannot reach the apps; it
			// can only fail.
			d.check(r, e.(*ast.Field))
		default:
			// An embedding or a comprehension may add to the apps.
			d.adds = d.adds || l == ""
			out = append(out, r.collect(e, data)...)
		}
		if r.unknown {
			return nil, false
		}
	}
	return out, true
}

// apps reads the value of #deploy's apps: the bound catalog's apps, or a
// struct whose fields, directly or through comprehensions, put each app
// of a for clause over them under its key: (name): app. It also says
// whether v adds anything else to the apps. What the clauses of a
// comprehension read decides only which apps there are, unless its body
// adds something else: their reads count only then.
func (d *deployReader) apps(r *reader, v ast.Expr, referenced map[string]bool) (reads []read, adds bool) {
	if r.derived(v) == boundApps {
		return nil, false
	}
	lit, ok := v.(*ast.StructLit)
	if !ok {
		r.unknown = true
		return nil, true
	}
	for _, e := range lit.Elts {
		switch x := e.(type) {
		case *ast.Comprehension:
			body, bodyAdds := d.apps(r, x.Value, referenced)
			if x.Fallback != nil {
				fb, fbAdds := d.apps(r, x.Fallback.Body, referenced)
				body, bodyAdds = append(body, fb...), bodyAdds || fbAdds
			}
			r.gating = d.routesOnly
			r.own = map[*ast.ForClause]bool{}
			for _, cl := range x.Clauses {
				if fc, ok := cl.(*ast.ForClause); ok && !bodyAdds && d.routesOnlyVia(r, x.Value, fc, referenced) {
					r.own[fc] = true
				}
			}
			var clauses []read
			lookedIn := r.lookedIn
			r.lookedIn = false
			for _, cl := range x.Clauses {
				clauses = append(clauses, r.collect(cl, opaque)...)
			}
			d.chooseUnknown = d.chooseUnknown || r.lookedIn
			r.lookedIn = lookedIn
			r.gating, r.own = false, nil
			reads = append(reads, body...)
			if bodyAdds || !d.routesOnly {
				reads = append(reads, clauses...)
			} else {
				d.choosing = append(d.choosing, clauses...)
			}
			adds = adds || bodyAdds
		case *ast.Field:
			if l := staticLabel(x); hiddenOrDef(x, "_") && !referenced[l] {
				d.check(r, x)
				continue
			}
			if d.routed(r, x) {
				continue
			}
			reads, adds = append(reads, r.collect(x, data)...), true
		case *ast.LetClause, *ast.CommentGroup, *ast.Attribute:
		default:
			reads, adds = append(reads, r.collect(x, data)...), true
		}
	}
	return reads, adds
}

// routesOnlyVia reports whether v, a comprehension's body, puts nothing
// in the apps but fc's app under its own name, directly or through
// comprehensions.
func (d *deployReader) routesOnlyVia(r *reader, v ast.Expr, fc *ast.ForClause, referenced map[string]bool) bool {
	lit, ok := v.(*ast.StructLit)
	if !ok {
		return false
	}
	for _, e := range lit.Elts {
		switch x := e.(type) {
		case *ast.Field:
			if l := staticLabel(x); hiddenOrDef(x, "_") && !referenced[l] {
				continue
			}
			k, _ := x.Label.(*ast.ParenExpr)
			if !d.routed(r, x) || k.X.(*ast.Ident).Scope != fc {
				return false
			}
		case *ast.Comprehension:
			if !d.routesOnlyVia(r, x.Value, fc, referenced) || x.Fallback != nil && !d.routesOnlyVia(r, x.Fallback.Body, fc, referenced) {
				return false
			}
		case *ast.LetClause, *ast.CommentGroup, *ast.Attribute:
		default:
			return false
		}
	}
	return true
}

// check reads f, a hidden field of #deploy that no one references, for
// what decides whether it fails: as a condition would be read, since it
// may look at the chosen app, and leaving out the message of an error()
// the field holds (a cluster's name, say), which decides nothing. Its
// reads go to choosing; the reading of the rest of #deploy is left as
// it was.
func (d *deployReader) check(r *reader, f *ast.Field) {
	unknown, gating, lookedIn := r.unknown, r.gating, r.lookedIn
	r.gating, r.lookedIn = d.routesOnly, false
	d.choosing = append(d.choosing, d.checkReads(r, f.Value)...)
	d.chooseUnknown = d.chooseUnknown || r.unknown || r.lookedIn
	r.unknown, r.gating, r.lookedIn = unknown, gating, lookedIn
}

// checkReads is what v, the value of a field that can only fail, reads:
// nothing in the arguments of the builtin error(), and in a struct of
// such fields what their labels and values read.
func (d *deployReader) checkReads(r *reader, v ast.Expr) []read {
	switch x := v.(type) {
	case *ast.CallExpr:
		if id, ok := x.Fun.(*ast.Ident); ok && id.Name == "error" && id.Node == nil && id.Scope == nil {
			return nil
		}
	case *ast.StructLit:
		var out []read
		for _, e := range x.Elts {
			f, ok := e.(*ast.Field)
			if !ok || isAlias(f) {
				return r.collect(x, data)
			}
			switch l := f.Label.(type) {
			case *ast.ParenExpr:
				out = append(out, r.collect(l.X, opaque)...)
			case *ast.Ident, *ast.BasicLit:
				if staticLabel(f) == "" {
					return r.collect(x, data)
				}
			default:
				return r.collect(x, data)
			}
			out = append(out, d.checkReads(r, f.Value)...)
		}
		return out
	}
	return r.collect(v, data)
}

// routed reports whether f is `(K): V` with K and V the key and value of
// one for clause over the bound catalog's apps: the app V under its own
// name.
func (d *deployReader) routed(r *reader, f *ast.Field) bool {
	p, ok := f.Label.(*ast.ParenExpr)
	if !ok || f.Alias != nil {
		return false
	}
	k, ok1 := p.X.(*ast.Ident)
	v, ok2 := f.Value.(*ast.Ident)
	if !ok1 || !ok2 {
		return false
	}
	fc, ok := k.Scope.(*ast.ForClause)
	return ok && v.Scope == fc && fc.Key != nil && fc.Key.Name == k.Name && fc.Value != nil && fc.Value.Name == v.Name && k.Name != v.Name &&
		r.derived(fc.Source) == boundApps
}

// derived says what e is in terms of the catalog #deploy binds, and
// records the catalog the first binding names.
func (d *deployReader) derived(r *reader, e ast.Expr, pkg *build.Instance) binding {
	for {
		p, ok := e.(*ast.ParenExpr)
		if !ok {
			break
		}
		e = p.X
	}
	switch x := e.(type) {
	case *ast.BinaryExpr:
		if x.Op != token.AND {
			return notBound
		}
		for _, pair := range [][2]ast.Expr{{x.X, x.Y}, {x.Y, x.X}} {
			if bindsCluster(r, pair[1]) && d.isCatalog(pair[0], pkg) {
				return bound
			}
		}
	case *ast.SelectorExpr:
		if name, _, err := ast.LabelName(x.Sel); err == nil && name == "apps" && d.derived(r, x.X, pkg) == bound {
			return boundApps
		}
	case *ast.Ident:
		switch n := x.Node.(type) {
		case *ast.LetClause:
			if r.letting[n] {
				return notBound
			}
			r.letting[n] = true
			defer delete(r.letting, n)
			return d.derived(r, n.Expr, pkg)
		}
		if fc, ok := x.Scope.(*ast.ForClause); ok && fc.Value != nil && fc.Value.Name == x.Name && d.derived(r, fc.Source, pkg) == boundApps {
			return boundApp
		}
	}
	return notBound
}

// isCatalog reports whether e names a definition of pkg, or of a package
// it imports, and makes it the catalog the reading follows: every binding
// must name the same one.
func (d *deployReader) isCatalog(e ast.Expr, pkg *build.Instance) bool {
	var name string
	var in *build.Instance
	switch x := e.(type) {
	case *ast.Ident:
		if !strings.HasPrefix(x.Name, "#") || x.Scope != nil && !isFile(x.Scope) {
			return false
		}
		name, in = x.Name, pkg
	case *ast.SelectorExpr:
		var ok bool
		if in, name, ok = d.imported(x); !ok {
			return false
		}
	default:
		return false
	}
	if d.catalog == "" {
		d.catalog, d.catalogPkg = name, in
	}
	return d.catalog == name && d.catalogPkg == in
}

// bindsCluster reports whether e is {cluster: cluster}, the block's own
// cluster and nothing else.
func bindsCluster(r *reader, e ast.Expr) bool {
	lit, ok := e.(*ast.StructLit)
	if !ok || len(lit.Elts) != 1 {
		return false
	}
	f, ok := lit.Elts[0].(*ast.Field)
	if !ok || f.Alias != nil {
		return false
	}
	if l, _, err := ast.LabelName(f.Label); err != nil || l != "cluster" {
		return false
	}
	id, ok := f.Value.(*ast.Ident)
	return ok && r.isCluster(id)
}

// identNames are the names b references, as identifiers or selectors.
func identNames(b ast.Node) map[string]bool {
	names := map[string]bool{}
	ast.Walk(b, func(n ast.Node) bool {
		switch x := n.(type) {
		case *ast.Ident:
			if x.Scope != nil || x.Node != nil {
				names[x.Name] = true
			}
		case *ast.SelectorExpr:
			if l, _, err := ast.LabelName(x.Sel); err == nil {
				names[l] = true
			}
		}
		return true
	}, nil)
	return names
}

// memo sets the Memo of each app of the evaluated cluster c whose reads
// are known: the app's name and, for each field it reads, its value. A
// field read as data must hold no struct, and the elements of one
// iterated none either (see flow); a field that is not concrete makes
// the app its own. A field the cluster does not have reads as absent.
func (rs *Reads) memo(c *Cluster) {
	if rs.whole {
		return
	}
	seen := map[string]string{} // each field's text, once per cluster
	for i, app := range c.Apps {
		reads, ok := rs.apps[app.Name]
		if rs.apps == nil {
			reads, ok = rs.every, true
		}
		if !ok || readsCluster(reads) {
			continue
		}
		var b strings.Builder
		b.WriteString(app.Name)
		for _, r := range reads {
			text, ok := fieldText(c.Value, r, seen)
			if !ok {
				b.Reset()
				break
			}
			b.WriteByte(0)
			b.WriteString(text)
		}
		c.Apps[i].Memo = b.String()
	}
}

// fieldText is the value of the field r reads of cluster, as JSON, or
// "-" if the cluster does not have it; false if it cannot be shared.
func fieldText(cluster cue.Value, r read, seen map[string]string) (string, bool) {
	path := cue.MakePath(r.path...)
	key := string('0'+r.flow) + path.String()
	if t, ok := seen[key]; ok {
		return t, t != "\x00"
	}
	t := "\x00"
	whole := cluster.LookupPath(path)
	v, defaulted := whole.Default()
	switch k := v.Kind(); {
	case !whole.Exists():
		t = "-"
	case k == cue.BottomKind, v.Validate(cue.Concrete(true)) != nil:
		// Not concrete: the app is the cluster's own.
	case r.flow != iterated && !structless(whole, defaulted):
		// A struct read any other way than iterated is the cluster's
		// own: what CUE writes of it leaves out whether it is closed,
		// its optional, hidden and definition fields and its patterns,
		// which decide what unifies with it, and its literals decide the
		// order of the fields it brings.
	case r.flow == iterated && (defaulted || !plainElements(v)):
	case defaulted, k == cue.StructKind, k == cue.ListKind:
		// A default is not all of the value: what unifies with it may
		// pick another alternative (cluster.mode & ("b" | "c")), and a
		// list may hold defaults. The value as CUE writes it has every
		// alternative, and an iterated struct's fields in order.
		t = fmt.Sprint(whole)
	case k == cue.StringKind:
		s, _ := v.String()
		t = strconv.Quote(s)
	case k == cue.BoolKind:
		b, _ := v.Bool()
		t = strconv.FormatBool(b)
	case k == cue.BytesKind:
		t = fmt.Sprint(v) // quoted as bytes: JSON would write base64, as a string

	default:
		// int and float may write alike (1e0, 1), and differ in what
		// unifies with them.
		if j, err := v.MarshalJSON(); err == nil {
			t = k.String() + " " + string(j)
		}
	}
	seen[key] = t
	return t, t != "\x00"
}

// structless reports whether v holds no struct, in any alternative and
// any element; a list with a default is not looked into.
func structless(v cue.Value, defaulted bool) bool {
	k := v.IncompleteKind()
	switch {
	case k&cue.StructKind != 0:
		return false
	case k&cue.ListKind != 0:
		return !defaulted && plainElements(v)
	}
	return true
}

// plainElements reports whether no element of v, a struct or a list,
// holds a struct.
func plainElements(v cue.Value) bool {
	var ok bool
	if v.Kind() == cue.StructKind {
		iter, err := v.Fields()
		if err != nil {
			return false
		}
		for ok = true; ok && iter.Next(); {
			ok = structless(iter.Value().Default())
		}
		return ok
	}
	iter, err := v.List()
	if err != nil {
		return false
	}
	for ok = true; ok && iter.Next(); {
		ok = structless(iter.Value().Default())
	}
	return ok
}
