// Package compile evaluates clusters: each cluster file on its own is
// unified with the shared package's `clusters` (the platform's schema and
// defaults), validated, filled into its `#deploy` (the catalog), and
// returned as plain data plus the CUE values of its apps. It never touches
// disk or prints.
package compile

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"cuelang.org/go/cue"
	"cuelang.org/go/cue/ast"
	"cuelang.org/go/cue/cuecontext"
	"cuelang.org/go/cue/token"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/fleetc/fleetc/internal/diag"
	"github.com/fleetc/fleetc/internal/fan"
	"github.com/fleetc/fleetc/internal/load"
)

// The CUE paths fleetc reads from the clusters package.
var (
	// ClustersPath holds every cluster, keyed by name.
	ClustersPath = cue.ParsePath(load.ClustersField)
	// DeployDefPath is what one cluster gets: fleetc fills its `cluster`
	// field and reads its `apps`.
	DeployDefPath = cue.ParsePath("#deploy")
	// PlatformPath holds the platform settings fleetc itself reads.
	PlatformPath = cue.ParsePath("platform")
)

// Cluster is one evaluated, valid cluster.
type Cluster struct {
	Name   string
	File   string // absolute path of the cluster's file
	Env    string
	Server string
	// Bundles are the enabled bundles, sorted.
	Bundles     []string
	Labels      map[string]string
	Annotations map[string]string
	ArgoCD      ArgoCD
	// CredentialsKey is where the secret store keeps this cluster's
	// credentials.
	CredentialsKey string
	// Apps are the apps the cluster gets, in the catalog's order.
	Apps []App
	// Secrets are the values of the cluster's secret fields (see
	// SecretAttr) by path, such as BearerTokenPath; read only when
	// Options.ReadSecret is set. Nothing rendered for the committed output
	// may use them.
	Secrets map[string]Secret
	// Value is the evaluated cluster, for tools that explain it.
	Value cue.Value
	// Context is set for a cluster compiled only so that the fleet-wide
	// checks see the whole fleet (Options.WithFleet): its secrets are not
	// read, and its files are not the caller's to write.
	Context bool
}

// ArgoCD holds the optional Argo CD settings of a cluster.
type ArgoCD struct {
	Project          string   `json:"project"`
	Namespaces       []string `json:"namespaces"`
	ClusterResources *bool    `json:"clusterResources"`
}

// App is one app deployed to a cluster.
type App struct {
	Name     string `json:"name"`
	Bundle   string `json:"bundle"`
	Category string `json:"category"`
	Chart    string `json:"chart"`
	// Values is the app's values file, as a concrete CUE value.
	Values cue.Value `json:"-"`
	// Memo, unless empty, says what the values are made of: the cluster
	// fields the app reads, with their values. Two apps of one compile
	// with the same Memo have the same values, field order included, so
	// their values file is rendered once (see reads.go).
	Memo string `json:"-"`
}

// Options selects what Fleet compiles.
type Options struct {
	// Clusters limits the compile to these cluster names; empty means all.
	Clusters []string
	// WithFleet, with Clusters, compiles every other cluster too, as
	// context, so that the checks of the whole fleet hold for the
	// selected clusters: no two clusters share a server or a Secret name
	// here, and the caller's own checks (placement) can see every
	// cluster. A context cluster comes from the cache when it has it, and
	// its result is marked Context. Its own errors are left out (they are
	// not the selected clusters'), but its server as its file writes it
	// still counts; one that does not compile and does not write its
	// server out is an error, as the check cannot include it.
	WithFleet bool
	// Workers is how many clusters are evaluated at once; 0 means one per
	// CPU.
	Workers int
	// ReadSecret, when set, reads the secret fields of each cluster into
	// Cluster.Secrets; a missing one is an error of the cluster. Unset,
	// they are not read: the committed output never holds a secret.
	ReadSecret SecretReader
	// Progress, when set, is called after each cluster with how many are
	// done of how many; calls may come from several goroutines at once.
	Progress func(done, total int)
	// Stats, when set, receives the time spent per phase.
	Stats *Stats
	// Done, when set (a context's Done), cancels the compile when it is
	// closed: no more clusters are handed out, and FleetCached returns
	// context.Canceled as soon as the clusters being evaluated are done.
	// Their results have gone through the step (and so into a cache)
	// all the same; an editor cancels a stale check this way.
	Done <-chan struct{}
	// Rendered, when set, reports whether the step already has the bytes
	// of app a's values file for cluster c (an earlier cluster's, by
	// App.Memo), so that they need not be evaluated: then a compile of
	// many clusters evaluates the other apps alone (fast.go). Cluster.Apps
	// it leaves without Values are those it said yes to.
	Rendered func(c *Cluster, a App) bool
}

// Stats is where a Fleet spent its time. Evaluate and Step add up the
// time of every worker, so with several workers they exceed Wall.
type Stats struct {
	Workers  int
	Clusters int
	// Wall is the time from the first worker's start to the last one's
	// end.
	Wall time.Duration
	// Setup is the time the slowest worker took to build the shared
	// package.
	Setup time.Duration
	// Evaluate is the time spent evaluating and validating clusters, and
	// Step the time spent in the caller's step (such as rendering).
	Evaluate, Step time.Duration
	// Cached is how many clusters the cache had, and Lookup the time spent
	// asking it.
	Cached int
	Lookup time.Duration
	// Chosen is how many evaluated clusters got their apps from another
	// cluster's evaluation of #deploy, and Alone how many apps' values
	// were evaluated alone for them (fast.go).
	Chosen, Alone int
}

