package fleetgen

import (
	"bytes"
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

func repo() string {
	_, self, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(self), "..", "..")
}

// TestDeterministic: one seed, one fleet, byte for byte; another seed, a
// different fleet.
func TestDeterministic(t *testing.T) {
	a, b := t.TempDir(), t.TempDir()
	for _, dir := range []string{a, b} {
		seed := uint64(1)
		if err := Generate(repo(), dir, 50, seed); err != nil {
			t.Fatal(err)
		}
	}
	name := filepath.Join("clusters", "c00016-staging.cue")
	fa, _ := os.ReadFile(filepath.Join(a, name))
	fb, _ := os.ReadFile(filepath.Join(b, name))
	if len(fa) == 0 || !bytes.Equal(fa, fb) {
		t.Errorf("same seed, different file:\n%s\n%s", fa, fb)
	}
	entries, _ := os.ReadDir(filepath.Join(a, "clusters"))
	if len(entries) != 51 {
		t.Errorf("got %d files in clusters/, want 50 clusters and the shared file", len(entries))
	}
	same := true
	for i := range 50 {
		_, sa := Cluster(NewRand(1), i)
		_, sc := Cluster(NewRand(2), i)
		same = same && sa == sc
	}
	if same {
		t.Error("different seeds gave the same clusters")
	}
}
