package output

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/fleetc/fleetc/internal/render"
)

var newFiles = []render.File{
	{Path: "README.md", Data: []byte("# platform\n")},
	{Path: "defs/platform.cue", Data: []byte("package defs\n")},
	{Path: ".github/workflows/platform.yaml", Data: []byte("name: platform\n")},
}

func TestWriteNew(t *testing.T) {
	for _, tc := range []struct {
		name    string
		sub     string // where to write below the test's directory; "new" if empty
		prepare func(t *testing.T, dir string)
		files   []render.File
		refused []string // Entries of the *NotEmptyError, if refused
		failed  bool     // an error other than a refusal
	}{
		{name: "missing", prepare: func(*testing.T, string) {}, files: newFiles},
		{name: "empty", prepare: func(t *testing.T, dir string) { mkdir(t, dir) }, files: newFiles},
		{name: "git only", prepare: func(t *testing.T, dir string) { mkdir(t, filepath.Join(dir, ".git", "objects")) }, files: newFiles},
		{name: "a file", prepare: func(t *testing.T, dir string) {
			mkdir(t, dir)
			writeFile(t, filepath.Join(dir, "LICENSE"), "mine")
		}, files: newFiles, refused: []string{"LICENSE"}},
		{name: "a .git file", prepare: func(t *testing.T, dir string) {
			mkdir(t, dir)
			writeFile(t, filepath.Join(dir, ".git"), "gitdir: ../elsewhere")
		}, files: newFiles},
		{name: "a hidden directory besides .git", prepare: func(t *testing.T, dir string) {
			mkdir(t, filepath.Join(dir, ".config"))
			mkdir(t, filepath.Join(dir, ".git"))
		}, files: newFiles, refused: []string{".config"}},
		{name: "dir is a file", prepare: func(t *testing.T, dir string) {
			writeFile(t, dir, "mine")
		}, files: newFiles, refused: []string{}},
		// The second file cannot be written where the first is: what
		// was written is removed again.
		{name: "failure in an existing directory", prepare: func(t *testing.T, dir string) { mkdir(t, filepath.Join(dir, ".git")) },
			files: []render.File{{Path: "defs/a.cue", Data: []byte("a")}, {Path: "defs/a.cue/b", Data: []byte("b")}}, failed: true},
		{name: "failure in a new directory", prepare: func(*testing.T, string) {},
			files: []render.File{{Path: "a", Data: []byte("a")}, {Path: "a/b", Data: []byte("b")}}, failed: true},
		{name: "failure in new directories", sub: "new/deeper/deepest", prepare: func(*testing.T, string) {},
			files: []render.File{{Path: "a", Data: []byte("a")}, {Path: "a/b", Data: []byte("b")}}, failed: true},
		{name: "missing parents", sub: "new/deeper/deepest", prepare: func(*testing.T, string) {}, files: newFiles},
		{name: "a path into .git", prepare: func(t *testing.T, dir string) { mkdir(t, filepath.Join(dir, ".git")) },
			files: []render.File{{Path: "README.md", Data: []byte("a")}, {Path: ".git/config", Data: []byte("b")}}, failed: true},
		{name: "a path outside", prepare: func(*testing.T, string) {},
			files: []render.File{{Path: "../escape", Data: []byte("a")}}, failed: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			top := t.TempDir()
			sub := tc.sub
			if sub == "" {
				sub = "new"
			}
			dir := filepath.Join(top, filepath.FromSlash(sub))
			tc.prepare(t, dir)
			before := readTree(t, top)
			err := WriteNew(dir, "new", tc.files)
			var ne *NotEmptyError
			switch {
			case tc.refused != nil:
				if !errors.As(err, &ne) {
					t.Fatalf("WriteNew: %v, want a *NotEmptyError", err)
				}
				if len(ne.Entries) != len(tc.refused) || (len(ne.Entries) > 0 && ne.Entries[0] != tc.refused[0]) || ne.Dir != "new" {
					t.Errorf("refused with %+v, want entries %q", ne, tc.refused)
				}
			case tc.failed:
				if err == nil || errors.As(err, &ne) {
					t.Fatalf("WriteNew: %v, want a failure", err)
				}
			default:
				if err != nil {
					t.Fatal(err)
				}
			}
			after := readTree(t, top)
			if tc.refused != nil || tc.failed {
				if !equalTrees(before, after) {
					t.Errorf("a refused or failed WriteNew changed the tree:\nbefore %v\nafter  %v", before, after)
				}
				return
			}
			for _, f := range tc.files {
				if got := after[sub+"/"+f.Path]; got != string(f.Data) {
					t.Errorf("%s holds %q, want %q", f.Path, got, f.Data)
				}
			}
			for p := range before {
				if after[p] != before[p] {
					t.Errorf("%s changed", p)
				}
			}
		})
	}
}

func mkdir(t *testing.T, dir string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
}

// readTree maps every file and directory below root to its content
// ("/" for a directory).
func readTree(t *testing.T, root string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		if d.IsDir() {
			out[filepath.ToSlash(rel)] = "/"
			return nil
		}
		data, err := os.ReadFile(p)
		out[filepath.ToSlash(rel)] = string(data)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func equalTrees(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}