// Result is what one cluster yields after the caller's step.
type Result[T any] struct {
	Cluster string
	// Server is the cluster's API server, evaluated or as the cache had it.
	Server string
	Value  T
	// Context is set for a cluster that Options.Clusters did not select,
	// compiled for the fleet-wide checks (Options.WithFleet).
	Context bool
}

// Fleet evaluates the selected clusters of p, in parallel, and passes each
// valid cluster to step on the worker that evaluated it, so its CUE values
// can be turned into bytes and dropped before the next cluster. Results
// come back sorted by cluster name. Every problem in every cluster is
// reported; if there is any, the results are nil. A panic in a worker is
// raised again in the caller's goroutine, where it can be recovered, as a
// *fan.Panic that names the cluster.
func Fleet[T any](p *load.Platform, opts Options, step func(*Cluster) (T, error)) ([]Result[T], error) {
	return FleetCached(p, opts, nil, step)
}

// Cached looks a cluster file up in a cache of step results: ok means
// the cluster need not be evaluated, and v is what step returned for it
// (server is its API server, for the check that no two clusters share
// one).
type Cached[T any] func(f *load.ClusterFile) (v T, server string, ok bool)

// FleetCached is Fleet with a cache: each cluster is first looked up
// with cached, and only those it does not have are evaluated. The
// platform itself is still checked; the caller keys the cache on
// everything a cluster's result depends on.
func FleetCached[T any](p *load.Platform, opts Options, cached Cached[T], step func(*Cluster) (T, error)) ([]Result[T], error) {
	r, err := newFleetRun(p, opts, cached, step)
	if err != nil {
		return nil, err
	}
	start := time.Now()
	fan.Each(len(r.files)+1, r.workers, r.item, r.run)
	if opts.Stats != nil {
		*opts.Stats = Stats{
			Workers: r.workers, Clusters: len(r.files), Wall: time.Since(start),
			Setup:    time.Duration(r.evs.setupNanos.Load()),
			Evaluate: time.Duration(r.evalNanos.Load()), Step: time.Duration(r.stepNanos.Load()),
			Cached: int(r.hits.Load()), Lookup: time.Duration(r.lookupNanos.Load()),
		}
		if f := r.evs.fast; f != nil {
			opts.Stats.Chosen, opts.Stats.Alone = int(f.chosen.Load()), int(f.alone.Load())
		}
	}
	if r.canceled.Load() {
		return nil, context.Canceled
	}
	return r.collect()
}

// fleetRun is one FleetCached between its steps: the clusters, the
// evaluators its workers borrow, what became of each cluster (a worker
// writes only its own cluster's slots, so they need no lock) and the
// figures for Stats.
type fleetRun[T any] struct {
	p      *load.Platform
	opts   Options
	cached Cached[T]
	step   func(*Cluster) (T, error)
	files  []*load.ClusterFile
	// results[i] and out[i] are what became of files[i]: a cluster that
	// did not compile has no result (Cluster is "").
	results []Result[T]
	out     []outcome
	// files[selected:] are the context clusters.
	selected, workers int
	// creds are the credentials in the shared files: with any, no
	// cluster goes to the step.
	creds []credential
	evs   *evaluators

	evalNanos, stepNanos, lookupNanos, done, hits atomic.Int64
	canceled                                      atomic.Bool
}

// outcome is what became of one cluster besides its result: its server,
// its problems and the credentials they name.
type outcome struct {
	server string
	diags  diag.List
	creds  []credential
	// leaked says diags are the credential the step found in what it
	// would write, which sharedLeaks folds across clusters.
	leaked bool
}

// newFleetRun selects the clusters (and the others as context, WithFleet)
// and finds the shared files' credentials before any evaluator builds,
// and so mutates, the shared instance.
func newFleetRun[T any](p *load.Platform, opts Options, cached Cached[T], step func(*Cluster) (T, error)) (*fleetRun[T], error) {
	files, err := selectClusters(p, opts.Clusters)
	if err != nil {
		return nil, err
	}
	selected := len(files)
	if opts.WithFleet && len(opts.Clusters) > 0 {
		files = append(files, contextClusters(p, files)...)
	}
	workers := opts.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	workers = max(1, min(workers, len(files)))
	return &fleetRun[T]{
		p: p, opts: opts, cached: cached, step: step, files: files,
		results: make([]Result[T], len(files)), out: make([]outcome, len(files)),
		selected: selected, workers: workers, creds: sharedCredentials(p.Shared, p.Root),
		evs: &evaluators{p: p, readSecret: opts.ReadSecret, idle: make(chan *evaluator, workers), fast: newFast(opts, len(files))},
	}, nil
}

// item names fan.Each's item i for a panic: item 0 builds the first
// evaluator, item i > 0 is files[i-1].
func (r *fleetRun[T]) item(i int) string {
	if i == 0 {
		return sharedItem
	}
	return "cluster " + r.files[i-1].Name
}

// run is fan.Each's item i. Item 0 builds the first evaluator at once, as
// it also checks the platform, while the other workers look clusters up
// in the cache. Once the shared package fails, or Done is closed, no
// further cluster starts.
func (r *fleetRun[T]) run(i int) {
	if r.evs.failed.Load() {
		return
	}
	if i == 0 {
		if ev := r.evs.build(true); ev != nil {
			r.evs.put(ev)
		}
		return
	}
	i--
	select {
	case <-r.opts.Done:
		r.canceled.Store(true)
		return
	default:
	}
	if r.opts.Progress != nil {
		defer func() { r.opts.Progress(int(r.done.Add(1)), len(r.files)) }()
	}
	if !r.lookup(i) {
		r.compile(i)
	}
}

