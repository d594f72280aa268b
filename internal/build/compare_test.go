package build

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/fleetc/fleetc/internal/diff"
	"github.com/fleetc/fleetc/internal/output"
	"github.com/fleetc/fleetc/internal/render"
	"github.com/fleetc/fleetc/internal/testplatform"
)

// TestCompare: compile --check and diff see the tree through Compare, so
// after a Write it finds nothing, with the cache or without, and it finds
// exactly what changed by hand since: a file edited or removed, the
// ledger edited; never a file fleetc does not own.
func TestCompare(t *testing.T) {
	for _, cached := range []bool{false, true} {
		plat := t.TempDir()
		if err := testplatform.Copy(plat); err != nil {
			t.Fatal(err)
		}
		cfg := Config{Dir: plat, Cwd: plat}
		if cached {
			env := map[string]string{"FLEETC_CACHE": t.TempDir()}
			cfg.Getenv = func(k string) string { return env[k] }
		}
		var last *Platform // the build of the last plan
		plan := func(clusters ...string) *Plan {
			t.Helper()
			c := cfg
			c.Clusters = clusters
			b, err := Load(c)
			if err != nil {
				t.Fatal(err)
			}
			pl, err := b.Plan()
			if err != nil {
				t.Fatal(err)
			}
			last = b
			return pl
		}
		stale := func(pl *Plan) string {
			t.Helper()
			c, err := last.Compare(pl)
			if err != nil {
				t.Fatal(err)
			}
			var out []string
			for _, ch := range c.Stale {
				out = append(out, string(ch.Status)+" "+ch.Path)
			}
			// diff reports a change exactly where --check sees a stale file.
			r := diff.Compare(diff.Side{Files: c.Before, Fleet: c.Fleet}, diff.Side{Files: pl.Files, Outputs: pl.Outputs})
			files := slices.ContainsFunc(c.Stale, func(ch diff.Change) bool { return ch.Path != output.LedgerName })
			if r.Empty() == files {
				t.Errorf("cached %v: diff empty %v, but stale files %v", cached, r.Empty(), out)
			}
			return strings.Join(out, ", ")
		}

		pl := plan()
		c, err := last.Compare(pl)
		if err != nil {
			t.Fatal(err)
		}
		added := 0
		for _, ch := range c.Stale {
			if ch.Status == diff.Added {
				added++
			}
		}
		if added != len(pl.Files)+1 || len(c.Stale) != added || !slices.ContainsFunc(c.Stale, func(ch diff.Change) bool { return ch.Path == output.LedgerName }) {
			t.Errorf("cached %v: before any compile, %d stale (%d added), want every one of %d files and the ledger, added", cached, len(c.Stale), added, len(pl.Files))
		}
		b, err := Load(cfg)
		if err != nil {
			t.Fatal(err)
		}
		if pl, err = b.Plan(); err != nil {
			t.Fatal(err)
		}
		if _, err := b.Write(pl); err != nil {
			t.Fatal(err)
		}
		if got := stale(plan()); got != "" {
			t.Errorf("cached %v: after a compile, stale: %s", cached, got)
		}

		out := filepath.Join(plat, "deploy")
		values := render.ValuesPath("payments-prod", "monitoring", "victoria-metrics-operator")
		writeFile(t, filepath.Join(out, values), "edited: by hand\n")
		writeFile(t, filepath.Join(out, "notes.md"), "not fleetc's\n")
		if got, want := stale(plan()), "changed "+values; got != want {
			t.Errorf("cached %v: a values file edited by hand: stale %q, want %q", cached, got, want)
		}
		if err := os.Remove(filepath.Join(out, values)); err != nil {
			t.Fatal(err)
		}
		if got, want := stale(plan()), "added "+values; got != want {
			t.Errorf("cached %v: a values file removed: stale %q, want %q", cached, got, want)
		}
		// With one cluster selected, the scope leaves the others' files
		// out, and the ApplicationSets come as the fleet's.
		one := plan("sandbox-dev")
		if got := stale(one); got != "" {
			t.Errorf("cached %v: sandbox-dev alone: stale %q", cached, got)
		}
		if c, err := last.Compare(one); err != nil || len(c.Fleet) == 0 || slices.ContainsFunc(c.Before, func(f render.File) bool { return !render.OwnedBy("sandbox-dev", f.Path) }) {
			t.Errorf("cached %v: sandbox-dev alone: %d sets of the fleet, before %d files (all sandbox-dev's?), %v", cached, len(c.Fleet), len(c.Before), err)
		}
		ledger := filepath.Join(out, output.LedgerName)
		data, err := os.ReadFile(ledger)
		if err != nil {
			t.Fatal(err)
		}
		writeFile(t, ledger, strings.Replace(string(data), "argocd/", "argocd/x", 1))
		if got := stale(plan()); !strings.Contains(got, "changed "+output.LedgerName) {
			t.Errorf("cached %v: ledger edited: stale %q, want the ledger among them", cached, got)
		}
	}
}
