package load

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fleetc/fleetc/internal/diag"
	"github.com/fleetc/fleetc/internal/testplatform"
)

// TestReuse: a load that reuses the last one parses again only the
// cluster files whose bytes changed, and derives their problems again.
func TestReuse(t *testing.T) {
	root, p := loadCopy(t)
	edited := filepath.Join(root, ClustersDir, "sandbox-dev.cue")
	src, _ := os.ReadFile(edited)
	renamed := strings.Replace(string(src), `"sandbox-dev"`, `"sandbox-qa"`, 1)
	q, err := Load(Config{Dir: root, Reuse: p, Overlay: map[string][]byte{edited: []byte(renamed)}})
	if err != nil {
		t.Fatal(err)
	}
	for i, cf := range q.Clusters {
		old := p.Clusters[i]
		if cf.Path == edited {
			if cf.Syntax == old.Syntax || cf.Name != "sandbox-qa" || len(cf.Problems) != 1 {
				t.Errorf("the edited file: reused %v, name %s, problems %v", cf.Syntax == old.Syntax, cf.Name, cf.Problems)
			}
			continue
		}
		if cf == old || cf.Syntax != old.Syntax {
			t.Errorf("%s: parsed again (or the same ClusterFile shared)", cf.Name)
		}
	}
	// Reusing that one: the problem is derived again, not doubled.
	r, err := Load(Config{Dir: root, Reuse: q, Overlay: map[string][]byte{edited: []byte(renamed)}})
	if err != nil {
		t.Fatal(err)
	}
	for _, cf := range r.Clusters {
		if cf.Path == edited && len(cf.Problems) != 1 {
			t.Errorf("problems after reuse: %v", cf.Problems)
		}
	}
}

// TestWith: an edited cluster file read alone into a copy of the
// platform; what needs a whole load says so.
func TestWith(t *testing.T) {
	root, p := loadCopy(t)
	dir := filepath.Join(root, ClustersDir)
	edited := filepath.Join(dir, "sandbox-dev.cue")
	src, _ := os.ReadFile(edited)
	for _, tc := range []struct {
		name, text string
		ok         bool
		names      string
		err        string
	}{
		{"edited", strings.Replace(string(src), `"dev"`, `"prod"`, 1), true, "sandbox-dev", ""},
		{"syntax", strings.TrimRight(string(src), "}\n"), true, "", "expected '}'"},
		{"shared now", "package clusters\n\nimport \"strings\"\n\nx: strings.ToUpper(\"a\")\n", false, "", ""},
		{"another's name", strings.Replace(string(src), `"sandbox-dev"`, `"edge-minimal"`, 1), false, "", ""},
	} {
		q, names, ok, err := p.With(map[string][]byte{edited: []byte(tc.text)}, []string{edited})
		var dl diag.List
		if ok != tc.ok || strings.Join(names, ",") != tc.names || tc.err == "" && err != nil || tc.err != "" && (!errors.As(err, &dl) || !strings.Contains(err.Error(), tc.err)) {
			t.Errorf("%s: With = %v %v %v", tc.name, names, ok, err)
		}
		if tc.names != "" && (len(q.Clusters) != len(p.Clusters) || q.Clusters[3] == p.Clusters[3] || q.Clusters[0] != p.Clusters[0]) {
			t.Errorf("%s: the copy does not hold the edited file in place of the old one", tc.name)
		}
	}
	if name, ds := ClusterOf(root, edited, nil); name != "sandbox-dev" || ds != nil {
		t.Errorf("ClusterOf = %q %v", name, ds)
	}
	if name, _ := ClusterOf(root, filepath.Join(dir, "platform.cue"), nil); name != "" {
		t.Errorf("ClusterOf(platform.cue) = %q", name)
	}
}

// TestSharedChanged: a shared file that changes, in an editor's buffer
// or on disk, is noticed; a cluster file is not a shared one.
func TestSharedChanged(t *testing.T) {
	root, p := loadCopy(t)
	defs := filepath.Join(root, "defs", "cluster.cue")
	src, _ := os.ReadFile(defs)
	if p.SharedChanged(map[string][]byte{filepath.Join(root, ClustersDir, "sandbox-dev.cue"): []byte("x")}) {
		t.Error("a cluster file's buffer counts as a shared change")
	}
	if !p.SharedChanged(map[string][]byte{defs: append(src, '\n')}) {
		t.Error("a buffer of defs/cluster.cue that differs is not a change")
	}
	if !p.SharedChanged(map[string][]byte{filepath.Join(root, "defs", "new.cue"): []byte("package defs\n")}) {
		t.Error("a new file of the defs package is not a change")
	}
	if err := os.WriteFile(defs, append(src, '\n'), 0o644); err != nil {
		t.Fatal(err)
	}
	if !p.SharedChanged(nil) {
		t.Error("defs/cluster.cue saved is not a change")
	}
}

// loadCopy loads a copy of the reference platform in a temporary
// directory, for a test that changes its files: the module root and the
// platform.
func loadCopy(t *testing.T) (string, *Platform) {
	t.Helper()
	root := t.TempDir()
	if err := testplatform.Copy(root); err != nil {
		t.Fatal(err)
	}
	p, err := Load(Config{Dir: root})
	if err != nil {
		t.Fatal(err)
	}
	return root, p
}
