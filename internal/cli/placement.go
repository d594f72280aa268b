package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/fleetc/fleetc/internal/build"
	"github.com/fleetc/fleetc/internal/compile"
	"github.com/fleetc/fleetc/internal/diag"
	"github.com/fleetc/fleetc/internal/placement"
)

type placementOptions struct {
	IO
	platformFlags
	apps   []string
	format string
}

// placementFormats are the output formats of placement.
var placementFormats = map[string]func(io.Writer, *placement.Matrix) error{
	"text":     writePlacementText,
	"markdown": writePlacementMarkdown,
	"json":     writePlacementJSON,
}

func newPlacementCmd(io IO) *cobra.Command {
	o := &placementOptions{IO: io}
	c := &cobra.Command{
		Use:   "placement",
		Short: "Show which apps go to which clusters",
		Long: `placement compiles the platform as compile does, without writing anything, and
shows which ApplicationSet deploys to which cluster. It is computed the way Argo
CD's ApplicationSet controller selects clusters: every cluster generator's label
selector against the labels of every cluster's registration.

It starts with a summary: the clusters grouped by env and by the bundles they
enable, with how many clusters and how many Applications per cluster each group
has. Then, for up to 12 clusters, the matrix: one row per ApplicationSet (one
per app of the catalog, plus the hand-written ones), one column per cluster;
for more, how many clusters of each env every ApplicationSet deploys to.
--cluster and --app narrow both to some clusters and ApplicationSets.

Formats: text, markdown (for a pull request) and json (every cluster of every
ApplicationSet, and the groups, for scripts).

Like compile, it fails if the labels, the selectors and the values files do not
agree.`,
		Example: `  # The summary and the matrix of the whole fleet
  fleetc placement

  # Where grafana and velero go, on two clusters
  fleetc placement --app grafana,velero --cluster payments-prod --cluster sandbox-dev

  # For a pull-request comment
  fleetc placement --format markdown`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(*cobra.Command, []string) error { return o.run() },
	}
	c.Flags().StringVar(&o.root, "root", "", "directory inside the platform's CUE module (default: the working directory)")
	nameListVar(c.Flags(), &o.clusters, "cluster", "cluster", "show only these clusters (repeatable, or a comma-separated list)")
	nameListVar(c.Flags(), &o.apps, "app", "ApplicationSet", "show only these ApplicationSets: apps of the catalog or hand-written sets (repeatable, or a comma-separated list)")
	c.Flags().StringVar(&o.format, "format", "text", "output `format`: text, markdown or json")
	_ = c.RegisterFlagCompletionFunc("format", oneOf(keysOf(placementFormats)...))
	return c
}

func (o *placementOptions) run() error {
	write, ok := placementFormats[o.format]
	if !ok {
		return usageError{fmt.Errorf("--format %q: want text, markdown or json", o.format)}
	}
	cfg := o.config(o.IO)
	cfg.Placement = true
	b, err := build.Load(cfg)
	if err != nil {
		return err
	}
	if err := o.checkNames(b); err != nil {
		return err
	}
	plan, err := b.Plan()
	if err != nil {
		return err
	}
	return write(o.Stdout, plan.Placement.Filter(o.apps, nil))
}

// checkNames makes --cluster and --app names that the platform does not
// have a usage error, which names what it has, before anything is
// compiled. Apps are checked only if the catalog reads cleanly; if not,
// the compile reports why.
func (o *placementOptions) checkNames(b *build.Platform) error {
	msgs := unknownNames("--cluster", "cluster", o.clusters, b.ClusterNames())
	if cat, hw, _, err := b.Catalog(); err == nil && len(o.apps) > 0 {
		msgs = append(msgs, unknownNames("--app", "ApplicationSet", o.apps, setNames(cat, hw))...)
	}
	if len(msgs) > 0 {
		return usageError{errors.New(strings.Join(msgs, "\n"))}
	}
	return nil
}

// setNames is the names of the platform's ApplicationSets, those of the
// catalog's apps and the hand-written ones, sorted: what --app takes.
func setNames(cat *compile.Catalog, handwritten []placement.Set) []string {
	var names []string
	for _, a := range cat.Apps {
		names = append(names, a.Name)
	}
	for _, s := range handwritten {
		names = append(names, s.Object.Metadata.Name)
	}
	slices.Sort(names)
	return names
}

// maxListed is how many names a message about unknown names lists; for
// more it says how many there are.
const maxListed = 8

