// Package explain tells where a value of a rendered values file comes
// from: the expression of the catalog that computes it and, for every
// cluster setting, default or platform setting that expression reads, the
// line that set it and the default or schema that line overrode or
// unified with. It reads evaluated CUE values and their source; it never
// prints.
//
// A value's origins are its conjuncts (Value.Expr). References in their
// source are followed by name: through `let` clauses, to `cluster` (the
// catalog's cluster being compiled, looked up in the evaluated cluster),
// to fields of the enclosing structs, and to package-level fields such as
// `defaults` and `platform`. A default alternative is followed only when
// it is the one that applied.
package explain

import (
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"cuelang.org/go/cue"
	"cuelang.org/go/cue/ast"
	"cuelang.org/go/cue/build"
	"cuelang.org/go/cue/format"
	"cuelang.org/go/cue/token"

	"github.com/fleetc/fleetc/internal/compile"
	"github.com/fleetc/fleetc/internal/diag"
	"github.com/fleetc/fleetc/internal/load"
)

// CatalogCluster is the field of #Catalog that holds the cluster being
// compiled: a reference `cluster.<path>` in an app's values reads
// `<path>` of the evaluated cluster.
const CatalogCluster = "cluster"

// Kind says how an origin contributes to a value.
type Kind string

// The kinds of origin.
const (
	// Set is a line of the cluster's own file.
	Set Kind = "set"
	// Default is a default of the schema that applied because nothing
	// set the field.
	Default Kind = "default"
	// Schema is a constraint the value unified with, or a default that
	// the cluster overrode.
	Schema Kind = "schema"
	// Platform is an expression or setting of the platform (defs/, the
	// shared file of clusters/) that computes or gives the value.
	Platform Kind = "platform"
)

// Explanation is the answer to "where does this value come from".
type Explanation struct {
	// Path is the path explained, written as Path.String writes it.
	Path string
	// Value is the value at the path.
	Value cue.Value
	// Steps are the value itself and then each value it reads, in the
	// order they were reached; each value appears once.
	Steps []Step
}

// Step is one value of the chain and what contributed to it.
type Step struct {
	// Of names the value: the explained path, or a reference such as
	// cluster.registry or defaults.registry.
	Of string
	// Value is the value, as CUE.
	Value string
	// Origins are its conjuncts and the let clauses they read.
	Origins []Origin
}

// Origin is one source line of a value.
type Origin struct {
	Kind Kind
	// Pos is where it is, with an absolute file name.
	Pos token.Position
	// Expr is its source, on one line.
	Expr string
	// Note adds what the source alone does not say, such as the default
	// that a set value overrode.
	Note string
}

// File is o's file name as messages show it: relative to dir where it
// lies below it, with slashes; "" when o has none.
func (o Origin) File(dir string) string {
	if o.Pos.Filename == "" {
		return ""
	}
	return filepath.ToSlash(diag.DisplayPath(dir, o.Pos.Filename))
}

// Text lays steps out as explain's text output shows them, for the
// command and the editor's hover alike: each step's value, then its
// origins, one a line: kind, file:line:col (File of dir), source and
// note. aligned pads the positions to the longest.
func Text(steps []Step, dir string, aligned bool) string {
	pos := func(or Origin) string { return fmt.Sprintf("%s:%d:%d", or.File(dir), or.Pos.Line, or.Pos.Column) }
	var width int
	if aligned {
		for _, s := range steps {
			for _, or := range s.Origins {
				width = max(width, len(pos(or)))
			}
		}
	}
	var b strings.Builder
	for _, s := range steps {
		b.WriteString(s.Of)
		if s.Value != "" {
			b.WriteString(" = " + s.Value)
		}
		b.WriteString("\n")
		for _, or := range s.Origins {
			line := fmt.Sprintf("  %-8s  %-*s  %s", or.Kind, width, pos(or), or.Expr)
			if or.Note != "" {
				line += "  (" + or.Note + ")"
			}
			b.WriteString(strings.TrimRight(line, " ") + "\n")
		}
	}
	return b.String()
}

// Packages holds the evaluated packages of the platform by the absolute
// name of each of their files, to resolve references to package-level
// fields such as `defaults`.
type Packages map[string]cue.Value

