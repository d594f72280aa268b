package build

import (
	"bytes"
	"fmt"
	"reflect"
	"testing"

	"github.com/fleetc/fleetc/internal/render"
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
