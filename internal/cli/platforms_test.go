package compile_test

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"golang.org/x/tools/txtar"

	"github.com/fleetc/fleetc/internal/compile"
	"github.com/fleetc/fleetc/internal/diag"
	"github.com/fleetc/fleetc/internal/load"
	"github.com/fleetc/fleetc/internal/render"
)

var update = flag.Bool("update", false, "rewrite the expected sections of testdata/compile/*.txtar")

// TestGolden runs every case in testdata/compile. A case is a txtar
// archive of platform files. If its comment has the line
// `platform: reference`, the case starts from the repository's reference
// platform and its files replace or add to it; a line `remove: PATH`
// deletes a file of it. The expected result is either an `errors` section
// (the exact diagnostics, paths relative to the platform) or `out/<path>`
// sections (exact output files; files not named are not compared).
func TestGolden(t *testing.T) {
	cases, err := filepath.Glob(filepath.Join(repoRoot(), "testdata", "compile", "*.txtar"))
	if err != nil || len(cases) == 0 {
		t.Fatalf("no cases in testdata/compile: %v", err)
	}
	for _, file := range cases {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".txtar"), func(t *testing.T) {
			t.Parallel()
			ar, err := txtar.ParseFile(file)
			if err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			writePlatform(t, dir, ar)
			got := run(dir)
			if *update {
				rewrite(t, file, ar, got)
				return
			}
			compare(t, ar, got)
		})
	}
}

// result is what a case produced: errors, or output files by path.
type result struct {
	errors string
	files  map[string][]byte
}

func run(dir string) result {
	p, err := load.Load(load.Config{Dir: dir})
	if err == nil {
		var s *compile.Settings
		if s, err = compile.ReadSettings(p); err == nil {
			var rs []compile.Result[*render.Output]
			rs, err = compile.Fleet(p, compile.Options{}, func(c *compile.Cluster) (*render.Output, error) {
				return render.Cluster(c, s, p.Root)
			})
			if err == nil {
				files := map[string][]byte{}
				for _, r := range rs {
					for _, f := range r.Value.Files {
						files[f.Path] = f.Data
					}
				}
				return result{files: files}
			}
		}
	}
	var dl diag.List
	if !errors.As(err, &dl) {
		return result{errors: "error: " + strings.ReplaceAll(err.Error(), dir, "$PLATFORM") + "\n"}
	}
	var b strings.Builder
	for _, d := range dl {
		fmt.Fprintln(&b, d.Format(dir))
	}
	return result{errors: b.String()}
}

func compare(t *testing.T, ar *txtar.Archive, got result) {
	t.Helper()
	checked := 0
	for _, f := range ar.Files {
		switch {
		case f.Name == "errors":
			checked++
			if got.errors != string(f.Data) {
				t.Errorf("errors:\ngot:\n%s\nwant:\n%s", got.errors, f.Data)
			}
		case strings.HasPrefix(f.Name, "out/"):
			checked++
			if got.errors != "" {
				t.Fatalf("unexpected errors:\n%s", got.errors)
			}
			data, ok := got.files[strings.TrimPrefix(f.Name, "out/")]
			if !ok {
				t.Errorf("%s: not produced", f.Name)
			} else if !bytes.Equal(data, f.Data) {
				t.Errorf("%s:\ngot:\n%s\nwant:\n%s", f.Name, data, f.Data)
			}
		}
	}
	if checked == 0 {
		t.Fatal("case has no errors or out/ section: it would check nothing")
	}
}

// rewrite replaces the expected sections of a case with what it produced.
func rewrite(t *testing.T, file string, ar *txtar.Archive, got result) {
	var kept []txtar.File
	var outs []string
	for _, f := range ar.Files {
		switch {
		case f.Name == "errors":
		case strings.HasPrefix(f.Name, "out/"):
			outs = append(outs, strings.TrimPrefix(f.Name, "out/"))
		default:
			kept = append(kept, f)
		}
	}
	if got.errors != "" && len(outs) > 0 {
		t.Fatalf("case expects output files but failed; not rewriting it:\n%s", got.errors)
	}
	if got.errors != "" {
		kept = append(kept, txtar.File{Name: "errors", Data: []byte(got.errors)})
	} else {
		slices.Sort(outs)
		for _, p := range outs {
			kept = append(kept, txtar.File{Name: "out/" + p, Data: got.files[p]})
		}
	}
	ar.Files = kept
	if err := os.WriteFile(file, txtar.Format(ar), 0o644); err != nil {
		t.Fatal(err)
	}
}

// writePlatform lays out a case's platform in dir.
func writePlatform(t *testing.T, dir string, ar *txtar.Archive) {
	t.Helper()
	for _, line := range strings.Split(string(ar.Comment), "\n") {
		if strings.TrimSpace(line) == "platform: reference" {
			copyReference(t, dir)
		}
	}
	for _, f := range ar.Files {
		if f.Name == "errors" || strings.HasPrefix(f.Name, "out/") {
			continue
		}
		path := filepath.Join(dir, filepath.FromSlash(f.Name))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, f.Data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, line := range strings.Split(string(ar.Comment), "\n") {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(line), "remove: "); ok {
			if err := os.RemoveAll(filepath.Join(dir, filepath.FromSlash(rest))); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func copyReference(t *testing.T, dst string) {
	t.Helper()
	root := repoRoot()
	for _, d := range []string{"cue.mod", "defs", "clusters"} {
		err := filepath.WalkDir(filepath.Join(root, d), func(path string, e os.DirEntry, err error) error {
			if err != nil || e.IsDir() {
				return err
			}
			rel, _ := filepath.Rel(root, path)
			data, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			target := filepath.Join(dst, rel)
			if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
				return err
			}
			return os.WriteFile(target, data, 0o644)
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}

func repoRoot() string {
	_, self, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(self), "..", "..")
}