// LoadPackages evaluates inst and every package it imports in ctx. The
// context caches built instances, so this costs nothing for an instance
// that ctx has built already.
func LoadPackages(ctx *cue.Context, inst *build.Instance) Packages {
	pkgs := Packages{}
	seen := map[*build.Instance]bool{}
	var walk func(*build.Instance)
	walk = func(i *build.Instance) {
		if seen[i] || i.Err != nil {
			return
		}
		seen[i] = true
		v := ctx.BuildInstance(i)
		for _, f := range i.Files {
			pkgs[f.Filename] = v
		}
		for _, imp := range i.Imports {
			walk(imp)
		}
	}
	walk(inst)
	return pkgs
}

// maxDepth bounds how far references are followed; real chains are a
// handful long.
const maxDepth = 16

// Explain explains the value at path of the values of app on cluster c.
func Explain(c *compile.Cluster, app compile.App, path Path, pkgs Packages) (*Explanation, error) {
	v, sels, err := Lookup(app.Values, path)
	if err != nil {
		return nil, err
	}
	t := &tracer{cluster: c, pkgs: pkgs, seen: map[string]bool{}}
	of := display(sels)
	t.trace(ref{of: of, root: app.Values, path: sels}, 0)
	return &Explanation{Path: of, Value: v, Steps: t.steps}, nil
}

// Field explains the field at path of the evaluated cluster c, as a value
// of a values file that reads it is explained: the line of the cluster's
// file that set it, or the default that applied, and what that default
// reads.
func Field(c *compile.Cluster, path []cue.Selector, pkgs Packages) (*Explanation, error) {
	v := c.Value.LookupPath(cue.MakePath(path...))
	if !v.Exists() {
		return nil, fmt.Errorf("cluster %q has no field %s", c.Name, display(path))
	}
	t := &tracer{cluster: c, pkgs: pkgs, seen: map[string]bool{}}
	r := t.clusterRef(path)
	t.trace(r, 0)
	return &Explanation{Path: r.of, Value: v, Steps: t.steps}, nil
}

// ref is a value to explain: the value at path in root.
type ref struct {
	of   string
	root cue.Value
	path []cue.Selector
	// inCluster says root is the evaluated cluster, where a field of
	// #Cluster can refer to any other.
	inCluster bool
}

func (r ref) value() cue.Value { return r.root.LookupPath(cue.MakePath(r.path...)) }

type tracer struct {
	cluster *compile.Cluster
	pkgs    Packages
	steps   []Step
	seen    map[string]bool
}

// trace adds the step of r, then the steps of what it reads.
func (t *tracer) trace(r ref, depth int) {
	if t.seen[r.of] || depth > maxDepth {
		return
	}
	t.seen[r.of] = true
	v := r.value()
	i := len(t.steps)
	if k := v.IncompleteKind(); k == cue.StructKind || k == cue.ListKind {
		// A map or a list: where it is declared. What each of its values
		// reads is the business of explaining that value.
		t.steps = append(t.steps, Step{Of: r.of})
		for _, c := range conjuncts(v) {
			if !c.Pos().IsValid() {
				continue
			}
			kind := Platform
			if t.inClusterFile(c) {
				kind = Set
			}
			t.steps[i].Origins = append(t.steps[i].Origins, Origin{Kind: kind, Pos: c.Pos().Position(), Expr: firstLine(source(c.Source()))})
		}
		if len(t.steps[i].Origins) == 0 && v.Pos().IsValid() {
			t.steps[i].Origins = []Origin{{Kind: Platform, Pos: v.Pos().Position(), Expr: firstLine(source(v.Source()))}}
		}
		return
	}
	t.steps = append(t.steps, Step{Of: r.of, Value: show(v)})

	conjs := conjuncts(v)
	set := slices.ContainsFunc(conjs, t.inClusterFile)
	var next []ref
	for _, c := range conjs {
		o := Origin{Pos: c.Pos().Position(), Expr: oneLine(source(c.Source()))}
		var follow []ast.Expr
		expr := valueExpr(c.Source())
		d, hasDefault := c.Default()
		// The syntax tells a disjunction with a default: Expr drops a
		// default that another alternative subsumes (*"a" | string).
		alts := Defaults(expr)
		switch {
		case t.inClusterFile(c):
			o.Kind = Set
		case len(alts) > 0 && hasDefault:
			if set || !same(d, v) {
				o.Kind, o.Note = Schema, "default "+show(d)+" overridden"
				break
			}
			o.Kind = Default
			follow = alts
		case !c.IsConcrete() && !hasDefault:
			o.Kind = Schema
		default:
			o.Kind = Platform
			if expr != nil {
				follow = []ast.Expr{expr}
			}
		}
		t.steps[i].Origins = append(t.steps[i].Origins, o)
		for _, e := range follow {
			refs := t.refs(&t.steps[i], r, e, 0)
			if len(refs) == 0 && e == expr && isChain(e) {
				// A name the syntax does not resolve, such as the
				// variable of a comprehension: ask the evaluator.
				refs = t.byReference(c)
			}
			next = append(next, refs...)
		}
	}
	for _, n := range next {
		t.trace(n, depth+1)
	}
}