// lookup asks the cache for files[i]: true if it had its result. A file
// with problems of its own is evaluated, so that they are reported with
// its other errors.
func (r *fleetRun[T]) lookup(i int) bool {
	f := r.files[i]
	if r.cached == nil || len(f.Problems) > 0 {
		return false
	}
	t := time.Now()
	v, server, ok := r.cached(f)
	r.lookupNanos.Add(time.Since(t).Nanoseconds())
	if ok {
		r.hits.Add(1)
		r.out[i].server = server
		r.results[i] = Result[T]{Cluster: f.Name, Server: server, Value: v, Context: i >= r.selected}
	}
	return ok
}

// compile evaluates files[i] on a borrowed evaluator and passes a valid
// cluster to the step, unless the shared files hold a credential: then
// nothing that may hold one goes to the step (and so to a cache).
func (r *fleetRun[T]) compile(i int) {
	t1 := time.Now()
	ev := r.evs.get()
	if ev == nil {
		return
	}
	defer r.evs.put(ev)
	o, isContext := &r.out[i], i >= r.selected
	read := ev.readSecret
	if isContext {
		ev.readSecret = nil // a context cluster's secrets are not read
	}
	c, found, ds := ev.cluster(r.files[i])
	ev.readSecret = read
	t2 := time.Now()
	r.evalNanos.Add(t2.Sub(t1).Nanoseconds())
	o.creds, o.diags = found, ds
	if len(ds) > 0 {
		return
	}
	o.server = c.Server
	if len(r.creds) > 0 {
		return
	}
	c.Context = isContext
	v, ds, found := runStep(r.files[i], c, r.step)
	r.stepNanos.Add(time.Since(t2).Nanoseconds())
	o.creds, o.diags, o.leaked = append(o.creds, found...), ds, len(found) > 0
	if len(ds) == 0 {
		r.results[i] = Result[T]{Cluster: c.Name, Server: c.Server, Value: v, Context: isContext}
	}
}

// collect is FleetCached's answer from the outcomes: the results, or
// every problem (the platform's, the clusters', leaks folded across
// clusters, shared servers) sorted, every credential found redacted.
func (r *fleetRun[T]) collect() ([]Result[T], error) {
	creds := r.creds
	for _, o := range r.out {
		creds = append(creds, o.creds...)
	}
	red := newRedactor(creds)
	if err := r.evs.err; err != nil {
		var dl diag.List
		if errors.As(err, &dl) {
			return nil, red.list(dl)
		}
		return nil, err
	}
	var all diag.List
	for _, c := range r.creds {
		all = append(all, c.diagnostic("", strings.Join(c.path, ".")))
	}
	all = append(all, r.evs.shared...)
	var leaks diag.List
	servers := make([]string, len(r.out))
	for i, o := range r.out {
		servers[i] = o.server
		switch {
		case i >= r.selected && len(o.diags) > 0:
			// A context cluster's own errors are not the selected
			// clusters' (vet --cluster leaves them out), but the checks
			// of the whole fleet still count its server as its file
			// writes it.
			if servers[i] = literalServer(r.files[i]); servers[i] == "" {
				all = append(all, unchecked(r.files[i]))
			}
		case o.leaked:
			leaks = append(leaks, o.diags...)
		default:
			all = append(all, o.diags...)
		}
	}
	all = append(all, sharedLeaks(leaks, r.files)...)
	all = append(all, duplicateServers(r.p.Root, fleetServers(r.files, servers, r.selected))...)
	if len(all) > 0 {
		return nil, red.list(all).Sorted()
	}
	// Context clusters that do not compile have no result.
	return slices.DeleteFunc(r.results, func(r Result[T]) bool { return r.Cluster == "" }), nil
}

// sharedItem names a panic while the shared package evaluates.
const sharedItem = "evaluate the shared clusters package"

// evaluators lends FleetCached's workers their evaluators. One is built
// when a cluster is not cached and none is idle, so there are at most as
// many as workers (idle's capacity), and each is used by one worker at a
// time.
type evaluators struct {
	p          *load.Platform
	readSecret SecretReader
	idle       chan *evaluator
	// failed says the shared package does not evaluate (err, the first
	// error): the compile stops.
	failed  atomic.Bool
	errOnce sync.Once
	err     error
	// shared are the problems of the platform itself, which the first
	// evaluator finds; setupNanos is the slowest build.
	shared     diag.List
	setupNanos atomic.Int64
	// fast, when set, is shared by the evaluators that evaluate apps
	// alone.
	fast *fast
}

// build builds an evaluator, the first one from the platform's own
// instance and checking the platform itself; nil if the shared package
// does not evaluate. A panic is named as the shared package's.
func (es *evaluators) build(first bool) *evaluator {
	t0 := time.Now()
	var ev *evaluator
	var err error
	if crash := fan.Catch(sharedItem, func() {
		ev, err = newEvaluator(es.p, first, es.fast)
		if err == nil && first {
			es.shared = append(es.shared, ev.secretDiags...)
			es.shared = append(es.shared, ev.sharedClusters(es.p)...)
		}
	}); crash != nil {
		panic(crash) // for fan.Each to raise in FleetCached's caller
	}
	if err != nil {
		es.errOnce.Do(func() { es.err = err })
		es.failed.Store(true)
		return nil
	}
	ev.readSecret = es.readSecret
	for d := time.Since(t0).Nanoseconds(); ; {
		if cur := es.setupNanos.Load(); d <= cur || es.setupNanos.CompareAndSwap(cur, d) {
			break
		}
	}
	return ev
}

