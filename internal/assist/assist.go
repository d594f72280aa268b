// Package assist answers an editor's questions about a place in a
// cluster file: what may be written there (the fields of the platform's
// cluster schema at any depth, with their doc comments; the names of its
// vocabulary: envs, bundles, labels, with what the platform says of
// them) and what a field there is (its doc comment, its default, the
// value in effect for the cluster and where it comes from, as `fleetc
// explain` tells it). Everything is read from the evaluated schema, not
// written down here. It never prints; the language server shows it.
package assist

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"cuelang.org/go/cue"
	"cuelang.org/go/cue/ast"
	"cuelang.org/go/cue/format"
	"cuelang.org/go/cue/token"

	"github.com/fleetc/fleetc/internal/compile"
	"github.com/fleetc/fleetc/internal/explain"
)

// Kind says what an Item is.
type Kind int

// The kinds of Item.
const (
	// Field is a field the schema declares.
	Field Kind = iota
	// Name is a name of the platform's vocabulary: a bundle, a label,
	// an env.
	Name
	// Value is a value the schema allows, such as true.
	Value
)

// Item is one thing that may be written at a place.
type Item struct {
	// Text is what to write, as CUE writes it: a label (quoted where it
	// must be) or a value.
	Text string
	Kind Kind
	// Detail is one line (a type, a default); Doc says what it is, in
	// Markdown.
	Detail, Doc string
}

// Complete lists what may be written at path of a cluster (the fields
// from the cluster down): with value false, the fields of the struct at
// path that the schema declares, and the names of the vocabulary that it
// allows by a pattern; with value true, what the field at path takes: the
// names or values it allows (an env, true or false), or, for a struct
// (`monitoring: ` followed by a field), its fields.
func Complete(sh compile.Shared, path []string, value bool) []Item {
	schema, ok := schemaAt(sh.Schema, path)
	if !ok {
		return nil
	}
	if value && schema.IncompleteKind() != cue.StructKind {
		return values(sh, schema)
	}
	items := fields(sh, path, schema)
	for i, it := range items {
		// A name the schema declares (a required bundle): what the
		// platform says of it.
		if it.Doc != "" {
			continue
		}
		if n := nameDoc(sh, append(slices.Clone(path), strings.Trim(it.Text, `"`))); n != "" {
			items[i].Kind, items[i].Doc = Name, n
		}
	}
	for _, names := range sh.Names() {
		iter, err := names.Fields()
		if err != nil {
			continue
		}
		for iter.Next() {
			name := iter.Selector().Unquoted()
			if schema.Allows(cue.Str(name)) && !declares(schema, name) {
				items = append(items, Item{Text: label(name), Kind: Name, Detail: names.Path().String(), Doc: describe(iter.Value())})
			}
		}
	}
	return items
}

// schemaAt is the schema of the field at path of #Cluster, whether it is
// declared regular, optional or required, or allowed by a pattern, and
// the selector that declares it.
func schemaAt(schema cue.Value, path []string) (cue.Value, bool) {
	v, _, ok := fieldAt(schema, path)
	return v, ok
}

func fieldAt(schema cue.Value, path []string) (cue.Value, cue.Selector, bool) {
	v, sel := schema, cue.Selector{}
	for _, name := range path {
		next, found, ok := declared(v, name)
		if !ok {
			// Allowed by a pattern, such as a bundle under bundles.
			if !v.Allows(cue.Str(name)) {
				return cue.Value{}, sel, false
			}
			found = cue.Str(name)
			for _, sel := range []cue.Selector{found.Optional(), found, cue.AnyString} {
				if next = v.LookupPath(cue.MakePath(sel)); next.Exists() {
					break
				}
			}
		}
		if !next.Exists() {
			return cue.Value{}, sel, false
		}
		v, sel = next, found
	}
	return v, sel, true
}

// declared is the field name that v declares, regular, optional or
// required, with its selector,
// and whether it does (LookupPath does not tell a declared field from a pattern's, nor keeps
// the doc comments of a required one).
func declared(v cue.Value, name string) (cue.Value, cue.Selector, bool) {
	iter, err := v.Fields(cue.Optional(true))
	if err != nil {
		return cue.Value{}, cue.Selector{}, false
	}
	for iter.Next() {
		if iter.Selector().Unquoted() == name {
			return iter.Value(), iter.Selector(), true
		}
	}
	return cue.Value{}, cue.Selector{}, false
}

