package render

import (
	"bytes"
	"strings"
	"sync"
	"sync/atomic"

	"go.yaml.in/yaml/v3"
)

// remembered is what the renderer learns from yaml.v3 once per process
// (the text of an odd scalar, of a value of several lines, the order of a
// map's keys) and asks for again on every cluster. It holds entries
// until their costs add up to max, so that a fleet of unique values does
// not grow it without end; past that it forgets nothing and remembers
// nothing new.
type remembered[K comparable, V any] struct {
	m    sync.Map
	cost atomic.Int64
	max  int64
}

func (r *remembered[K, V]) load(k K) (V, bool) {
	v, ok := r.m.Load(k)
	if !ok {
		var zero V
		return zero, false
	}
	return v.(V), true
}

// store remembers v for k if cost still fits.
func (r *remembered[K, V]) store(k K, v V, cost int64) {
	if r.cost.Add(cost) <= r.max {
		r.m.Store(k, v)
	}
}

// textBetween is what yaml.v3's encoder writes for doc between prefix and
// suffix, or "" if its text does not begin with prefix and end with
// suffix, with something between them.
func textBetween(doc *yaml.Node, prefix, suffix string) string {
	var buf bytes.Buffer
	out, err := encodeYAML(&buf, doc, "")
	if err != nil {
		return ""
	}
	s := string(out)
	if len(s) <= len(prefix)+len(suffix) || !strings.HasPrefix(s, prefix) || !strings.HasSuffix(s, suffix) {
		return ""
	}
	return s[len(prefix) : len(s)-len(suffix)]
}

// depthBound reports whether yaml.v3's text of the string s depends on
// where in the document it stands: it continues a string after a line
// break (also U+0085, U+2028 and U+2029) on a line indented by the depth,
// and folds a long one at its line width.
func depthBound(s string) bool {
	return strings.ContainsAny(s, "\n\u0085\u2028\u2029") || len(s) > 128
}
