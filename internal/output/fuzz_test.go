package output

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fleetc/fleetc/internal/render"
)

// FuzzWritePath checks that whatever a planned path contains, Write either
// rejects it or writes exactly that file inside root, and never creates
// anything beside root. Root holds a symlink to its sibling sentinel
// directory, which must stay empty.
func FuzzWritePath(f *testing.F) {
	for _, s := range []string{
		"a", "a/b/c.yaml", "../x", "../sentinel/x", "/abs", "a/../b", `a\b`, `..\..\x`,
		"", ".", "..", "./a", "a/", "a//b", LedgerName, lockName, ".fleetc-tmp-x",
		"a\x00b", "C:/x", "C:x", "NUL", "a/.", "...", ".../x", "a b/ c", "é/ü.yaml",
		"link", "link/x", "link/../x", "a/link/x",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, p string) {
		parent := t.TempDir()
		root := filepath.Join(parent, "root")
		sentinel := filepath.Join(parent, "sentinel")
		for _, d := range []string{root, sentinel} {
			if err := os.Mkdir(d, 0o755); err != nil {
				t.Fatal(err)
			}
		}
		symlink(t, filepath.Join("..", "sentinel"), filepath.Join(root, "link"))
		_, err := Write(root, Plan{Files: []render.File{{Path: p, Data: []byte("data")}}})
		want := map[string]string{"root": "<dir>", "sentinel": "<dir>", "root/link": "-> " + filepath.Join("..", "sentinel")}
		throughLink := p == "link" || strings.HasPrefix(p, "link/")
		switch {
		case err == nil && (checkPath(p) != nil || throughLink):
			t.Errorf("Write accepted bad path %q", p)
		case err == nil:
			for k, v := range want2(p) {
				want["root/"+k] = v
			}
		case checkPath(p) == nil && !throughLink:
			t.Errorf("Write(%q): %v", p, err)
		}
		checkTree(t, parent, want)
	})
}

// want2 is the tree under root after successfully writing "data" at p.
func want2(p string) map[string]string {
	return want([]render.File{{Path: p, Data: []byte("data")}}, nil)
}
