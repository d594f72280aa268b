package importer_test

import (
	"os"
	"runtime"
	"strconv"
	"testing"

	"github.com/fleetc/fleetc/internal/importer"
	"github.com/fleetc/fleetc/internal/valuesgen"
)

// BenchmarkImportValues imports the values tree of a generated fleet
// (FLEETC_IMPORT_CLUSTERS clusters, 3,000 unless set) into a platform
// whose clusters import argocd wrote: read and parse every values file,
// derive the catalog and the settings, and prove the result by compiling
// it in memory. Generating the tree is not timed. It reports the values
// files and the heap in use at the end and at most (sampled by the GC's
// own figure, runtime.MemStats.HeapSys).
//
//	go test ./internal/importer -run '^$' -bench ImportValues -benchtime 1x
func BenchmarkImportValues(b *testing.B) {
	n := 3000
	if s := os.Getenv("FLEETC_IMPORT_CLUSTERS"); s != "" {
		var err error
		if n, err = strconv.Atoi(s); err != nil {
			b.Fatal(err)
		}
	}
	m := newMigration(b, n, 1, valuesgen.Options{})
	opts := importer.ValuesOptions{Bundles: map[string]string{valuesgen.NewApp: valuesgen.NewBundle}}
	runtime.GC()
	var files int
	for b.Loop() {
		tree, p := m.inputs(b, m.old, "")
		imp, err := importer.Values(p, tree, opts)
		if err != nil {
			b.Fatal(err)
		}
		diffs, err := imp.Prove(m.platform)
		if err != nil {
			b.Fatal(err)
		}
		if len(diffs) > 0 {
			b.Fatalf("%d files differ, such as %s", len(diffs), diffs[0])
		}
		files = imp.Reproduce()
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	b.ReportMetric(float64(files), "values-files")
	b.ReportMetric(float64(ms.HeapSys)/(1<<20), "MiB-heap-sys")
}