// fields lists the fields that the struct v declares, regular, optional
// or required, in the schema's order, with their doc comments.
func fields(sh compile.Shared, path []string, v cue.Value) []Item {
	iter, err := v.Fields(cue.Optional(true))
	if err != nil {
		return nil
	}
	var out []Item
	for iter.Next() {
		name := iter.Selector().Unquoted()
		if name == "name" && v.LookupPath(cue.MakePath(cue.Str("env").Required())).Exists() {
			continue // a cluster's name is its key under clusters
		}
		out = append(out, Item{Text: label(name), Kind: Field, Detail: typeOf(iter.Selector(), iter.Value()), Doc: docAt(sh, append(slices.Clone(path), name))})
	}
	return out
}

// declares reports whether v declares the field name itself, rather
// than allowing it by a pattern.
func declares(v cue.Value, name string) bool {
	_, _, ok := declared(v, name)
	return ok
}

// values lists what a field whose schema is v takes: the alternatives of
// a disjunction of concrete values (the envs of `env`, the drivers of
// falco), or true and false for a bool, each with what the platform says
// of a name (an env's settings).
func values(sh compile.Shared, v cue.Value) []Item {
	if v.IncompleteKind() == cue.BoolKind {
		return []Item{{Text: "true", Kind: Value, Detail: "bool"}, {Text: "false", Kind: Value, Detail: "bool"}}
	}
	var out []Item
	seen := map[string]bool{}
	alts := alternatives(v.Syntax())
	if len(alts) == 0 {
		alts = alternatives(v.Syntax(cue.Final()))
	}
	for _, a := range alts {
		text := a.Value
		if seen[text] {
			continue
		}
		seen[text] = true
		it := Item{Text: text, Kind: Value, Detail: strings.ToLower(a.Kind.String())}
		if a.Kind == token.STRING {
			it.Detail = "string"
		}
		if s, err := strconv.Unquote(text); err == nil && a.Kind == token.STRING {
			for _, names := range sh.Names() {
				if n := names.LookupPath(cue.MakePath(cue.Str(s))); n.Exists() {
					it.Kind, it.Detail, it.Doc = Name, names.Path().String()+"."+label(s), describe(n)
					break
				}
			}
		}
		out = append(out, it)
	}
	return out
}

// alternatives are the literals of a disjunction of literals, as the
// evaluated schema writes it ("dev" | "staging" | "prod", with a default
// marked *): the values a field takes, in the schema's order.
func alternatives(n ast.Node) []*ast.BasicLit {
	switch x := n.(type) {
	case *ast.BinaryExpr:
		if x.Op == token.OR {
			return append(alternatives(x.X), alternatives(x.Y)...)
		}
	case *ast.UnaryExpr:
		if x.Op == token.MUL {
			return alternatives(x.X)
		}
	case *ast.ParenExpr:
		return alternatives(x.X)
	case *ast.BasicLit:
		if x.Kind == token.STRING || x.Kind == token.INT || x.Kind == token.FLOAT {
			return []*ast.BasicLit{x}
		}
	case *ast.Ident:
		if x.Name == "true" || x.Name == "false" {
			return []*ast.BasicLit{{Kind: token.TRUE, Value: x.Name}}
		}
	}
	return nil
}

