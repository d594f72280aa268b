package importer

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	creds "github.com/fleetc/fleetc/internal/credentials"
	"github.com/fleetc/fleetc/internal/fan"
)

// ValuesDir is the directory of a templater's output tree that holds one
// directory per cluster: cluster/<cluster>/<category>/<app>/values.yaml,
// the layout fleetc writes too.
const ValuesDir = "cluster"

// ValuesFile is the name of each app's values file.
const ValuesFile = "values.yaml"

// ValuesTree is a templater's output as import values reads it: one
// values file per cluster and app.
type ValuesTree struct {
	// Dir is the cluster/ directory the files were read from, and Shown
	// how messages name it.
	Dir, Shown string
	// Files are sorted by cluster, category and app.
	Files []*ValuesInput
	// Ignored are paths under Dir, relative to it, that are not values
	// files of the layout: reported, never read.
	Ignored []string
}

// ValuesInput is one values file of the tree.
type ValuesInput struct {
	Cluster, Category, App string
	// Path is the file's path.
	Path string
	// Shown is how messages name it: below the directory as the user
	// named it.
	Shown string
	// Root is what the file holds, a mapping.
	Root *value
}

// Rel is the file's path inside the tree: <cluster>/<category>/<app>/values.yaml.
func (in *ValuesInput) Rel() string {
	return ValuesDir + "/" + in.Cluster + "/" + in.Category + "/" + in.App + "/" + ValuesFile
}

// kind is what a YAML node holds, as data.
type kind uint8

const (
	kindMap kind = iota
	kindList
	kindScalar
)

// value is a values file's content as data: YAML parsed, aliases
// resolved, scalars typed the way YAML 1.2 (and so Helm) reads them.
type value struct {
	kind kind
	// keys are the keys of a map in the file's order; vals holds their
	// values, or a list's items. Slices rather than a Go map, and no
	// more fields than needed: tens of thousands of files are held at
	// once, and a values mapping has few keys.
	keys []string
	vals []*value
	// scalar is a string, int64, uint64, float64, bool or nil.
	scalar any
}

// get is the value of key k of a map.
func (v *value) get(k string) (*value, bool) {
	for i, key := range v.keys {
		if key == k {
			return v.vals[i], true
		}
	}
	return nil, false
}

// ReadValuesTree reads every values file under dir: dir is the cluster/
// directory of a templater's output, or the directory that holds it.
// Messages name dir as shown (as the user named it), or as dir if shown
// is empty. The files are parsed on every core.
func ReadValuesTree(dir, shown string) (*ValuesTree, error) {
	if shown == "" {
		shown = dir
	}
	root := dir
	if fi, err := os.Stat(filepath.Join(dir, ValuesDir)); err == nil && fi.IsDir() {
		root = filepath.Join(dir, ValuesDir)
		shown = filepath.Join(shown, ValuesDir)
	}
	if fi, err := os.Stat(root); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("%s: no such directory", shown)
		}
		return nil, err
	} else if !fi.IsDir() {
		return nil, fmt.Errorf("%s is not a directory", shown)
	}
	t := &ValuesTree{Dir: root, Shown: shown}
	err := filepath.WalkDir(root, func(path string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		if rel == "." {
			return nil
		}
		parts := strings.Split(filepath.ToSlash(rel), "/")
		if e.IsDir() {
			if len(parts) > 3 {
				t.Ignored = append(t.Ignored, filepath.ToSlash(rel)+"/")
				return filepath.SkipDir
			}
			return nil
		}
		if len(parts) != 4 || parts[3] != ValuesFile {
			t.Ignored = append(t.Ignored, filepath.ToSlash(rel))
			return nil
		}
		t.Files = append(t.Files, &ValuesInput{Cluster: parts[0], Category: parts[1], App: parts[2], Path: path, Shown: filepath.Join(shown, rel)})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", shown, err)
	}
	if len(t.Files) == 0 {
		return nil, fmt.Errorf("%s holds no values file: import values reads %s/<cluster>/<category>/<app>/%s", shown, ValuesDir, ValuesFile)
	}
	errs := make([]error, len(t.Files))
	fan.Each(len(t.Files), 0, func(i int) string { return "read " + t.Files[i].Shown }, func(i int) {
		in := t.Files[i]
		src, err := os.ReadFile(in.Path)
		if err != nil {
			errs[i] = fmt.Errorf("read %s: %w", in.Shown, err)
			return
		}
		in.Root, errs[i] = parseValues(in.Shown, src)
	})
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return t, nil
}

