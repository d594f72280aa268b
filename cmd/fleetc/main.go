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
	// garbage: collect rarely, in practice when the heap reaches the soft
	// limit of 1.25 GiB (a 3,000-cluster compile keeps about 300 MiB
	// live). GOGC and GOMEMLIMIT, when set, decide instead.
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(800)
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(5 << 28)
	}
	os.Exit(cli.Main())
}
