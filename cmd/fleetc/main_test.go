package main

import (
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"

	cuecmd "cuelang.org/go/cmd/cue/cmd"
	"github.com/rogpeppe/go-internal/testscript"

	"github.com/fleetc/fleetc/internal/cli"
	"github.com/fleetc/fleetc/internal/testplatform"
)

var update = flag.Bool("update", false, "rewrite the expected output in testdata/script from what the commands print")

// TestMain lets the test binary act as fleetc and as the cue CLI of the
// version fleetc is built with, so scripts run both as a user would.
func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"fleetc": func() { os.Exit(cli.Main()) },
		"cue":    func() { os.Exit(cuecmd.Main()) },
	})
}

// TestScripts runs the CLI's spec: testdata/script/*.txtar.
func TestScripts(t *testing.T) {
	repo := repoDir()
	p := scriptParams(repo, filepath.Join(repo, "testdata", "script"))
	p.UpdateScripts = *update
	testscript.Run(t, p)
}

// repoDir is the root of this repository.
func repoDir() string {
	_, self, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(self), "..", "..")
}

// scriptParams runs the scripts in dir as the CLI's spec runs them: with
// fleetc and cue as commands, a build cache of their own, git with a fixed
// identity, and the commands below.
func scriptParams(repo, dir string) testscript.Params {
	return testscript.Params{
		Dir: dir,
		Setup: func(e *testscript.Env) error {
			e.Setenv("REPO", repo)
			// Scripts that use git get a fixed identity and no user config.
			e.Setenv("GIT_CONFIG_GLOBAL", "/dev/null")
			e.Setenv("GIT_CONFIG_NOSYSTEM", "1")
			e.Setenv("GIT_AUTHOR_NAME", "fleetc test")
			e.Setenv("GIT_AUTHOR_EMAIL", "test@fleetc.invalid")
			e.Setenv("GIT_COMMITTER_NAME", "fleetc test")
			e.Setenv("GIT_COMMITTER_EMAIL", "test@fleetc.invalid")
			e.Setenv("CUE_REGISTRY", "none")
			e.Setenv("NO_COLOR", "1")
			// Each script has a build cache of its own, outside $WORK:
			// a script that compiles twice exercises it, and nothing is
			// shared between scripts or runs (as root, HOME=/no-home
			// would otherwise be created and kept).
			cache, err := os.MkdirTemp("", "fleetc-cache")
			if err != nil {
				return err
			}
			e.Defer(func() { os.RemoveAll(cache) })
			e.Setenv("FLEETC_CACHE", cache)
			// cue's own cache likewise.
			e.Setenv("CUE_CACHE_DIR", filepath.Join(cache, "cue"))
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"platform": copyPlatform(repo),
			"tree":     treeCmd,
			// import values: an old templater's output, and a diff as data.
			"valuestree": valuesTreeCmd(repo),
			"valuesdiff": valuesDiffCmd,
		},
		Condition: func(cond string) (bool, error) {
			if cond == "git" {
				_, err := exec.LookPath("git")
				return err == nil, nil
			}
			return false, nil
		},
	}
}

// copyPlatform implements `platform DIR`: a copy of the repository's
// reference platform (cue.mod, defs, clusters, argocd) in DIR, so scripts
// start from the real thing and change it.
func copyPlatform(repo string) func(ts *testscript.TestScript, neg bool, args []string) {
	return func(ts *testscript.TestScript, neg bool, args []string) {
		if neg || len(args) != 1 {
			ts.Fatalf("usage: platform DIR")
		}
		ts.Check(testplatform.Copy(ts.MkAbs(args[0])))
	}
}