// parseValues parses one values file: a single YAML document holding a
// mapping, or nothing (an empty mapping, as Helm reads it). A credential
// in it is an error.
func parseValues(name string, src []byte) (*value, error) {
	return parse(name, src, true)
}

// parse is parseValues, with the check for credentials left out for
// bytes that fleetc rendered, which never hold one (render.YAML).
func parse(name string, src []byte, checkCreds bool) (*value, error) {
	dec := yaml.NewDecoder(bytes.NewReader(src))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return &value{kind: kindMap}, nil
		}
		return nil, fmt.Errorf("%s: %v", name, err)
	}
	var next yaml.Node
	if err := dec.Decode(&next); err == nil {
		return nil, fmt.Errorf("%s:%d:%d: a second YAML document: a values file holds one mapping", name, next.Line, next.Column)
	} else if !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%s: %v", name, err)
	}
	if len(doc.Content) == 0 {
		return &value{kind: kindMap}, nil
	}
	top := doc.Content[0]
	for top.Kind == yaml.AliasNode {
		top = top.Alias
	}
	if top.Kind == yaml.ScalarNode && top.ShortTag() == "!!null" {
		return &value{kind: kindMap}, nil
	}
	if top.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("%s:%d:%d: the document is a %s, not a mapping: a values file maps keys to values", name, top.Line, top.Column, nodeKind(top))
	}
	return fromNode(name, top, "", checkCreds, 0)
}

func nodeKind(n *yaml.Node) string {
	switch n.Kind {
	case yaml.SequenceNode:
		return "list"
	case yaml.ScalarNode:
		return "scalar (" + n.ShortTag() + ")"
	}
	return "mapping"
}

// fromNode turns a YAML node, the value of key ("" in a list), into
// data. depth guards against alias cycles. A credential is an error:
// fleetc writes none into the CUE files, which live in git, nor into
// values files.
func fromNode(name string, n *yaml.Node, key string, checkCreds bool, depth int) (*value, error) {
	if depth > 1000 {
		return nil, fmt.Errorf("%s:%d:%d: nested too deep (an alias that includes itself?)", name, n.Line, n.Column)
	}
	for n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	v := &value{}
	switch n.Kind {
	case yaml.MappingNode:
		v.kind = kindMap
		v.keys = make([]string, 0, len(n.Content)/2)
		v.vals = make([]*value, 0, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, val := n.Content[i], n.Content[i+1]
			for k.Kind == yaml.AliasNode {
				k = k.Alias
			}
			if k.Kind != yaml.ScalarNode {
				return nil, fmt.Errorf("%s:%d:%d: a key that is a %s: values keys are strings", name, k.Line, k.Column, nodeKind(k))
			}
			if k.ShortTag() == "!!merge" {
				return nil, fmt.Errorf("%s:%d:%d: a merge key (<<): write the merged keys out", name, k.Line, k.Column)
			}
			if _, dup := v.get(k.Value); dup {
				return nil, fmt.Errorf("%s:%d:%d: key %q is there twice", name, k.Line, k.Column, k.Value)
			}
			c, err := fromNode(name, val, k.Value, checkCreds, depth+1)
			if err != nil {
				return nil, err
			}
			v.keys = append(v.keys, k.Value)
			v.vals = append(v.vals, c)
		}
	case yaml.SequenceNode:
		v.kind = kindList
		v.vals = make([]*value, 0, len(n.Content))
		for _, c := range n.Content {
			cv, err := fromNode(name, c, key, checkCreds, depth+1)
			if err != nil {
				return nil, err
			}
			v.vals = append(v.vals, cv)
		}
	case yaml.ScalarNode:
		v.kind = kindScalar
		s, err := scalarOf(n)
		if err != nil {
			return nil, fmt.Errorf("%s:%d:%d: %v", name, n.Line, n.Column, err)
		}
		v.scalar = s
		if str, ok := s.(string); ok && checkCreds {
			if f, bad := creds.Check(str, key); bad {
				return nil, fmt.Errorf("%s:%d:%d: %s: fleetc never writes a credential into git; have the chart read it from a Kubernetes Secret and import the file without it", name, n.Line, n.Column, f.Reason())
			}
		}
	default:
		return nil, fmt.Errorf("%s:%d:%d: unexpected YAML node", name, n.Line, n.Column)
	}
	return v, nil
}

