package compile

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"cuelang.org/go/cue"
	"cuelang.org/go/cue/ast"
	"cuelang.org/go/cue/build"
	"cuelang.org/go/cue/literal"
	"cuelang.org/go/cue/token"

	"github.com/fleetc/fleetc/internal/credentials"
	"github.com/fleetc/fleetc/internal/diag"
	"github.com/fleetc/fleetc/internal/load"
)

// A CUE file lives in git, so a credential written into one is leaked the
// moment it is committed, whatever fleetc does with it afterwards. fleetc
// therefore rejects string literals (and labels) that look like
// credentials, wherever they are: in cluster files, in the shared files of
// the clusters package and in the packages they import (defs). And since
// a credential can be composed (concatenated, interpolated, defaulted)
// from pieces that each look harmless, the step that turns a cluster into
// bytes (render) refuses one in whatever it writes (LeakError), and the
// platform settings are checked as evaluated (settingsCredentials). It
// never shows what it rejects: the redactor hides it in every message.

// credential is a value that looks like a credential: a literal of a
// file, or (evaluated) one that a cluster would write.
type credential struct {
	pos   token.Pos
	path  []string // labels from the top of the file
	value string
	// parts are the pieces of value that look like credentials, hidden
	// also where the value is quoted in some other way.
	parts []string
	what  string
	// evaluated is set for a credential found in an evaluated value
	// rather than a literal.
	evaluated bool
}

// credentialHint says what to do instead, for every kind of finding.
const credentialHint = "credentials never go in CUE files, which live in git: have the chart read it from a Kubernetes Secret (for a cluster's own token and CA, see credentials in #Cluster)"

// diagnostic is the credential as a diagnostic of cluster ("" for a
// shared file) at path, the credential's path as the user reads it.
func (c credential) diagnostic(cluster, path string) diag.Diagnostic {
	kind := "literal credential"
	if c.evaluated {
		kind = evaluatedKind
	}
	return diag.Diagnostic{Pos: c.pos.Position(), Cluster: cluster, Path: path, Message: fmt.Sprintf("%s (%s): %s", kind, c.what, credentialHint)}
}

// credentialLiterals finds the string literals and labels of f that look
// like credentials (credentials.Find), and the non-empty literals that a
// field named like a credential holds.
func credentialLiterals(f *ast.File) []credential {
	var out []credential
	check := func(lit *ast.BasicLit, path []string, field string) {
		if lit.Kind != token.STRING {
			return
		}
		s, err := literal.Unquote(lit.Value)
		if err != nil {
			return
		}
		if c, ok := findCredential(s, field); ok {
			c.pos, c.path = lit.Pos(), path
			out = append(out, c)
		}
	}
	// walk visits n, the value of the field named field (or "" inside a
	// struct), at path.
	var walk func(n ast.Node, path []string, field string)
	walk = func(n ast.Node, path []string, field string) {
		switch x := n.(type) {
		case *ast.File:
			for _, d := range x.Decls {
				walk(d, path, "")
			}
		case *ast.Field:
			name, _, _ := ast.LabelName(x.Label)
			p := append(slices.Clip(path), labelName(x.Label))
			if found, ok := credentials.Find(name); ok {
				out = append(out, credential{pos: x.Label.Pos(), path: p, value: name, parts: found.Parts, what: "a label: " + found.Reason()})
			}
			// A number is a credential only as the whole value of a field
			// named like a password; one computed from several is checked
			// once evaluated.
			if lit, ok := x.Value.(*ast.BasicLit); ok && (lit.Kind == token.INT || lit.Kind == token.FLOAT) && credentials.IsPasswordName(name) {
				out = append(out, credential{pos: lit.Pos(), path: p, value: lit.Value, what: fmt.Sprintf("a field named %s holds a literal number", name)})
			}
			walk(x.Value, p, name)
		case *ast.StructLit:
			for _, e := range x.Elts {
				walk(e, path, "")
			}
		case *ast.BasicLit:
			check(x, path, field)
		case *ast.Interpolation:
			// Its literal parts are fragments of a string computed from
			// references; only the expressions can hold a literal. What
			// the whole computes is checked once evaluated.
			for _, e := range x.Elts {
				if _, frag := e.(*ast.BasicLit); !frag {
					walk(e, path, "")
				}
			}
		case *ast.UnaryExpr:
			// A pattern a value must (not) match is a constraint, not a
			// value: `=~"^x"`.
			if x.Op != token.MAT && x.Op != token.NMAT {
				walk(x.X, path, field)
			}
		case *ast.ImportDecl, *ast.Package, *ast.Attribute, *ast.CommentGroup:
		default:
			// Lists, defaults, disjunctions, calls, comprehensions, lets:
			// every expression inside, for the same field.
			ast.Walk(n, func(c ast.Node) bool {
				if c == n {
					return true
				}
				walk(c, path, field)
				return false
			}, nil)
		}
	}
	walk(f, nil, "")
	return out
}

