package cli

import (
	"fmt"
	"runtime/debug"

	"github.com/spf13/cobra"
)

// cueModule is the module whose version says which CUE fleetc evaluates
// with.
const cueModule = "cuelang.org/go"

func newVersionCmd(io IO) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print fleetc's version and the CUE version it evaluates with",
		Long: `version prints fleetc's module version, as go install or go build stamped it
((devel) for a build without one), and the version of CUE that fleetc
evaluates platforms with: the cue CLI of that version agrees with fleetc on
every platform.`,
		Example: `  fleetc version`,
		Args:    usageArgs(cobra.NoArgs),
		RunE: func(*cobra.Command, []string) error {
			version, cueVersion := "(devel)", "unknown"
			if bi, ok := debug.ReadBuildInfo(); ok {
				if bi.Main.Version != "" {
					version = bi.Main.Version
				}
				for _, d := range bi.Deps {
					if d.Path != cueModule {
						continue
					}
					cueVersion = d.Version
					if d.Replace != nil && d.Replace.Version != "" {
						cueVersion = d.Replace.Version
					}
				}
			}
			fmt.Fprintf(io.Stdout, "fleetc %s\ncue %s\n", version, cueVersion)
			return nil
		},
	}
}
