package lsptest

import (
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/fleetc/fleetc/internal/fleetgen"
	"github.com/fleetc/fleetc/internal/testplatform"
)

// TestMeasure: on a small generated fleet, with an empty cache and then
// with the cache that left, the edited file's diagnostics arrive within
// 500 ms of each edit, while the check of the fleet runs.
func TestMeasure(t *testing.T) {
	root := t.TempDir()
	if err := fleetgen.Generate(testplatform.Repo(), root, 40, 1); err != nil {
		t.Fatal(err)
	}
	cache := t.TempDir()
	for _, name := range []string{"empty cache", "warm cache"} {
		l, err := Measure(Options{Root: root, Cache: cache, Edits: 6, Pause: 100 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: %s", name, l)
		if l.Max() > 500*time.Millisecond {
			t.Errorf("%s: the edited file's diagnostics took up to %s, want at most 500ms", name, l.Max())
		}
		if len(l.File) != 6 || l.Fleet <= 0 {
			t.Errorf("%s: %+v", name, l)
		}
	}
}

// BenchmarkLatency reports what a user of the language server waits for
// in a generated fleet of FLEETC_LSP_CLUSTERS clusters (3,000 unless
// set), with an empty cache and then a warm one: the edited file's
// diagnostics after each edit (median and max, ms) and the fleet-wide
// result after the last edit (s). One iteration is the whole measurement.
func BenchmarkLatency(b *testing.B) {
	n := 3000
	if s := os.Getenv("FLEETC_LSP_CLUSTERS"); s != "" {
		var err error
		if n, err = strconv.Atoi(s); err != nil {
			b.Fatal(err)
		}
	}
	root := b.TempDir()
	if err := fleetgen.Generate(testplatform.Repo(), root, n, 1); err != nil {
		b.Fatal(err)
	}
	for range b.N {
		cache := b.TempDir()
		for _, name := range []string{"empty", "warm"} {
			l, err := Measure(Options{Root: root, Cache: cache, Edits: 8, Pause: 200 * time.Millisecond, Timeout: 40 * time.Minute})
			if err != nil {
				b.Fatal(err)
			}
			b.Logf("%d clusters, %s cache: %s", n, name, l)
			b.ReportMetric(float64(l.Median().Microseconds())/1e3, name+"-file-median-ms")
			b.ReportMetric(float64(l.Max().Microseconds())/1e3, name+"-file-max-ms")
			b.ReportMetric(l.Fleet.Seconds(), name+"-fleet-s")
		}
	}
}
