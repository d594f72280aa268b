// Command fleetc compiles a CUE platform into Argo CD values files and
// cluster registrations. See internal/cli.
package main

import (
	"os"

	"github.com/fleetc/fleetc/internal/cli"
)

func main() { os.Exit(cli.Main()) }
