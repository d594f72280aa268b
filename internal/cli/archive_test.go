package cli

import (
	"bytes"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/fleetc/fleetc/internal/testplatform"
)

// TestArchiveSources: diff --base reads from the ref what compiling needs
// (the CUE files, cue.mod, the hand-written ApplicationSets, any other
// file) and never the committed output, which is most of a fleet's files.
// A platform whose settings do not load at the ref comes whole.
func TestArchiveSources(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("needs git")
	}
	top := t.TempDir()
	plat := filepath.Join(top, "platform")
	if err := testplatform.Copy(plat); err != nil {
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

	got := t.TempDir()
	if err := archiveSources(top, "HEAD", "platform", got); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"platform/cue.mod/module.cue", "platform/defs/platform.cue", "platform/clusters/platform.cue", "platform/argocd/handwritten", "platform/notes/embedded.json", "README.md"} {
		if _, err := os.Stat(filepath.Join(got, want)); err != nil {
			t.Errorf("%s not extracted: %v", want, err)
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
	if err := archiveSources(top, "HEAD", "platform", whole); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(whole, "platform", "deploy", ".fleetc-ledger"))
	if err != nil || !bytes.Equal(data, []byte("ledger\n")) {
		t.Errorf("a ref whose settings do not load did not come whole: %q, %v", data, err)
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
