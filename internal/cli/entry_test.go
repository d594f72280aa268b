package cli

import (
	"bytes"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/fleetc/fleetc/internal/cache"
	"github.com/fleetc/fleetc/internal/render"
	"github.com/fleetc/fleetc/internal/wire"
)

// FuzzEntry: any entry reads back as itself, and any bytes at all decode
// to an entry or an error, never a panic.
func FuzzEntry(f *testing.F) {
	f.Add("https://a.example.com", "a", "clusters/a.cue", "dev", "region", "fra1", "grafana", "cluster/a/monitoring/grafana/values.yaml", []byte("x: 1\n"), true)
	f.Add("", "", "", "", "", "", "", "", []byte(nil), false)
	f.Fuzz(func(t *testing.T, server, cluster, source, env, lk, lv, app, path string, data []byte, labels bool) {
		e := clusterEntry{Server: server, Out: render.Output{Cluster: cluster, Source: source, Env: env}}
		if labels {
			e.Out.Labels = map[string]string{lk: lv, "env": env}
		}
		if app != "" {
			e.Out.Apps = []render.AppRef{{Name: app, Bundle: lk, Category: lv, Values: path}}
		}
		if path != "" {
			e.Out.Files = []render.File{{Path: path, Data: data}, {Path: "b", Data: []byte{}}}
		}
		var got clusterEntry
		if err := got.decode(e.encode()); err != nil {
			t.Fatalf("decode(encode(%+v)): %v", e, err)
		}
		if !reflect.DeepEqual(normalized(got), normalized(e)) {
			t.Fatalf("got %+v\nwant %+v", got, e)
		}
		// Any bytes: no panic.
		var junk clusterEntry
		junk.decode(append([]byte(server), data...))
	})
}

// normalized treats nil and empty file contents alike, as a file does.
func normalized(e clusterEntry) clusterEntry {
	for i := range e.Out.Files {
		if len(e.Out.Files[i].Data) == 0 {
			e.Out.Files[i].Data = nil
		}
	}
	return e
}

// BenchmarkEntryDecode is what a cached cluster costs a compile besides
// reading its entry: decoding 19 values files of a typical size.
func BenchmarkEntryDecode(b *testing.B) {
	e := clusterEntry{Server: "https://c1.example.com", Out: render.Output{Cluster: "c1", Source: "clusters/c1.cue", Env: "dev", Labels: map[string]string{"env": "dev", "core-basic": "enabled"}}}
	for i := range 19 {
		p := fmt.Sprintf("cluster/c1/core/app%d/values.yaml", i)
		e.Out.Apps = append(e.Out.Apps, render.AppRef{Name: fmt.Sprintf("app%d", i), Bundle: "core-basic", Category: "core", Values: p})
		e.Out.Files = append(e.Out.Files, render.File{Path: p, Data: bytes.Repeat([]byte("key: value\n"), 70)})
	}
	data := e.encode()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		var got clusterEntry
		if err := got.decode(data); err != nil {
			b.Fatal(err)
		}
	}
}

