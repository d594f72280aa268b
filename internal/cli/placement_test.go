package cli

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/fleetc/fleetc/internal/argocd"
	"github.com/fleetc/fleetc/internal/compile"
	"github.com/fleetc/fleetc/internal/fleetgen"
	"github.com/fleetc/fleetc/internal/load"
	"github.com/fleetc/fleetc/internal/placement"
	"github.com/fleetc/fleetc/internal/render"
	"github.com/fleetc/fleetc/internal/testplatform"
)

// generatedPlacement places n clusters of a fleetgen fleet with the
// reference platform's ApplicationSets: each cluster with the labels and
// values files a compile gives it (the required bundles on top of the ones
// fleetgen draws), without evaluating any cluster.
func generatedPlacement(t *testing.T, n int) *placement.Matrix {
	t.Helper()
	p, err := load.Load(load.Config{Dir: testplatform.Repo()})
	if err != nil {
		t.Fatal(err)
	}
	settings, err := compile.ReadSettings(p)
	if err != nil {
		t.Fatal(err)
	}
	cat, err := compile.ReadCatalog(p)
	if err != nil {
		t.Fatal(err)
	}
	generated, err := render.ApplicationSets(cat, settings, p.Root)
	if err != nil {
		t.Fatal(err)
	}
	var sets []placement.Set
	for _, g := range generated {
		sets = append(sets, placement.Set{Object: g.Object, Bundle: g.App.Bundle, Pos: g.App.Pos})
	}
	optional := fleetgen.OptionalBundles()
	var clusters []placement.Cluster
	r := fleetgen.NewRand(1)
	for i := range n {
		spec := fleetgen.NewSpec(r, i)
		labels := map[string]string{argocd.EnvLabel: spec.Env, "region": spec.Region, "team": spec.Team}
		if spec.Provider != "" {
			labels["provider"] = spec.Provider
		}
		for _, b := range cat.Bundles {
			if !slices.Contains(optional, b) || slices.Contains(spec.Bundles, b) {
				labels[b] = argocd.BundleEnabled
			}
		}
		cl := placement.Cluster{Name: spec.Name, Labels: labels}
		for _, a := range cat.Apps {
			if labels[a.Bundle] == argocd.BundleEnabled {
				cl.Apps = append(cl.Apps, render.AppRef{Name: a.Name, Bundle: a.Bundle, Category: a.Category,
					Values: render.ValuesPath(spec.Name, a.Category, a.Name)})
			}
		}
		clusters = append(clusters, cl)
	}
	m, diags := placement.Compute(placement.Input{
		Sets:       sets,
		Clusters:   clusters,
		Vocab:      placement.Vocabulary{Envs: cat.EnvNames(), Bundles: cat.Bundles, Labels: settings.LabelNames()},
		ValuesRepo: settings.Repos.Values,
		ValuesDir:  settings.Output,
		Tracking:   argocd.TrackingMethod(settings.ArgoCD.ResourceTrackingMethod),
	})
	if len(diags) > 0 {
		t.Fatalf("the generated fleet does not place cleanly: %v", diags[0].Format(""))
	}
	return m
}

// TestPlacementAtScale: at 3,000 clusters the text and markdown of
// `fleetc placement` stay as long and as wide as at 300; what grows with
// the fleet are counts, not lines or columns.
func TestPlacementAtScale(t *testing.T) {
	small, large := generatedPlacement(t, 300), generatedPlacement(t, 3000)
	for _, format := range []string{"text", "markdown"} {
		t.Run(format, func(t *testing.T) {
			var outs [2]string
			for i, m := range []*placement.Matrix{small, large} {
				var b bytes.Buffer
				if err := placementFormats[format](&b, m); err != nil {
					t.Fatal(err)
				}
				outs[i] = b.String()
			}
			lines := strings.Split(strings.TrimSuffix(outs[1], "\n"), "\n")
			groups := large.Groups()
			// Three envs, and the four optional bundles of fleetgen
			// (monitoring-medium only with monitoring-basic): 12 sets.
			if len(groups) > 3*12 {
				t.Errorf("%d groups, want at most 36 (3 envs × 12 bundle sets)", len(groups))
			}
			// Headline, group table, ApplicationSet table and notes.
			if bound := 4 + len(groups) + 3 + len(large.Sets) + 2; len(lines) > bound {
				t.Errorf("%d lines at 3,000 clusters, want at most %d:\n%s", len(lines), bound, outs[1])
			}
			if n := strings.Count(outs[0], "\n"); n+len(groups)-len(small.Groups()) != len(lines) {
				t.Errorf("%d lines at 300 clusters and %d at 3,000: only the number of groups may differ", n, len(lines))
			}
			for _, l := range lines {
				if len(l) > 200 {
					t.Errorf("a line of %d characters: %.120s…", len(l), l)
				}
			}
			if !strings.Contains(outs[1], "3,000 clusters in 3 envs") {
				t.Errorf("the headline does not count the clusters:\n%s", lines[0])
			}
		})
	}
	// The groups hold every cluster once, and count every Application.
	seen, apps := 0, 0
	for _, g := range large.Groups() {
		seen += len(g.Clusters)
		apps += g.Applications
	}
	if want := len(large.Pairs()); seen != 3000 || apps != want {
		t.Errorf("groups hold %d clusters and %d Applications, want 3000 and %d", seen, apps, want)
	}
}

// TestGeneratedPlacementIsCompiled: the fleet generatedPlacement builds
// without compiling is what `fleetc placement` compiles from the files
// fleetgen writes, so the scale test measures the real thing.
func TestGeneratedPlacementIsCompiled(t *testing.T) {
	dir := t.TempDir()
	if err := fleetgen.Generate(testplatform.Repo(), dir, 30, 1); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	env := map[string]string{"FLEETC_CACHE": t.TempDir()}
	if code := Run([]string{"placement", "--format", "json"}, IO{Stdout: &stdout, Stderr: &stderr, Cwd: dir, Getenv: func(k string) string { return env[k] }}); code != 0 {
		t.Fatalf("placement: exit %d\n%s", code, stderr.String())
	}
	var want bytes.Buffer
	if err := writePlacementJSON(&want, generatedPlacement(t, 30)); err != nil {
		t.Fatal(err)
	}
	if stdout.String() != want.String() {
		t.Errorf("compiled:\n%.2000s\ngenerated:\n%.2000s", stdout.String(), want.String())
	}
}

func TestUnknownNames(t *testing.T) {
	few := []string{"edge-minimal", "payments-prod", "sandbox-dev"}
	many := make([]string, 3000)
	for i := range many {
		many[i] = fmt.Sprintf("c%05d-dev", i)
	}
	tests := []struct {
		given, known []string
		want         string
	}{
		{[]string{"payments-prod"}, few, ""},
		{[]string{"payments-prd", "sandbox-dev"}, few, "--cluster payments-prd: no such cluster; did you mean payments-prod?\nthe platform has 3 clusters: edge-minimal, payments-prod, sandbox-dev"},
		{[]string{"prod"}, few, "--cluster prod: no such cluster\nthe platform has 3 clusters: edge-minimal, payments-prod, sandbox-dev"},
		{[]string{"c0001-dev"}, many, "--cluster c0001-dev: no such cluster; did you mean c00001-dev?\nthe platform has 3,000 clusters; fleetc placement lists them"},
	}
	for _, tt := range tests {
		got := strings.Join(unknownNames("--cluster", "cluster", tt.given, tt.known), "\n")
		if got != tt.want {
			t.Errorf("%v:\ngot:  %q\nwant: %q", tt.given, got, tt.want)
		}
	}
}
