package scaffold

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"unicode/utf8"

	"cuelang.org/go/cue/ast"
	"cuelang.org/go/cue/format"
	"cuelang.org/go/cue/literal"
	"cuelang.org/go/cue/parser"
	"cuelang.org/go/cue/token"
	"go.yaml.in/yaml/v3"

	"github.com/fleetc/fleetc/internal/load"
)

// An edit replaces the bytes [start, end) of a file with text.
type edit struct {
	start, end int
	text       string
}

// apply makes edits, which must not overlap, to src.
func apply(src []byte, edits []edit) []byte {
	sort.Slice(edits, func(i, j int) bool { return edits[i].start < edits[j].start })
	var b bytes.Buffer
	at := 0
	for _, e := range edits {
		b.Write(src[at:e.start])
		b.WriteString(e.text)
		at = e.end
	}
	b.Write(src[at:])
	return b.Bytes()
}

// findString finds the one string literal at path in a CUE file, following
// struct literals and their one-field shorthands (`a: b: "x"`): its
// literal and its value. A path spelled out more than once, or whose value
// is not a plain string literal, is an error: the substitution would be a
// guess.
func findString(name string, src []byte, path []string) (*ast.BasicLit, string, error) {
	f, err := parser.ParseFile(name, src, parser.ParseComments)
	if err != nil {
		return nil, "", err
	}
	found := slices.Collect(load.Fields(f.Decls, path...))
	where := fmt.Sprintf("%s: %s", name, strings.Join(path, "."))
	if len(found) != 1 {
		return nil, "", fmt.Errorf("%s: found %d times, want once", where, len(found))
	}
	lit, ok := found[0].Value.(*ast.BasicLit)
	if !ok || lit.Kind != token.STRING {
		return nil, "", fmt.Errorf("%s: %s: not a string literal", found[0].Value.Pos(), where)
	}
	s, err := literal.Unquote(lit.Value)
	if err != nil {
		return nil, "", fmt.Errorf("%s: %s: %w", lit.Pos(), where, err)
	}
	return lit, s, nil
}

// substitute replaces the string at path in a CUE file with value, and
// checks that the result is formatted CUE with value at path.
func substitute(name string, src []byte, path []string, value string) ([]byte, error) {
	lit, _, err := findString(name, src, path)
	if err != nil {
		return nil, err
	}
	start := lit.Pos().Offset()
	out := apply(src, []edit{{start, start + len(lit.Value), literal.String.Quote(value)}})
	return checkCUE(name, out, func(data []byte) error {
		if _, got, err := findString(name, data, path); err != nil || got != value {
			return fmt.Errorf("%s: %s is not %q after the substitution", name, strings.Join(path, "."), value)
		}
		return nil
	})
}

// checkCUE formats a CUE file that init edited, as `cue fmt` would (a
// longer value can move a comment that is aligned after it), and checks
// the result with check.
func checkCUE(name string, src []byte, check func([]byte) error) ([]byte, error) {
	out, err := format.Source(src)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if err := check(out); err != nil {
		return nil, err
	}
	return out, nil
}

// rewriteImports makes the imports of the module oldModule's packages in
// a CUE file import those of newModule instead.
func rewriteImports(name string, src []byte, oldModule, newModule string) ([]byte, error) {
	f, err := parser.ParseFile(name, src, parser.ImportsOnly)
	if err != nil {
		return nil, err
	}
	oldBase, _, _ := ast.SplitPackageVersion(oldModule)
	newBase, newMajor, _ := ast.SplitPackageVersion(newModule)
	if newBase == "" {
		newBase = newModule
	}
	var edits []edit
	var want []string
	for spec := range f.ImportSpecs() {
		p, err := literal.Unquote(spec.Path.Value)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", spec.Path.Pos(), err)
		}
		ip := ast.ParseImportPath(p)
		rest, ok := strings.CutPrefix(ip.Path, oldBase)
		if !ok || (rest != "" && rest[0] != '/') {
			continue
		}
		ip.Path = newBase + rest
		if ip.Version != "" {
			ip.Version = newMajor
		}
		to := ip.String()
		start := spec.Path.Pos().Offset()
		edits = append(edits, edit{start, start + len(spec.Path.Value), literal.String.Quote(to)})
		want = append(want, to)
	}
	if len(edits) == 0 {
		return src, nil
	}
	return checkCUE(name, apply(src, edits), func(data []byte) error {
		f, err := parser.ParseFile(name, data, parser.ImportsOnly)
		if err != nil {
			return err
		}
		var got []string
		for spec := range f.ImportSpecs() {
			p, _ := literal.Unquote(spec.Path.Value)
			if strings.HasPrefix(p, newBase) {
				got = append(got, p)
			}
		}
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			return fmt.Errorf("%s: the imports are %q after the substitution, want %q", name, got, want)
		}
		return nil
	})
}

