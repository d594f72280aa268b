package output

import (
	"runtime"
	"sync/atomic"

	"github.com/fleetc/fleetc/internal/fan"
)

// inRuns calls do(worker, i) for every i in [0, n), split into one run of
// consecutive i per worker, each on a goroutine of its own: for work in
// tree order, a worker's directory handles serve its next file. Once a
// call returns false no new ones start, and inRuns reports false. A panic
// in do stops the other workers too, and comes back to the caller as a
// *fan.Panic named by item(i) once every worker has stopped (fan.Each).
func inRuns(n, workers int, item func(i int) string, do func(worker, i int) bool) bool {
	var failed atomic.Bool
	at := make([]int, workers) // the i each worker is on, to name a panic
	fan.Each(workers, workers, func(g int) string { return item(at[g]) }, func(g int) {
		for i := g * n / workers; i < (g+1)*n/workers && !failed.Load(); i++ {
			at[g] = i
			doOrStop(&failed, g, i, do)
		}
	})
	return !failed.Load()
}

// doOrStop calls do(g, i) and sets failed, which stops the other
// workers, when it fails or panics: fan.Each raises the panic once they
// all have stopped.
func doOrStop(failed *atomic.Bool, g, i int, do func(worker, i int) bool) {
	ok := false
	defer func() {
		if !ok {
			failed.Store(true)
		}
	}()
	ok = do(g, i)
}

// onEveryCore is inRuns with one worker per CPU.
func onEveryCore(n int, item func(i int) string, do func(worker, i int) bool) bool {
	return inRuns(n, runtime.GOMAXPROCS(0), item, do)
}
