package cli

import (
	"encoding/json"

	"github.com/fleetc/fleetc/internal/argocd"
	"github.com/fleetc/fleetc/internal/cache"
	"github.com/fleetc/fleetc/internal/compile"
	"github.com/fleetc/fleetc/internal/diag"
	"github.com/fleetc/fleetc/internal/placement"
	"github.com/fleetc/fleetc/internal/render"
)

// addApplicationSets is the fleet-wide step of a plan, run once the
// clusters are compiled: it builds the ApplicationSet of every app of the
// catalog, reads the platform's hand-written ones, and places both on the
// compiled clusters, failing on any disagreement between cluster labels,
// selectors and values files. The placement goes into pl.placement and the
// generated ApplicationSets into pl.files.
//
// With only some clusters selected (partial), the ApplicationSet files are
// left out of the plan: they belong to no cluster, so such a compile
// neither rewrites nor prunes them. The checks still cover the whole
// fleet (pl.fleet: the other clusters are compiled as context, mostly
// from the cache), so that a --cluster compile cannot pass what a compile
// of every cluster would refuse, such as two Applications of one name.
//
// The checks read nothing but the compiled clusters' outputs, the
// platform's shared files and the hand-written sets, so when the cache
// has seen exactly these inputs pass, they are not run again unless the
// caller needs the matrix itself.
func addApplicationSets(pl *plan, l *loaded, partial, matrix bool) error {
	p, s := l.p, l.settings
	cat, handwritten, diags, err := l.catalog()
	if err != nil {
		return err
	}
	generated, err := render.ApplicationSets(cat, s, p.Root)
	if err != nil {
		return err
	}
	var sets []placement.Set
	for _, g := range generated {
		sets = append(sets, placement.Set{Object: g.Object, Bundle: g.App.Bundle, Pos: g.App.Pos, ClusterResources: g.App.ClusterResources})
	}
	sets = append(sets, handwritten...)
	var passed cache.Key
	if len(diags) == 0 && pl.cc.cache != nil {
		hw, err := handwrittenKey(handwritten)
		if err == nil {
			pl.handwritten = hw
			passed = pl.cc.checksKey(pl.fleet, hw)
			if b, ok := pl.cc.cache.Get("checks", passed); ok && !matrix {
				if hub, ok := decodeFiles(b); ok {
					pl.addGenerated(generated, hub, partial)
					return nil
				}
			}
		}
	}
	m, more := placement.Compute(placement.Input{
		Sets:       sets,
		Clusters:   placement.Clusters(pl.fleet, clusterPositions(p)),
		Vocab:      placement.Vocabulary{Envs: envNames(cat), Bundles: cat.Bundles, Labels: labelNames(s)},
		ValuesRepo: s.Repos.Values,
		ValuesDir:  s.Output,
		Tracking:   argocd.TrackingMethod(s.ArgoCD.ResourceTrackingMethod),
	})
	// With --cluster, what is wrong with a context cluster alone (its
	// labels, its Applications' names, its values files no set reads, its
	// project) is left out, as compile leaves out its other errors; what
	// involves the selected clusters or the whole fleet (Application names
	// that collide, the sets themselves) still fails. Then the fleet has
	// not passed, and the cache is not told it did.
	diags, hidden := ownErrors(append(diags, more...), pl, partial)
	if len(diags) > 0 {
		return diags.Sorted()
	}
	// The hubs' AppProjects follow from the placement, and their checks
	// from both: the Applications placed, against their projects.
	hub, more, err := hubFiles(l, pl, cat, m, sets)
	if err != nil {
		return err
	}
	more, hiddenHub := ownErrors(more, pl, partial)
	if len(more) > 0 {
		return more
	}
	pl.placement = m
	if passed != (cache.Key{}) && !hidden && !hiddenHub {
		pl.cc.cache.Put("checks", passed, encodeFiles(hub))
	}
	pl.addGenerated(generated, hub, partial)
	return nil
}

// ownErrors is ds without the errors of context clusters, those a
// --cluster compile (partial) did not select but compiled for the
// fleet-wide checks: an error that names such a cluster is about it
// alone. hidden tells whether any was left out.
func ownErrors(ds diag.List, pl *plan, partial bool) (kept diag.List, hidden bool) {
	if !partial || len(ds) == 0 {
		return ds, false
	}
	selected := make(map[string]bool, len(pl.outputs))
	for _, o := range pl.outputs {
		selected[o.Cluster] = true
	}
	for _, d := range ds {
		if d.Cluster != "" && !selected[d.Cluster] {
			hidden = true
			continue
		}
		kept = append(kept, d)
	}
	return kept, hidden
}

// addGenerated plans the generated ApplicationSets and the other objects
// of the hubs, which belong to the whole fleet: a compile of some
// clusters leaves them alone.
func (pl *plan) addGenerated(generated []render.AppSet, hub []render.File, partial bool) {
	if !partial {
		for _, g := range generated {
			pl.files = append(pl.files, g.Files...)
		}
		pl.files = append(pl.files, hub...)
	}
}

func envNames(cat *compile.Catalog) []string {
	names := make([]string, len(cat.Envs))
	for i, e := range cat.Envs {
		names[i] = e.Name
	}
	return names
}

func labelNames(s *compile.Settings) []string {
	names := make([]string, 0, len(s.Labels))
	for k := range s.Labels {
		names = append(names, k)
	}
	return names
}

// handwrittenKey is how cache keys hold the hand-written ApplicationSets.
func handwrittenKey(sets []placement.Set) ([]byte, error) {
	return json.Marshal(sets)
}

// catalog returns the platform's catalog and its hand-written
// ApplicationSets with what is wrong with them, read once per command:
// the shortcut of unchanged inputs and the checks both need them.
func (l *loaded) catalog() (*compile.Catalog, []placement.Set, diag.List, error) {
	if !l.catRead {
		l.catRead = true
		l.cat, l.catErr = compile.ReadCatalog(l.p)
		if l.catErr == nil {
			l.hwSets, l.hwDiags, l.catErr = placement.ReadHandwritten(l.p.Root, l.cat.ApplicationSets.Handwritten)
		}
	}
	return l.cat, l.hwSets, l.hwDiags, l.catErr
}

// handwrittenKey reads the platform's hand-written ApplicationSets for a
// cache key; false if they cannot be read cleanly, which only the full
// checks can report.
func (l *loaded) handwrittenKey() ([]byte, bool) {
	_, sets, diags, err := l.catalog()
	if err != nil || len(diags) > 0 {
		return nil, false
	}
	hw, err := handwrittenKey(sets)
	return hw, err == nil
}
