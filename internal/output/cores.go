package output

import (
	"runtime"
	"sync"
	"sync/atomic"
)

// onEveryCore calls do(worker, i) for every i in [0, n), spread over one
// goroutine per CPU; worker, in [0, runtime.GOMAXPROCS(0)), names the
// goroutine, for state of its own. Once a call returns false no new ones
// start, and onEveryCore reports false.
func onEveryCore(n int, do func(worker, i int) bool) bool {
	var failed atomic.Bool
	var wg sync.WaitGroup
	workers := runtime.GOMAXPROCS(0)
	for g := range workers {
		wg.Go(func() {
			for i := g; i < n && !failed.Load(); i += workers {
				if !do(g, i) {
					failed.Store(true)
					return
				}
			}
		})
	}
	wg.Wait()
	return !failed.Load()
}
