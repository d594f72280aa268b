package compile

import (
	"strings"
	"sync"
	"sync/atomic"

	"cuelang.org/go/cue"
)

// A compile of many clusters that knows which values files the step has
// already rendered (Options.Rendered) evaluates `#deploy` only for the
// first cluster of each choice of apps, and for the others only the
// values of their apps that the step does not have, each app alone
// (alone.go): most of what evaluating `#deploy` costs is the catalog
// around the values, and the values of apps whose files another cluster
// already has (docs/performance.md).
//
// Which apps `#deploy` gives a cluster, and whether its own checks pass,
// depends only on what its conditions and hidden fields read
// (Reads.choose): two clusters alike in those get the same apps, in the
// same order, and pass alike. The first cluster of each such key is
// evaluated with `#deploy`, as every cluster is without this; its apps
// are remembered under the key only if it passed. A later cluster with
// the key takes those apps, and its apps' values are the memo's or
// evaluated alone; when an app cannot be evaluated alone, or its values
// fail to, the cluster is evaluated with `#deploy` after all, which
// reports what is wrong as always.

// fastMin is the fewest clusters a compile must have for it to evaluate
// apps alone: building the definitions costs each worker about as much
// as a few clusters.
var fastMin = 64

// fast is what the evaluators of one compile share to evaluate apps
// alone.
type fast struct {
	rendered func(c *Cluster, a App) bool
	// sets are the apps of each choice key whose first cluster passed,
	// by name in the order #deploy gave them.
	sets sync.Map
	// chosen and alone count the clusters that took their apps from the
	// sets and the apps evaluated alone, for Stats.
	chosen, alone atomic.Int64
}

// newFast returns what the evaluators share when a compile of n clusters
// with opts evaluates apps alone; nil when it does not.
func newFast(opts Options, n int) *fast {
	if opts.Rendered == nil || n < fastMin {
		return nil
	}
	return &fast{rendered: opts.Rendered}
}

// choice is the choice key of the evaluated cluster c, and the apps of
// the first cluster with that key, if it passed; an empty key when c's
// key cannot be known (a field read is not concrete, say).
func (f *fast) choice(rs *Reads, c *Cluster) (string, []string) {
	if f == nil || !rs.chooseOK {
		return "", nil
	}
	var b strings.Builder
	b.WriteByte('k') // a key even when nothing is read: every cluster gets the same apps
	seen := map[string]string{}
	for _, r := range rs.choose {
		text, ok := fieldText(c.Value, r, seen)
		if !ok {
			return "", nil
		}
		b.WriteByte(0)
		b.WriteString(text)
	}
	key := b.String()
	if names, ok := f.sets.Load(key); ok {
		return key, names.([]string)
	}
	return key, nil
}

// remember records the apps of c, which #deploy gave it and which
// passed, under its choice key.
func (f *fast) remember(key string, c *Cluster) {
	if f == nil || key == "" {
		return
	}
	names := make([]string, len(c.Apps))
	for i, a := range c.Apps {
		names[i] = a.Name
	}
	f.sets.LoadOrStore(key, names)
}

// appsAlone gives c the apps names, with the values of each that the
// step does not have evaluated alone; false, with c's apps left unset,
// when one cannot be evaluated alone or its values fail to.
func (ev *evaluator) appsAlone(c *Cluster, names []string) bool {
	c.Apps = make([]App, 0, len(names))
	for _, name := range names {
		a, ok := ev.apps[name]
		if !ok {
			c.Apps = nil
			return false
		}
		c.Apps = append(c.Apps, a)
	}
	ev.reads.memo(c)
	alone := 0
	for i := range c.Apps {
		a := &c.Apps[i]
		if a.Memo != "" && ev.fast.rendered(c, *a) {
			continue
		}
		def, ok := ev.alone[a.Name]
		if !ok {
			c.Apps = nil
			return false
		}
		// The whole app is validated, as #deploy validates its apps: what
		// the catalog says for every app may check more than values.
		app := def.FillPath(clusterField, c.Value).LookupPath(cue.MakePath(cue.Str("apps"), cue.Str(a.Name)))
		if app.Validate(cue.Concrete(true)) != nil {
			c.Apps = nil
			return false
		}
		a.Values = app.LookupPath(cue.MakePath(cue.Str("values")))
		alone++
	}
	ev.fast.chosen.Add(1)
	ev.fast.alone.Add(int64(alone))
	return true
}

// clusterField is the field of #deploy, and of an app's definition, that
// the cluster is filled into.
var clusterField = cue.MakePath(cue.Str("cluster"))
