package cli

import (
	"os"
	"runtime/debug"
)

// gcPercent is the garbage collector's target for a command that runs
// to completion: evaluating a cluster allocates much that is garbage a
// moment later, and with Go's default of 100 a cold compile of 3,000
// clusters spent a fifth of its CPU allocating and collecting. At 300 it
// takes 15 % less wall time and about twice the peak memory (350 MB to
// 750 MB at 3,000 clusters; docs/performance.md).
const gcPercent = 300

// tuneGC sets the collector for a command that runs to completion, unless
// the environment sets it (GOGC, GOMEMLIMIT): a higher target, held in by
// a soft limit of half the machine's memory, so that a fleet far larger
// than that still fits. The language server, which lives as long as the
// editor, keeps Go's defaults.
func tuneGC(args []string) {
	if len(args) > 0 && args[0] == "lsp" {
		return
	}
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(gcPercent)
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		if total := physicalMemory(); total > 0 {
			debug.SetMemoryLimit(int64(total / 2))
		}
	}
}
