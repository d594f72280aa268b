// Package fan runs work on several goroutines and carries a panic in any
// of them back to the caller's goroutine. A panic on a goroutine of its
// own would kill the process with a Go stack; carried back, it reaches
// the one place that recovers panics and prints them (the command line's
// error printer), or, for a session that outlives a bug (the language
// server), becomes an error.
//
// Each fans items out to a pool of workers, Group runs a few different
// functions at once, and Catch turns a panic into an error. All three
// wrap what they recover in a *Panic that says which item it was and
// keeps the stack where it happened.
package fan

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"sync"
	"sync/atomic"
)

// Panic is a panic recovered from fn, as Each, Group.Wait and Catch
// raise or return it.
type Panic struct {
	// Value is what fn panicked with.
	Value any
	// Item says what fn was doing (such as "cluster edge-1"), as the
	// caller named it; empty if it did not.
	Item string
	// Stack is the panicking goroutine's stack at the panic, for a
	// developer: it names Go files, which users are never shown.
	Stack []byte
}

// Error is the item and the value, such as "cluster edge-1: boom".
func (p *Panic) Error() string {
	if p.Item == "" {
		return fmt.Sprint(p.Value)
	}
	return fmt.Sprintf("%s: %v", p.Item, p.Value)
}

// Unwrap is the value if it is an error (a runtime error, for one).
func (p *Panic) Unwrap() error {
	err, _ := p.Value.(error)
	return err
}

// relay keeps the first panic of the goroutines that share it.
type relay struct {
	once    sync.Once
	p       *Panic
	stopped atomic.Bool
}

// run calls fn and keeps its panic, if it is the first, named by item
// (called only then). A *Panic from a nested fan is kept as it is: its
// item and stack are the more precise.
func (r *relay) run(item func() string, fn func()) {
	defer func() {
		v := recover()
		if v == nil {
			return
		}
		p, ok := v.(*Panic)
		if !ok {
			// The deferred call runs on top of the panicking frames.
			p = &Panic{Value: v, Stack: debug.Stack()}
			if item != nil {
				p.Item = item()
			}
		}
		r.once.Do(func() { r.p = p })
		r.stopped.Store(true)
	}()
	fn()
}

// raise panics with the kept panic, if any.
func (r *relay) raise() {
	if r.p != nil {
		panic(r.p)
	}
}

// Each calls fn(i) for every i in [0, n), in order of i, on up to
// workers goroutines (GOMAXPROCS if workers <= 0). If fn panics, no
// further item starts, and once every running call has returned, Each
// panics in the caller's goroutine with a *Panic whose Item is item(i)
// (item may be nil).
func Each(n, workers int, item func(i int) string, fn func(i int)) {
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	var r relay
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(workers, n) {
		wg.Go(func() {
			for !r.stopped.Load() {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				var name func() string
				if item != nil {
					name = func() string { return item(i) }
				}
				r.run(name, func() { fn(i) })
			}
		})
	}
	wg.Wait()
	r.raise()
}

// Group runs a few functions at once, each on its own goroutine. The zero
// Group is ready to use.
type Group struct {
	wg sync.WaitGroup
	r  relay
}

// Go calls fn on a new goroutine; item names it in a panic.
func (g *Group) Go(item string, fn func()) {
	g.wg.Go(func() { g.r.run(func() string { return item }, fn) })
}

// Wait waits for every function given to Go to return, then panics with
// the first panic of any of them as a *Panic.
func (g *Group) Wait() {
	g.wg.Wait()
	g.r.raise()
}

// Catch calls fn and returns its panic as a *Panic named item, or nil:
// for a long-lived session (an editor's) that should report a bug in one
// request and serve the next.
func Catch(item string, fn func()) error {
	var r relay
	r.run(func() string { return item }, fn)
	if r.p == nil {
		return nil
	}
	return r.p
}
