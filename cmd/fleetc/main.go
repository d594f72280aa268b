// Command fleetc compiles a CUE platform into Argo CD values files and
// cluster registrations. See internal/cli.
package main

import (
	"os"
	"runtime/debug"

	"github.com/fleetc/fleetc/internal/cli"
)

func main() {
	// fleetc runs for seconds and evaluating CUE makes a lot of short-lived
	// garbage: collect rarely, when the heap has grown to five times what
	// was live (a 3,000-cluster compile ends with about 140 MiB live),
	// and at the latest at the soft limit of 1.25 GiB. Collecting more
	// rarely still (GOGC=800) cost more CPU, not less: each new page of a
	// larger heap is a page fault, and a cold compile of 3,000 clusters
	// spent 1 to 1.5 s more in the kernel for 1.1 GiB instead of 0.7.
	// GOGC and GOMEMLIMIT, when set, decide instead.
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(5 << 28)
	}
	os.Exit(cli.Main())
}
