package load

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"cuelang.org/go/cue"
	"cuelang.org/go/cue/cuecontext"
)

// TestSharedFilesPinned: a shared file saved while fleetc runs (after Load)
// changes neither what a worker loads later nor the digest the cache keys
// on, so the two always describe the same bytes.
func TestSharedFilesPinned(t *testing.T) {
	root, p := loadCopy(t)
	before, err := p.SharedDigest()
	if err != nil {
		t.Fatal(err)
	}
	// A file of an imported package and a shared file of the clusters
	// package, both saved after Load.
	for _, f := range []struct{ rel, old, new string }{
		{"defs/platform.cue", `output: "deploy"`, `output: "elsewhere"`},
		{"clusters/platform.cue", "package clusters", "package clusters\n\n// saved later"},
	} {
		name := filepath.Join(root, f.rel)
		src, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Contains(src, []byte(f.old)) {
			t.Fatalf("%s has no %q", f.rel, f.old)
		}
		if err := os.WriteFile(name, bytes.Replace(src, []byte(f.old), []byte(f.new), 1), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	after, err := p.SharedDigest()
	if err != nil {
		t.Fatal(err)
	}
	if after != before {
		t.Errorf("SharedDigest changed when files were saved after Load")
	}
	inst, err := p.LoadShared()
	if err != nil {
		t.Fatal(err)
	}
	v := cuecontext.New().BuildInstance(inst)
	out, err := v.LookupPath(cue.ParsePath("platform.output")).String()
	if err != nil || out != "deploy" {
		t.Errorf("a worker's load after the save has platform.output %q (%v), want the loaded %q", out, err, "deploy")
	}
	// A new Load sees the new files.
	q, err := Load(Config{Dir: root})
	if err != nil {
		t.Fatal(err)
	}
	if d, err := q.SharedDigest(); err != nil || d == before {
		t.Errorf("a new Load after the save has the old digest (%v)", err)
	}
}
