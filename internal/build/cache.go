package build

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/fleetc/fleetc/internal/cache"
	"github.com/fleetc/fleetc/internal/compile"
	"github.com/fleetc/fleetc/internal/fan"
	"github.com/fleetc/fleetc/internal/load"
	"github.com/fleetc/fleetc/internal/output"
	"github.com/fleetc/fleetc/internal/render"
	"github.com/fleetc/fleetc/internal/wire"
)

// Cache keeps what compiling a cluster rendered, keyed on the running
// fleetc, the platform's shared files (the module file, the shared files
// of the clusters package and every package they import), the cluster
// file's path and its bytes: all a cluster's output depends on. Without a
// build cache (cache nil) it has nothing.
type Cache struct {
	cache  *cache.Cache
	shared [sha256.Size]byte
	keys   map[string]cache.Key // by cluster name
	off    string               // why there is no cache
	// others, in a --cluster compile that reads credentials, is the
	// cache of the clusters it did not select (those not in selected):
	// they are compiled without credentials, only for the fleet-wide
	// checks, so they may come from and go to the cache.
	others   *Cache
	selected []string
}

// clusterEntry is one cached cluster.
type clusterEntry struct {
	// Server is the cluster's API server, for the duplicate check.
	Server string
	Out    render.Output
}

// OpenCache returns the cluster cache for building p with cfg. Builds
// that read credentials (--cluster-secrets=inline) do not use it for the
// clusters they compile, so that a changed credential is always read and
// none reaches the cache; the other clusters of such a compile with
// --cluster, compiled without credentials for the fleet-wide checks, use
// it (others).
func OpenCache(cfg Config, p *load.Platform) *Cache {
	if cfg.ReadSecret != nil {
		cc := &Cache{off: "off (credentials are read)"}
		if len(cfg.Clusters) > 0 {
			cfg.ReadSecret = nil
			if others := OpenCache(cfg, p); others.cache != nil {
				cc.others, cc.selected = others, cfg.Clusters
				cc.off = "off for the selected clusters (credentials are read), the others' in " + others.cache.Dir()
			}
		}
		return cc
	}
	if cfg.Getenv == nil {
		return &Cache{off: "off"}
	}
	c, why := cache.Open(cfg.Getenv)
	if c == nil {
		return &Cache{off: "off (" + why + ")"}
	}
	shared, err := p.SharedDigest()
	if err != nil {
		return &Cache{off: "off (" + err.Error() + ")"}
	}
	cc := &Cache{cache: c, shared: shared, keys: make(map[string]cache.Key, len(p.Clusters))}
	for _, cf := range p.Clusters {
		rel, err := filepath.Rel(p.Root, cf.Path)
		if err != nil {
			rel = cf.Path
		}
		cc.keys[cf.Name] = cache.NewKey([]byte("cluster"), shared[:], []byte(filepath.ToSlash(rel)), cf.Digest[:])
	}
	return cc
}

// lookup is a compile.Cached for FleetCached; without a cache it finds
// nothing.
func (cc *Cache) lookup(cf *load.ClusterFile) (rendered, string, bool) {
	if cc.others != nil {
		if slices.Contains(cc.selected, cf.Name) {
			return rendered{}, "", false
		}
		return cc.others.lookup(cf)
	}
	e, ok := cc.entry(cf.Name)
	if !ok {
		return rendered{}, "", false
	}
	return rendered{out: &e.Out}, e.Server, true
}

// entry reads the sound cache entry of the named cluster, if there is one.
func (cc *Cache) entry(name string) (*clusterEntry, bool) {
	data, ok := cc.cache.Get("cluster", cc.keys[name])
	var e clusterEntry
	if !ok || e.decode(data) != nil {
		return nil, false
	}
	return &e, true
}

// Has reports whether the cache holds the cluster of cf as it is: then it
// is valid.
func (cc *Cache) Has(cf *load.ClusterFile) bool {
	_, _, ok := cc.lookup(cf)
	return ok
}

// Put stores what c rendered to; losing it only costs time later.
func (cc *Cache) Put(c *compile.Cluster, out *render.Output) {
	if e, ok := cc.pending(c, out); ok {
		e.store()
	}
}

// pendingEntry is a cluster's entry and where it goes.
type pendingEntry struct {
	to    *cache.Cache
	key   cache.Key
	entry clusterEntry
}

func (e *pendingEntry) store() { e.to.Put("cluster", e.key, e.entry.encode()) }