// Hover says what the field at path of a cluster is, in Markdown: its
// doc comment and type, its default, and, when the cluster evaluates (c
// is not nil), the value in effect and where it comes from, as explain
// tells it. pkgs resolves the platform's package-level fields; root is
// what file names are shown relative to. "" when the schema has no such
// field.
func Hover(sh compile.Shared, c *compile.Cluster, pkgs explain.Packages, root string, path []string) string {
	if len(path) == 0 {
		return ""
	}
	schema, sel, ok := fieldAt(sh.Schema, path)
	if !ok {
		return ""
	}
	var b strings.Builder
	fmt.Fprintf(&b, "**%s** `%s`\n", strings.Join(path, "."), typeOf(sel, schema))
	if d := docAt(sh, path); d != "" {
		b.WriteString("\n" + d + "\n")
	} else if n := nameDoc(sh, path); n != "" {
		b.WriteString("\n" + n + "\n")
	}
	if d, ok := schema.Default(); ok && d.IsConcrete() && d.Validate(cue.Concrete(true)) == nil {
		fmt.Fprintf(&b, "\nDefault: `%s`\n", show(d))
	} else if e := defaultExpr(schema.Syntax(cue.Raw())); e != "" {
		fmt.Fprintf(&b, "\nDefault: `%s`\n", e)
	}
	if c == nil {
		b.WriteString("\nThe cluster does not evaluate as it is written; fix its errors to see the value in effect.\n")
		return b.String()
	}
	sels := make([]cue.Selector, len(path))
	for i, p := range path {
		sels[i] = cue.Str(p)
	}
	e, err := explain.Field(c, sels, pkgs)
	if err != nil {
		return b.String()
	}
	if k := e.Value.IncompleteKind(); k != cue.StructKind && k != cue.ListKind {
		fmt.Fprintf(&b, "\nValue for %s: `%s`\n", c.Name, show(e.Value))
	}
	b.WriteString("\n```\n" + explain.Text(e.Steps, root, false) + "```\n")
	return b.String()
}

// defaultExpr is the default a schema marks with *, as written, when it
// depends on the cluster (platform.envs[env].retention).
func defaultExpr(n ast.Node) string {
	e, _ := n.(ast.Expr)
	for _, d := range explain.Defaults(e) {
		if b, err := format.Node(d); err == nil {
			return strings.Join(strings.Fields(string(b)), " ")
		}
	}
	return ""
}

// nameDoc is what the platform says of the name that ends path, when it
// is one of its vocabulary (bundles.<bundle>, labels.<label>).
func nameDoc(sh compile.Shared, path []string) string {
	if len(path) < 2 {
		return ""
	}
	name := path[len(path)-1]
	for _, names := range sh.Names() {
		if n := names.LookupPath(cue.MakePath(cue.Str(name))); n.Exists() && strings.HasSuffix(names.Path().String(), path[len(path)-2]) {
			return describe(n)
		}
	}
	return ""
}

// docAt is the doc comment of the field at path of the schema.
func docAt(sh compile.Shared, path []string) string {
	return sh.Docs[strings.Join(path, ".")]
}

// describe is what the platform says of a name: a description string
// (a label), the description field of a struct (a bundle) or its
// settings (an env).
func describe(v cue.Value) string {
	if s, err := v.String(); err == nil {
		return s
	}
	if s, err := v.LookupPath(cue.ParsePath("description")).String(); err == nil {
		return s
	}
	if v.IncompleteKind() == cue.StructKind {
		if b, err := v.MarshalJSON(); err == nil {
			return "`" + string(b) + "`"
		}
	}
	return ""
}

// typeOf is a field's type in a few words: its kind, and whether the
// schema requires it or it may be left out.
func typeOf(sel cue.Selector, v cue.Value) string {
	k := v.IncompleteKind()
	t := k.String()
	switch {
	case k == cue.StructKind:
		t = "struct"
	case k == cue.ListKind:
		t = "list"
	}
	switch sel.ConstraintType() {
	case cue.RequiredConstraint:
		t += ", required"
	case cue.OptionalConstraint:
		t += ", optional"
	}
	return t
}

// label writes a field name as a CUE label: as it is when it is an
// identifier, else quoted.
func label(name string) string {
	if ast.IsValidIdent(name) && !strings.HasPrefix(name, "#") && !strings.HasPrefix(name, "_") {
		return name
	}
	return strconv.Quote(name)
}

// show is a value as CUE writes it, on as few lines as it takes.
func show(v cue.Value) string {
	if v.IsConcrete() {
		if k := v.Kind(); k != cue.StructKind && k != cue.ListKind {
			if b, err := format.Node(v.Syntax(cue.Final())); err == nil {
				return string(b)
			}
		}
	}
	b, err := format.Node(v.Syntax(cue.Final(), cue.Concrete(false), cue.Docs(false)))
	if err != nil {
		return fmt.Sprint(v)
	}
	return strings.TrimSpace(string(b))
}