// FuzzCarried: records read back as what they record, a cluster whose
// files are not its apps' values files and its registration gets none,
// and any bytes at all decode to records or an error, never a panic.
func FuzzCarried(f *testing.F) {
	f.Add("a", "https://a.example.com", "clusters/a.cue", "dev", "region", "fra1", "grafana", "monitoring-basic", "monitoring", true, false)
	f.Add("", "", "", "", "", "", "", "", "", false, true)
	f.Fuzz(func(t *testing.T, cluster, server, source, env, lk, lv, app, bundle, category string, labels, odd bool) {
		if cluster == "" || strings.Contains(cluster, "/") {
			// No cluster is named so (load refuses it), and no file could
			// be its registration.
			t.Skip()
		}
		o := render.Output{Cluster: cluster, Source: source, Env: env}
		if labels {
			o.Labels = map[string]string{lk: lv, "env": env}
		}
		files := []string{render.RegistrationPath(cluster)}
		if app != "" {
			v := render.ValuesPath(cluster, category, app)
			o.Apps = []render.AppRef{{Name: app, Bundle: bundle, Category: category, Values: v}}
			files = append(files, v)
		}
		if odd {
			files = append(files, "extra.yaml")
		}
		slices.Sort(files)
		for _, p := range files {
			o.Files = append(o.Files, render.File{Path: p, Data: []byte("x")})
		}
		rec := carried{key: cache.NewKey([]byte(cluster)), entry: clusterEntry{Server: server, Out: o}}
		other := carried{key: cache.NewKey([]byte("other")), entry: clusterEntry{Server: "https://other", Out: render.Output{Cluster: cluster + "-other", Files: []render.File{{Path: render.RegistrationPath(cluster + "-other")}}}}}
		got, err := decodeCarried(encodeCarried([]carried{rec, other}))
		if err != nil {
			t.Fatal(err)
		}
		g, ok := got[cluster]
		if odd || (len(files) > 1 && files[0] == files[1]) {
			if ok {
				t.Fatalf("a record for %+v, whose files are not derivable", o)
			}
			return
		}
		if !ok || g.key != rec.key {
			t.Fatalf("no record, or another key, for %q: %+v", cluster, got)
		}
		for i := range o.Files {
			o.Files[i].Data = nil
		}
		if !reflect.DeepEqual(g.entry, clusterEntry{Server: server, Out: o}) {
			t.Fatalf("got %+v\nwant %+v", g.entry, clusterEntry{Server: server, Out: o})
		}
		// Any bytes: no panic.
		decodeCarried([]byte(cluster + server + source))
	})
}

// TestCarriedCrafted: records whose paths would be far longer than the
// records themselves (one long string used as the cluster, category and
// name of many apps) are refused rather than built.
func TestCarriedCrafted(t *testing.T) {
	long := strings.Repeat("x", 40_000)
	b := wire.AppendUvarint(nil, 1) // the table: one string
	b = wire.AppendString(b, long)
	b = wire.AppendUvarint(b, 1) // one record
	b = append(b, make([]byte, 32)...)
	for range 4 { // cluster, server, source, env
		b = wire.AppendUvarint(b, 0)
	}
	b = wire.AppendUvarint(b, 0) // no labels
	const apps = 10_000
	b = wire.AppendUvarint(b, apps)
	for range apps * 3 {
		b = wire.AppendUvarint(b, 0)
	}
	if _, err := decodeCarried(b); err == nil {
		t.Fatalf("%d bytes of records decoded into %d paths of %d bytes each", len(b), apps, 3*len(long))
	}
}

// BenchmarkCarried is the records of 3,000 clusters of 18 apps each: what
// every compile into a directory reads from its output entry, and a
// compile of the whole fleet writes.
func BenchmarkCarried(b *testing.B) {
	recs := make([]carried, 3000)
	for i := range recs {
		name := fmt.Sprintf("c%05d-dev", i)
		o := render.Output{Cluster: name, Source: "clusters/" + name + ".cue", Env: "dev", Labels: map[string]string{"env": "dev", "region": "fra1", "team": "platform", "core-basic": "enabled", "security-basic": "enabled"}}
		for a := range 18 {
			app, cat := fmt.Sprintf("app-%02d", a), fmt.Sprintf("cat%d", a%5)
			o.Apps = append(o.Apps, render.AppRef{Name: app, Bundle: "core-basic", Category: cat, Values: render.ValuesPath(name, cat, app)})
			o.Files = append(o.Files, render.File{Path: render.ValuesPath(name, cat, app)})
		}
		o.Files = append(o.Files, render.File{Path: render.RegistrationPath(name)})
		slices.SortFunc(o.Files, func(x, y render.File) int { return strings.Compare(x.Path, y.Path) })
		recs[i] = carried{key: cache.NewKey([]byte(name)), entry: clusterEntry{Server: "https://" + name + ".example.com", Out: o}}
	}
	data := encodeCarried(recs)
	b.Run("encode", func(b *testing.B) {
		for b.Loop() {
			encodeCarried(recs)
		}
	})
	b.Run("decode", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			if got, err := decodeCarried(data); err != nil || len(got) != len(recs) {
				b.Fatalf("%d records, %v", len(got), err)
			}
		}
	})
}