func (t *tracer) inClusterFile(c cue.Value) bool {
	return c.Pos().IsValid() && c.Pos().Filename() == t.cluster.File
}

// refs returns the values that e reads, adding the let clauses it goes
// through to step. r is the value e belongs to: a name that is not a let,
// the catalog's cluster or a package field is a field of one of r's
// enclosing structs.
func (t *tracer) refs(step *Step, r ref, e ast.Expr, depth int) []ref {
	if depth > maxDepth {
		return nil
	}
	var out []ref
	for _, chain := range chains(e) {
		out = append(out, t.resolve(step, r, chain, depth)...)
	}
	return out
}

// resolve finds what the reference chain x reads.
func (t *tracer) resolve(step *Step, r ref, x ast.Expr, depth int) []ref {
	root, sels := split(x)
	if root == nil || depth > maxDepth {
		return nil
	}
	var out []ref
	var path []cue.Selector
	for _, s := range sels {
		if s.index == nil {
			path = append(path, selector(s.name))
			continue
		}
		// An index that is a reference is read too: platform.envs[env].
		out = append(out, t.refs(step, r, s.index, depth+1)...)
		sel, ok := t.index(r, s.index)
		if !ok {
			return out
		}
		path = append(path, sel)
	}

	switch n := root.Node.(type) {
	case *ast.LetClause:
		o := Origin{Kind: Platform, Pos: n.Pos().Position(), Expr: oneLine(source(n))}
		if !slices.Contains(step.Origins, o) {
			step.Origins = append(step.Origins, o)
		}
		if len(path) == 0 {
			return append(out, t.refs(step, r, n.Expr, depth+1)...)
		}
		// let op = cluster.monitoring.x; op.tag reads cluster.monitoring.x.tag.
		if isChain(n.Expr) {
			return append(out, t.resolve(step, r, withSelectors(n.Expr, sels), depth+1)...)
		}
		return out
	case *ast.ImportSpec, nil:
		// A package or a builtin.
		return out
	}
	if _, ok := root.Scope.(*ast.File); ok {
		// A field of the package, declared in any of its files.
		pkg, ok := t.pkgs[root.Pos().Filename()]
		if !ok {
			return out
		}
		p := append([]cue.Selector{selector(root.Name)}, path...)
		if target := pkg.LookupPath(cue.MakePath(p...)); followable(target) {
			out = append(out, ref{of: display(p), root: pkg, path: p})
		}
		return out
	}

	if root.Name == CatalogCluster && !r.inCluster {
		return append(out, t.clusterRef(path))
	}
	// A field of an enclosing struct: look it up from the innermost one
	// out, preferring the field that the name was resolved to.
	name := selector(root.Name)
	var first *ref
	for i := len(r.path); i >= 0; i-- {
		p := append(slices.Clone(r.path[:i]), name)
		decl := r.root.LookupPath(cue.MakePath(p...))
		if !decl.Exists() {
			continue
		}
		cand := ref{root: r.root, path: append(p, path...), inCluster: r.inCluster}
		if samePath(cand.path, r.path) {
			continue // the field itself
		}
		if declares(decl, root.Node) {
			first = &cand
			break
		}
		if first == nil {
			first = &cand
		}
	}
	if first == nil || !followable(first.value()) {
		return out
	}
	if first.inCluster {
		return append(out, t.clusterRef(first.path))
	}
	first.of = display(first.path)
	return append(out, *first)
}

