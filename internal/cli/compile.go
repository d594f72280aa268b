package cli

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/fleetc/fleetc/internal/compile"
	"github.com/fleetc/fleetc/internal/load"
	"github.com/fleetc/fleetc/internal/output"
	"github.com/fleetc/fleetc/internal/render"
)

// platformFlags locate the platform and select its clusters; compile and
// diff share them.
type platformFlags struct {
	root     string
	out      string
	clusters []string
}

func (f *platformFlags) bind(c *cobra.Command) {
	c.Flags().StringVar(&f.root, "root", "", "directory inside the platform's CUE module (default: the working directory)")
	c.Flags().StringVar(&f.out, "out", "", "output directory (default: platform.output of the platform, relative to the module root)")
	c.Flags().StringArrayVar(&f.clusters, "cluster", nil, "compile only this cluster (repeatable)")
}

type compileOptions struct {
	IO
	platformFlags
}

func newCompileCmd(io IO) *cobra.Command {
	o := &compileOptions{IO: io}
	c := &cobra.Command{
		Use:   "compile",
		Short: "Write every cluster's values files and Argo CD registration",
		Long: `compile evaluates every cluster of the platform against its schema and writes,
into the output directory:

  cluster/<cluster>/<category>/<app>/values.yaml   one per app of each enabled bundle
  argocd/clusters/<cluster>.yaml                   the cluster's Argo CD registration
  .fleetc-ledger                                   the files fleetc owns there

If any cluster is invalid nothing is written. Files fleetc does not own are
never overwritten or deleted; files it owns that are no longer produced (a
removed cluster, a disabled bundle) are removed.`,
		Example: `  # Compile the platform that contains the working directory
  fleetc compile

  # Compile two clusters only, into another directory
  fleetc compile --cluster sandbox-dev --cluster payments-prod --out /tmp/deploy`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(*cobra.Command, []string) error { return o.run() },
	}
	o.platformFlags.bind(c)
	return c
}

func (o *compileOptions) run() error {
	start := time.Now()
	plan, err := buildPlan(o.IO, o.platformFlags)
	if err != nil {
		return err
	}
	res, err := output.Write(plan.outDir, output.Plan{Files: plan.files, Scope: plan.scope})
	if err != nil {
		return err
	}
	fmt.Fprintf(o.Stderr, "fleetc: compiled %d %s into %s: %d written, %d unchanged, %d removed (%s)\n",
		plan.clusters, plural(plan.clusters, "cluster", "clusters"), displayPath(o.Cwd, plan.outDir),
		len(res.Written), len(res.Unchanged), len(res.Removed), time.Since(start).Round(time.Millisecond))
	return nil
}

// plan is the output of a compile before it is written or diffed.
type plan struct {
	outDir   string
	files    []render.File
	scope    func(string) bool
	clusters int
	// outputs are the per-cluster results, sorted by cluster.
	outputs []*render.Output
}

// buildPlan runs the pipeline up to the bytes: load, compile, render.
func buildPlan(io IO, f platformFlags) (*plan, error) {
	dir := f.root
	if dir == "" {
		dir = io.Cwd
	} else if !filepath.IsAbs(dir) {
		dir = filepath.Join(io.Cwd, dir)
	}
	p, err := load.Load(load.Config{Dir: dir})
	if err != nil {
		return nil, err
	}
	settings, err := compile.ReadSettings(p)
	if err != nil {
		return nil, err
	}
	results, err := compile.Fleet(p, compile.Options{Clusters: f.clusters}, func(c *compile.Cluster) (*render.Output, error) {
		return render.Cluster(c, settings, p.Root)
	})
	if err != nil {
		return nil, err
	}
	pl := &plan{outDir: filepath.Join(p.Root, settings.Output), clusters: len(results)}
	if f.out != "" {
		pl.outDir = f.out
		if !filepath.IsAbs(pl.outDir) {
			pl.outDir = filepath.Join(io.Cwd, pl.outDir)
		}
	}
	for _, r := range results {
		pl.outputs = append(pl.outputs, r.Value)
		pl.files = append(pl.files, r.Value.Files...)
	}
	slices.SortFunc(pl.files, func(a, b render.File) int { return strings.Compare(a.Path, b.Path) })
	if len(f.clusters) > 0 {
		names := make([]string, len(results))
		for i, r := range results {
			names[i] = r.Cluster
		}
		pl.scope = func(path string) bool {
			return slices.ContainsFunc(names, func(n string) bool { return render.OwnedBy(n, path) })
		}
	}
	return pl, nil
}

func displayPath(cwd, p string) string {
	if rel, err := filepath.Rel(cwd, p); err == nil && !strings.HasPrefix(rel, "..") {
		return rel
	}
	return p
}
