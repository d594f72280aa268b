package compile

import (
	"fmt"
	"testing"

	"cuelang.org/go/cue/parser"

	"github.com/fleetc/fleetc/internal/load"
)

// TestOwnField finds a field of the cluster in the shapes a cluster file
// may take, and nothing where the file does not spell the field out.
func TestOwnField(t *testing.T) {
	for _, tc := range []struct {
		src  string
		path []string
		want string // line:column, or "" for none
	}{
		{"clusters: x: {\n\tserver: \"https://x\"\n}", []string{"server"}, "2:10"},
		{"clusters: \"x\": server: \"https://x\"", []string{"server"}, "1:24"},
		{"clusters: x: {\n\targocd: namespaces: [\"a\"]\n}", []string{"argocd", "namespaces"}, "2:22"},
		{"clusters: x: {\n\targocd: {\n\t\tproject: \"p\"\n\t\tnamespaces: [\"a\"]\n\t}\n}", []string{"argocd", "namespaces"}, "4:15"},
		{"clusters: x: {\n\targocd: project: \"p\"\n}", []string{"argocd", "namespaces"}, ""},
		{"clusters: x: {\n\tenv: \"dev\"\n}", []string{"server"}, ""},
		{"clusters: y: {\n\tserver: \"https://y\"\n}", []string{"server"}, ""},
	} {
		syntax, err := parser.ParseFile("x.cue", "package clusters\n"+tc.src)
		if err != nil {
			t.Fatal(err)
		}
		pos := ownField(&load.ClusterFile{Name: "x", Syntax: syntax}, tc.path...)
		got := ""
		if pos.IsValid() {
			p := pos.Position()
			got = fmt.Sprintf("%d:%d", p.Line-1, p.Column) // after the package clause
		}
		if got != tc.want {
			t.Errorf("%q in\n%s\ngot %q, want %q", tc.path, tc.src, got, tc.want)
		}
	}
}