// byReference follows c, a reference, to where the evaluator resolves it.
func (t *tracer) byReference(c cue.Value) []ref {
	root, p := c.ReferencePath()
	sels := p.Selectors()
	if len(sels) == 0 || p.Err() != nil || root.LookupPath(p).Err() != nil {
		return nil
	}
	if len(sels) >= 2 && samePath(sels[:2], []cue.Selector{cue.Str(load.ClustersField), cue.Str(t.cluster.Name)}) {
		return []ref{t.clusterRef(sels[2:])}
	}
	if !followable(root.LookupPath(p)) {
		return nil
	}
	return []ref{{of: display(sels), root: root, path: sels}}
}

// clusterRef is the field at path of the evaluated cluster.
func (t *tracer) clusterRef(path []cue.Selector) ref {
	of := CatalogCluster
	if len(path) > 0 {
		of += "." + display(path)
	}
	return ref{of: of, root: t.cluster.Value, path: path, inCluster: true}
}

// index turns an index expression into a selector: a literal, or a
// reference whose value is a string or an integer.
func (t *tracer) index(r ref, e ast.Expr) (cue.Selector, bool) {
	if lit, ok := e.(*ast.BasicLit); ok {
		switch lit.Kind {
		case token.INT:
			n, err := strconv.Atoi(lit.Value)
			return cue.Index(n), err == nil
		case token.STRING:
			s, err := strconv.Unquote(lit.Value)
			return cue.Str(s), err == nil
		}
		return cue.Selector{}, false
	}
	var scratch Step
	for _, target := range t.resolve(&scratch, r, e, maxDepth-1) {
		v := target.value()
		if d, ok := v.Default(); ok {
			v = d
		}
		if s, err := v.String(); err == nil {
			return cue.Str(s), true
		}
		if n, err := v.Int64(); err == nil {
			return cue.Index(int(n)), true
		}
	}
	return cue.Selector{}, false
}

// declares reports whether one of v's conjuncts is the declaration that
// node (an identifier's Node: a field's value) belongs to.
func declares(v cue.Value, node ast.Node) bool {
	for _, c := range conjuncts(v) {
		switch s := c.Source().(type) {
		case *ast.Field:
			if s.Value == node {
				return true
			}
		case ast.Expr:
			if s == node {
				return true
			}
		}
	}
	return false
}

// followable reports whether a reference to v explains a value: one that
// is concrete or has a default, and is not a map or a list (a value reads
// the one field of them it needs). A reference to a bare type or
// constraint explains nothing.
func followable(v cue.Value) bool {
	if !v.Exists() || v.Err() != nil {
		return false
	}
	if k := v.IncompleteKind(); k == cue.StructKind || k == cue.ListKind {
		return false
	}
	if _, ok := v.Default(); ok {
		return true
	}
	return v.IsConcrete()
}

// conjuncts splits v into the values that were unified into it.
func conjuncts(v cue.Value) []cue.Value {
	if op, args := v.Expr(); op == cue.AndOp {
		return args
	}
	return []cue.Value{v}
}

// same reports whether a and b are the same concrete value.
func same(a, b cue.Value) bool {
	if d, ok := b.Default(); ok {
		b = d
	}
	return a.Equals(b)
}

// chains returns the reference chains in e (x, x.y, x[i].y), outermost
// first, without the labels of the fields of struct literals.
func chains(e ast.Expr) []ast.Expr {
	var out []ast.Expr
	ast.Walk(e, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.Field:
			if n.Value != nil {
				out = append(out, chains(n.Value)...)
			}
			return false
		case *ast.Ident:
			out = append(out, n)
			return false
		case *ast.LetClause:
			out = append(out, chains(n.Expr)...)
			return false
		case *ast.ForClause:
			out = append(out, chains(n.Source)...)
			return false
		case *ast.SelectorExpr:
			if isChain(n) {
				out = append(out, n)
			} else {
				// (a & b).c: only a and b are references.
				out = append(out, chains(n.X)...)
			}
			return false
		case *ast.IndexExpr:
			if isChain(n) {
				out = append(out, n)
				return false
			}
		}
		return true
	}, nil)
	return out
}

// isChain reports whether e is an identifier followed by selectors and
// indices.
func isChain(e ast.Expr) bool {
	for {
		switch x := e.(type) {
		case *ast.Ident:
			return true
		case *ast.SelectorExpr:
			e = x.X
		case *ast.IndexExpr:
			e = x.X
		default:
			return false
		}
	}
}