// scalarOf types a scalar as YAML resolves its tag. A timestamp is the
// string it is written as: Helm reads values as JSON, which has no
// timestamps.
func scalarOf(n *yaml.Node) (any, error) {
	switch n.ShortTag() {
	case "!!str", "!!timestamp", "!!binary":
		return n.Value, nil
	case "!!null":
		return nil, nil
	case "!!bool":
		var b bool
		err := n.Decode(&b)
		return b, err
	case "!!int":
		var x any
		if err := n.Decode(&x); err != nil {
			return nil, err
		}
		switch i := x.(type) {
		case int:
			return int64(i), nil
		case int64:
			return i, nil
		case uint64:
			return i, nil
		case float64:
			return i, nil
		}
		return nil, fmt.Errorf("integer %s out of range", n.Value)
	case "!!float":
		var f float64
		if err := n.Decode(&f); err != nil {
			return nil, err
		}
		if math.IsInf(f, 0) || math.IsNaN(f) {
			return nil, fmt.Errorf("%s: CUE has no infinity or NaN; quote it if the chart takes a string", n.Value)
		}
		return f, nil
	}
	return nil, fmt.Errorf("a scalar tagged %s: values hold strings, numbers, booleans and null", n.ShortTag())
}

// equal reports whether a and b are the same data, key order ignored. An
// integer and a float of the same number are not equal: YAML and JSON
// tell 3 from 3.0 by type, and so may a chart.
func equal(a, b *value) bool {
	if a == b {
		return true
	}
	if a.kind != b.kind {
		return false
	}
	switch a.kind {
	case kindMap:
		if len(a.keys) != len(b.keys) {
			return false
		}
		for i, k := range a.keys {
			av := a.vals[i]
			bv, ok := b.get(k)
			if !ok || !equal(av, bv) {
				return false
			}
		}
		return true
	case kindList:
		return slices.EqualFunc(a.vals, b.vals, equal)
	}
	return scalarEqual(a.scalar, b.scalar)
}

func scalarEqual(a, b any) bool {
	switch x := a.(type) {
	case int64:
		if y, ok := b.(uint64); ok {
			return x >= 0 && uint64(x) == y
		}
	case uint64:
		if y, ok := b.(int64); ok {
			return y >= 0 && uint64(y) == x
		}
	}
	return a == b
}

// describe says what v is, briefly, for messages: a scalar as YAML would
// write it, a collection by its size.
func (v *value) describe() string {
	switch v.kind {
	case kindMap:
		return fmt.Sprintf("a mapping of %d keys", len(v.keys))
	case kindList:
		return fmt.Sprintf("a list of %d items", len(v.vals))
	}
	switch s := v.scalar.(type) {
	case nil:
		return "null"
	case string:
		return strconv.Quote(s)
	case float64:
		return strconv.FormatFloat(s, 'g', -1, 64) + " (float)"
	}
	return fmt.Sprint(v.scalar)
}

// diffValues says where got differs from want first, as a path below
// prefix and what each holds, or "" when they are equal. Equal subtrees
// are passed over with equal, so that a path is only spelled out along
// the first difference: the proof compares every values file.
func diffValues(prefix string, want, got *value) string {
	if want.kind != got.kind {
		return fmt.Sprintf("%s: want %s, got %s", prefix, want.describe(), got.describe())
	}
	switch want.kind {
	case kindMap:
		for i, k := range want.keys {
			g, ok := got.get(k)
			if !ok {
				return fmt.Sprintf("%s: missing", joinPath(prefix, k))
			}
			if w := want.vals[i]; !equal(w, g) {
				return diffValues(joinPath(prefix, k), w, g)
			}
		}
		for _, k := range got.keys {
			if _, ok := want.get(k); !ok {
				return fmt.Sprintf("%s: not in the input", joinPath(prefix, k))
			}
		}
		return ""
	case kindList:
		if len(want.vals) != len(got.vals) {
			return fmt.Sprintf("%s: want a list of %d items, got %d", prefix, len(want.vals), len(got.vals))
		}
		for i, w := range want.vals {
			if !equal(w, got.vals[i]) {
				return diffValues(fmt.Sprintf("%s[%d]", prefix, i), w, got.vals[i])
			}
		}
		return ""
	}
	if !scalarEqual(want.scalar, got.scalar) {
		return fmt.Sprintf("%s: want %s, got %s", prefix, want.describe(), got.describe())
	}
	return ""
}

func joinPath(prefix, key string) string {
	if prefix == "" {
		return key
	}
	return prefix + "." + key
}
