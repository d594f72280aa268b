package render

import (
	"bytes"
	"fmt"
	"sync"
	"sync/atomic"

	"go.yaml.in/yaml/v3"

	"github.com/fleetc/fleetc/internal/compile"
)

// Memo renders each distinct values file of a compile once. Apps whose
// compile.App.Memo is the same have the same values, field order
// included: the first one's YAML tree serves the others, and only the
// header that names each cluster's file differs. Walking the CUE value
// into the tree is most of rendering (CUE orders each struct's fields on
// the way), and on a fleet most apps read a few fields that many clusters
// share.
//
// A Memo is safe for concurrent use; the trees it holds are never changed.
type Memo struct {
	trees sync.Map // compile.App.Memo → *yaml.Node
	// Shared counts the values files that came from a tree made for
	// another cluster.
	Shared atomic.Int64
	// check, in tests, renders every shared file again and fails if its
	// bytes differ from the shared tree's: the reading of the platform
	// missed something the values depend on.
	check bool
}

// values is the YAML tree of app's values.
func (m *Memo) values(app compile.App) (*yaml.Node, error) {
	if m == nil || app.Memo == "" {
		return node(app.Values, "")
	}
	if n, ok := m.trees.Load(app.Memo); ok {
		m.Shared.Add(1)
		if m.check {
			if err := sameTree(n.(*yaml.Node), app); err != nil {
				return nil, err
			}
		}
		return n.(*yaml.Node), nil
	}
	n, err := node(app.Values, "")
	if err != nil {
		return nil, err
	}
	m.trees.Store(app.Memo, n)
	return n, nil
}

// sameTree is an error if app's values do not render as tree does.
func sameTree(tree *yaml.Node, app compile.App) error {
	want, err := YAML(app.Values, "")
	if err != nil {
		return err
	}
	got, err := Encode(tree, "")
	if err != nil {
		return err
	}
	if !bytes.Equal(got, want) {
		return fmt.Errorf("memo %q: the shared values differ from the app's own:\n%s\nagainst\n%s", app.Memo, got, want)
	}
	return nil
}
