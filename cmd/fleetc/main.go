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
	// garbage: collect less often, but never let the heap pass 1 GiB for
	// that. GOGC and GOMEMLIMIT, when set, decide instead.
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(1 << 30)
	}
	os.Exit(cli.Main())
}