// repoURLKey is the field of an Argo CD source that names its repository.
const repoURLKey = "repoURL"

// replaceRepoURLs replaces, in a YAML file of Argo CD objects, the value
// of every repoURL field that is a key of repos with its value. The rest
// of the file is left byte for byte as it is.
func replaceRepoURLs(name string, src []byte, repos map[string]string) ([]byte, error) {
	if len(repos) == 0 {
		return src, nil
	}
	before, err := repoURLs(name, src)
	if err != nil {
		return nil, err
	}
	var edits []edit
	var want []string
	for _, n := range before {
		to, ok := repos[n.Value]
		if !ok {
			want = append(want, n.Value)
			continue
		}
		e, err := scalarEdit(name, src, n, to)
		if err != nil {
			return nil, err
		}
		edits = append(edits, e)
		want = append(want, to)
	}
	if len(edits) == 0 {
		return src, nil
	}
	out := apply(src, edits)
	// Checked: the result parses, and its repoURL fields are those of
	// the original with the substitutions made.
	after, err := repoURLs(name, out)
	if err != nil {
		return nil, fmt.Errorf("after the substitution: %w", err)
	}
	got := make([]string, len(after))
	for i, n := range after {
		got[i] = n.Value
	}
	if !slices.Equal(got, want) {
		return nil, fmt.Errorf("%s: the repository URLs are %q after the substitution, want %q", name, got, want)
	}
	return out, nil
}

// repoURLs are the values of the repoURL fields of every YAML document in
// src, in order.
func repoURLs(name string, src []byte) ([]*yaml.Node, error) {
	var out []*yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(src))
	for {
		var doc yaml.Node
		if err := dec.Decode(&doc); errors.Is(err, io.EOF) {
			return out, nil
		} else if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		walkRepoURLs(&doc, func(n *yaml.Node) { out = append(out, n) })
	}
}

// walkRepoURLs calls f with the value of every repoURL field below n.
func walkRepoURLs(n *yaml.Node, f func(*yaml.Node)) {
	if n.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(n.Content); i += 2 {
			if k, v := n.Content[i], n.Content[i+1]; k.Value == repoURLKey && v.Kind == yaml.ScalarNode {
				f(v)
			}
		}
	}
	for _, c := range n.Content {
		walkRepoURLs(c, f)
	}
}

// scalarEdit replaces the one-line scalar n of src with value, quoted as
// YAML needs.
func scalarEdit(name string, src []byte, n *yaml.Node, value string) (edit, error) {
	start := lineStart(src, n.Line)
	if start < 0 {
		return edit{}, fmt.Errorf("%s:%d: no such line", name, n.Line)
	}
	// yaml counts columns in characters.
	for i := 1; i < n.Column && start < len(src); i++ {
		_, size := utf8.DecodeRune(src[start:])
		start += size
	}
	var end int
	switch n.Style {
	case 0:
		end = start + len(n.Value)
		if end > len(src) || string(src[start:end]) != n.Value {
			return edit{}, fmt.Errorf("%s:%d:%d: %s is not where yaml places it", name, n.Line, n.Column, n.Value)
		}
	case yaml.DoubleQuotedStyle, yaml.SingleQuotedStyle:
		q := src[start]
		i := bytes.IndexByte(src[start+1:], q)
		if i < 0 || bytes.IndexByte(src[start:start+1+i], '\n') >= 0 || bytes.IndexByte(src[start:start+1+i], '\\') >= 0 {
			return edit{}, fmt.Errorf("%s:%d:%d: the repository URL is not a simple quoted string", name, n.Line, n.Column)
		}
		end = start + i + 2
		if end < len(src) && src[end] == q {
			return edit{}, fmt.Errorf("%s:%d:%d: the repository URL is not a simple quoted string", name, n.Line, n.Column)
		}
	default:
		return edit{}, fmt.Errorf("%s:%d:%d: the repository URL is not on one line", name, n.Line, n.Column)
	}
	return edit{start, end, yamlScalar(value)}, nil
}

// yamlScalar is value as a one-line YAML scalar that reads the same in a
// block and in a flow collection: as yaml.v3 writes it, quoted if that
// leaves a character that ends a value in a flow collection.
func yamlScalar(value string) string {
	text, err := yaml.Marshal(value)
	plain := strings.TrimSuffix(string(text), "\n")
	if err != nil || strings.ContainsAny(plain, ",[]{}\n") {
		q, _ := json.Marshal(value) // a JSON string is a YAML double-quoted one
		return string(q)
	}
	return plain
}

// lineStart is the offset of line (counted from 1) in src, or -1.
func lineStart(src []byte, line int) int {
	at := 0
	for l := 1; l < line; l++ {
		i := bytes.IndexByte(src[at:], '\n')
		if i < 0 {
			return -1
		}
		at += i + 1
	}
	return at
}