// findCredential says whether s, the value of the field named field (""
// if none), is a credential (credentials.Check).
func findCredential(s, field string) (credential, bool) {
	f, ok := credentials.Check(s, field)
	return credential{value: s, parts: f.Parts, what: f.Reason()}, ok
}

// labelName shows a field's label as a path element.
func labelName(l ast.Label) string {
	name, isIdent, err := ast.LabelName(l)
	switch {
	case err != nil:
		return "(…)" // a computed label
	case isIdent || ast.IsValidIdent(name):
		return name
	}
	return strconv.Quote(name)
}

// sharedCredentials scans the shared files of the clusters package and
// every file of the packages they import from the module.
func sharedCredentials(inst *build.Instance, root string) []credential {
	var out []credential
	for _, i := range load.Packages(inst, root) {
		for _, f := range i.Files {
			out = append(out, credentialLiterals(f)...)
		}
	}
	return out
}

// redactor hides credential literals in messages: CUE quotes the values
// it finds wrong, and a rejected credential must not reach a log that way.
type redactor struct{ r *strings.Replacer }

func newRedactor(creds []credential) *redactor {
	var values []string
	for _, c := range creds {
		// Quoted, as CUE's messages show a value, always; bare only when
		// long enough not to be a piece of every other word (a password
		// "e" must not turn each e of a message into ***).
		values = append(values, literal.String.Quote(c.value), strconv.Quote(c.value))
		for _, v := range append([]string{c.value}, c.parts...) {
			if len(v) >= minBare {
				values = append(values, v)
			}
		}
		if lines := strings.Split(c.value, "\n"); len(lines) > 1 {
			for _, l := range lines {
				if l = strings.TrimSpace(l); len(l) >= 8 {
					values = append(values, l)
				}
			}
		}
	}
	if len(values) == 0 {
		return &redactor{}
	}
	// Longest first, so a value is hidden whole before any part of it.
	slices.SortStableFunc(values, func(a, b string) int { return len(b) - len(a) })
	pairs := make([]string, 0, 2*len(values))
	for _, v := range values {
		pairs = append(pairs, v, redacted)
	}
	return &redactor{strings.NewReplacer(pairs...)}
}

// minBare is the shortest credential the redactor hides where it is not
// quoted.
const minBare = 6

// redacted stands for a hidden value in a message.
const redacted = "***"

func (r *redactor) list(ds diag.List) diag.List {
	if r.r == nil {
		return ds
	}
	for i := range ds {
		ds[i].Message = r.r.Replace(ds[i].Message)
		ds[i].Path = r.r.Replace(ds[i].Path)
	}
	return ds
}

// evaluatedKind starts the message of a credential found in what a
// cluster writes.
const evaluatedKind = "credential in what the cluster writes"

