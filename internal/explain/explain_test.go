package explain

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/tools/txtar"

	"github.com/fleetc/fleetc/internal/compile"
	"github.com/fleetc/fleetc/internal/load"
)

var update = flag.Bool("update", false, "rewrite the want sections of testdata/*.txtar")

// TestExplain runs testdata/*.txtar: each archive is a platform and a
// file "explain" with one `cluster app path` per line; "want" holds what
// Explain says of each, positions relative to the platform.
func TestExplain(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.txtar"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no test cases: %v", err)
	}
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".txtar"), func(t *testing.T) {
			ar, err := txtar.ParseFile(file)
			if err != nil {
				t.Fatal(err)
			}
			root := t.TempDir()
			var queries string
			for _, f := range ar.Files {
				switch f.Name {
				case "explain":
					queries = string(f.Data)
				case "want":
				default:
					path := filepath.Join(root, f.Name)
					if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
						t.Fatal(err)
					}
					if err := os.WriteFile(path, f.Data, 0o644); err != nil {
						t.Fatal(err)
					}
				}
			}
			got := explainAll(t, root, queries)
			if *update {
				for i, f := range ar.Files {
					if f.Name == "want" {
						ar.Files[i].Data = []byte(got)
					}
				}
				if err := os.WriteFile(file, txtar.Format(ar), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			for _, f := range ar.Files {
				if f.Name == "want" && string(f.Data) != got {
					t.Errorf("got:\n%s\nwant:\n%s", got, f.Data)
				}
			}
		})
	}
}

// explainAll explains each query and writes the answers as text.
func explainAll(t *testing.T, root, queries string) string {
	p, err := load.Load(load.Config{Dir: root})
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, q := range strings.Split(strings.TrimSpace(queries), "\n") {
		args := strings.Fields(q)
		if len(args) != 3 {
			t.Fatalf("query %q: want cluster app path", q)
		}
		path, err := ParsePath(args[2])
		if err != nil {
			t.Fatal(err)
		}
		_, err = compile.Fleet(p, compile.Options{Clusters: args[:1], Workers: 1}, func(c *compile.Cluster) (bool, error) {
			for _, app := range c.Apps {
				if app.Name != args[1] {
					continue
				}
				e, err := Explain(c, app, path, LoadPackages(c.Value.Context(), p.Shared))
				if err != nil {
					fmt.Fprintf(&b, "> %s\nerror: %v\n", q, err)
					return true, nil
				}
				fmt.Fprintf(&b, "> %s\n", q)
				for _, s := range e.Steps {
					fmt.Fprintf(&b, "%s = %s\n", s.Of, s.Value)
					for _, o := range s.Origins {
						rel, _ := filepath.Rel(root, o.Pos.Filename)
						fmt.Fprintf(&b, "  %s %s:%d:%d %s", o.Kind, filepath.ToSlash(rel), o.Pos.Line, o.Pos.Column, o.Expr)
						if o.Note != "" {
							fmt.Fprintf(&b, " (%s)", o.Note)
						}
						b.WriteString("\n")
					}
				}
				return true, nil
			}
			return false, fmt.Errorf("no app %s", args[1])
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return b.String()
}
