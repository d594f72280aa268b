package cli

import (
	"encoding/binary"
	"errors"
	"fmt"
	"path"
	"slices"
	"strings"
	"sync/atomic"

	"github.com/fleetc/fleetc/internal/cache"
	"github.com/fleetc/fleetc/internal/load"
	"github.com/fleetc/fleetc/internal/render"
	"github.com/fleetc/fleetc/internal/wire"
)

// A compile of the whole fleet records, in the output entry, what each
// cluster yielded apart from the bytes of its files: its key, its server,
// its labels and apps, the paths of its files. The next compile into the
// same directory carries a cluster whose key is the same over from that
// record instead of reading its cache entry; output.Write checks its
// files against the stamps of the last compile and asks for their bytes
// (fetch) only for those the stamps cannot vouch for. With one cluster
// changed in a large fleet, that is all the reading of cluster entries
// there is to skip.

// carried is the record of one cluster of the last compile.
type carried struct {
	key   cache.Key
	entry clusterEntry // its files without their bytes
}

// The records are thousands of clusters that share most of their
// strings (apps, bundles, categories, labels), read and written by every
// compile: each string is written once, in a table, and records refer to
// it by number. Paths are not written at all: a cluster's files are the
// values files of its apps and its registration, at the paths render
// gives them; a cluster whose output is not exactly that gets no record.

// encodeCarried encodes the records recs.
func encodeCarried(recs []carried) []byte {
	ids := make(map[string]uint64)
	var table []string
	id := func(b []byte, s string) []byte {
		n, ok := ids[s]
		if !ok {
			n = uint64(len(table))
			ids[s] = n
			table = append(table, s)
		}
		return wire.AppendUvarint(b, n)
	}
	var body []byte
	n := 0
	for _, r := range recs {
		o := &r.entry.Out
		if !derivable(o) {
			continue
		}
		n++
		body = append(body, r.key[:]...)
		for _, s := range []string{o.Cluster, r.entry.Server, o.Source, o.Env, o.Project, o.Server, registrationDir(o)} {
			body = id(body, s)
		}
		if o.Labels == nil {
			body = wire.AppendUvarint(body, 0)
		} else {
			keys := make([]string, 0, len(o.Labels))
			for k := range o.Labels {
				keys = append(keys, k)
			}
			slices.Sort(keys)
			body = wire.AppendUvarint(body, uint64(len(keys))+1)
			for _, k := range keys {
				body = id(id(body, k), o.Labels[k])
			}
		}
		body = wire.AppendUvarint(body, uint64(len(o.Apps)))
		for _, a := range o.Apps {
			body = id(id(id(body, a.Name), a.Bundle), a.Category)
		}
	}
	size := len(body) + 2*binary.MaxVarintLen64
	for _, s := range table {
		size += len(s) + binary.MaxVarintLen64
	}
	b := make([]byte, 0, size)
	b = wire.AppendUvarint(b, uint64(len(table)))
	for _, s := range table {
		b = wire.AppendString(b, s)
	}
	b = wire.AppendUvarint(b, uint64(n))
	return append(b, body...)
}

// registrationDir is the directory of o's registration, which the hub
// that registers it decides: its file is the one RegistrationOf names o.
func registrationDir(o *render.Output) string {
	for _, f := range o.Files {
		if c, ok := render.RegistrationOf(f.Path); ok && c == o.Cluster {
			return path.Dir(f.Path)
		}
	}
	return ""
}

// derivable reports whether o's files are exactly what the record of o
// gives back: its apps' values files and its registration.
func derivable(o *render.Output) bool {
	if len(o.Files) != len(o.Apps)+1 {
		return false
	}
	dir := registrationDir(o)
	if dir == "" {
		return false
	}
	want := make([]string, 0, len(o.Files))
	for _, a := range o.Apps {
		if a.Values != render.ValuesPath(o.Cluster, a.Category, a.Name) {
			return false
		}
		want = append(want, a.Values)
	}
	want = append(want, path.Join(dir, o.Cluster+".yaml"))
	slices.Sort(want)
	for i, f := range o.Files {
		if f.Path != want[i] {
			return false
		}
	}
	return true
}

