//go:build linux

package output

import "testing"

// TestDurableMadeDirectories: with few files, Write syncs directories one
// by one instead of the whole file system, so it must name every
// directory whose entries changed, including those MkdirAll makes where a
// pruned file stood in the way.
func TestDurableMadeDirectories(t *testing.T) {
	root := t.TempDir()
	mustWrite(t, root, Plan{Files: files("x/a", "old\n")})
	synced := map[string]bool{}
	testHookSynced = func(_, dirs []string) {
		for _, d := range dirs {
			synced[d] = true
		}
	}
	defer func() { testHookSynced = nil }()
	mustWrite(t, root, Plan{Files: files("x/a/b/c/new.yaml", "new\n")})
	for _, d := range []string{".", "x", "x/a", "x/a/b", "x/a/b/c"} {
		if !synced[d] {
			t.Errorf("%s not synced after its entries changed (synced: %v)", d, synced)
		}
	}
	checkTree(t, root, want(files("x/a/b/c/new.yaml", "new\n"), nil))
}