// sel is one selector of a reference chain: a field name, or an index.
type sel struct {
	name  string
	index ast.Expr
}

// split returns the identifier a chain starts with and its selectors in
// order.
func split(e ast.Expr) (*ast.Ident, []sel) {
	var sels []sel
	for {
		switch x := e.(type) {
		case *ast.Ident:
			slices.Reverse(sels)
			return x, sels
		case *ast.SelectorExpr:
			name, _, err := ast.LabelName(x.Sel)
			if err != nil {
				return nil, nil
			}
			sels = append(sels, sel{name: name})
			e = x.X
		case *ast.IndexExpr:
			sels = append(sels, sel{index: x.Index})
			e = x.X
		default:
			return nil, nil
		}
	}
}

// withSelectors appends sels to the chain e.
func withSelectors(e ast.Expr, sels []sel) ast.Expr {
	for _, s := range sels {
		if s.index == nil {
			e = &ast.SelectorExpr{X: e, Sel: ast.NewIdent(s.name)}
		} else {
			e = &ast.IndexExpr{X: e, Index: s.index}
		}
	}
	return e
}

// display writes a CUE path as a Path: dotted keys, indices in brackets.
func display(sels []cue.Selector) string {
	p := make(Path, len(sels))
	for i, s := range sels {
		switch s.LabelType() {
		case cue.IndexLabel:
			p[i] = Elem{Index: s.Index(), IsIndex: true}
		case cue.StringLabel:
			p[i] = Elem{Key: s.Unquoted()}
		default:
			p[i] = Elem{Key: s.String()}
		}
	}
	return p.String()
}

// samePath reports whether a and b select the same.
func samePath(a, b []cue.Selector) bool {
	return slices.EqualFunc(a, b, func(x, y cue.Selector) bool { return x.String() == y.String() })
}

// selector is the CUE selector of a field name as written in source.
func selector(name string) cue.Selector {
	if strings.HasPrefix(name, "#") {
		return cue.Def(name)
	}
	return cue.Str(name)
}

// Defaults returns the default alternatives of a disjunction as written:
// those it marks with *.
func Defaults(e ast.Expr) []ast.Expr {
	switch x := e.(type) {
	case *ast.BinaryExpr:
		if x.Op == token.OR {
			return append(Defaults(x.X), Defaults(x.Y)...)
		}
	case *ast.UnaryExpr:
		if x.Op == token.MUL {
			return []ast.Expr{x.X}
		}
	case *ast.ParenExpr:
		return Defaults(x.X)
	}
	return nil
}

// valueExpr is the expression of a conjunct's source: a field's value, or
// the expression itself.
func valueExpr(n ast.Node) ast.Expr {
	switch n := n.(type) {
	case *ast.Field:
		if a, ok := n.Value.(*ast.Alias); ok {
			return a.Expr
		}
		return n.Value
	case ast.Expr:
		return n
	}
	return nil
}

// maxExpr is the most of a source line an origin shows.
const maxExpr = 120

// firstLine shortens formatted CUE to its first line.
func firstLine(s string) string {
	if first, _, cut := strings.Cut(s, "\n"); cut {
		return first + " …"
	}
	return s
}

// source formats n without its comments.
func source(n ast.Node) string {
	switch x := n.(type) {
	case nil:
		return ""
	case *ast.Field:
		c := *x
		ast.SetComments(&c, nil)
		n = &c
	case *ast.LetClause:
		c := *x
		ast.SetComments(&c, nil)
		n = &c
	}
	b, err := format.Node(n, format.Simplify())
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

// oneLine joins the lines of formatted CUE and shortens the result.
func oneLine(s string) string {
	lines := strings.Split(s, "\n")
	for i := range lines {
		lines[i] = strings.TrimSpace(lines[i])
	}
	out := strings.Join(lines, " ")
	if r := []rune(out); len(r) > maxExpr {
		out = string(r[:maxExpr-1]) + "…"
	}
	return out
}

// show is v as CUE on one line: its default when it has one.
func show(v cue.Value) string {
	if d, ok := v.Default(); ok {
		v = d
	}
	return oneLine(fmt.Sprint(v))
}
