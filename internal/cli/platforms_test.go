package cli

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"golang.org/x/tools/txtar"

	"github.com/fleetc/fleetc/internal/testplatform"
)

// TestPlatforms runs every case in testdata/compile through `fleetc
// compile`. A case is a txtar archive of platform files. If its comment has
// the line `platform: reference`, the case starts from the repository's
// reference platform and its files replace or add to it; a line
// `remove: PATH` deletes a file of it. The expected result is either an
// `errors` section (exactly what compile prints, paths relative to the
// platform) or `out/<path>` sections (exact output files; files not named
// are not compared). A failing case must leave an existing output tree,
// and the platform, byte for byte as they were: every file, directory and
// mode.
//
// Further comment lines set up the run: `args: ARGS` adds arguments to
// `fleetc compile --out $OUT` and `env: NAME=VALUE` sets a variable of the
// environment fleetc sees (none else). In args, $PLATFORM is the platform,
// $OUT the output directory and $SECRETS a directory outside both; the
// same names stand for them in the expected errors.
func TestPlatforms(t *testing.T) {
	cases, err := filepath.Glob(filepath.Join(repoRoot(), "testdata", "compile", "*.txtar"))
	if err != nil || len(cases) == 0 {
		t.Fatalf("no cases in testdata/compile: %v", err)
	}
	baseline := readTree(t, filepath.Join(repoRoot(), "deploy"))
	for _, file := range cases {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".txtar"), func(t *testing.T) {
			t.Parallel()
			ar, err := txtar.ParseFile(file)
			if err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			writePlatform(t, dir, ar)
			c := setup(t, dir, ar)
			writeTree(t, c.out, baseline)
			before, platBefore := snapshot(t, c.out), snapshot(t, dir)
			got := c.run()
			if got.errors != "" {
				if after := snapshot(t, c.out); !maps.Equal(before, after) {
					t.Errorf("a failing compile changed the output tree:\n%s", treeDiff(before, after))
				}
				if after := snapshot(t, dir); !maps.Equal(platBefore, after) {
					t.Errorf("a failing compile changed the platform:\n%s", treeDiff(platBefore, after))
				}
			}
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

// run is one case's compile: where it runs and with what.
type run struct {
	platform, out, secrets string
	args                   []string
	env                    map[string]string
}

// setup reads a case's args: and env: lines.
func setup(t *testing.T, dir string, ar *txtar.Archive) *run {
	t.Helper()
	tmp := t.TempDir()
	c := &run{platform: dir, out: filepath.Join(tmp, "deploy"), secrets: filepath.Join(tmp, "secrets"), env: map[string]string{}}
	for _, line := range strings.Split(string(ar.Comment), "\n") {
		line = strings.TrimSpace(line)
		if rest, ok := strings.CutPrefix(line, "args: "); ok {
			for _, a := range strings.Fields(rest) {
				c.args = append(c.args, c.expand(a))
			}
		}
		if rest, ok := strings.CutPrefix(line, "env: "); ok {
			k, v, ok := strings.Cut(rest, "=")
			if !ok {
				t.Fatalf("bad env line %q: want env: NAME=VALUE", line)
			}
			c.env[k] = v
		}
	}
	return c
}

func (c *run) expand(s string) string {
	return strings.NewReplacer("$PLATFORM", c.platform, "$OUT", c.out, "$SECRETS", c.secrets).Replace(s)
}

func (c *run) run() result {
	var stdout, stderr bytes.Buffer
	args := append([]string{"compile", "--out", c.out}, c.args...)
	code := Run(args, IO{Stdout: &stdout, Stderr: &stderr, Getenv: func(k string) string { return c.env[k] }, Cwd: c.platform})
	if code == 0 {
		return result{files: readTreeAt(c.out)}
	}
	// The longest paths first: the output and secrets directories are
	// not under the platform, but be sure.
	shown := strings.NewReplacer(c.out, "$OUT", c.secrets, "$SECRETS", c.platform, "$PLATFORM").Replace(stderr.String())
	return result{errors: shown}
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
	if err := testplatform.Copy(dst); err != nil {
		t.Fatal(err)
	}
}

func writeTree(t *testing.T, root string, files map[string][]byte) {
	t.Helper()
	for p, data := range files {
		path := filepath.Join(root, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func readTreeAt(root string) map[string][]byte {
	files, _ := testplatform.ReadTree(root)
	return files
}

// snapshot records every file (mode and content), directory (mode) and
// symlink under root, or that root is missing or not a directory.
func snapshot(t *testing.T, root string) map[string]string {
	t.Helper()
	tree := map[string]string{}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if errors.Is(err, fs.ErrNotExist) && path == root {
			tree["."] = "<missing>"
			return nil
		}
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		fi, err := d.Info()
		if err != nil {
			return err
		}
		switch {
		case d.IsDir():
			tree[filepath.ToSlash(rel)] = fmt.Sprintf("dir %v", fi.Mode())
		case d.Type().IsRegular():
			data, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			tree[filepath.ToSlash(rel)] = fmt.Sprintf("file %v %s", fi.Mode(), data)
		default:
			target, _ := os.Readlink(path)
			tree[filepath.ToSlash(rel)] = fmt.Sprintf("%v -> %s", fi.Mode(), target)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return tree
}

// treeDiff names the entries that differ between two snapshots.
func treeDiff(before, after map[string]string) string {
	var lines []string
	for p, v := range before {
		if w, ok := after[p]; !ok {
			lines = append(lines, "removed: "+p)
		} else if v != w {
			lines = append(lines, "changed: "+p)
		}
	}
	for p := range after {
		if _, ok := before[p]; !ok {
			lines = append(lines, "added: "+p)
		}
	}
	slices.Sort(lines)
	return strings.Join(lines, "\n")
}

func repoRoot() string {
	_, self, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(self), "..", "..")
}
