package build

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fleetc/fleetc/internal/cache"
	"github.com/fleetc/fleetc/internal/testplatform"
)

// TestCacheInvalidation changes the platform one input at a time and
// checks, after each change, that a compile with the cache writes exactly
// the tree a compile without it writes, and that it evaluated exactly the
// clusters whose inputs changed.
func TestCacheInvalidation(t *testing.T) {
	root := t.TempDir()
	plat := filepath.Join(root, "platform")
	if err := testplatform.Copy(plat); err != nil {
		t.Fatal(err)
	}
	cacheDir := filepath.Join(root, "cache")
	withCache := filepath.Join(root, "cached")
	env := map[string]string{"FLEETC_CACHE": cacheDir}

	// compile runs the pipeline as compile does and returns its stats.
	compile := func(out string, env map[string]string, clusters ...string) (*Stats, error) {
		t.Helper()
		b, err := Load(Config{Dir: plat, Cwd: plat, Out: out, Clusters: clusters, Getenv: func(k string) string { return env[k] }})
		if err != nil {
			return &Stats{}, err
		}
		if _, ok, err := b.Unchanged(); ok || err != nil {
			return &b.Stats, err
		}
		pl, err := b.Plan()
		if err == nil {
			_, err = b.Write(pl)
		}
		return &b.Stats, err
	}
	mustCompile := func(out string, env map[string]string, clusters ...string) *Stats {
		t.Helper()
		s, err := compile(out, env, clusters...)
		if err != nil {
			t.Fatalf("compile: %v", err)
		}
		return s
	}
	// check compiles and compares the clusters from the cache with
	// wantHits ("4 of 4"), or, for "unchanged", checks that the compile
	// took the shortcut of unchanged inputs; either way the tree must be
	// what a compile without the cache writes.
	check := func(step string, wantHits string) {
		t.Helper()
		stats := mustCompile(withCache, env)
		if stats.Shortcut != (wantHits == "unchanged") {
			t.Errorf("%s: shortcut of unchanged inputs taken: %v, want %v", step, stats.Shortcut, !stats.Shortcut)
		} else if got := fmt.Sprintf("%d of %d", stats.Cached, stats.Clusters); !stats.Shortcut && got != wantHits {
			t.Errorf("%s: %s clusters from the cache, want %s", step, got, wantHits)
		}
		fresh := filepath.Join(root, "fresh-"+strings.ReplaceAll(step, " ", "-"))
		mustCompile(fresh, map[string]string{"FLEETC_CACHE": "off"})
		want, err := testplatform.ReadTree(fresh)
		if err != nil {
			t.Fatal(err)
		}
		got, err := testplatform.ReadTree(withCache)
		if err != nil {
			t.Fatal(err)
		}
		for p, w := range want {
			if !bytes.Equal(got[p], w) {
				t.Errorf("%s: %s differs from a compile without the cache", step, p)
			}
		}
		for p := range got {
			if _, ok := want[p]; !ok {
				t.Errorf("%s: %s is not written by a compile without the cache", step, p)
			}
		}
	}
	edit := func(rel, old, new string) {
		t.Helper()
		p := filepath.Join(plat, rel)
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Contains(b, []byte(old)) {
			t.Fatalf("%s has no %q", rel, old)
		}
		if err := os.WriteFile(p, bytes.Replace(b, []byte(old), []byte(new), 1), 0o644); err != nil {
			t.Fatal(err)
		}
	}

	check("cold", "0 of 4")
	check("nothing changed", "unchanged")
	check("nothing changed again", "unchanged")
	edit("clusters/sandbox-dev.cue", `"monitoring-basic": true`, `"monitoring-basic": false`)
	check("one cluster changed", "3 of 4")
	// Only a platform default: no cluster file changed, yet every
	// cluster's values may have.
	edit("defs/platform.cue", `registry: "pullproxy.corp.local"`, `registry: "pullproxy.corp.example"`)
	check("platform default changed", "0 of 4")
	check("after the default", "unchanged")
	// A comment in a cluster file is a change of its bytes: evaluated
	// again, same output.
	edit("clusters/edge-minimal.cue", "package clusters", "package clusters\n\n// touched")
	check("comment", "3 of 4")
	// A damaged entry is a miss, not an error: a damaged output entry
	// (the stamps and the key of the last compile's inputs) costs the
	// shortcut, damaged cluster entries their evaluation.
	damage := func(kind string) {
		t.Helper()
		damaged := 0
		filepath.WalkDir(filepath.Join(cacheDir, kind), func(p string, d os.DirEntry, err error) error {
			if err == nil && d.Type().IsRegular() {
				b, _ := os.ReadFile(p)
				b[len(b)-1] ^= 0xff
				os.WriteFile(p, b, 0o600)
				damaged++
			}
			return nil
		})
		if damaged == 0 {
			t.Fatalf("no %s entries to damage", kind)
		}
	}
	damage("output")
	check("damaged output entry", "4 of 4")
	damage("output")
	damage("cluster")
	check("damaged entries", "0 of 4")
	// A values file edited by hand is put back, whatever the stamps say.
	vf := filepath.Join(withCache, "cluster", "payments-prod", "monitoring", "victoria-metrics-operator", "values.yaml")
	if err := os.WriteFile(vf, []byte("edited: by hand\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	check("output edited", "4 of 4")
	// So is the ledger, and a file of the tree removed.
	ledger := filepath.Join(withCache, ".fleetc-ledger")
	lb, err := os.ReadFile(ledger)
	if err != nil {
		t.Fatal(err)
	}
	// One entry's checksum, as if its file had been written by another
	// compile.
	lines := strings.Split(string(lb), "\n")
	for i, l := range lines {
		if !strings.HasPrefix(l, "#") && len(l) > 64 {
			lines[i] = strings.Repeat("0", 64) + l[64:]
			break
		}
	}
	if err := os.WriteFile(ledger, []byte(strings.Join(lines, "\n")), 0o644); err != nil {
		t.Fatal(err)
	}
	check("ledger edited", "4 of 4")
	if err := os.Remove(vf); err != nil {
		t.Fatal(err)
	}
	check("output file removed", "4 of 4")
	// A file edited by hand, with the cluster entries gone from the
	// cache: every cluster is evaluated again.
	if err := os.WriteFile(vf, []byte("edited: again\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(filepath.Join(cacheDir, "cluster")); err != nil {
		t.Fatal(err)
	}
	check("output edited, entries gone", "0 of 4")
	check("after the repairs", "unchanged")
	// A compile of some clusters leaves the other clusters' files alone:
	// the next compile of the whole fleet cannot take the shortcut.
	mustCompile(withCache, env, "sandbox-dev")
	check("after a compile of one cluster", "4 of 4")
	// Another output directory has its own entry.
	mustCompile(filepath.Join(root, "elsewhere"), env)
	check("after a compile elsewhere", "unchanged")
	// The shortcut skips reading the cluster entries, which keeps their
	// use marks from being refreshed; so at least daily the full
	// pipeline runs, and a trim never finds them unused for days.
	c, _ := cache.Open(func(k string) string { return env[k] })
	outKey := cache.PathKey(withCache)
	data, ok := c.Get("output", outKey)
	var e outputEntry
	stamps, err := e.decodeHead(data)
	if !ok || err != nil || e.Stamps.UnmarshalBinary(stamps) != nil || e.Key == (cache.Key{}) {
		t.Fatal("no output entry with a key for the compiled fleet")
	}
	e.Full = e.Full.Add(-fleetTTL - time.Minute)
	if data, err = e.encode(); err != nil {
		t.Fatal(err)
	}
	c.Put("output", outKey, data)
	check("a day after the full pipeline ran", "4 of 4")
	check("after the daily full run", "unchanged")
	// The fleet-wide checks are cached too, keyed on what they read: a
	// hand-written ApplicationSet that reads a values file fleetc does not
	// write fails the compile, although every cluster is cached.
	hw := filepath.Join(plat, "argocd", "handwritten", "team-values.yaml")
	if err := os.WriteFile(hw, []byte(teamValues), 0o644); err != nil {
		t.Fatal(err)
	}
	if stats, err := compile(withCache, env); err == nil || !strings.Contains(err.Error(), "which fleetc does not write") || stats.Cached != 4 {
		t.Errorf("hand-written set reading a file fleetc does not write: %v, %d of 4 clusters from the cache", err, stats.Cached)
	}
	os.Remove(hw)
	// The inputs are those of the last compile that wrote.
	check("hand-written set removed", "unchanged")
	// An empty directory of hand-written sets is still synced by the
	// root Application; no directory is not.
	hwDir := filepath.Dir(hw)
	entries, err := os.ReadDir(hwDir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if err := os.Rename(filepath.Join(hwDir, e.Name()), filepath.Join(root, e.Name())); err != nil {
			t.Fatal(err)
		}
	}
	check("hand-written directory emptied", "4 of 4")
	if err := os.Remove(hwDir); err != nil {
		t.Fatal(err)
	}
	check("hand-written directory removed", "4 of 4")
	if err := os.Mkdir(hwDir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if err := os.Rename(filepath.Join(root, e.Name()), filepath.Join(hwDir, e.Name())); err != nil {
			t.Fatal(err)
		}
	}
	check("hand-written directory back", "4 of 4")
	// The module file is an input too (its language version changes
	// how CUE evaluates).
	edit("cue.mod/module.cue", "\nlanguage", "\n// touched\nlanguage")
	check("module file changed", "0 of 4")
}

// teamValues is a hand-written ApplicationSet that selects payments-prod
// and reads a values file fleetc never writes.
const teamValues = `apiVersion: argoproj.io/v1alpha1
kind: ApplicationSet
metadata:
  name: team-tools
  namespace: argocd
spec:
  goTemplate: true
  goTemplateOptions: ["missingkey=error"]
  generators:
    - clusters:
        selector:
          matchLabels:
            team: payments
  template:
    metadata:
      name: '{{.name}}-team-tools'
    spec:
      project: bootstrap
      sources:
        - repoURL: git@git.corp.local:platformteam/service-value-repo
          targetRevision: main
          ref: values
        - repoURL: git@git.corp.local:mirror/kubernetes-service-catalog.git
          targetRevision: main
          path: teams/tools
          helm:
            valueFiles:
              - $values/deploy/cluster/{{.name}}/teams/tools/values.yaml
      destination:
        server: '{{.server}}'
        namespace: team-tools
`