// unknownNames says what is wrong with the given names that are not among
// known, if any: for each, the nearest known name, then the known names
// themselves if they are few, else how many there are.
func unknownNames(flag, what string, given, known []string) []string {
	var msgs []string
	sorted := slices.Sorted(slices.Values(known))
	for _, name := range given {
		if _, ok := slices.BinarySearch(sorted, name); ok {
			continue
		}
		msg := fmt.Sprintf("%s %s: no such %s", flag, name, what)
		if near, ok := diag.Suggest(name, sorted); ok {
			msg += fmt.Sprintf("; did you mean %s?", near)
		}
		msgs = append(msgs, msg)
	}
	if len(msgs) == 0 {
		return nil
	}
	if len(sorted) <= maxListed {
		msgs = append(msgs, fmt.Sprintf("the platform has %d %s: %s", len(sorted), plural(len(sorted), what, what+"s"), strings.Join(sorted, ", ")))
	} else {
		msgs = append(msgs, fmt.Sprintf("the platform has %s %s; fleetc placement lists them", thousands(len(sorted)), plural(len(sorted), what, what+"s")))
	}
	return msgs
}

// maxMatrixClusters is how many clusters the matrix shows as columns. For
// more, each ApplicationSet gets its count of clusters per env instead.
const maxMatrixClusters = 12

// maxGroupNames is how many clusters of a group the summary names.
const maxGroupNames = 3

func writePlacementJSON(w io.Writer, m *placement.Matrix) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(struct {
		*placement.Matrix
		Groups []placement.Group `json:"groups"`
	}{m, m.Groups()})
}

// placementSummary is what the summary says in either format: the totals,
// the bundles every cluster enables, and the groups with those left out.
type placementSummary struct {
	clusters, applications int
	envs                   []string
	common                 []string
	groups                 []placement.Group
}

func summarize(m *placement.Matrix) placementSummary {
	s := placementSummary{clusters: len(m.Clusters), groups: m.Groups()}
	for i, g := range s.groups {
		s.applications += g.Applications
		if len(s.envs) == 0 || s.envs[len(s.envs)-1] != g.Env {
			s.envs = append(s.envs, g.Env)
		}
		if i == 0 {
			s.common = slices.Clone(g.Bundles)
		} else {
			s.common = slices.DeleteFunc(s.common, func(b string) bool { return !slices.Contains(g.Bundles, b) })
		}
	}
	for i, g := range s.groups {
		s.groups[i].Bundles = slices.DeleteFunc(slices.Clone(g.Bundles), func(b string) bool { return slices.Contains(s.common, b) })
	}
	return s
}

// headline is the first line of the summary.
func (s placementSummary) headline(m *placement.Matrix, quote func(string) string) string {
	line := fmt.Sprintf("%s %s in %d %s and %d %s, %s %s from %d %s",
		thousands(s.clusters), plural(s.clusters, "cluster", "clusters"),
		len(s.envs), plural(len(s.envs), "env", "envs"),
		len(s.groups), plural(len(s.groups), "group", "groups"),
		thousands(s.applications), plural(s.applications, "Application", "Applications"),
		len(m.Sets), plural(len(m.Sets), "ApplicationSet", "ApplicationSets"))
	if len(s.common) > 0 && s.clusters > 1 {
		q := make([]string, len(s.common))
		for i, b := range s.common {
			q[i] = quote(b)
		}
		line += fmt.Sprintf("; every cluster enables %s", strings.Join(q, ", "))
	}
	return line
}

// groupCells are the cells of a group's row: env, bundles, clusters,
// Applications per cluster, some of its clusters.
func groupCells(g placement.Group, quote func(string) string) []string {
	bundles := "-"
	if len(g.Bundles) > 0 {
		q := make([]string, len(g.Bundles))
		for i, b := range g.Bundles {
			q[i] = quote(b)
		}
		bundles = strings.Join(q, " ")
	}
	apps := fmt.Sprint(g.MinApps)
	if g.MaxApps != g.MinApps {
		apps = fmt.Sprintf("%d-%d", g.MinApps, g.MaxApps)
	}
	names := g.Clusters[:min(len(g.Clusters), maxGroupNames)]
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = quote(n)
	}
	some := strings.Join(q, ", ")
	if more := len(g.Clusters) - len(names); more > 0 {
		some += fmt.Sprintf(" and %s more", thousands(more))
	}
	return []string{envName(g.Env), bundles, thousands(len(g.Clusters)), apps, some}
}

