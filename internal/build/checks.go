package build

import (
	"encoding/json"

	"github.com/fleetc/fleetc/internal/argocd"
	"github.com/fleetc/fleetc/internal/cache"
	"github.com/fleetc/fleetc/internal/diag"
	"github.com/fleetc/fleetc/internal/placement"
	"github.com/fleetc/fleetc/internal/render"
)

// check is the fleet-wide step of a plan, run once the clusters are
// compiled: it builds the ApplicationSet of every app of the catalog,
// reads the platform's hand-written ones, and places both on the compiled
// clusters, failing on any disagreement between cluster labels, selectors
// and values files. The placement goes into pl.Placement and the
// generated ApplicationSets into pl.Files.
//
// With only some clusters selected (partial), the ApplicationSet files are
// left out of the plan: they belong to no cluster, so such a compile
// neither rewrites nor prunes them. The checks still cover the whole
// fleet (pl.Fleet: the other clusters are compiled as context, mostly
// from the cache), so that a --cluster compile cannot pass what a compile
// of every cluster would refuse, such as two Applications of one name.
//
// The checks read nothing but the compiled clusters' outputs, the
// platform's shared files and the hand-written sets, so when the cache
// has seen exactly these inputs pass, they are not run again unless the
// caller needs the matrix itself (Config.Placement).
func (b *Platform) check(pl *Plan, partial bool) error {
	p, s := b.Sources, b.Settings
	cat, handwritten, diags, err := b.Catalog()
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
	if b.cc.cache != nil {
		if hw, ok := b.handwrittenKey(); ok {
			pl.handwritten = hw
			passed = b.cc.checksKey(pl.Fleet, hw)
			if data, ok := b.cc.cache.Get("checks", passed); ok && !b.cfg.Placement {
				if hub, ok := decodeFiles(data); ok {
					pl.addGenerated(generated, hub, partial)
					return nil
				}
			}
		}
	}
	m, more := placement.Compute(placement.Input{
		Sets:       sets,
		Clusters:   placement.Clusters(pl.Fleet, clusterPositions(p)),
		Vocab:      placement.Vocabulary{Envs: cat.EnvNames(), Bundles: cat.Bundles, Labels: s.LabelNames()},
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
	hub, more, err := b.hubFiles(pl, cat, m, sets)
	if err != nil {
		return err
	}
	more, hiddenHub := ownErrors(more, pl, partial)
	if len(more) > 0 {
		return more
	}
	pl.Placement = m
	if passed != (cache.Key{}) && !hidden && !hiddenHub {
		b.cc.cache.Put("checks", passed, encodeFiles(hub))
	}
	pl.addGenerated(generated, hub, partial)
	return nil
}

// ownErrors is ds without the errors of context clusters, those a
// --cluster compile (partial) did not select but compiled for the
// fleet-wide checks: an error that names such a cluster is about it
// alone. hidden tells whether any was left out.
func ownErrors(ds diag.List, pl *Plan, partial bool) (kept diag.List, hidden bool) {
	if !partial || len(ds) == 0 {
		return ds, false
	}
	selected := make(map[string]bool, len(pl.Outputs))
	for _, o := range pl.Outputs {
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
func (pl *Plan) addGenerated(generated []render.AppSet, hub []render.File, partial bool) {
	if !partial {
		for _, g := range generated {
			pl.Files = append(pl.Files, g.Files...)
		}
		pl.Files = append(pl.Files, hub...)
	}
}

// handwrittenKey is how cache keys hold the platform's hand-written
// ApplicationSets and whether the hubs sync their directory (an empty
// directory has no sets, yet the root Applications read it), encoded once
// per build; false if they cannot be read cleanly, which only the full
// checks can report.
func (b *Platform) handwrittenKey() ([]byte, bool) {
	if b.hwKey == nil && !b.hwKeyBad {
		cat, sets, diags, err := b.Catalog()
		if err == nil && len(diags) == 0 {
			b.hwKey, err = json.Marshal(struct {
				Sets   []placement.Set
				Synced string
			}{sets, b.synced(cat)})
		}
		b.hwKeyBad = err != nil || len(diags) > 0
	}
	return b.hwKey, !b.hwKeyBad
}
