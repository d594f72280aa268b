package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
)

// TestVersionOfCloneBuild: fleetc built in a git clone the way `make
// install` builds it names the module's pseudo-version, the commit it was
// built from with the commit's time, and that the work tree was dirty;
// `fleetc --version` says the same. The test binary itself carries none
// of this, so a real build is the only proof. It builds fleetc, so -short
// skips it.
func TestVersionOfCloneBuild(t *testing.T) {
	if testing.Short() {
		t.Skip("builds fleetc")
	}
	for _, tool := range []string{"git", "go"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("no %s", tool)
		}
	}
	_, self, _, _ := runtime.Caller(0)
	repo := filepath.Join(filepath.Dir(self), "..", "..")
	dir := t.TempDir()
	src := filepath.Join(dir, "src")
	run := func(dir string, name string, args ...string) string {
		t.Helper()
		cmd := exec.Command(name, args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	// A source tree that is no git work tree (an archive) has no commit
	// to stamp.
	if err := exec.Command("git", "-C", repo, "rev-parse", "--verify", "-q", "HEAD").Run(); err != nil {
		t.Skipf("%s is not a git work tree", repo)
	}
	// A clone holds the committed tree only, whatever the work tree of
	// the repository under test holds.
	run(repo, "git", "clone", "-q", "--no-hardlinks", repo, src)
	rev := strings.TrimSpace(run(src, "git", "rev-parse", "HEAD"))
	if err := os.WriteFile(filepath.Join(src, "README.md"), []byte("changed\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "fleetc")
	// As the Makefile's install does (INSTALLFLAGS), whatever GOFLAGS
	// says; -trimpath only so that the build cache serves the next run.
	run(src, "go", "build", "-buildvcs=auto", "-trimpath", "-o", bin, "./cmd/fleetc")

	want := regexp.MustCompile(`^fleetc v0\.0\.0-\d{14}-` + rev[:12] + `\+dirty\n` +
		`revision ` + rev + ` \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ dirty\n` +
		`cue v\d+\.\d+\.\d+\S*\n$`)
	version := run(dir, bin, "version")
	if !want.MatchString(version) {
		t.Errorf("fleetc version:\n%s\nwant to match %s", version, want)
	}
	if flag := run(dir, bin, "--version"); flag != version {
		t.Errorf("fleetc --version:\n%s\nfleetc version:\n%s", flag, version)
	}
}
