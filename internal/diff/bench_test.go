package diff

import (
	"fmt"
	"testing"
)

// fleet is a synthetic fleet of n clusters with 15 apps each, and the
// same fleet after a typical change: a platform default moved on every
// cluster, a tenth of the clusters with a new app, five clusters added
// and five removed.
func fleet(n int) (before, after Side) {
	envs := []string{"prod", "staging", "dev"}
	regions := []string{"fra", "ams", "par", "mad"}
	apps := []string{"core/dns", "core/ingress", "core/certs", "core/metrics", "monitoring/vm", "monitoring/agent",
		"monitoring/alert", "monitoring/grafana", "security/falco", "security/kyverno", "security/exporter",
		"storage/velero", "storage/snapshots", "finops/opencost", "finops/goldilocks"}
	var b, a []cluster
	for i := range n + 5 {
		c := cluster{fmt.Sprintf("c%04d-%s", i, envs[i%3]), envs[i%3], regions[i%4], apps[:14], "30d"}
		if i < n {
			b = append(b, c)
		}
		if i >= 5 {
			c.retention = "45d"
			if i%10 == 0 {
				c.apps = apps
			}
			a = append(a, c)
		}
	}
	return tree(b...), tree(a...)
}

// BenchmarkDiff compares two outputs of a 1000-cluster fleet, as
// `fleetc diff --base` does after its two compiles, including learning
// the secrets to redact.
func BenchmarkDiff(b *testing.B) {
	before, after := fleet(1000)
	var r *Report
	for b.Loop() {
		r = Compare(before, after)
		r.Redact(NewRedactor(before, after))
	}
	b.ReportMetric(float64(len(before.Files)+len(after.Files)), "files")
	b.ReportMetric(float64(len(r.Files)), "changed")
	b.ReportMetric(float64(len(r.Groups)), "groups")
}

// BenchmarkCompare is Compare alone; BenchmarkRedactor the redactor alone.
func BenchmarkCompare(b *testing.B) {
	before, after := fleet(1000)
	for b.Loop() {
		Compare(before, after)
	}
}

func BenchmarkRedactor(b *testing.B) {
	before, after := fleet(1000)
	for b.Loop() {
		NewRedactor(before, after)
	}
}
