package build

import (
	"errors"
	"slices"

	"github.com/fleetc/fleetc/internal/render"
	"github.com/fleetc/fleetc/internal/wire"
)

// A cluster entry is read for every cluster of every compile, so it has a
// plain binary form (package wire) rather than gob, which compiles its
// type anew for every entry it decodes. Maps go in key order, so equal
// entries are equal bytes.

func (e *clusterEntry) encode() []byte {
	var b []byte
	o := &e.Out
	for _, s := range []string{e.Server, o.Cluster, o.Source, o.Env, o.Project, o.Server} {
		b = wire.AppendString(b, s)
	}
	hasLabels := uint64(0)
	if o.Labels != nil {
		hasLabels = 1
	}
	b = wire.AppendUvarint(b, hasLabels)
	keys := make([]string, 0, len(o.Labels))
	for k := range o.Labels {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	b = wire.AppendUvarint(b, uint64(len(keys)))
	for _, k := range keys {
		b = wire.AppendString(wire.AppendString(b, k), o.Labels[k])
	}
	b = wire.AppendUvarint(b, uint64(len(o.Apps)))
	for _, a := range o.Apps {
		for _, s := range []string{a.Name, a.Bundle, a.Category, a.Values} {
			b = wire.AppendString(b, s)
		}
	}
	b = wire.AppendUvarint(b, uint64(len(o.Files)))
	for _, f := range o.Files {
		b = wire.AppendString(wire.AppendString(b, f.Path), string(f.Data))
	}
	return b
}

var errEntry = errors.New("malformed cache entry")

func (e *clusterEntry) decode(b []byte) error {
	r := wire.NewReader(b)
	o := &e.Out
	e.Server = r.String()
	o.Cluster, o.Source, o.Env, o.Project, o.Server = r.String(), r.String(), r.String(), r.String(), r.String()
	hasLabels := r.Uvarint() == 1
	n := r.Count()
	if hasLabels {
		o.Labels = make(map[string]string, n)
	}
	for range n {
		k, v := r.String(), r.String()
		if hasLabels {
			o.Labels[k] = v
		}
	}
	if n := r.Count(); n > 0 {
		o.Apps = make([]render.AppRef, n)
		for i := range o.Apps {
			o.Apps[i] = render.AppRef{Name: r.String(), Bundle: r.String(), Category: r.String(), Values: r.String()}
		}
	}
	if n := r.Count(); n > 0 {
		o.Files = make([]render.File, n)
		for i := range o.Files {
			o.Files[i] = render.File{Path: r.String(), Data: r.Bytes()}
		}
	}
	if !r.Done() {
		return errEntry
	}
	return nil
}
