package output

import (
	"fmt"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fleetc/fleetc/internal/fan"
	"github.com/fleetc/fleetc/internal/render"
)

// recovered calls fn and returns what it panicked with, as the command
// line's recover would see it.
func recovered(fn func()) (v any) {
	defer func() { v = recover() }()
	fn()
	return nil
}

// TestWorkerPanic: a panic on one of Write's goroutines (a stager's, or
// the plan's Scope, which checkPlan calls on every core) reaches the
// caller of Write as a *fan.Panic naming the file, not as a crash of the
// process. The lock is released, and the next Write removes what the
// panicking one left and writes the plan, as after a kill.
func TestWorkerPanic(t *testing.T) {
	var fl []render.File // enough for several stagers
	for i := range 3 * stageChunk {
		fl = append(fl, render.File{Path: fmt.Sprintf("c/%04d.yaml", i), Data: fmt.Appendf(nil, "v: %d\n", i)})
	}
	bad := fl[len(fl)/2].Path
	for _, tc := range []struct {
		name string
		plan Plan
		item func(root string) string // the *fan.Panic's
	}{
		{"stage", Plan{Files: fl}, func(root string) string { return "write " + filepath.Join(root, bad) }},
		{"scope", Plan{Files: fl, Scope: func(p string) bool {
			if p == bad {
				panic("boom")
			}
			return true
		}}, func(string) string { return "check output path " + bad }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			mustWrite(t, root, Plan{Files: files("a/x.yaml", "x\n")})
			testHookStage = func(rel string) error {
				if rel == bad {
					panic("boom")
				}
				return nil
			}
			v := recovered(func() { Write(root, tc.plan) })
			testHookStage = nil
			p, ok := v.(*fan.Panic)
			if !ok {
				t.Fatalf("Write panicked with %#v, want a *fan.Panic", v)
			}
			if p.Value != "boom" || p.Item != tc.item(root) {
				t.Errorf("panic %q with %v, want %q with boom", p.Item, p.Value, tc.item(root))
			}
			mustWrite(t, root, Plan{Files: fl})
			checkTree(t, root, want(fl, nil))
		})
	}
}

// TestInRunsStopsOnPanic: a panic in one worker stops the others at their
// next item, as a failure does, rather than letting them finish their
// runs (files that the next Write would only remove again).
func TestInRunsStopsOnPanic(t *testing.T) {
	const n = 1000
	var calls atomic.Int64
	v := recovered(func() {
		inRuns(n, 2, func(i int) string { return fmt.Sprint(i) }, func(worker, i int) bool {
			calls.Add(1)
			if i == 10 {
				panic("boom")
			}
			if worker == 1 {
				time.Sleep(100 * time.Microsecond) // the other run is the slow one
			}
			return true
		})
	})
	if p, ok := v.(*fan.Panic); !ok || p.Value != "boom" {
		t.Fatalf("inRuns panicked with %#v, want boom as a *fan.Panic", v)
	}
	if got := calls.Load(); got >= n/2 {
		t.Errorf("%d items done after a panic at the 11th, want the other worker stopped well before its %d", got, n/2)
	}
}
