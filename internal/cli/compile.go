package cli

import (
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/fleetc/fleetc/internal/cache"
	"github.com/fleetc/fleetc/internal/compile"
	"github.com/fleetc/fleetc/internal/diag"
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
	nameListVar(c.Flags(), &f.clusters, "cluster", "cluster", "compile only these clusters (repeatable, or a comma-separated list)")
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
		RunE: func(c *cobra.Command, _ []string) error {
			if c.Flags().Changed("out") && strings.TrimSpace(o.out) == "" {
				return usageError{errors.New("--out is empty: want the directory to write into")}
			}
			return o.run()
		},
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
	l, err := loadPlatform(o.IO, flags)
	if err != nil {
		return err
	}
	if err := l.checkOut(o.out); err != nil {
		return err
	}
	// The output entry holds the stamps of the last compile into this
	// directory, so that unchanged files cost an lstat, and, after a
	// compile of the whole fleet, the key of its inputs for the shortcut
	// of unchanged.
	entryKey := cache.PathKey(l.outDir)
	var last outputEntry
	stamps := make(chan output.Stamps, 1)
	if !o.check {
		var raw []byte
		if data, ok := l.cc.cache.Get("output", entryKey); ok {
			if raw, err = last.decodeHead(data); err != nil {
				last, raw = outputEntry{}, nil
			}
		}
		if done, err := o.unchanged(l, flags, &last, raw, start); done || err != nil {
			return err
		}
		if last.Stamps.Files != nil {
			stamps <- last.Stamps // decoded by unchanged
		} else {
			go func() {
				var s output.Stamps
				if raw == nil || s.UnmarshalBinary(raw) != nil {
					s = output.Stamps{}
				}
				stamps <- s
			}()
		}
	}
	if o.mayCarry(l, flags, &last) {
		if recs, err := decodeCarried(last.Carried); err == nil {
			l.carry = &carrier{recs: recs}
		}
	}
	plan, err := l.plan(o.IO, flags)
	if err != nil {
		return err
	}
	if o.check {
		t0 := time.Now()
		err := checkOutput(o.IO, plan, o.platformFlags.commandLine("compile"))
		flags.stats.add("check", t0, "compare with the files on disk")
		return err
	}
	if secretsDir != "" {
		if err := refuseSecretsDir(secretsDir, plan.outDir); err != nil {
			return err
		}
	}
	t0 := time.Now()
	last.Stamps = <-stamps
	write := func() (output.Result, error) {
		p := output.Plan{Files: plan.files, Scope: plan.scope, Known: &last.Stamps, Display: displayPath(o.Cwd, plan.outDir)}
		if l.carry != nil {
			p.Carried, p.Fetch = plan.carried, l.carry.fetch(plan.cc)
		}
		return output.Write(plan.outDir, p)
	}
	res, err := write()
	if errors.Is(err, errNotCarried) || errors.Is(err, output.ErrCarried) {
		// Nothing was written: compile again, reading every cluster's
		// entry or evaluating it.
		flags.stats.add("retry", t0, "the files of clusters carried over from the last compile could not be read back; again without carrying:")
		l.carry = nil
		if plan, err = l.plan(o.IO, flags); err != nil {
			return err
		}
		t0 = time.Now()
		res, err = write()
	}
	if err != nil {
		return err
	}
	if plan.cc.cache != nil {
		e := outputEntry{Stamps: *res.Stamps}
		if plan.handwritten != nil && len(flags.clusters) == 0 && secretsDir == "" {
			e.Key, e.Full = plan.cc.fleetKey(l.p, plan.outDir, plan.handwritten), time.Now()
			if l.carry != nil && l.carry.n.Load() > 0 {
				// Not every cluster's entry was read.
				e.Full = last.Full
			}
			e.Carried = encodeCarried(plan.records)
		}
		if data, err := e.encode(); err == nil {
			plan.cc.cache.Put("output", entryKey, data) // best effort: it only saves work
		}
	}
	plan.cc.cache.Trim()
	flags.stats.add("write", t0, fmt.Sprintf("%d files: %d written, %d unchanged, %d removed", len(plan.files)+len(plan.carried), len(res.Written), len(res.Unchanged), len(res.Removed)))
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

// mayCarry reports whether this compile may carry clusters over from the
// record of the last one (see carried): a compile of the whole fleet that
// writes, as the shortcut below, less than fleetTTL after the last
// compile that read every cluster's entry, so that the entries of carried
// clusters are still there should their files need restoring.
func (o *compileOptions) mayCarry(l *loaded, f platformFlags, last *outputEntry) bool {
	if o.check || l.cc.cache == nil || len(f.clusters) > 0 || f.readSecret != nil || len(f.overlay) > 0 || last.Key == (cache.Key{}) || len(last.Carried) == 0 {
		return false
	}
	age := time.Since(last.Full)
	return age >= 0 && age <= fleetTTL
}

// unchanged is the shortcut of a compile whose inputs did not change:
// when the whole fleet's inputs are those of the last compile into the
// same directory, less than fleetTTL after the pipeline last ran for
// them, and the files are as that compile left them, there is nothing to
// evaluate, render or write. It reports whether it applied.
func (o *compileOptions) unchanged(l *loaded, f platformFlags, last *outputEntry, rawStamps []byte, start time.Time) (bool, error) {
	cc := l.cc
	if cc.cache == nil || len(f.clusters) > 0 || f.readSecret != nil || len(f.overlay) > 0 || last.Key == (cache.Key{}) {
		return false, nil
	}
	t0 := time.Now()
	e := last
	if age := time.Since(e.Full); age < 0 || age > fleetTTL {
		return false, nil
	}
	hw, ok := l.handwrittenKey()
	if !ok || cc.fleetKey(l.p, l.outDir, hw) != e.Key || e.Stamps.UnmarshalBinary(rawStamps) != nil {
		return false, nil
	}
	shown := displayPath(o.Cwd, l.outDir)
	keep, ok, err := output.Unchanged(l.outDir, &e.Stamps, shown)
	if err != nil || !ok {
		return false, err
	}
	if keep != &e.Stamps {
		// Files too recent for their stamps were read: stamps taken now
		// spare the next compile that.
		e.Stamps = *keep
		if data, err := e.encode(); err == nil {
			cc.cache.Put("output", cache.PathKey(l.outDir), data)
		}
	}
	cc.cache.Trim()
	n := len(e.Stamps.Files)
	f.stats.add("unchanged", t0, fmt.Sprintf("%d files as the last compile of the same inputs left them; nothing evaluated or written (%s)", n, cc.describe()))
	fmt.Fprintf(o.Stderr, "fleetc: compiled %d %s into %s: 0 written, %d unchanged, 0 removed (%s)\n",
		len(l.p.Clusters), plural(len(l.p.Clusters), "cluster", "clusters"), shown, n, time.Since(start).Round(time.Millisecond))
	return true, nil
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
	// outputs are the per-cluster results of the selected clusters, and
	// fleet those of every cluster, sorted by cluster: with --cluster, the
	// other clusters are compiled too, for the fleet-wide checks.
	outputs, fleet []*render.Output
	// placement says which ApplicationSet deploys to which compiled
	// cluster.
	placement *placement.Matrix
	// cc is the cluster cache; cc.cache is the build cache, nil when it
	// is off.
	cc *clusterCache
	// handwritten are the hand-written ApplicationSets as cache keys hold
	// them, when the cache is on and they passed.
	handwritten []byte
	// carried are the paths of the files of the clusters carried over
	// from the last compile (not in files: their bytes are not at hand),
	// and records what the next compile may carry over from this one.
	carried []string
	records []carried
}

// rendered is what the render step makes of one cluster.
type rendered struct {
	out    *render.Output
	secret render.File
	// carried is set for a cluster carried over from the last compile's
	// record: out has the paths of its files but not their bytes.
	carried bool
}

// loaded is a platform read from disk, before any cluster is compiled.
type loaded struct {
	p        *load.Platform
	settings *compile.Settings
	outDir   string
	cc       *clusterCache

	// carry, when set, carries clusters over from the last compile.
	carry *carrier
	// done, when closed, cancels plan's compile (lsp: a newer edit made
	// it stale); plan then returns context.Canceled.
	done <-chan struct{}

	// What catalog read, once.
	catRead bool
	cat     *compile.Catalog
	hwSets  []placement.Set
	hwDiags diag.List
	catErr  error
}

// loadPlatform is the first step of a plan: it reads the platform, its
// settings and where its output goes, and opens the cluster cache.
func loadPlatform(io IO, f platformFlags) (*loaded, error) {
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
	l := &loaded{p: p, settings: settings, outDir: filepath.Join(p.Root, settings.Output), cc: openClusterCache(io, p, f)}
	if f.out != "" {
		l.outDir = f.out
		if !filepath.IsAbs(l.outDir) {
			l.outDir = filepath.Join(io.Cwd, l.outDir)
		}
	}
	return l, nil
}

// checkOut refuses an output directory given by --out (out, as given)
// that fleetc cannot own: see load.Platform.OutputProblem. The directory
// platform.output names is checked where the settings are read.
func (l *loaded) checkOut(out string) error {
	if out == "" {
		return nil
	}
	if msg := l.p.OutputProblem(l.outDir, l.settings.ApplicationSets.Handwritten); msg != "" {
		return usageError{fmt.Errorf("--out %s: %s", out, msg)}
	}
	return nil
}

// checkClusters makes --cluster names that the platform does not have a
// usage error that names the nearest one, before anything is compiled.
func (l *loaded) checkClusters(names []string) error {
	if len(names) == 0 {
		return nil
	}
	if msgs := unknownNames("--cluster", "cluster", names, l.clusterNames()); len(msgs) > 0 {
		return usageError{errors.New(strings.Join(msgs, "\n"))}
	}
	return nil
}

// clusterNames is the names of the platform's clusters, what --cluster
// takes.
func (l *loaded) clusterNames() []string {
	names := make([]string, 0, len(l.p.Clusters))
	for _, c := range l.p.Clusters {
		names = append(names, c.Name)
	}
	return names
}

// buildPlan runs the pipeline up to the bytes: load, compile, render.
func buildPlan(io IO, f platformFlags) (*plan, error) {
	l, err := loadPlatform(io, f)
	if err != nil {
		return nil, err
	}
	return l.plan(io, f)
}

// plan compiles and renders the loaded platform.
func (l *loaded) plan(io IO, f platformFlags) (*plan, error) {
	p, settings, cc := l.p, l.settings, l.cc
	if err := l.checkClusters(f.clusters); err != nil {
		return nil, err
	}
	prog := newProgress(io, "compiling clusters")
	var fleetStats compile.Stats
	// With --cluster, the other clusters are compiled too (from the cache
	// where it has them), so that every fleet-wide check sees the whole
	// fleet; only the selected clusters' files are planned.
	opts := compile.Options{Clusters: f.clusters, WithFleet: true, ReadSecret: f.readSecret, Progress: prog.fn(), Stats: &fleetStats, Done: l.done}
	lookup := cc.lookup
	if l.carry != nil {
		lookup = l.carry.lookup(cc)
	}
	results, err := compile.FleetCached(p, opts, lookup, func(c *compile.Cluster) (rendered, error) {
		out, err := render.Cluster(c, settings, p.Root)
		if err == nil {
			cc.put(c, out)
		}
		if err != nil || f.readSecret == nil || c.Context {
			return rendered{out: out}, err
		}
		secret, err := render.InlineSecret(c, settings, p.Root)
		return rendered{out: out, secret: secret}, err
	})
	prog.clear()
	if err != nil {
		return nil, err
	}
	nCarried := 0
	if l.carry != nil {
		nCarried = int(l.carry.n.Load())
	}
	f.stats.addFleet(fleetStats, nCarried, cc.describe())
	t0 := time.Now()
	pl := &plan{outDir: l.outDir, cc: cc}
	var names []string // the selected clusters
	for _, r := range results {
		pl.fleet = append(pl.fleet, r.Value.out)
		if r.Context {
			continue
		}
		names = append(names, r.Cluster)
		pl.outputs = append(pl.outputs, r.Value.out)
		if r.Value.carried {
			for _, file := range r.Value.out.Files {
				pl.carried = append(pl.carried, file.Path)
			}
		} else {
			pl.files = append(pl.files, r.Value.out.Files...)
		}
		if f.readSecret != nil {
			pl.secrets = append(pl.secrets, r.Value.secret)
		}
		if cc.cache != nil && len(f.clusters) == 0 && f.readSecret == nil {
			pl.records = append(pl.records, carried{key: cc.keys[r.Cluster], entry: clusterEntry{Server: r.Server, Out: *r.Value.out}})
		}
	}
	pl.clusters = len(names)
	if err := addApplicationSets(pl, l, len(f.clusters) > 0, f.matrix); err != nil {
		return nil, err
	}
	f.stats.add("checks", t0, "ApplicationSets and placement")
	slices.SortFunc(pl.files, func(a, b render.File) int { return strings.Compare(a.Path, b.Path) })
	if len(f.clusters) > 0 {
		if pl.placement != nil {
			// The whole fleet was placed; --cluster shows its clusters.
			pl.placement = pl.placement.Filter(nil, names)
		}
		// Each path is asked about once, of the one cluster that can own
		// it, not of every name: the scope sees every path of the ledger.
		selected := make(map[string]bool, len(names))
		secrets := make(map[string]bool, len(names))
		for _, n := range names {
			selected[n], secrets[render.InlineSecretPath(n)] = true, true
		}
		pl.scope = func(path string) bool {
			c, ok := render.RegistrationOf(path)
			if !ok {
				// A values file: the directory under ValuesDir.
				rest, _ := strings.CutPrefix(path, render.ValuesDir+"/")
				c, _, _ = strings.Cut(rest, "/")
			}
			return selected[c] && render.OwnedBy(c, path)
		}
		pl.secretScope = func(path string) bool { return secrets[path] }
	}
	return pl, nil
}

func displayPath(cwd, p string) string {
	if rel, err := filepath.Rel(cwd, p); err == nil && !strings.HasPrefix(rel, "..") {
		return rel
	}
	return p
}
