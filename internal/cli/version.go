package cli

import (
	"fmt"
	"runtime/debug"

	"github.com/spf13/cobra"
)

func newVersionCmd(io IO) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print fleetc's version and the CUE version it evaluates with",
		Args:  usageArgs(cobra.NoArgs),
		RunE: func(*cobra.Command, []string) error {
			version, cueVersion := "(devel)", "unknown"
			if bi, ok := debug.ReadBuildInfo(); ok {
				if bi.Main.Version != "" {
					version = bi.Main.Version
				}
				for _, d := range bi.Deps {
					if d.Path == "cuelang.org/go" {
						cueVersion = d.Version
					}
				}
			}
			fmt.Fprintf(io.Stdout, "fleetc %s\ncue %s\n", version, cueVersion)
			return nil
		},
	}
}
