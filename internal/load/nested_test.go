package load

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// TestNestedFiles: every CUE file under a subdirectory of clusters/, on
// disk or only in the editor's overlay, is reported, whatever the names
// of its directories (what the cue tool skips too: names starting with
// "_" or ".", testdata and other modules) or of the file (x.CUE), also
// through a symbolic link to a directory (each directory once, so a
// link to an ancestor ends); files that are not CUE are not.
func TestNestedFiles(t *testing.T) {
	dir := filepath.Join(t.TempDir(), ClustersDir)
	files := map[string]string{
		"a/x.cue":                  "package clusters\n\nclusters: \"x\": {env: \"dev\"}\n",
		"a/b/c/deep.cue":           "package clusters\n",
		"a/notes.md":               "not CUE",
		"a/_draft.cue":             "package clusters\n",
		"a/.hidden.cue":            "package clusters\n",
		"_archive/old.cue":         "package clusters\n",
		".git/x.cue":               "package clusters\n",
		"a/testdata/case.cue":      "package clusters\n",
		"mod/cue.mod/module.cue":   "module: \"example.com/m\"\n",
		"mod/m.cue":                "package m\n",
		"top.cue":                  "package clusters\n",
		"a/broken.cue":             "package clusters\n\nclusters: {",
		"a/b/unparsed-cluster.cue": "package clusters\n\nclusters: \"u\": {env: \"dev\"}\nfoo: ",
		"a/UPPER.CUE":              "package clusters\n",
		"top.CUE":                  "package clusters\n",
	}
	for name, src := range files {
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	elsewhere := filepath.Join(filepath.Dir(dir), "elsewhere")
	if err := os.MkdirAll(elsewhere, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(elsewhere, "linked.cue"), []byte("package clusters\n\nclusters: \"l\": {}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for link, target := range map[string]string{"linked": elsewhere, "a/up": dir} {
		if err := os.Symlink(target, filepath.Join(dir, link)); err != nil {
			t.Fatal(err)
		}
	}
	overlay := map[string][]byte{
		filepath.Join(dir, "new", "unsaved.cue"):  []byte("package clusters\n\nclusters: \"n\": {}\n"),
		filepath.Join(dir, "_new", "skipped.cue"): []byte("package clusters\n"),
		filepath.Join(dir, "top-unsaved.cue"):     []byte("package clusters\n"),
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	ds, err := nestedFiles(dir, entries, overlay)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	clusters := map[string]string{}
	for _, d := range ds {
		rel, _ := filepath.Rel(dir, d.Pos.Filename)
		got = append(got, filepath.ToSlash(rel))
		clusters[filepath.ToSlash(rel)] = d.Cluster
	}
	want := []string{".git/x.cue", "_archive/old.cue", "_new/skipped.cue", "a/.hidden.cue", "a/UPPER.CUE", "a/_draft.cue", "a/b/c/deep.cue", "a/b/unparsed-cluster.cue", "a/broken.cue", "a/testdata/case.cue", "a/x.cue", "linked/linked.cue", "mod/cue.mod/module.cue", "mod/m.cue", "new/unsaved.cue"}
	if !slices.Equal(got, want) {
		t.Errorf("reported %q, want %q", got, want)
	}
	// The cluster a file declares is named, when it parses.
	for file, cluster := range map[string]string{"a/x.cue": "x", "new/unsaved.cue": "n", "a/b/c/deep.cue": "", "linked/linked.cue": "l"} {
		if clusters[file] != cluster {
			t.Errorf("%s: cluster %q, want %q", file, clusters[file], cluster)
		}
	}
}
