package render_test

import (
	"testing"

	"github.com/fleetc/fleetc/internal/compile"
	"github.com/fleetc/fleetc/internal/load"
	"github.com/fleetc/fleetc/internal/render"
	"github.com/fleetc/fleetc/internal/testplatform"
)

// BenchmarkRenderCluster renders every cluster of the reference platform,
// evaluated once beforehand: the bytes of its values files and its
// registration, and the credential check of everything written (the cost
// the check adds to a cold compile shows here, not in compile's
// benchmarks).
func BenchmarkRenderCluster(b *testing.B) {
	p, err := load.Load(load.Config{Dir: testplatform.Repo()})
	if err != nil {
		b.Fatal(err)
	}
	settings, err := compile.ReadSettings(p)
	if err != nil {
		b.Fatal(err)
	}
	var clusters []*compile.Cluster
	if _, err := compile.Fleet(p, compile.Options{Workers: 1}, func(c *compile.Cluster) (struct{}, error) {
		clusters = append(clusters, c)
		return struct{}{}, nil
	}); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		for _, c := range clusters {
			if _, err := render.Cluster(c, settings, p.Root, nil); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(clusters)), "ns/cluster")
}
