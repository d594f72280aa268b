package cli

import (
	"fmt"
	"runtime/debug"
	"strings"

	"github.com/spf13/cobra"
)

// cueModule is the module whose version says which CUE fleetc evaluates
// with.
const cueModule = "cuelang.org/go"

func newVersionCmd(io IO) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print fleetc's version and the CUE version it evaluates with",
		Long: `version prints fleetc's module version as the go command stamped it: the
release or pseudo-version that go install ...@<version> fetched, or, for a
build from a clone, the commit it was built from, the commit's time and
whether the work tree had uncommitted changes. Then it prints the version
of CUE that fleetc evaluates platforms with: the cue CLI of that version
agrees with fleetc on every platform. fleetc --version prints the same.`,
		Example: `  fleetc version
  fleetc --version`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(*cobra.Command, []string) error {
			fmt.Fprint(io.Stdout, version())
			return nil
		},
	}
}

// version is what `fleetc version` and `fleetc --version` print, from the
// running binary's build information.
func version() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		bi = nil
	}
	return versionText(bi)
}

// versionText says which fleetc bi describes, in lines:
//
//	fleetc v0.3.0
//	cue v0.17.1
//
// Main.Version is what go install stamps (a release or a pseudo-version)
// and, since Go 1.24, what go build stamps in a clone, "+dirty" included;
// "(devel)" when there is none. The vcs.* settings of a build in a clone
// add a line with the commit, its time and "dirty" for uncommitted
// changes. A nil bi (a binary without build information) gives "(devel)"
// and "unknown".
func versionText(bi *debug.BuildInfo) string {
	version, cueVersion := "(devel)", "unknown"
	var revision, at string
	var modified bool
	if bi != nil {
		if bi.Main.Version != "" {
			version = bi.Main.Version
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				revision = s.Value
			case "vcs.time":
				at = s.Value
			case "vcs.modified":
				modified = s.Value == "true"
			}
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
	var b strings.Builder
	fmt.Fprintf(&b, "fleetc %s\n", version)
	if revision != "" {
		fmt.Fprintf(&b, "revision %s", revision)
		if at != "" {
			fmt.Fprintf(&b, " %s", at)
		}
		if modified {
			b.WriteString(" dirty")
		}
		b.WriteString("\n")
	}
	fmt.Fprintf(&b, "cue %s\n", cueVersion)
	return b.String()
}
