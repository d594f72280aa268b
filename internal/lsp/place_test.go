package lsp

import (
	"strings"
	"testing"
)

// TestPlaceAt reads the place of a cursor (|) in cluster files as typed,
// whole or in the middle of a word, which need not parse.
func TestPlaceAt(t *testing.T) {
	for _, tc := range []struct {
		src   string
		whole bool
		path  string
		value bool
		word  string
	}{
		{src: "clusters: a: {\n\te|\n}", path: "clusters.a", word: "e"},
		{src: "clusters: a: {\n\t|\n}", path: "clusters.a"},
		{src: "clusters: a: {\n\tenv: \"d|\"\n}", path: "clusters.a.env", value: true, word: `"d`},
		{src: "clusters: a: {\n\tenv: \"d|", path: "clusters.a.env", value: true, word: `"d`},
		{src: "clusters: a: {\n\tenv: |\n}", path: "clusters.a.env", value: true},
		{src: "clusters: \"a-b\": {\n\tlabels: {\n\t\tre|gion: \"x\"\n\t}\n}", path: "clusters.a-b.labels", word: "re"},
		{src: "clusters: a: {\n\tlabels: {region: \"x\", t|}\n}", path: "clusters.a.labels", word: "t"},
		{src: "clusters: a: {\n\tmonitoring: victoria|\n}", path: "clusters.a.monitoring", value: true, word: "victoria"},
		{src: "clusters: a: {\n\tmonitoring: victoriametricsoperator: t|\n}", path: "clusters.a.monitoring.victoriametricsoperator", value: true, word: "t"},
		{src: "clusters: a: {\n\tbundles: \"monitoring-basic\": true\n\tbundles: \"m|\n}", path: "clusters.a.bundles", value: true, word: `"m`},
		{src: "clusters: a: {\n\targocd: namespaces: [\"a\", |]\n}", path: "clusters.a.argocd.namespaces", value: true},
		{src: "clusters: a: {\n\targocd: {}\n\t|\n}", path: "clusters.a"},
		// Hover: the label at the cursor ends the path; a value is its
		// field's.
		{src: "clusters: a: {\n\ten|v: \"dev\"\n}", whole: true, path: "clusters.a.env", word: "env"},
		{src: "clusters: a: {\n\tenv: \"d|ev\"\n}", whole: true, path: "clusters.a.env", value: true, word: `"dev"`},
		{src: "clusters: a: {\n\tmonitoring: re|tention: \"3d\"\n}", whole: true, path: "clusters.a.monitoring.retention", word: "retention"},
		{src: "clusters: a: {\n\tbundles: \"mon|itoring-basic\": true\n}", whole: true, path: "clusters.a.bundles.monitoring-basic", word: `"monitoring-basic"`},
		{src: "clusters: a: {\n\tcredentials: key?: \"|x\"\n}", whole: true, path: "clusters.a.credentials.key", value: true, word: `"x"`},
	} {
		off := strings.Index(tc.src, "|")
		src := []byte(tc.src[:off] + tc.src[off+1:])
		got := placeAt(src, off, tc.whole)
		if strings.Join(got.path, ".") != tc.path || got.value != tc.value || got.word != tc.word || got.word != "" && string(src[got.start:got.start+len(got.word)]) != got.word && !tc.whole {
			t.Errorf("placeAt(%q, whole=%v) = path %q value %v word %q, want %q %v %q", tc.src, tc.whole, strings.Join(got.path, "."), got.value, got.word, tc.path, tc.value, tc.word)
		}
	}
}