// get returns an idle evaluator or builds one; nil if the shared package
// does not evaluate.
func (es *evaluators) get() *evaluator {
	select {
	case ev := <-es.idle:
		return ev
	default:
		return es.build(false)
	}
}

// put returns ev, which its worker is done with.
func (es *evaluators) put(ev *evaluator) { es.idle <- ev }

// runStep passes the valid cluster c of file f to step, as Fleet and
// Warm.Alone do: what step returned, or the problem it raised, at the
// credential it would have written out (leaked, which the caller redacts)
// or at the cluster's declaration.
func runStep[T any](f *load.ClusterFile, c *Cluster, step func(*Cluster) (T, error)) (v T, ds diag.List, leaked []credential) {
	v, err := step(c)
	var leak *LeakError
	if errors.As(err, &leak) {
		cr := leak.credential(f)
		return v, diag.List{cr.diagnostic(c.Name, trimmer(c.Name)(cr.path))}, []credential{cr}
	}
	if err != nil {
		return v, diag.List{{Pos: f.Pos.Position(), Cluster: c.Name, Message: err.Error()}}, nil
	}
	return v, nil, nil
}

func selectClusters(p *load.Platform, names []string) ([]*load.ClusterFile, error) {
	if len(names) == 0 {
		return p.Clusters, nil
	}
	byName := map[string]*load.ClusterFile{}
	for _, c := range p.Clusters {
		byName[c.Name] = c
	}
	var out []*load.ClusterFile
	var unknown []string
	seen := map[string]bool{}
	for _, n := range names {
		c, ok := byName[n]
		switch {
		case !ok:
			unknown = append(unknown, n)
		case !seen[n]:
			seen[n] = true
			out = append(out, c)
		}
	}
	if len(unknown) > 0 {
		return nil, fmt.Errorf("no such cluster: %s (the platform has %d clusters in %s/)", strings.Join(unknown, ", "), len(p.Clusters), load.ClustersDir)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// evaluator compiles clusters one at a time in its own cue.Context; a
// context is not safe for concurrent use, so each worker has one.
type evaluator struct {
	ctx    *cue.Context
	shared cue.Value
	// clusters is the shared package's `clusters` and deploy its
	// `#deploy`: the only parts of it a cluster is unified with, so that
	// the rest of the package is evaluated once per worker, not once per
	// cluster.
	clusters, deploy cue.Value
	// schema is what every cluster is checked against.
	schema cue.Value
	// catalog is the shared package's #catalog: every app with the fields
	// of #App, for what a misspelt app field was meant to be.
	catalog cue.Value
	// vocabulary is the names the platform gives things a cluster keys by
	// (see vocabularyPaths), for what a misspelt one was meant to be.
	vocabulary []string
	// apps is the metadata of the catalog's apps by name, read once: it
	// does not depend on the cluster. appFile is where an app's errors on
	// a cluster are shown: the file that sets its bundle.
	apps    map[string]App
	appFile map[string]string
	// secrets are the fields of the schema marked as secrets, and
	// secretDiags what is wrong with their attributes.
	secrets     []secretField
	secretDiags diag.List
	readSecret  SecretReader
	// reads is what each app reads of the cluster, for App.Memo.
	reads *Reads
	// schemaAt are the schema's fields by path, for missingRequired.
	schemaAt map[string][]schemaField
	// fast, when set, is how this evaluator's compile evaluates apps
	// alone, and alone each app's definition of its own (fast.go).
	fast  *fast
	alone map[string]cue.Value
}

// newEvaluator builds the shared package in a new context. Building an
// instance mutates it, so only the first worker uses the one Load made;
// the others load their own.
func newEvaluator(p *load.Platform, first bool, f *fast) (*evaluator, error) {
	inst := p.Shared
	if !first || f != nil {
		// Evaluating apps alone adds files to the instance: never to the
		// platform's own.
		var err error
		if inst, err = p.LoadShared(); err != nil {
			return nil, err
		}
	}
	reads := readsOf(inst) // from the syntax, before building changes it
	var alone []string
	if f != nil {
		files, names, err := aloneFiles(reads, inst)
		if err == nil {
			for pkg, fs := range files {
				for _, file := range fs {
					if pkg.AddSyntax(file) != nil {
						names = nil
					}
				}
			}
		}
		if err != nil || len(names) == 0 {
			// Nothing to evaluate alone: the platform as it is.
			return newEvaluator(p, first, nil)
		}
		alone = names
	}
	ctx := cuecontext.New()
	shared := ctx.BuildInstance(inst)
	if err := shared.Err(); err != nil && f != nil {
		// What was added does not build (the platform may not either):
		// the platform as it is decides.
		return newEvaluator(p, first, nil)
	}
	if err := shared.Err(); err != nil {
		ds := diag.FromCUE(err, "", "", token.NoPos, nil)
		return nil, hintNotAllowed(err, []cue.Value{shared, shared.LookupPath(CatalogPath)}, nil, ds).Sorted()
	}
	ev := &evaluator{ctx: ctx, shared: shared, reads: reads}
	if f != nil {
		ev.fast, ev.alone = f, aloneValues(shared, alone)
	}
	ev.clusters = shared.LookupPath(ClustersPath)
	ev.deploy = shared.LookupPath(DeployDefPath)
	if !ev.deploy.Exists() {
		return nil, diag.List{{Pos: inst.Files[0].Pos().Position(), Message: "the clusters package has no `#deploy` field: the shared file must say `#deploy: defs.#Deploy`, what one cluster gets"}}
	}
	ev.schema = ev.clusters.LookupPath(cue.MakePath(cue.AnyString))
	catalog := shared.LookupPath(CatalogPath)
	ev.catalog = catalog
	if !catalog.Exists() {
		return nil, diag.List{{Pos: inst.Files[0].Pos().Position(), Message: noCatalog}}
	}
	// What each app is, the same on every cluster: read here once, and
	// reported here once if it is wrong.
	apps, ds := catalogApps(catalog, false)
	if len(ds) > 0 {
		return nil, ds.Sorted()
	}
	ev.apps = make(map[string]App, len(apps))
	ev.appFile = make(map[string]string, len(apps))
	for _, a := range apps {
		ev.apps[a.Name] = App{Name: a.Name, Bundle: a.Bundle, Category: a.Category, Chart: a.Chart}
		ev.appFile[a.Name] = a.Pos.Filename
	}
	ev.secrets, ev.secretDiags = schemaSecrets(ev.schema)
	for _, p := range vocabularyPaths {
		if iter, err := shared.LookupPath(p).Fields(); err == nil {
			for iter.Next() {
				ev.vocabulary = append(ev.vocabulary, iter.Selector().Unquoted())
			}
		}
	}
	return ev, nil
}

// sharedClusters reports clusters that the shared files define: fleetc
// compiles cluster files only, so it would silently skip them.
func (ev *evaluator) sharedClusters(p *load.Platform) diag.List {
	iter, err := ev.shared.LookupPath(ClustersPath).Fields()
	if err != nil {
		return nil
	}
	var out diag.List
	for iter.Next() {
		name := iter.Selector().Unquoted()
		pos, f := clusterDecl(p.Shared.Files, name)
		if !pos.IsValid() {
			pos = iter.Value().Pos() // made by a comprehension, say
		}
		want := load.ClustersDir + "/" + name + ".cue"
		if f == nil {
			out = append(out, diag.Errorf(pos, name, "cluster %q is defined outside a cluster file, so fleetc would never compile it: a cluster file holds the data of one cluster, imports nothing and is named after it (%s)", name, want))
			continue
		}
		// Say what makes the file a shared one, and what to do, rather
		// than name the file it is in as where it should be.
		var imports []string
		for spec := range f.ImportSpecs() {
			imports = append(imports, spec.Path.Value)
		}
		the, it := "the import", "it"
		if len(imports) > 1 {
			the, it = "the imports", "they"
		}
		move := "and keep the cluster in " + want
		if filepath.Base(f.Filename) != name+".cue" {
			move = "and move the cluster to " + want
		}
		out = append(out, diag.Errorf(pos, name, "cluster %q is in a file that imports %s, so it is a shared file, not a cluster file, and fleetc would never compile the cluster: a cluster file imports nothing; remove %s, writing out what %s computed, %s",
			name, strings.Join(imports, ", "), the, it, move))
	}
	return out
}

// clusterDecl finds `clusters: <name>:` among the declarations of files,
// and the file that has it.
func clusterDecl(files []*ast.File, name string) (token.Pos, *ast.File) {
	for _, f := range files {
		if fd := load.Field(f.Decls, load.ClustersField, name); fd != nil {
			return fd.Label.Pos(), f
		}
	}
	return token.NoPos, nil
}

// ownField finds where the cluster file f sets the field at path within
// its cluster, as in `clusters: x: argocd: namespaces: [...]`, following
// struct literals and their one-field shorthands; NoPos if it does not
// set it in so many words.
func ownField(f *load.ClusterFile, path ...string) token.Pos {
	if fd := load.Field(f.Syntax.Decls, append([]string{load.ClustersField, f.Name}, path...)...); fd != nil {
		return fd.Value.Pos()
	}
	return token.NoPos
}

// cluster evaluates one cluster file against the shared package and, if
// it is valid and the evaluator reads secrets, reads them. It also returns
// the credential literals of the file, which are among its errors.
func (ev *evaluator) cluster(f *load.ClusterFile) (*Cluster, []credential, diag.List) {
	creds := credentialLiterals(f.Syntax)
	c, ds := ev.evaluate(f)
	ds = append(ds, f.Problems...)
	for _, cr := range creds {
		d := cr.diagnostic(f.Name, strings.Join(cr.path[min(2, len(cr.path)):], "."))
		// A secret field that the file sets is reported as such.
		if !slices.ContainsFunc(ev.secrets, func(sf secretField) bool { return sf.path.String() == d.Path }) {
			ds = append(ds, d)
		}
	}
	if len(ds) == 0 && ev.readSecret != nil {
		ds = readSecrets(c, f.Pos, ev.secrets, ev.readSecret)
	}
	if len(ds) > 0 {
		return nil, creds, ds.Sorted()
	}
	return c, creds, nil
}

// decodedPaths are the fields of a cluster that evaluate decodes into a
// Cluster, in the order it lists them.
var decodedPaths = []cue.Path{
	cue.ParsePath("env"), cue.ParsePath("server"), cue.ParsePath("bundles"), cue.ParsePath("labels"),
	cue.ParsePath("annotations"), cue.ParsePath("argocd"), cue.ParsePath("credentials.key"),
}

// evaluate evaluates one cluster file against the shared package.
func (ev *evaluator) evaluate(f *load.ClusterFile) (*Cluster, diag.List) {
	data := ev.ctx.BuildFile(f.Syntax, cue.Filename(f.Path))
	if err := data.Err(); err != nil {
		return nil, diag.FromCUE(err, f.Name, f.Path, f.Pos, trimmer(f.Name))
	}
	cv := ev.clusters.Unify(data.LookupPath(ClustersPath)).LookupPath(cue.MakePath(cue.Str(f.Name)))
	if ds := ev.validate(f, data, cv); len(ds) > 0 {
		return nil, serverFirst(f, data, ds)
	}
	c := &Cluster{Name: f.Name, File: f.Path, Value: cv}
	var fields struct {
		Env, Server, CredentialsKey string
		Bundles                     map[string]bool
		Labels, Annotations         map[string]string
		ArgoCD                      ArgoCD
	}
	// Field by field rather than cv.Decode, which would walk every field
	// of the cluster: a tenth of a second of a cold compile of 3,000.
	into := []any{&fields.Env, &fields.Server, &fields.Bundles, &fields.Labels, &fields.Annotations, &fields.ArgoCD, &fields.CredentialsKey}
	for i, p := range decodedPaths {
		if v := cv.LookupPath(p); v.Exists() {
			if err := v.Decode(into[i]); err != nil {
				return nil, diag.FromCUE(err, f.Name, f.Path, f.Pos, trimmer(f.Name))
			}
		}
	}
	c.Env, c.Server, c.Labels, c.Annotations, c.ArgoCD = fields.Env, fields.Server, fields.Labels, fields.Annotations, fields.ArgoCD
	c.CredentialsKey = fields.CredentialsKey
	for b, on := range fields.Bundles {
		if on {
			c.Bundles = append(c.Bundles, b)
		}
	}
	sort.Strings(c.Bundles)
	if ds := kubernetesRules(c, cv, f); len(ds) > 0 {
		return nil, ds
	}
	key, chosen := ev.fast.choice(ev.reads, c)
	if chosen != nil && ev.appsAlone(c, chosen) {
		return c, nil
	}
	if ds := ev.deployApps(f, c); len(ds) > 0 {
		return nil, ds
	}
	ev.reads.memo(c)
	ev.fast.remember(key, c)
	return c, nil
}

// deployApps fills the valid cluster c of file f into #deploy and reads
// the apps it gets into c.Apps: what each is from #catalog, its values
// from #deploy.
func (ev *evaluator) deployApps(f *load.ClusterFile, c *Cluster) diag.List {
	dv := ev.deploy.FillPath(clusterField, c.Value).LookupPath(cue.MakePath(cue.Str("apps")))
	// An error in an app is shown in the app's file, else at the line of
	// the cluster's file that it involves.
	prefer := func(path []string) []string { return []string{ev.appFileOf(path), f.Path} }
	if err := dv.Validate(cue.Concrete(true)); err != nil {
		ds := diag.FromCUEIn(err, f.Name, prefer, token.NoPos, trimmer(f.Name))
		ds = hintNotAllowed(err, []cue.Value{dv, ev.catalog}, trimmer(f.Name), ds)
		// An app outside the cluster's namespaces is the cluster's
		// setting to change.
		if pos := ownField(f, namespacesPath...); pos.IsValid() {
			for i := range ds {
				if ds[i].Path == strings.Join(namespacesPath, ".") {
					ds[i].Pos = pos.Position()
				}
			}
		}
		return ds
	}
	iter, err := dv.Fields()
	if err != nil {
		return diag.FromCUEIn(err, f.Name, prefer, token.NoPos, trimmer(f.Name))
	}
	for iter.Next() {
		name := iter.Selector().Unquoted()
		app, ok := ev.apps[name]
		if !ok {
			return diag.List{{Pos: f.Pos.Position(), Cluster: c.Name, Path: "apps." + name, Message: fmt.Sprintf("#deploy gives the cluster app %s, which #catalog does not have: every app a cluster gets must be in the catalog", name)}}
		}
		app.Values = iter.Value().LookupPath(cue.MakePath(cue.Str("values")))
		c.Apps = append(c.Apps, app)
	}
	return nil
}

// appFileOf is the file that declares the app an error at path (in
// #deploy) is about, if the path names one of the catalog's apps, as in
// #deploy.apps.<app> or through a let of #Deploy: an error in an app's
// values is best shown there, not at the line of the shared file that
// says `#deploy: defs.#Deploy`.
func (ev *evaluator) appFileOf(path []string) string {
	if len(path) < 3 || path[0] != DeployDefPath.String() || path[1] == "cluster" {
		return ""
	}
	name, err := strconv.Unquote(path[2])
	if err != nil {
		name = path[2]
	}
	return ev.appFile[name]
}

// validate checks the cluster in two passes so that a user sees causes,
// not their echoes: first conflicts, fields the schema does not allow and
// required fields left out; only when there are none, values that are not
// concrete (which a missing required field would otherwise cause by the
// dozen).
func (ev *evaluator) validate(f *load.ClusterFile, data, cv cue.Value) diag.List {
	// CUE leaves out "field not allowed" and missing required fields when
	// a struct has other errors, and an erroneous value allows anything,
	// so compare the file's own fields with the schema of any cluster.
	own := data.LookupPath(ClustersPath).LookupPath(cue.MakePath(cue.Str(f.Name)))
	if cv.Validate(cue.Concrete(true)) == nil {
		// Valid, as nearly every cluster is: with nothing else wrong, CUE
		// has reported fields not allowed and required fields left out
		// itself. Only a secret the file sets is left to find.
		return secretsSet(f, own, ev.secrets).Sorted()
	}
	schema := ev.schema
	ds := notAllowed(f, own, schema, ev.vocabulary, nil)
	// CUE's own word on a field not allowed would repeat these, without
	// the hint.
	reported := map[string]bool{}
	for _, d := range ds {
		reported[d.Path] = true
	}
	ds = append(ds, ev.missingRequired(f, own, nil)...)
	ds = append(ds, secretsSet(f, own, ev.secrets)...)
	if err := cv.Validate(); err != nil {
		for _, d := range atOwnField(f, diag.FromCUE(err, f.Name, f.Path, f.Pos, trimmer(f.Name))) {
			if !reported[d.Path] {
				ds = append(ds, d)
			}
		}
	}
	if len(ds) == 0 {
		if err := cv.Validate(cue.Concrete(true)); err != nil {
			ds = atOwnField(f, diag.FromCUE(err, f.Name, f.Path, f.Pos, trimmer(f.Name)))
		}
	}
	return ds.Sorted()
}

// atOwnField moves the diagnostics that have no place in the cluster's
// file, and so stand at its name (errors the schema raises itself, such as
// a bundle that needs another), to the field of the file their path names,
// or else the nearest enclosing field the file spells out: the line to
// change.
func atOwnField(f *load.ClusterFile, ds diag.List) diag.List {
	key := f.Pos.Position()
	for i, d := range ds {
		if d.Pos != key || d.Path == "" {
			continue
		}
		p := cue.ParsePath(d.Path)
		if p.Err() != nil {
			continue
		}
		var labels []string
		for _, sel := range p.Selectors() {
			if sel.LabelType() != cue.StringLabel {
				break
			}
			labels = append(labels, sel.Unquoted())
		}
		for n := len(labels); n > 0; n-- {
			if pos := ownField(f, labels[:n]...); pos.IsValid() {
				ds[i].Pos = pos.Position()
				break
			}
		}
	}
	return ds
}

// notAllowed reports the fields that the cluster file sets (own) and that
// the schema (the evaluated cluster, closed) does not allow, each with the
// allowed field it is nearest to, if one is near enough to be the field
// meant: one the schema declares, or a name of vocabulary that it allows
// by a pattern (a bundle under bundles, say).
func notAllowed(f *load.ClusterFile, own, schema cue.Value, vocabulary []string, path []cue.Selector) diag.List {
	iter, err := own.Fields()
	if err != nil {
		return nil
	}
	var out diag.List
	var allowed []string // read at the first field not allowed
	for iter.Next() {
		sel := iter.Selector()
		p := append(append([]cue.Selector(nil), path...), sel)
		if !schema.Allows(sel) {
			if allowed == nil {
				allowed = allowedFields(own, schema)
				for _, name := range vocabulary {
					if schema.Allows(cue.Str(name)) && !slices.Contains(allowed, name) && !own.LookupPath(cue.MakePath(cue.Str(name))).Exists() {
						allowed = append(allowed, name)
					}
				}
			}
			msg := "field not allowed"
			if near, ok := caseOf(sel.Unquoted(), schema); ok {
				// Set as well, so not among allowed: a case typo all the same.
				msg += fmt.Sprintf(": did you mean %s?", near)
			} else if near, ok := diag.Suggest(sel.Unquoted(), allowed); ok {
				msg += fmt.Sprintf(": did you mean %s?", near)
			}
			out = append(out, diag.Diagnostic{
				Pos: iter.Value().Pos().Position(), Cluster: f.Name,
				Path: cue.MakePath(p...).String(), Message: msg,
			})
			continue
		}
		if iter.Value().IncompleteKind() == cue.StructKind {
			out = append(out, notAllowed(f, iter.Value(), fieldSchema(schema, sel), vocabulary, p)...)
		}
	}
	return out
}

// allowedFields lists the fields that schema, a closed struct, declares
// (regular, optional or required) and that own does not set, in the
// schema's order: what a field it does not allow may have been meant as.
// Names that only a pattern allows are not listed.
// The list is never nil: notAllowed reads it once.
func allowedFields(own, schema cue.Value) []string {
	names := slices.DeleteFunc(declaredFields(schema), func(name string) bool {
		return own.LookupPath(cue.MakePath(cue.Str(name))).Exists()
	})
	if names == nil {
		names = []string{}
	}
	return names
}

// caseOf returns the field of schema that name spells in another case
// (Env for env), if there is one, whether or not the cluster sets it too.
func caseOf(name string, schema cue.Value) (string, bool) {
	iter, err := schema.Fields(cue.Optional(true))
	if err != nil {
		return "", false
	}
	for iter.Next() {
		if field := iter.Selector().Unquoted(); field != name && strings.EqualFold(field, name) {
			return field, true
		}
	}
	return "", false
}

// fieldSchema returns the schema of the field sel of schema, whether it is
// declared regular, optional or required, or only allowed by a pattern.
func fieldSchema(schema cue.Value, sel cue.Selector) cue.Value {
	for _, s := range []cue.Selector{sel, sel.Optional(), sel.Required()} {
		if v := schema.LookupPath(cue.MakePath(s)); v.Exists() {
			return v
		}
	}
	return schema.LookupPath(cue.MakePath(cue.AnyString))
}

// missingRequired reports the required fields of the schema that the
// cluster file does not set (own, at path of the cluster), at the
// cluster's own position: CUE reports them only when nothing else is
// wrong.
func (ev *evaluator) missingRequired(f *load.ClusterFile, own cue.Value, path []cue.Selector) diag.List {
	var out diag.List
	for _, sf := range ev.schemaFields(path) {
		if len(path) == 0 && sf.name == "name" {
			continue // set from the key under `clusters:`
		}
		p := append(slices.Clip(path), cue.Str(sf.name))
		mine := own.LookupPath(cue.MakePath(cue.Str(sf.name)))
		if sf.required {
			if !mine.Exists() {
				out = append(out, diag.Diagnostic{
					Pos: f.Pos.Position(), Cluster: f.Name,
					Path: cue.MakePath(p...).String(), Message: "field is required but not present",
				})
			}
			continue
		}
		if mine.Exists() && mine.IncompleteKind() == cue.StructKind {
			out = append(out, ev.missingRequired(f, mine, p)...)
		}
	}
	return out
}

// schemaField is a field of the cluster schema, for missingRequired.
type schemaField struct {
	name     string
	required bool
}

// schemaFields are the fields, optional ones included, of the cluster
// schema at path: the same for every cluster, so read once per path
// rather than once per cluster (CUE orders a struct's fields each time).
func (ev *evaluator) schemaFields(path []cue.Selector) []schemaField {
	key := cue.MakePath(path...).String()
	if fs, ok := ev.schemaAt[key]; ok {
		return fs
	}
	var fs []schemaField
	schema := ev.schema
	for _, sel := range path {
		schema = fieldSchema(schema, sel)
	}
	if iter, err := schema.Fields(cue.Optional(true)); err == nil {
		for iter.Next() {
			fs = append(fs, schemaField{iter.Selector().Unquoted(), iter.Selector().ConstraintType() == cue.RequiredConstraint})
		}
	}
	if ev.schemaAt == nil {
		ev.schemaAt = map[string][]schemaField{}
	}
	ev.schemaAt[key] = fs
	return fs
}

// kubernetesRules checks what Kubernetes itself would reject, with the
// rules of k8s.io/apimachinery: names, label keys and values, annotation
// keys, and the server URL.
func kubernetesRules(c *Cluster, v cue.Value, f *load.ClusterFile) diag.List {
	var out diag.List
	report := func(path cue.Path, msgs []string) {
		if len(msgs) == 0 {
			return
		}
		pos := posIn(v.LookupPath(path), f)
		out = append(out, diag.Diagnostic{Pos: pos, Cluster: c.Name, Path: path.String(), Message: strings.Join(msgs, "; ")})
	}
	report(cue.ParsePath("name"), validation.IsDNS1123Label(c.Name))
	for _, k := range slices.Sorted(maps.Keys(c.Labels)) {
		p := cue.MakePath(cue.Str("labels"), cue.Str(k))
		report(p, validation.IsQualifiedName(k))
		report(p, validation.IsValidLabelValue(c.Labels[k]))
	}
	for _, k := range slices.Sorted(maps.Keys(c.Annotations)) {
		report(cue.MakePath(cue.Str("annotations"), cue.Str(k)), validation.IsQualifiedName(strings.ToLower(k)))
	}
	if msg := serverProblem(c.Server); msg != "" {
		report(cue.ParsePath(serverField), []string{msg})
	}
	return out
}

// posIn returns where v is set in the cluster's file, or else the
// cluster's own position there.
func posIn(v cue.Value, f *load.ClusterFile) token.Position {
	if p := v.Pos(); p.IsValid() && p.Position().Filename == f.Path {
		return p.Position()
	}
	return f.Pos.Position()
}

// vocabularyPaths hold the names that a cluster's schema allows by a
// pattern rather than by declaring them: the platform's bundles (keys of
// a cluster's bundles) and its label vocabulary (keys of its labels).
var vocabularyPaths = []cue.Path{BundlesPath, cue.ParsePath("platform.labels")}

// bundleChecks are the hidden fields of #Cluster that check its bundles,
// each keyed by the bundle at fault: one that needs another, a required
// one turned off. Their errors are about the cluster's bundles field.
var bundleChecks = []string{"_requires", "_required"}

// namespacesField is the hidden field of #Deploy that checks apps deploy
// only where the cluster's argocd.namespaces allow.
const namespacesField = "_namespaces"

// namespacesPath is the cluster's field that namespacesField's errors
// are shown at: what to change.
var namespacesPath = []string{"argocd", "namespaces"}

// trimmer shows CUE paths relative to the cluster: `clusters.a.env`
// becomes `env` and `#deploy.apps.grafana.values.x` becomes
// `apps.grafana.values.x`.
func trimmer(cluster string) func([]string) string {
	return func(p []string) string {
		switch {
		case len(p) >= 2 && p[0] == load.ClustersField && (p[1] == cluster || p[1] == fmt.Sprintf("%q", cluster)):
			p = p[2:]
			// The bundle checks report under hidden fields; the user
			// wrote the bundle.
			if len(p) > 0 && slices.Contains(bundleChecks, p[0]) {
				p = append([]string{"bundles"}, p[1:]...)
			}
		case len(p) >= 1 && p[0] == DeployDefPath.String():
			p = p[1:]
			// The namespace check of #Deploy reports under a hidden
			// field; the cluster's setting is what to change.
			// The message names the app.
			if len(p) > 1 && p[0] == "apps" && p[1] == namespacesField {
				p = namespacesPath
			}
		}
		return strings.Join(p, ".")
	}
}
