package cli

import (
	"bytes"
	"flag"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/fleetc/fleetc/internal/testplatform"
)

var update = flag.Bool("update", false, "recompile the committed output of the reference platform")

// TestReferenceOutput is the golden test of the reference platform: its
// committed output tree (deploy/) is exactly what compile produces now.
// `go test ./internal/cli -update` recompiles it.
func TestReferenceOutput(t *testing.T) {
	_, self, _, _ := runtime.Caller(0)
	repo := filepath.Join(filepath.Dir(self), "..", "..")
	committed := filepath.Join(repo, "deploy")
	out := t.TempDir()
	args := []string{"compile", "--out", out}
	if *update {
		args = []string{"compile"}
	}
	var stderr bytes.Buffer
	if code := Run(args, IO{Stdout: &stderr, Stderr: &stderr, Getenv: func(string) string { return "" }, Cwd: repo}); code != 0 {
		t.Fatalf("compile: exit %d\n%s", code, stderr.String())
	}
	if *update {
		return
	}
	want, got := readTree(t, committed), readTree(t, out)
	for path, data := range got {
		if w, ok := want[path]; !ok {
			t.Errorf("%s: produced but not committed", path)
		} else if !bytes.Equal(w, data) {
			t.Errorf("%s: committed content is stale", path)
		}
	}
	for path := range want {
		if _, ok := got[path]; !ok {
			t.Errorf("%s: committed but no longer produced", path)
		}
	}
	if t.Failed() {
		t.Log("run `go test ./internal/cli -run TestReferenceOutput -update` (or `make compile`) and commit deploy/")
	}
}

func readTree(t *testing.T, root string) map[string][]byte {
	t.Helper()
	files, err := testplatform.ReadTree(root)
	if err != nil {
		t.Fatal(err)
	}
	return files
}