// pending is the entry Put would store for c; false if none.
func (cc *Cache) pending(c *compile.Cluster, out *render.Output) (pendingEntry, bool) {
	if cc.others != nil && c.Context {
		return cc.others.pending(c, out)
	}
	if cc.cache == nil {
		return pendingEntry{}, false
	}
	return pendingEntry{to: cc.cache, key: cc.keys[c.Name], entry: clusterEntry{Server: c.Server, Out: *out}}, true
}

// Later is Put for a compile's workers: it keeps each entry until flush,
// which encodes and stores every entry kept on a goroutine of its own,
// and whose wait returns once they are stored. While a cold compile
// evaluates, every core is busy and the cache's thousands of file
// creations take time from the evaluation; the fleet-wide checks that
// follow run on one core, and flush puts the writes on the other. The
// outputs kept are the ones the plan holds anyway, and nothing changes
// them until Plan returns, after wait.
func (cc *Cache) Later() (put func(*compile.Cluster, *render.Output), flush func() (wait func())) {
	var mu sync.Mutex
	var kept []pendingEntry
	put = func(c *compile.Cluster, out *render.Output) {
		if e, ok := cc.pending(c, out); ok {
			mu.Lock()
			kept = append(kept, e)
			mu.Unlock()
		}
	}
	flush = func() func() {
		mu.Lock()
		entries := kept
		kept = nil
		mu.Unlock()
		if len(entries) == 0 {
			return func() {}
		}
		var g fan.Group
		g.Go("store the compiled clusters in the build cache", func() {
			for i := range entries {
				entries[i].store()
			}
		})
		return g.Wait
	}
	return put, flush
}

// checksKey is the key of the fleet-wide checks passing for the clusters
// outs, every cluster of the fleet (each determined by its own key), the
// shared files and the hand-written ApplicationSets (handwritten, as
// JSON).
func (cc *Cache) checksKey(outs []*render.Output, handwritten []byte) cache.Key {
	parts := [][]byte{[]byte("checks"), cc.shared[:], []byte("whole fleet"), handwritten}
	for _, o := range outs {
		k := cc.keys[o.Cluster]
		parts = append(parts, []byte(o.Cluster), k[:])
	}
	return cache.NewKey(parts...)
}

// fleetKey is the key of a compile of the whole fleet p into outDir:
// every input of its output, the clusters' keys in order, the shared
// files and the hand-written ApplicationSets (hw, as handwrittenKey
// makes it).
func (cc *Cache) fleetKey(p *load.Platform, outDir string, hw []byte) cache.Key {
	parts := [][]byte{[]byte("fleet"), cc.shared[:], []byte(filepath.Clean(outDir)), hw}
	for _, cf := range p.Clusters {
		k := cc.keys[cf.Name]
		parts = append(parts, []byte(cf.Name), k[:])
	}
	return cache.NewKey(parts...)
}

// An outputEntry, one per output directory, holds the stamps of the
// files the last compile into it left and, if that compile was of the
// whole fleet, the key of its inputs (else the zero key) and when the
// full pipeline last ran for them (reading every cluster's entry).
type outputEntry struct {
	Key    cache.Key
	Full   time.Time
	Stamps output.Stamps
}

// fleetTTL is how long compiles with unchanged inputs may skip the
// pipeline after it last ran in full. Only a full run reads the cluster
// entries, and an entry not read for days is trimmed: a daily full run
// keeps them for the next change.
const fleetTTL = 24 * time.Hour

func (e *outputEntry) encode() ([]byte, error) {
	stamps, err := e.Stamps.MarshalBinary()
	if err != nil {
		return nil, err
	}
	b := make([]byte, 0, len(stamps)+len(e.Key)+3*binary.MaxVarintLen64)
	b = wire.AppendBytes(b, e.Key[:])
	b = wire.AppendVarint(b, e.Full.UnixNano())
	return wire.AppendBytes(b, stamps), nil
}

// decodeHead decodes the key and time of the entry b and returns its
// stamps undecoded: tens of thousands of them, which a compile that
// cannot take the shortcut decodes while it compiles.
func (e *outputEntry) decodeHead(b []byte) (stamps []byte, err error) {
	r := wire.NewReader(b)
	key, full, stamps := r.Bytes(), r.Varint(), r.Bytes()
	if !r.Done() || len(key) != len(e.Key) {
		return nil, errEntry
	}
	copy(e.Key[:], key)
	e.Full = time.Unix(0, full)
	return stamps, nil
}

// describe says where the cache is, or why there is none, for --stats.
func (cc *Cache) describe() string {
	if cc.cache == nil {
		return "cache: " + cc.off
	}
	return fmt.Sprintf("cache in %s", cc.cache.Dir())
}
