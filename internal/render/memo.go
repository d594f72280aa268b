package render

import (
	"bytes"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/fleetc/fleetc/internal/compile"
)

// Memo renders each distinct values file of a compile once. Apps whose
// compile.App.Memo is the same have the same values, field order
// included: the first one's YAML serves the others, and only the header
// that names each cluster's file differs. Walking the CUE value into YAML
// is most of rendering (CUE orders each struct's fields on the way), and
// on a fleet most apps read a few fields that many clusters share.
//
// A Memo is safe for concurrent use.
type Memo struct {
	bodies sync.Map // compile.App.Memo → []byte, the file without a header
	// Shared counts the values files that came from another cluster's.
	Shared atomic.Int64
	// check, in tests, renders every shared file again and fails if its
	// bytes differ: the reading of the platform missed something the
	// values depend on.
	check bool
}

// Serves reports whether Cluster, for c of the module at root, takes the
// values file of app a from the memo rather than from a.Values: then a
// compile need not evaluate them (compile.Options.Rendered). Never while
// the memo checks what it shares, which renders a.Values again.
func (m *Memo) Serves(c *compile.Cluster, a compile.App, root string) bool {
	if m == nil || m.check || a.Memo == "" {
		return false
	}
	if _, header := headerOf(c, root); !plainHeader(strings.ToValidUTF8(header, "\uFFFD")) {
		return false
	}
	_, ok := m.bodies.Load(a.Memo)
	return ok
}

// values renders app's values file with header.
func (m *Memo) values(app compile.App, header string) ([]byte, error) {
	if m == nil || app.Memo == "" {
		return YAML(app.Values, header)
	}
	header = strings.ToValidUTF8(header, "\uFFFD") // as Encode does
	if body, ok := m.bodies.Load(app.Memo); ok && plainHeader(header) {
		m.Shared.Add(1)
		data := withHeader(header, body.([]byte))
		if m.check {
			if want, err := YAML(app.Values, header); err != nil || !bytes.Equal(data, want) {
				return nil, fmt.Errorf("memo %q: the shared values file differs from the app's own (%v):\n%s\nagainst\n%s", app.Memo, err, data, want)
			}
		}
		return data, nil
	}
	n, err := node(app.Values, "")
	if err != nil {
		return nil, err
	}
	// Only what the shortcut writes is kept: with yaml.v3's encoder the
	// header may change how the rest is laid out.
	var buf bytes.Buffer
	if plainHeader(header) && emit(&buf, n, "") {
		m.bodies.LoadOrStore(app.Memo, buf.Bytes())
		return withHeader(header, buf.Bytes()), nil
	}
	return Encode(n, header)
}

// withHeader is body, written by emit without a header, with header as
// emit writes it.
func withHeader(header string, body []byte) []byte {
	if header == "" {
		return bytes.Clone(body)
	}
	out := make([]byte, 0, len(header)+4+len(body))
	out = append(out, "# "...)
	out = append(out, header...)
	out = append(out, "\n\n"...)
	return append(out, body...)
}
