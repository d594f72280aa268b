package build

import (
	"bytes"
	"io/fs"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"

	"github.com/fleetc/fleetc/internal/load"
	"github.com/fleetc/fleetc/internal/testplatform"
)

// TestArchiveSources: diff --base reads from the ref what compiling needs
// (the CUE files, cue.mod, the hand-written ApplicationSets, any other
// file) and never the committed output, which is most of a fleet's files.
// A platform whose settings do not load at the ref comes whole.
func TestArchiveSources(t *testing.T) {
	top, run := committedPlatform(t)
	plat := filepath.Join(top, "platform")

	got := t.TempDir()
	l, err := archiveSources(Config{}, top, "HEAD", "platform", got)
	if err != nil {
		t.Fatal(err)
	}
	if l == nil {
		t.Error("the platform loaded from the CUE files is not handed on to the compile")
	}
	for _, want := range []string{"platform/cue.mod/module.cue", "platform/defs/platform.cue", "platform/clusters", "platform/argocd/handwritten", "platform/notes/embedded.json", "README.md"} {
		if _, err := os.Stat(filepath.Join(got, want)); err != nil {
			t.Errorf("%s not extracted: %v", want, err)
		}
	}
	// The files of the clusters package are loaded from memory, never
	// written: every one of them, and nothing else.
	entries, err := os.ReadDir(filepath.Join(plat, load.ClustersDir))
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, e := range entries {
		want = append(want, filepath.Join(got, "platform", load.ClustersDir, e.Name()))
		if _, err := os.Lstat(want[len(want)-1]); !os.IsNotExist(err) {
			t.Errorf("%s was written to the disk: %v", e.Name(), err)
		}
	}
	if l != nil {
		if keys := slices.Sorted(maps.Keys(l.cfg.Overlay)); !slices.Equal(keys, want) {
			t.Errorf("loaded from memory %v, want %v", keys, want)
		}
		if n := len(l.Sources.Clusters); n == 0 || n != len(want)-1 {
			t.Errorf("%d clusters loaded from %d files of the clusters package", n, len(want))
		}
	}
	if _, err := os.Stat(filepath.Join(got, "platform", "deploy")); !os.IsNotExist(err) {
		t.Errorf("the committed output was extracted: %v", err)
	}

	// Broken settings at the ref: everything comes, output included.
	writeFile(t, filepath.Join(plat, "defs", "zz_broken.cue"), "package defs\n\nplatform: output: 1\n")
	run("add", "-A")
	run("commit", "-q", "-m", "broken")
	whole := t.TempDir()
	if l, err := archiveSources(Config{}, top, "HEAD", "platform", whole); err != nil || l != nil {
		t.Fatalf("a ref whose settings do not load: %v, loaded %v", err, l != nil)
	}
	data, err := os.ReadFile(filepath.Join(whole, "platform", "deploy", ".fleetc-ledger"))
	if err != nil || !bytes.Equal(data, []byte("ledger\n")) {
		t.Errorf("a ref whose settings do not load did not come whole: %q, %v", data, err)
	}
	for _, w := range want {
		rel, _ := filepath.Rel(got, w)
		if _, err := os.Stat(filepath.Join(whole, rel)); err != nil {
			t.Errorf("a ref whose settings do not load: %s not on the disk for the compile: %v", rel, err)
		}
	}
}

// committedPlatform commits the test platform under platform/ of a new
// repository, with committed output and other files beside it, and
// returns the repository's top and a runner of git in it.
func committedPlatform(t *testing.T) (string, func(args ...string)) {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("needs git")
	}
	top := t.TempDir()
	if err := testplatform.Copy(filepath.Join(top, "platform")); err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string]string{
		"platform/deploy/cluster/a/core/x/values.yaml": "x: 1\n",
		"platform/deploy/.fleetc-ledger":               "ledger\n",
		"platform/notes/embedded.json":                 "{}\n",
		"README.md":                                    "top\n",
	} {
		writeFile(t, filepath.Join(top, name), data)
	}
	run := func(args ...string) {
		t.Helper()
		cmd := exec.Command("git", append([]string{"-C", top, "-c", "user.name=t", "-c", "user.email=t@t", "-c", "commit.gpgsign=false"}, args...)...)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	run("init", "-q")
	run("add", "-A")
	run("commit", "-q", "-m", "base")
	return top, run
}

