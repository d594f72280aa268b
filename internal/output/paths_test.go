package output

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/fleetc/fleetc/internal/render"
)

// TestDirOfPlanned holds the sorted-order search for a planned path that
// is also a directory of another to the definition, on random sets of
// paths over an alphabet of the bytes around '/'.
func TestDirOfPlanned(t *testing.T) {
	rnd := rand.New(rand.NewPCG(1, 2))
	alphabet := []string{"a", "b", "-", ".", "0", "/"}
	for range 5000 {
		set := map[string]bool{}
		for range 1 + rnd.IntN(6) {
			var b strings.Builder
			for range 1 + rnd.IntN(6) {
				b.WriteString(alphabet[rnd.IntN(len(alphabet))])
			}
			if p := b.String(); checkPath(p) == nil {
				set[p] = true
			}
		}
		var files []planned
		for p := range set {
			files = append(files, planned{path: p})
		}
		slices.SortFunc(files, func(a, b planned) int { return strings.Compare(a.path, b.path) })
		for i, f := range files {
			want := false
			for _, g := range files {
				if strings.HasPrefix(g.path, f.path+"/") {
					want = true
				}
			}
			k, got := dirOfPlanned(files, i)
			if got != want || (got && !strings.HasPrefix(files[k].path, f.path+"/")) {
				t.Fatalf("%q in %v: got %v (%d), want %v", f.path, files, got, k, want)
			}
		}
	}
}

// BenchmarkCheckPlan is the check of a plan of 3,000 clusters, 57,000
// paths.
func BenchmarkCheckPlan(b *testing.B) {
	var p Plan
	for c := range 3000 {
		for a := range 18 {
			p.Files = append(p.Files, render.File{Path: fmt.Sprintf("cluster/c%05d-dev/cat%d/app-name-%02d/values.yaml", c, a%5, a), Data: []byte("x")})
		}
		p.Files = append(p.Files, render.File{Path: fmt.Sprintf("argocd/clusters/c%05d-dev.yaml", c), Data: []byte("x")})
	}
	for b.Loop() {
		if _, err := checkPlan(p); err != nil {
			b.Fatal(err)
		}
	}
}
