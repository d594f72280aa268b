package cli

import (
	"encoding/binary"
	"errors"
	"slices"

	"github.com/fleetc/fleetc/internal/render"
)

// A cluster entry is read for every cluster of every compile, so it has a
// plain binary form rather than gob, which compiles its type anew for
// every entry it decodes: strings and byte slices as a uvarint length and
// the bytes, lists and maps as a uvarint count and their items (maps in
// key order, so equal entries are equal bytes).

func (e *clusterEntry) encode() []byte {
	var b []byte
	str := func(s string) {
		b = binary.AppendUvarint(b, uint64(len(s)))
		b = append(b, s...)
	}
	strMap := func(m map[string]string) {
		b = binary.AppendUvarint(b, uint64(len(m)))
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			str(k)
			str(m[k])
		}
	}
	o := &e.Out
	str(e.Server)
	str(o.Cluster)
	str(o.Source)
	str(o.Env)
	b = append(b, boolByte(o.Labels != nil))
	strMap(o.Labels)
	b = binary.AppendUvarint(b, uint64(len(o.Apps)))
	for _, a := range o.Apps {
		str(a.Name)
		str(a.Bundle)
		str(a.Category)
		str(a.Values)
	}
	b = binary.AppendUvarint(b, uint64(len(o.Files)))
	for _, f := range o.Files {
		str(f.Path)
		str(string(f.Data))
	}
	return b
}

func boolByte(v bool) byte {
	if v {
		return 1
	}
	return 0
}

var errEntry = errors.New("malformed cache entry")

func (e *clusterEntry) decode(b []byte) (err error) {
	bad := false
	uvarint := func() uint64 {
		v, n := binary.Uvarint(b)
		if n <= 0 {
			bad = true
			return 0
		}
		b = b[n:]
		return v
	}
	bytesOf := func() []byte {
		n := uvarint()
		if bad || n > uint64(len(b)) {
			bad = true
			return nil
		}
		v := b[:n:n]
		b = b[n:]
		return v
	}
	str := func() string { return string(bytesOf()) }
	count := func() int {
		n := uvarint()
		if n > uint64(len(b)) { // every item takes at least a byte
			bad = true
			return 0
		}
		return int(n)
	}
	o := &e.Out
	e.Server = str()
	o.Cluster, o.Source, o.Env = str(), str(), str()
	if len(b) == 0 {
		return errEntry
	}
	hasLabels := b[0] == 1
	b = b[1:]
	n := count()
	if hasLabels {
		o.Labels = make(map[string]string, n)
	}
	for range n {
		k, v := str(), str()
		if hasLabels {
			o.Labels[k] = v
		}
	}
	if n := count(); n > 0 {
		o.Apps = make([]render.AppRef, n)
		for i := range o.Apps {
			o.Apps[i] = render.AppRef{Name: str(), Bundle: str(), Category: str(), Values: str()}
		}
	}
	if n := count(); n > 0 {
		o.Files = make([]render.File, n)
		for i := range o.Files {
			o.Files[i] = render.File{Path: str(), Data: bytesOf()}
		}
	}
	if bad || len(b) != 0 {
		return errEntry
	}
	return nil
}
