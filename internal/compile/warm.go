package compile

import (
	"fmt"
	"slices"
	"strings"
	"sync"

	"cuelang.org/go/cue"
	"cuelang.org/go/cue/build"

	"github.com/fleetc/fleetc/internal/diag"
	"github.com/fleetc/fleetc/internal/fan"
	"github.com/fleetc/fleetc/internal/load"
)

// Warm evaluates clusters of one platform with an evaluator of its shared
// package that is built once and kept: for an editor's session, where
// each edit of a cluster file is checked for that cluster alone, the
// shared package does not change between edits, and building it again
// would cost more than evaluating the cluster. Calls are serialised; a
// Warm is safe for concurrent use.
//
// The evaluator works on its own copy of the shared instance, so that a
// compile of the whole fleet (FleetCached) may run on the same platform
// at the same time. It is built again after maxWarmUses clusters, since
// a cue.Context keeps what it has compiled.
type Warm struct {
	p  *load.Platform
	mu sync.Mutex
	ev *evaluator
	// inst is the instance ev built, and creds the credentials in it,
	// found before it was built.
	inst  *build.Instance
	creds []credential
	// docs are the doc comments of the schema's fields, read when ev
	// was built.
	docs map[string]string
	err  error
	uses int
}

// maxWarmUses bounds how many clusters one warm evaluator compiles
// before it is replaced: a few hundred edits of a session.
const maxWarmUses = 500

// NewWarm returns a Warm for the platform p; the evaluator is built at
// the first call that needs it.
func NewWarm(p *load.Platform) *Warm { return &Warm{p: p} }

// Platform is the platform w evaluates clusters of.
func (w *Warm) Platform() *load.Platform { return w.p }

// evaluator returns the warm evaluator, building it if need be. w.mu is
// held.
func (w *Warm) evaluator() (*evaluator, error) {
	if w.ev != nil && w.uses < maxWarmUses {
		return w.ev, nil
	}
	if w.err != nil {
		return nil, w.err
	}
	w.ev, w.uses = nil, 0
	inst, err := w.p.LoadShared()
	if err != nil {
		w.err = err
		return nil, err
	}
	// Before the evaluator builds (and so mutates) the instance.
	w.creds = sharedCredentials(inst, w.p.Root)
	own := *w.p
	own.Shared = inst
	ev, err := newEvaluator(&own, true, nil)
	if err != nil {
		w.err = err
		return nil, err
	}
	w.ev, w.inst = ev, inst
	// Before any cluster is evaluated: that drops doc comments from
	// the schema's values.
	w.docs = map[string]string{}
	schemaDocs(ev.schema, "", w.docs, 0)
	return ev, nil
}

// schemaDocs collects the doc comments of the fields of v, at any depth,
// by their path joined with dots.
func schemaDocs(v cue.Value, prefix string, docs map[string]string, depth int) {
	if depth > 8 || v.IncompleteKind() != cue.StructKind {
		return
	}
	iter, err := v.Fields(cue.Optional(true))
	if err != nil {
		return
	}
	for iter.Next() {
		path := prefix + iter.Selector().Unquoted()
		var parts []string
		for _, cg := range iter.Value().Doc() {
			if t := strings.TrimSpace(cg.Text()); t != "" && !slices.Contains(parts, t) {
				parts = append(parts, t)
			}
		}
		if len(parts) > 0 {
			docs[path] = strings.Join(parts, "\n\n")
		}
		schemaDocs(iter.Value(), path+".", docs, depth+1)
	}
}

// Alone evaluates the cluster files alone, each as FleetCached does, and
// passes each valid cluster to step: the problems of each cluster, as a
// diag.List (nil if there are none), but none of the checks that span
// clusters (a server that two share) and none of the shared package's
// own, which a compile of the whole fleet reports. A shared package that
// does not evaluate is an error of its own (a diag.List when it is the
// platform's).
func (w *Warm) Alone(files []*load.ClusterFile, step func(*Cluster) error) (err error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	ev, err := w.evaluator()
	if err != nil {
		return err
	}
	var all diag.List
	var creds []credential
	for _, f := range files {
		var ds diag.List
		// A panic is an error: an editor's session outlives a bug in
		// the evaluator.
		if crash := fan.Catch("cluster "+f.Name, func() { ds, creds = w.one(ev, f, step, creds) }); crash != nil {
			// The evaluator may be in any state: build a new one.
			w.ev = nil
			return fmt.Errorf("internal error: %w", crash)
		}
		all = append(all, ds...)
	}
	if len(all) == 0 {
		return nil
	}
	return newRedactor(append(creds, w.creds...)).list(all).Sorted()
}

// one evaluates f and runs step on it, as a worker of FleetCached does.
func (w *Warm) one(ev *evaluator, f *load.ClusterFile, step func(*Cluster) error, creds []credential) (diag.List, []credential) {
	w.uses++
	c, found, ds := ev.cluster(f)
	creds = append(creds, found...)
	if len(ds) > 0 || len(w.creds) > 0 {
		// With credentials in the shared files, nothing that may hold
		// one goes to the caller's step (the compile of the fleet
		// reports them).
		return ds, creds
	}
	_, ds, leaked := runStep(f, c, func(c *Cluster) (struct{}, error) { return struct{}{}, step(c) })
	return ds, append(creds, leaked...)
}

// Shared is the warm evaluator's view of the platform, for tools that
// read the schema and evaluate a cluster (an editor's completion and
// hover). Its values belong to one cue.Context: use them only within
// the function given to Warm.Use.
type Shared struct {
	// Value is the shared package, evaluated; Schema what every cluster
	// is unified with (`clusters: [Name]: ...`).
	Value, Schema cue.Value
	// Instance is the instance Value was built from, for
	// explain.LoadPackages.
	Instance *build.Instance
	// Docs are the doc comments of the fields of Schema by path (such
	// as monitoring.retention), read before any cluster was evaluated,
	// which drops them from Schema's values.
	Docs map[string]string
	ev   *evaluator
}

// Cluster evaluates one cluster file as Alone does, without a step:
// the cluster, or its problems.
func (s Shared) Cluster(f *load.ClusterFile) (*Cluster, diag.List) {
	c, _, ds := s.ev.cluster(f)
	return c, ds
}

// Use calls fn with the warm evaluator's view of the shared package.
func (w *Warm) Use(fn func(Shared) error) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	ev, err := w.evaluator()
	if err != nil {
		return err
	}
	w.uses++
	var fnErr error
	if crash := fan.Catch("the shared clusters package", func() {
		fnErr = fn(Shared{Value: ev.shared, Schema: ev.schema, Instance: w.inst, Docs: w.docs, ev: ev})
	}); crash != nil {
		// As in Alone.
		w.ev = nil
		return fmt.Errorf("internal error: %w", crash)
	}
	return fnErr
}

// Names are the structs of the shared package whose keys are the names a
// cluster file uses: the platform's bundles and label vocabulary (keys
// of a cluster's bundles and labels, which its schema allows by a
// pattern) and its envs (the values of env), each with what it says of
// them (a description, settings).
func (s Shared) Names() []cue.Value {
	var out []cue.Value
	for _, p := range append(slices.Clone(vocabularyPaths), EnvsPath) {
		if v := s.Value.LookupPath(p); v.Exists() {
			out = append(out, v)
		}
	}
	return out
}
