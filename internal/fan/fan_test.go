package fan

import (
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// recovered runs fn and returns what it panicked with, as a caller's
// recover sees it.
func recovered(fn func()) (v any) {
	defer func() { v = recover() }()
	fn()
	return nil
}

// asPanic is the *Panic v must be.
func asPanic(t *testing.T, v any) *Panic {
	t.Helper()
	p, ok := v.(*Panic)
	if !ok {
		t.Fatalf("recovered %#v, want a *Panic", v)
	}
	return p
}

// boom panics from a named frame, so that the stack can be checked to
// be the panicking goroutine's.
func boom(v any) { panic(v) }

// TestEachPanic: a worker's panic reaches the caller as a *Panic that
// keeps the original value, names the item and holds the stack where it
// was raised.
func TestEachPanic(t *testing.T) {
	errBoom := errors.New("boom")
	v := recovered(func() {
		Each(8, 3, func(i int) string { return fmt.Sprintf("cluster c%d", i) }, func(i int) {
			if i == 5 {
				boom(errBoom)
			}
		})
	})
	p := asPanic(t, v)
	if p.Value != errBoom || !errors.Is(p, errBoom) {
		t.Errorf("value %v, want the worker's", p.Value)
	}
	if p.Item != "cluster c5" || p.Error() != "cluster c5: boom" {
		t.Errorf("item %q, error %q", p.Item, p.Error())
	}
	if !strings.Contains(string(p.Stack), "fan.boom(") {
		t.Errorf("stack does not show where it panicked:\n%s", p.Stack)
	}
}

// TestEachWaits: the panic is raised only after every running item has
// returned: no worker outlives Each.
func TestEachWaits(t *testing.T) {
	var active, finished atomic.Int32
	started := make(chan struct{})
	v := recovered(func() {
		Each(2, 2, nil, func(i int) {
			active.Add(1)
			defer active.Add(-1)
			if i == 0 {
				<-started
				panic("boom")
			}
			close(started)
			time.Sleep(50 * time.Millisecond)
			finished.Add(1)
		})
	})
	if p := asPanic(t, v); p.Value != "boom" || p.Item != "" || p.Error() != "boom" {
		t.Errorf("recovered %+v", p)
	}
	if active.Load() != 0 || finished.Load() != 1 {
		t.Errorf("raised with %d items running, %d finished", active.Load(), finished.Load())
	}
}

// TestEachPanicsEverywhere: when every item panics, Each neither
// deadlocks nor starts items after the first panic; the first panic
// wins.
func TestEachPanicsEverywhere(t *testing.T) {
	const workers = 4
	var calls atomic.Int32
	v := recovered(func() {
		Each(1000, workers, nil, func(i int) {
			calls.Add(1)
			panic(i)
		})
	})
	asPanic(t, v)
	if n := calls.Load(); n > workers {
		t.Errorf("%d items ran after a panic, want at most one per worker", n)
	}
}

// TestEach: every item runs once, on at most the workers asked for,
// with nothing for n <= 0.
func TestEach(t *testing.T) {
	for _, tc := range []struct{ n, workers, maxActive int }{
		{0, 4, 0}, {-1, 4, 0}, {1, 4, 1}, {100, 3, 3}, {50, 0, runtime.GOMAXPROCS(0)}, {7, 1, 1},
	} {
		var active, most atomic.Int32
		ran := make([]atomic.Int32, max(tc.n, 0))
		Each(tc.n, tc.workers, nil, func(i int) {
			a := active.Add(1)
			defer active.Add(-1)
			for m := most.Load(); a > m && !most.CompareAndSwap(m, a); m = most.Load() {
			}
			ran[i].Add(1)
			time.Sleep(time.Millisecond)
		})
		for i := range ran {
			if ran[i].Load() != 1 {
				t.Errorf("n=%d workers=%d: item %d ran %d times", tc.n, tc.workers, i, ran[i].Load())
			}
		}
		if int(most.Load()) > tc.maxActive {
			t.Errorf("n=%d workers=%d: %d at once, want at most %d", tc.n, tc.workers, most.Load(), tc.maxActive)
		}
	}
}

// TestGroup: a panic in one of a group's goroutines reaches Wait's
// caller once the others have returned, and a nested fan's panic keeps
// its own item.
func TestGroup(t *testing.T) {
	var finished atomic.Bool
	started := make(chan struct{})
	v := recovered(func() {
		var g Group
		g.Go("compile the working tree", func() {
			close(started)
			time.Sleep(50 * time.Millisecond)
			finished.Store(true)
		})
		g.Go("compile the base", func() {
			<-started
			Each(3, 2, func(i int) string { return fmt.Sprint("cluster c", i) }, func(i int) {
				if i == 2 {
					boom("boom")
				}
			})
		})
		g.Wait()
	})
	p := asPanic(t, v)
	if p.Error() != "cluster c2: boom" || !strings.Contains(string(p.Stack), "fan.boom(") {
		t.Errorf("recovered %q from\n%s", p.Error(), p.Stack)
	}
	if !finished.Load() {
		t.Error("Wait raised before the other goroutine returned")
	}

	var g Group
	var n atomic.Int32
	g.Go("a", func() { n.Add(1) })
	g.Go("b", func() { n.Add(1) })
	g.Wait()
	if n.Load() != 2 {
		t.Errorf("%d of 2 ran", n.Load())
	}
}

// TestCatch: a panic becomes an error naming the item, the session goes
// on; no panic, no error.
func TestCatch(t *testing.T) {
	err := Catch("cluster edge-1", func() { boom("boom") })
	var p *Panic
	if !errors.As(err, &p) || p.Value != "boom" || err.Error() != "cluster edge-1: boom" {
		t.Fatalf("Catch = %v", err)
	}
	if !strings.Contains(string(p.Stack), "fan.boom(") {
		t.Errorf("stack does not show where it panicked:\n%s", p.Stack)
	}
	// A runtime error is still the runtime's error.
	err = Catch("index", func() {
		var s []int
		_ = s[len(s)]
	})
	var re interface{ RuntimeError() }
	if !errors.As(err, &re) {
		t.Errorf("Catch = %v, want the runtime error", err)
	}
	if err := Catch("fine", func() {}); err != nil {
		t.Errorf("Catch without a panic = %v", err)
	}
}