// A LeakError is a credential in what a cluster would write, found by the
// step that turns its values into bytes (render) rather than in a literal:
// composed from pieces that each look harmless (a concatenation, an
// interpolation, a default from another file). FleetCached reports it like
// a literal one, at the position CUE gives the value, and hides it in every
// message. Its Error never holds the value.
type LeakError struct {
	// Pos is where CUE says the value comes from; Path is its CUE path
	// (for a key, the path of the field it names).
	Pos  token.Pos
	Path cue.Path
	// Value is the credential, Key whether it is a key rather than a
	// value, and Finding what it looks like.
	Value   string
	Key     bool
	Finding credentials.Finding
}

func (e *LeakError) Error() string {
	return fmt.Sprintf("%s: credential in what the cluster writes (%s)", e.Path, e.Finding.What)
}

// credential is the leak as a finding of cluster file f.
func (e *LeakError) credential(f *load.ClusterFile) credential {
	what := e.Finding.Reason()
	if e.Key {
		what = "a key: " + what
	}
	pos := e.Pos
	if !pos.IsValid() {
		pos = f.Pos
	}
	var path []string
	for _, sel := range e.Path.Selectors() {
		path = append(path, sel.String())
	}
	return credential{pos: pos, path: path, value: e.Value, parts: e.Finding.Parts, what: what, evaluated: true}
}

// settingsCredentials finds credentials in the evaluated platform settings,
// which ApplicationSets and registrations carry (a repository URL with a
// password, a composed token): the literal check cannot see a value
// assembled from pieces. Each is placed where CUE says the value comes
// from and never shows it.
func settingsCredentials(pv cue.Value) diag.List {
	var out diag.List
	var walk func(v cue.Value, field string)
	walk = func(v cue.Value, field string) {
		report := func(f credentials.Finding, what string) {
			out = append(out, diag.Diagnostic{Pos: v.Pos().Position(), Path: credentials.Scrub(v.Path().String()),
				Message: fmt.Sprintf("credential in the platform settings (%s): %s", what, credentialHint)})
		}
		switch v.Kind() {
		case cue.StructKind:
			iter, err := v.Fields()
			if err != nil {
				return
			}
			for iter.Next() {
				name := iter.Selector().Unquoted()
				if f, ok := credentials.Find(name); ok {
					report(f, "a key: "+f.Reason())
					continue
				}
				walk(iter.Value(), name)
			}
		case cue.ListKind:
			iter, err := v.List()
			if err != nil {
				return
			}
			for iter.Next() {
				walk(iter.Value(), field)
			}
		case cue.StringKind:
			if s, err := v.String(); err == nil {
				if f, ok := credentials.Check(s, field); ok {
					report(f, f.Reason())
				}
			}
		}
	}
	walk(pv, "")
	return out.Sorted()
}

// sharedLeaks folds the diagnostics of credentials that clusters' steps
// found in what they would write (ds), where many clusters write one from
// one place outside their own files (a default, a catalog entry), into one
// diagnostic, of the first of them, that says how many clusters write it:
// one problem, one line, not one per cluster of the fleet.
func sharedLeaks(ds diag.List, files []*load.ClusterFile) diag.List {
	own := make(map[string]string, len(files))
	for _, f := range files {
		own[f.Name] = f.Path
	}
	type place struct {
		pos     token.Position
		path    string
		message string
	}
	first := map[place]int{}
	count := map[place]int{}
	out := ds[:0:0]
	for _, d := range ds {
		if d.Pos.Filename == own[d.Cluster] {
			out = append(out, d)
			continue
		}
		k := place{d.Pos, d.Path, d.Message}
		if _, ok := first[k]; !ok {
			first[k] = len(out)
			out = append(out, d)
		}
		count[k]++
	}
	for k, i := range first {
		if n := count[k]; n > 1 {
			out[i].Message = fmt.Sprintf("credential in what %d clusters write", n) + strings.TrimPrefix(out[i].Message, evaluatedKind)
		}
	}
	return out
}
