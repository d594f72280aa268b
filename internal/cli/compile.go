package cli

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/fleetc/fleetc/internal/cache"
	"github.com/fleetc/fleetc/internal/compile"
	"github.com/fleetc/fleetc/internal/load"
	"github.com/fleetc/fleetc/internal/output"
	"github.com/fleetc/fleetc/internal/placement"
	"github.com/fleetc/fleetc/internal/render"
)

// platformFlags locate the platform and select its clusters; compile and
// diff share them.
type platformFlags struct {
	root     string
	out      string
	clusters []string
	// overlay holds an editor's unsaved buffers by absolute path (for
	// lsp); it is not a flag.
	overlay map[string][]byte
	// readSecret, set by compile --cluster-secrets=inline, reads each
	// cluster's credentials so that buildPlan renders its cluster Secret;
	// it is not a flag.
	readSecret compile.SecretReader
	// stats, when set, records the time of each phase; it is not a flag.
	stats *stats
	// matrix says the caller reads plan.placement, so the placement must
	// be computed even when the cache knows these inputs pass the checks;
	// it is not a flag.
	matrix bool
}

func (f *platformFlags) bind(c *cobra.Command) {
	c.Flags().StringVar(&f.root, "root", "", "directory inside the platform's CUE module (default: the working directory)")
	c.Flags().StringVar(&f.out, "out", "", "output directory (default: platform.output of the platform, relative to the module root)")
	c.Flags().StringArrayVar(&f.clusters, "cluster", nil, "compile only this cluster (repeatable)")
}

type compileOptions struct {
	IO
	platformFlags
	check   bool
	stats   bool
	secrets secretsFlags
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
removed cluster, a disabled bundle) are removed.

