package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/fleetc/fleetc/internal/placement"
)

type placementOptions struct {
	IO
	platformFlags
	format string
}

func newPlacementCmd(io IO) *cobra.Command {
	o := &placementOptions{IO: io}
	c := &cobra.Command{
		Use:   "placement",
		Short: "Show which apps go to which clusters",
		Long: `placement compiles the platform as compile does, without writing anything, and
prints the matrix of which ApplicationSet deploys to which cluster: one row per
ApplicationSet (one per app of the catalog, plus the hand-written ones), one
column per cluster. It is computed the way Argo CD's ApplicationSet controller
selects clusters: every cluster generator's label selector against the labels
of every cluster's registration.

Like compile, it fails if the labels, the selectors and the values files do not
agree.`,
		Example: `  # The matrix of the whole fleet
  fleetc placement

  # The same as JSON, for scripts
  fleetc placement --format json`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(*cobra.Command, []string) error { return o.run() },
	}
	c.Flags().StringVar(&o.root, "root", "", "directory inside the platform's CUE module (default: the working directory)")
	c.Flags().StringArrayVar(&o.clusters, "cluster", nil, "show only this cluster (repeatable)")
	c.Flags().StringVar(&o.format, "format", "text", "output format: text or json")
	return c
}

func (o *placementOptions) run() error {
	if o.format != "text" && o.format != "json" {
		return usageError{fmt.Errorf("--format %q: want text or json", o.format)}
	}
	flags := o.platformFlags
	flags.matrix = true
	plan, err := buildPlan(o.IO, flags)
	if err != nil {
		return err
	}
	if o.format == "json" {
		return writePlacementJSON(o.Stdout, plan.placement)
	}
	return writePlacementTable(o.Stdout, plan.placement)
}

func writePlacementJSON(w io.Writer, m *placement.Matrix) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(m)
}

// writePlacementTable prints one row per ApplicationSet and one column per
// cluster; FROM is the bundle of a generated set or the file of a
// hand-written one.
func writePlacementTable(w io.Writer, m *placement.Matrix) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "APPLICATIONSET\tFROM\t%s\n", strings.Join(m.Clusters, "\t"))
	for _, r := range m.Sets {
		from := r.Bundle
		if r.Source != "" {
			from = r.Source
		}
		cells := make([]string, len(m.Clusters))
		for i, c := range m.Clusters {
			cells[i] = "-"
			if slices.Contains(r.Clusters, c) {
				cells[i] = "x"
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", r.Name, from, strings.Join(cells, "\t"))
	}
	return tw.Flush()
}