// setFrom is where a set comes from: the bundle of a generated set, the
// file of a hand-written one.
func setFrom(r placement.Row) string {
	if r.Source != "" {
		return r.Source
	}
	return r.Bundle
}

// envHeaders are envs as column headers say them.
func envHeaders(envs []string) []string {
	out := make([]string, len(envs))
	for i, e := range envs {
		out[i] = envName(e)
	}
	return out
}

// envCounts are a row's clusters per env, in the order of envs.
func envCounts(m *placement.Matrix, r placement.Row, envs []string) []string {
	n := map[string]int{}
	for _, c := range r.Clusters {
		n[m.Env(c)]++
	}
	out := make([]string, len(envs))
	for i, e := range envs {
		out[i] = thousands(n[e])
	}
	return out
}

// matrixCells are a row's cells of the matrix: x where the set deploys.
func matrixCells(m *placement.Matrix, r placement.Row) []string {
	cells := make([]string, len(m.Clusters))
	for i, c := range m.Clusters {
		cells[i] = "-"
		if _, ok := slices.BinarySearch(r.Clusters, c); ok {
			cells[i] = "x"
		}
	}
	return cells
}

// writePlacementText prints the summary, then the matrix (one row per
// ApplicationSet and one column per cluster), or for many clusters each
// ApplicationSet's clusters per env.
func writePlacementText(w io.Writer, m *placement.Matrix) error {
	s := summarize(m)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "%s\n\n", s.headline(m, plainName))
	fmt.Fprintf(tw, "ENV\tBUNDLES\tCLUSTERS\tAPPS\tNAMES\n")
	for _, g := range s.groups {
		fmt.Fprintf(tw, "%s\n", strings.Join(groupCells(g, plainName), "\t"))
	}
	fmt.Fprintln(tw)
	if len(m.Clusters) <= maxMatrixClusters {
		fmt.Fprintf(tw, "APPLICATIONSET\tFROM\t%s\n", strings.Join(m.Clusters, "\t"))
		for _, r := range m.Sets {
			fmt.Fprintf(tw, "%s\t%s\t%s\n", r.Name, setFrom(r), strings.Join(matrixCells(m, r), "\t"))
		}
		return tw.Flush()
	}
	envs := s.envs
	fmt.Fprintf(tw, "APPLICATIONSET\tFROM\tCLUSTERS\t%s\n", strings.ToUpper(strings.Join(envHeaders(envs), "\t")))
	for _, r := range m.Sets {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", r.Name, setFrom(r), thousands(len(r.Clusters)), strings.Join(envCounts(m, r, envs), "\t"))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintf(w, "\nA matrix shows up to %d clusters: choose some with --cluster.\n", maxMatrixClusters)
	return err
}

// writePlacementMarkdown writes the same as text as a pull-request
// comment: its size depends on the groups and ApplicationSets, not on how
// many clusters there are.
func writePlacementMarkdown(w io.Writer, m *placement.Matrix) error {
	code := func(s string) string { return "`" + s + "`" }
	s := summarize(m)
	var b strings.Builder
	b.WriteString("### fleetc placement\n\n")
	fmt.Fprintf(&b, "%s.\n\n", s.headline(m, code))
	b.WriteString("| env | bundles | clusters | apps | names |\n|:--|:--|--:|--:|:--|\n")
	for _, g := range s.groups {
		fmt.Fprintf(&b, "| %s |\n", strings.Join(groupCells(g, code), " | "))
	}
	b.WriteString("\n")
	if len(m.Clusters) <= maxMatrixClusters {
		cols := make([]string, len(m.Clusters))
		for i, c := range m.Clusters {
			cols[i] = code(c)
		}
		fmt.Fprintf(&b, "| ApplicationSet | from | %s |\n|:--|:--|%s\n", strings.Join(cols, " | "), strings.Repeat(":-:|", len(cols)))
		for _, r := range m.Sets {
			fmt.Fprintf(&b, "| %s | %s | %s |\n", code(r.Name), code(setFrom(r)), strings.Join(matrixCells(m, r), " | "))
		}
	} else {
		fmt.Fprintf(&b, "| ApplicationSet | from | clusters | %s |\n|:--|:--|--:|%s\n", strings.Join(envHeaders(s.envs), " | "), strings.Repeat("--:|", len(s.envs)))
		for _, r := range m.Sets {
			fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", code(r.Name), code(setFrom(r)), thousands(len(r.Clusters)), strings.Join(envCounts(m, r, s.envs), " | "))
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}