// decodeCarried decodes the records encodeCarried made, by cluster name.
func decodeCarried(b []byte) (map[string]carried, error) {
	r := wire.NewReader(b)
	table := make([]string, r.Count())
	for i := range table {
		table[i] = r.String()
	}
	str := func() string {
		n := r.Uvarint()
		if n >= uint64(len(table)) {
			r.Fail()
			return ""
		}
		return table[n]
	}
	// Paths are built from the table's strings, so a crafted record could
	// make them far longer than itself: what they may take in all is
	// bounded by the size of the records.
	budget := 256*len(b) + 1<<20
	n := r.Count()
	out := make(map[string]carried, n)
	for range n {
		var c carried
		for i := range c.key {
			c.key[i] = r.Byte()
		}
		o := &c.entry.Out
		o.Cluster, c.entry.Server, o.Source, o.Env, o.Project, o.Server = str(), str(), str(), str(), str(), str()
		regDir := str()
		if l := r.Count(); l > 0 {
			o.Labels = make(map[string]string, l-1)
			for range l - 1 {
				k := str()
				o.Labels[k] = str()
			}
		}
		if m := r.Count(); m > 0 {
			o.Apps = make([]render.AppRef, m)
		}
		o.Files = make([]render.File, 0, len(o.Apps)+1)
		for i := range o.Apps {
			a := render.AppRef{Name: str(), Bundle: str(), Category: str()}
			if budget -= len(o.Cluster) + len(a.Category) + len(a.Name) + 32; budget < 0 {
				return nil, errEntry
			}
			a.Values = render.ValuesPath(o.Cluster, a.Category, a.Name)
			o.Apps[i] = a
			o.Files = append(o.Files, render.File{Path: a.Values})
		}
		if budget -= len(regDir) + len(o.Cluster) + 32; budget < 0 {
			return nil, errEntry
		}
		reg := path.Join(regDir, o.Cluster+".yaml")
		if c, ok := render.RegistrationOf(reg); !ok || c != o.Cluster {
			return nil, errEntry
		}
		o.Files = append(o.Files, render.File{Path: reg})
		slices.SortFunc(o.Files, func(a, b render.File) int { return strings.Compare(a.Path, b.Path) })
		if !r.OK() {
			return nil, errEntry
		}
		out[o.Cluster] = c
	}
	if !r.Done() {
		return nil, errEntry
	}
	return out, nil
}

// carrier serves the clusters whose keys are those of the last compile's
// records.
type carrier struct {
	recs map[string]carried
	n    atomic.Int64 // clusters carried over
}

// lookup is a compile.Cached: the record of the cluster if its key is
// the same, else the cluster cache's entry.
func (ca *carrier) lookup(cc *clusterCache) func(cf *load.ClusterFile) (rendered, string, bool) {
	return func(cf *load.ClusterFile) (rendered, string, bool) {
		if c, ok := ca.recs[cf.Name]; ok && cc.cache != nil && c.key == cc.keys[cf.Name] {
			ca.n.Add(1)
			out := c.entry.Out
			return rendered{out: &out, carried: true}, c.entry.Server, true
		}
		return cc.lookup(cf)
	}
}

// errNotCarried is what fetch returns when a carried cluster's cache
// entry is gone: the compile then runs again without carrying anything.
var errNotCarried = errors.New("a carried cluster's cache entry is gone")

// fetch returns the bytes of files of carried clusters from their cache
// entries, for output.Plan.Fetch.
func (ca *carrier) fetch(cc *clusterCache) func(paths []string) ([][]byte, error) {
	return func(paths []string) ([][]byte, error) {
		owner := make(map[string]string) // path -> cluster
		for name, c := range ca.recs {
			for _, f := range c.entry.Out.Files {
				owner[f.Path] = name
			}
		}
		entries := make(map[string]map[string][]byte) // cluster -> path -> bytes
		out := make([][]byte, len(paths))
		for i, p := range paths {
			name, ok := owner[p]
			if !ok {
				return nil, fmt.Errorf("write output: %s belongs to no carried cluster", p)
			}
			files, ok := entries[name]
			if !ok {
				// Carried, so its key is the record's.
				e, hit := cc.entry(name)
				if !hit {
					return nil, errNotCarried
				}
				files = make(map[string][]byte, len(e.Out.Files))
				for _, f := range e.Out.Files {
					files[f.Path] = f.Data
				}
				entries[name] = files
			}
			if out[i], ok = files[p]; !ok {
				return nil, errNotCarried
			}
		}
		return out, nil
	}
}