// TestAtRefRelativeTmpdir: the platform at a ref compiles, its clusters
// loaded from memory, when TMPDIR is a relative path.
func TestAtRefRelativeTmpdir(t *testing.T) {
	top, _ := committedPlatform(t)
	scratch := t.TempDir()
	if err := os.Mkdir(filepath.Join(scratch, "tmp"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Chdir(scratch)
	t.Setenv("TMPDIR", "tmp")
	dir := filepath.Join(top, "platform")
	ref, err := ResolveRef(dir, "HEAD", dir)
	if err != nil {
		t.Fatal(err)
	}
	b, pl, err := AtRef(Config{}, ref)
	if err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(filepath.Join(dir, load.ClustersDir))
	if err != nil {
		t.Fatal(err)
	}
	if n := len(b.Sources.Clusters); n != len(entries)-1 || pl.Clusters != n {
		t.Errorf("%d clusters loaded and %d planned, from %d files of the clusters package", n, pl.Clusters, len(entries))
	}
	if len(b.cfg.Overlay) != len(entries) {
		t.Errorf("%d files of the clusters package loaded from memory, want all %d", len(b.cfg.Overlay), len(entries))
	}
	if left, _ := os.ReadDir(filepath.Join(scratch, "tmp")); len(left) != 0 {
		t.Errorf("left in TMPDIR: %v", left)
	}
}

func writeFile(t *testing.T, path, data string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(data), fs.FileMode(0o644)); err != nil {
		t.Fatal(err)
	}
}

// TestSameAt: diff --base knows without compiling that nothing
// changed only when every input is as at the ref; the output may differ.
func TestSameAt(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("needs git")
	}
	top := t.TempDir()
	if err := testplatform.Copy(top); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(top, "deploy", "cluster", "x", "values.yaml"), "x: 1\n")
	cmd := exec.Command("sh", "-c", "git init -q && git add -A && git -c user.name=t -c user.email=t@t -c commit.gpgsign=false commit -q -m base")
	cmd.Dir = top
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	env := map[string]string{"FLEETC_CACHE": t.TempDir()}
	cfg := Config{Dir: top, Cwd: top, Getenv: func(k string) string { return env[k] }}
	check := func(what string, want bool) {
		t.Helper()
		ref, err := ResolveRef(top, "HEAD", top)
		if err != nil {
			t.Fatal(err)
		}
		b, err := Load(cfg)
		if err != nil {
			t.Fatal(err)
		}
		if got := b.SameAt(ref); got != want {
			t.Errorf("%s: unchanged %v, want %v", what, got, want)
		}
	}
	// Nothing says these inputs compile until a compile of the fleet did.
	check("never compiled", false)
	b, err := Load(cfg)
	if err == nil {
		var pl *Plan
		if pl, err = b.Plan(); err == nil {
			_, err = b.Write(pl)
		}
	}
	if err != nil {
		t.Fatalf("compile: %v", err)
	}
	check("as committed", true)
	writeFile(t, filepath.Join(top, "deploy", "cluster", "x", "values.yaml"), "x: 2\n")
	check("the output changed", true)

	// Each change keeps the platform valid, so that only the comparison
	// can tell.
	for _, c := range []struct{ what, path, data string }{
		{"a cluster file changed", "clusters/edge-minimal.cue", "// changed\n"},
		{"a new cluster file, not added to git", "clusters/new-dev.cue", "package clusters\n\nclusters: \"new-dev\": {\n\tenv:    \"dev\"\n\tserver: \"https://new-dev.k8s.corp.local:6443\"\n}\n"},
		{"a default changed", "defs/platform.cue", "// changed\n"},
		{"the module file changed", "cue.mod/module.cue", "// changed\n"},
		{"a hand-written ApplicationSet changed", "argocd/handwritten/tanzu-storage-classes.yaml", "# changed\n"},
	} {
		path := filepath.Join(top, c.path)
		old, err := os.ReadFile(path)
		existed := err == nil
		writeFile(t, path, string(old)+c.data)
		if _, err := load.Load(load.Config{Dir: top}); err != nil {
			t.Fatalf("%s: the platform no longer loads: %v", c.what, err)
		}
		check(c.what, false)
		if existed {
			writeFile(t, path, string(old))
		} else if err := os.Remove(path); err != nil {
			t.Fatal(err)
		}
		check(c.what+", then undone", true)
	}
}
