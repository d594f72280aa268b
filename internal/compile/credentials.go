package compile

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

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
// therefore rejects string literals that look like credentials, wherever
// they are: in cluster files, in the shared files of the clusters package
// and in the packages they import (defs). It looks at literals only, never
// at references or interpolations, and never shows the literal it rejects.

// credentialShapes are strings that are credentials whatever field holds
// them. Each says what it found.
var credentialShapes = []struct {
	re   *regexp.Regexp
	what string
}{
	{regexp.MustCompile(`-----BEGIN [A-Z0-9 ]*(PRIVATE KEY|CERTIFICATE)[A-Z0-9 ]*-----`), "a PEM block (a key or certificate)"},
	{regexp.MustCompile(`LS0tLS1CRUdJTi`), "a base64-encoded PEM block (a key or certificate)"},
	{regexp.MustCompile(`eyJ[A-Za-z0-9_-]{4,}\.eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{8,}`), "a JSON Web Token, such as a Kubernetes bearer token"},
	{regexp.MustCompile(`(?i)\bbearer\s+[A-Za-z0-9._~+/-]{16,}`), "an HTTP bearer token"},
	{regexp.MustCompile(`\bgh[pousr]_[A-Za-z0-9]{30,}`), "a GitHub token"},
	{regexp.MustCompile(`\bglpat-[A-Za-z0-9_-]{20,}`), "a GitLab token"},
	{regexp.MustCompile(`\b(AKIA|ASIA)[0-9A-Z]{16}\b`), "an AWS access key"},
	{regexp.MustCompile(`\bxox[abprs]-[A-Za-z0-9-]{10,}`), "a Slack token"},
}

// templateOnly matches a value made only of Go template actions, such as
// the "{{ .token }}" of an ExternalSecret template: a reference, not a
// credential.
var templateOnly = regexp.MustCompile(`^\s*(\{\{[^{}]*\}\}\s*)+$`)

// credential is a string literal that looks like a credential.
type credential struct {
	pos   token.Pos
	path  []string // labels from the top of the file
	value string
	// parts are the pieces of value that look like credentials, hidden
	// also where the value is quoted in some other way.
	parts []string
	what  string
}

// credentialHint says what to do instead, for every kind of finding.
const credentialHint = "credentials never go in CUE files, which live in git: have the chart read it from a Kubernetes Secret (for a cluster's own token and CA, see credentials in #Cluster)"

// diagnostic is the credential as a diagnostic; skip is how many leading
// labels the shown path leaves out (the `clusters: <name>:` of a cluster
// file).
func (c credential) diagnostic(cluster string, skip int) diag.Diagnostic {
	p := c.path
	if len(p) >= skip {
		p = p[skip:]
	}
	return diag.Diagnostic{Pos: c.pos.Position(), Cluster: cluster, Path: strings.Join(p, "."), Message: fmt.Sprintf("literal credential (%s): %s", c.what, credentialHint)}
}

// credentialLiterals finds the string literals of f that look like
// credentials: by their shape anywhere, and any non-empty literal that a
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
		for _, shape := range credentialShapes {
			if parts := shape.re.FindAllString(s, -1); len(parts) > 0 {
				out = append(out, credential{pos: lit.Pos(), path: path, value: s, parts: parts, what: "it looks like " + shape.what})
				return
			}
		}
		if field != "" && credentials.IsName(field) && strings.TrimSpace(s) != "" && !templateOnly.MatchString(s) {
			out = append(out, credential{pos: lit.Pos(), path: path, value: s, what: fmt.Sprintf("a field named %s holds a literal string", field)})
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
			walk(x.Value, append(slices.Clip(path), labelName(x.Label)), name)
		case *ast.StructLit:
			for _, e := range x.Elts {
				walk(e, path, "")
			}
		case *ast.BasicLit:
			check(x, path, field)
		case *ast.Interpolation:
			// Its literal parts are fragments of a string computed from
			// references; only the expressions can hold a literal.
			for _, e := range x.Elts {
				if _, frag := e.(*ast.BasicLit); !frag {
					walk(e, path, "")
				}
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
		values = append(values, literal.String.Quote(c.value), strconv.Quote(c.value), c.value)
		values = append(values, c.parts...)
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
