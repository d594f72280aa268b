package cli

import (
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
