package fleetc

import (
	"bytes"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"

	modzip "golang.org/x/mod/zip"
)

// embedded are the files and directories the go:embed line names.
var embedded = []string{"cue.mod/module.cue", "defs", "clusters/platform.cue", "clusters/" + ExampleCluster + ".cue", "argocd/handwritten"}

// files lists the regular files below each of roots, as fsys has them.
func files(t *testing.T, fsys fs.FS, roots []string) []string {
	t.Helper()
	var out []string
	for _, root := range roots {
		err := fs.WalkDir(fsys, root, func(p string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				out = append(out, p)
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	slices.Sort(out)
	return out
}

// TestPlatformIsTheRepository: the embedded platform is the files at the
// top of the repository, all of them (go:embed leaves out names that start
// with . or _), byte for byte, and ExampleCluster names the cluster file
// that the go:embed line names.
func TestPlatformIsTheRepository(t *testing.T) {
	disk := os.DirFS(".")
	want := files(t, disk, embedded)
	got := files(t, Platform(), []string{"."})
	if !slices.Equal(got, want) {
		t.Fatalf("embedded files:\n%q\nwant the repository's:\n%q", got, want)
	}
	for _, p := range got {
		a, _ := fs.ReadFile(Platform(), p)
		b, _ := fs.ReadFile(disk, p)
		if !bytes.Equal(a, b) {
			t.Errorf("%s: embedded bytes differ from the repository's", p)
		}
	}
}

// TestPlatformInModuleZip: `go install github.com/fleetc/fleetc/cmd/fleetc@v`
// builds from the module zip of fleetc at v, which holds the files git
// tracks minus those the zip rules omit (vendor directories, nested
// modules, invalid names). Every embedded file must be in it, or the build
// from the module proxy fails on the go:embed line: so none may be omitted
// by those rules or ignored by git.
func TestPlatformInModuleZip(t *testing.T) {
	abs, err := filepath.Abs(".")
	if err != nil {
		t.Fatal(err)
	}
	checked, err := modzip.CheckDir(abs)
	if err != nil {
		// Files elsewhere in the tree (a built binary, say) may break
		// the zip rules; only the embedded ones matter here.
		t.Logf("module zip of the working tree: %v", err)
	}
	valid := map[string]bool{}
	for _, p := range checked.Valid {
		rel, _ := filepath.Rel(abs, p)
		valid[filepath.ToSlash(rel)] = true
	}
	paths := files(t, Platform(), []string{"."})
	for _, p := range paths {
		if !valid[p] {
			t.Errorf("%s is embedded but a module zip would not hold it", p)
		}
	}
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("no git to ask about ignored files")
	}
	if err := exec.Command("git", "rev-parse", "--git-dir").Run(); err != nil {
		t.Skip("not a git checkout")
	}
	// check-ignore exits 0 when it names an ignored file, 1 when none is.
	out, err := exec.Command("git", append([]string{"check-ignore", "--no-index", "--"}, paths...)...).Output()
	if len(out) > 0 {
		t.Errorf("embedded files that git ignores, and a release would lack:\n%s", out)
	}
	if ee, ok := err.(*exec.ExitError); err != nil && (!ok || ee.ExitCode() != 1) {
		t.Fatalf("git check-ignore: %v", err)
	}
}
