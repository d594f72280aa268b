package compile

import (
	"context"
	"errors"
	"os"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"cuelang.org/go/cue"

	"github.com/fleetc/fleetc/internal/diag"
	"github.com/fleetc/fleetc/internal/fan"
	"github.com/fleetc/fleetc/internal/fleetgen"
	"github.com/fleetc/fleetc/internal/load"
	"github.com/fleetc/fleetc/internal/testplatform"
)

// TestFleetCancel: closing Options.Done stops a compile from handing out
// clusters; it returns context.Canceled once the running ones are done,
// and those went through the step (into a cache) all the same.
func TestFleetCancel(t *testing.T) {
	dir := t.TempDir()
	if err := fleetgen.Generate(testplatform.Repo(), dir, 30, 3); err != nil {
		t.Fatal(err)
	}
	p, err := load.Load(load.Config{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	var steps atomic.Int32
	_, err = Fleet(p, Options{Workers: 1, Done: done}, func(c *Cluster) (bool, error) {
		if steps.Add(1) == 2 {
			close(done)
		}
		return true, nil
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Fleet = %v, want context.Canceled", err)
	}
	// The worker may have taken one more cluster before it saw Done.
	if n := steps.Load(); n < 2 || n > 3 {
		t.Errorf("%d clusters compiled after cancelling at the 2nd of 30", n)
	}
}

// TestWarmAlone: an edited cluster checked alone with a warm evaluator
// gets its own problems, as FleetCached reports them, but not those that
// span clusters (a server another cluster has), which the compile of the
// fleet reports; the evaluator is built once.
func TestWarmAlone(t *testing.T) {
	p := reference(t)
	w := NewWarm(p)
	i := slices.IndexFunc(p.Clusters, func(cf *load.ClusterFile) bool { return cf.Name == "sandbox-dev" })
	good := p.Clusters[i]
	data, err := os.ReadFile(good.Path)
	if err != nil {
		t.Fatal(err)
	}
	src := string(data)
	for _, tc := range []struct {
		old, new string
		want     []string
	}{
		{`"dev"`, `"qa"`, []string{`env: "qa" matches none of`}},
		{`"https://sandbox-dev.k8s.corp.local:6443"`, `"https://10.20.30.40:6443"`, nil},
		{`region: "fra1"`, `regoin: "fra1"`, []string{"labels.regoin: field not allowed: did you mean region?"}},
	} {
		q, _, ok, err := p.With(map[string][]byte{good.Path: []byte(strings.Replace(src, tc.old, tc.new, 1))}, []string{good.Path})
		if !ok || err != nil {
			t.Fatalf("With: %v %v", ok, err)
		}
		j := slices.IndexFunc(q.Clusters, func(cf *load.ClusterFile) bool { return cf.Name == "sandbox-dev" })
		stepped := 0
		err = w.Alone([]*load.ClusterFile{q.Clusters[j]}, func(*Cluster) error { stepped++; return nil })
		var dl diag.List
		errors.As(err, &dl)
		var got []string
		for _, d := range dl {
			got = append(got, d.Path+": "+d.Message)
		}
		if len(got) != len(tc.want) || len(got) > 0 && !strings.Contains(got[0], tc.want[0]) || err != nil && dl == nil {
			t.Errorf("%s -> %s: %v, want %q", tc.old, tc.new, err, tc.want)
		}
		if wantSteps := map[bool]int{true: 1, false: 0}[tc.want == nil]; stepped != wantSteps {
			t.Errorf("%s -> %s: step ran %d times", tc.old, tc.new, stepped)
		}
	}
	if w.uses != 3 {
		t.Errorf("the warm evaluator compiled %d clusters, want 3 without being rebuilt", w.uses)
	}
	// The fleet says what the cluster alone cannot.
	q, _, _, _ := p.With(map[string][]byte{good.Path: []byte(strings.Replace(src, `"https://sandbox-dev.k8s.corp.local:6443"`, `"https://10.20.30.40:6443"`, 1))}, []string{good.Path})
	if _, err := Fleet(q, Options{}, func(*Cluster) (bool, error) { return true, nil }); err == nil || !strings.Contains(err.Error(), "also the server") {
		t.Errorf("Fleet = %v, want the duplicate server", err)
	}
}

// TestWarmAloneStepErrors: what a step returns for a valid cluster, a
// credential it would write out or another error, becomes the same
// problem whether the cluster is checked alone with a
// warm evaluator or as one of the fleet.
func TestWarmAloneStepErrors(t *testing.T) {
	p := reference(t)
	i := slices.IndexFunc(p.Clusters, func(cf *load.ClusterFile) bool { return cf.Name == "sandbox-dev" })
	for _, stepErr := range []error{
		errors.New("render: no template for bundle web"),
		&LeakError{Path: cue.ParsePath("bundles.web.token"), Value: "s3cr3t-value-0123456789"},
	} {
		alone := NewWarm(p).Alone([]*load.ClusterFile{p.Clusters[i]}, func(*Cluster) error { return stepErr })
		_, fleet := Fleet(p, Options{Clusters: []string{"sandbox-dev"}}, func(*Cluster) (bool, error) { return false, stepErr })
		var dl diag.List
		if !errors.As(alone, &dl) || len(dl) != 1 {
			t.Fatalf("%v: Alone = %v, want one problem", stepErr, alone)
		}
		if fleet == nil || alone.Error() != fleet.Error() {
			t.Errorf("%v: Alone = %v\nFleet = %v", stepErr, alone, fleet)
		}
	}
}

// TestWarmPanic: a panic in Alone's step or Use's function is an error
// naming the cluster, not a crash of the editor's session, and the next
// request gets a new evaluator that works.
func TestWarmPanic(t *testing.T) {
	p := reference(t)
	w := NewWarm(p)
	i := slices.IndexFunc(p.Clusters, func(cf *load.ClusterFile) bool { return cf.Name == "sandbox-dev" })
	files := []*load.ClusterFile{p.Clusters[i]}
	for _, tc := range []struct {
		name string
		call func() error
		want string
	}{
		{"Alone", func() error { return w.Alone(files, func(*Cluster) error { panic("boom") }) }, "internal error: cluster sandbox-dev: boom"},
		{"Use", func() error { return w.Use(func(Shared) error { panic("boom") }) }, "internal error: the shared clusters package: boom"},
	} {
		err := tc.call()
		var crash *fan.Panic
		if err == nil || err.Error() != tc.want || !errors.As(err, &crash) || crash.Value != "boom" {
			t.Errorf("%s = %v, want %s", tc.name, err, tc.want)
		}
		if w.ev != nil {
			t.Errorf("%s: the evaluator that panicked is kept", tc.name)
		}
		stepped := 0
		if err := w.Alone(files, func(*Cluster) error { stepped++; return nil }); err != nil || stepped != 1 {
			t.Errorf("after %s panicked: Alone = %v, %d steps", tc.name, err, stepped)
		}
	}
}
