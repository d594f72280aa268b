package cli

import (
	"errors"
	"fmt"
	"runtime/debug"

	"github.com/spf13/cobra"

	"github.com/fleetc/fleetc/internal/lsp"
)

func newLSPCmd(io IO) *cobra.Command {
	return &cobra.Command{
		Use:   "lsp",
		Short: "Serve fleetc's diagnostics to an editor (Language Server Protocol over stdio)",
		Long: `lsp is a language server, for an editor to start, on stdin and stdout. It
reports every problem 'fleetc vet' finds in the platform of each open CUE
file (conflicts, missing required fields, bundle rules, fleet-wide checks)
at its file, line and column, using the editor's unsaved buffers, as you
type. Run it next to the CUE language server (cue lsp), which handles
syntax, navigation and formatting.

See the README for setting it up in VS Code and Neovim.`,
		Example: `  # Neovim (0.8 or later): start it for CUE buffers
  vim.lsp.start({name = "fleetc", cmd = {"fleetc", "lsp"},
                 root_dir = vim.fs.dirname(vim.fs.find({"cue.mod"}, {upward = true})[1])})

  # Try it by hand: it waits for an LSP client on stdin
  fleetc lsp`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(*cobra.Command, []string) error {
			err := lsp.Serve(io.Stdin, io.Stdout, lsp.Options{Check: func(req lsp.Request) error { return vetBuffers(io.Getenv, req) }, Version: fleetcVersion()})
			if errors.Is(err, lsp.ErrNoShutdown) {
				// The protocol's exit status for an exit without
				// shutdown; nothing to say about it.
				return exitError{exitFailed}
			}
			if err != nil {
				return fmt.Errorf("lsp: %w", err)
			}
			return nil
		},
	}
}

// vetBuffers is the language server's check: exactly what vet (and
// compile) validate, on the editor's buffers. With the build cache (getenv
// says where), an edit evaluates only the clusters whose inputs it changed.
func vetBuffers(getenv func(string) string, req lsp.Request) error {
	_, err := buildPlan(IO{Cwd: req.Root, Getenv: getenv}, platformFlags{root: req.Root, clusters: req.Clusters, overlay: req.Overlay})
	return err
}

func fleetcVersion() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
		return bi.Main.Version
	}
	return "(devel)"
}