A registration is an ExternalSecret: the credentials stay in the secret
store. With --cluster-secrets=inline, compile also writes each cluster's
Argo CD cluster Secret with its credentials in it, read from the sources
that the @secret attributes of the cluster schema name, into
--secrets-out: a directory outside the git work tree, files mode 0600.`,
		Example: `  # Compile the platform that contains the working directory
  fleetc compile

  # Compile two clusters only, into another directory
  fleetc compile --cluster sandbox-dev --cluster payments-prod --out /tmp/deploy

  # In CI, also write cluster Secrets with credentials from the environment
  fleetc compile --cluster-secrets=inline --secrets-out "$RUNNER_TEMP/secrets"`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(*cobra.Command, []string) error { return o.run() },
	}
	o.platformFlags.bind(c)
	c.Flags().BoolVar(&o.check, "check", false, "write nothing; list the files that are stale and exit 1 if there are any")
	c.Flags().BoolVar(&o.stats, "stats", false, "print the time each phase took (load, evaluate, render, checks, write) to stderr")
	o.secrets.bind(c)
	return c
}

func (o *compileOptions) run() error {
	start := time.Now()
	secretsDir, err := o.secrets.dir(o.Cwd, o.platformFlags.dir(o.Cwd), o.check)
	if err != nil {
		return err
	}
	flags := o.platformFlags
	if secretsDir != "" {
		flags.readSecret = readSecret(o.IO)
	}
	if o.stats {
		flags.stats = newStats()
		defer flags.stats.print(o.Stderr)
	}
	plan, err := buildPlan(o.IO, flags)
	if err != nil {
		return err
	}
	if o.check {
		t0 := time.Now()
		err := checkOutput(o.IO, plan)
		flags.stats.add("check", t0, "compare with the files on disk")
		return err
	}
	if secretsDir != "" {
		if err := refuseSecretsDir(secretsDir, plan.outDir); err != nil {
			return err
		}
	}
	t0 := time.Now()
	stampsKey := cache.PathKey(plan.outDir)
	var known output.Stamps
	if data, ok := plan.cc.cache.Get("stamps", stampsKey); !ok || known.UnmarshalBinary(data) != nil {
		known = output.Stamps{}
	}
	res, err := output.Write(plan.outDir, output.Plan{Files: plan.files, Scope: plan.scope, Known: &known, Display: displayPath(o.Cwd, plan.outDir)})
	if err != nil {
		return err
	}
	if res.Stamps != &known {
		if data, err := res.Stamps.MarshalBinary(); err == nil {
			plan.cc.cache.Put("stamps", stampsKey, data) // best effort: it only saves work
		}
	}
	plan.cc.cache.Trim()
	flags.stats.add("write", t0, fmt.Sprintf("%d files: %d written, %d unchanged, %d removed", len(plan.files), len(res.Written), len(res.Unchanged), len(res.Removed)))
	summary := fmt.Sprintf("fleetc: compiled %d %s into %s: %d written, %d unchanged, %d removed",
		plan.clusters, plural(plan.clusters, "cluster", "clusters"), displayPath(o.Cwd, plan.outDir),
		len(res.Written), len(res.Unchanged), len(res.Removed))
	if secretsDir != "" {
		res, err := output.Write(secretsDir, output.Plan{Files: plan.secrets, Scope: plan.secretScope, Private: true, Display: displayPath(o.Cwd, secretsDir)})
		if err != nil {
			return err
		}
		summary += fmt.Sprintf("; cluster Secrets into %s: %d written, %d unchanged, %d removed",
			displayPath(o.Cwd, secretsDir), len(res.Written), len(res.Unchanged), len(res.Removed))
	}
	fmt.Fprintf(o.Stderr, "%s (%s)\n", summary, time.Since(start).Round(time.Millisecond))
	return nil
}

// plan is the output of a compile before it is written or diffed.
type plan struct {
	outDir   string
	files    []render.File
	scope    func(string) bool
	clusters int
	// secrets are the inline cluster Secrets, when flags.readSecret is
	// set, and secretScope the paths they own among the secrets; they
	// never go into files.
	secrets     []render.File
	secretScope func(string) bool
	// outputs are the per-cluster results, sorted by cluster.
	outputs []*render.Output
	// placement says which ApplicationSet deploys to which compiled
	// cluster.
	placement *placement.Matrix
	// cc is the cluster cache; cc.cache is the build cache, nil when it
	// is off.
	cc *clusterCache
}

// rendered is what the render step makes of one cluster.
type rendered struct {
	out    *render.Output
	secret render.File
}

// buildPlan runs the pipeline up to the bytes: load, compile, render.
func buildPlan(io IO, f platformFlags) (*plan, error) {
	t0 := time.Now()
	p, err := load.Load(load.Config{Dir: f.dir(io.Cwd), Overlay: f.overlay})
	if err != nil {
		return nil, err
	}
	settings, err := compile.ReadSettings(p)
	if err != nil {
		return nil, err
	}
	f.stats.add("load", t0, fmt.Sprintf("%d cluster files, the shared package and its settings", len(p.Clusters)))
	prog := newProgress(io, "compiling clusters")
	var fleetStats compile.Stats
	cc := openClusterCache(io, p, f)
	opts := compile.Options{Clusters: f.clusters, ReadSecret: f.readSecret, Progress: prog.fn(), Stats: &fleetStats}
	results, err := compile.FleetCached(p, opts, cc.lookup, func(c *compile.Cluster) (rendered, error) {
		out, err := render.Cluster(c, settings, p.Root)
		if err == nil {
			cc.put(c, out)
		}
		if err != nil || f.readSecret == nil {
			return rendered{out: out}, err
		}
		secret, err := render.InlineSecret(c, settings, p.Root)
		return rendered{out: out, secret: secret}, err
	})
	prog.clear()
	if err != nil {
		return nil, err
	}
	f.stats.addFleet(fleetStats, cc.describe())
	t0 = time.Now()
	pl := &plan{outDir: filepath.Join(p.Root, settings.Output), clusters: len(results), cc: cc}
	if f.out != "" {
		pl.outDir = f.out
		if !filepath.IsAbs(pl.outDir) {
			pl.outDir = filepath.Join(io.Cwd, pl.outDir)
		}
	}
	for _, r := range results {
		pl.outputs = append(pl.outputs, r.Value.out)
		pl.files = append(pl.files, r.Value.out.Files...)
		if f.readSecret != nil {
			pl.secrets = append(pl.secrets, r.Value.secret)
		}
	}
	if err := addApplicationSets(pl, p, settings, len(f.clusters) > 0, f.matrix); err != nil {
		return nil, err
	}
	f.stats.add("checks", t0, "ApplicationSets and placement")
	slices.SortFunc(pl.files, func(a, b render.File) int { return strings.Compare(a.Path, b.Path) })
	if len(f.clusters) > 0 {
		names := make([]string, len(results))
		for i, r := range results {
			names[i] = r.Cluster
		}
		pl.scope = func(path string) bool {
			return slices.ContainsFunc(names, func(n string) bool { return render.OwnedBy(n, path) })
		}
		pl.secretScope = func(path string) bool {
			return slices.ContainsFunc(names, func(n string) bool { return path == render.InlineSecretPath(n) })
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
