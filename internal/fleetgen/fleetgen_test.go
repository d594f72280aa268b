package fleetgen

import (
	"bytes"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"cuelang.org/go/cue"
	"cuelang.org/go/cue/ast"
	"cuelang.org/go/cue/cuecontext"
	"cuelang.org/go/cue/load"
	"cuelang.org/go/cue/parser"
)

func repo() string {
	_, self, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(self), "..", "..")
}

// TestDeterministic: one seed, one fleet, byte for byte; another seed, a
// different fleet.
func TestDeterministic(t *testing.T) {
	a, b := t.TempDir(), t.TempDir()
	for _, dir := range []string{a, b} {
		seed := uint64(1)
		if err := Generate(repo(), dir, 50, seed); err != nil {
			t.Fatal(err)
		}
	}
	name := filepath.Join("clusters", "c00016-staging.cue")
	fa, _ := os.ReadFile(filepath.Join(a, name))
	fb, _ := os.ReadFile(filepath.Join(b, name))
	if len(fa) == 0 || !bytes.Equal(fa, fb) {
		t.Errorf("same seed, different file:\n%s\n%s", fa, fb)
	}
	entries, _ := os.ReadDir(filepath.Join(a, "clusters"))
	if len(entries) != 51 {
		t.Errorf("got %d files in clusters/, want 50 clusters and the shared file", len(entries))
	}
	same := true
	for i := range 50 {
		_, sa := Cluster(NewRand(1), i)
		_, sc := Cluster(NewRand(2), i)
		same = same && sa == sc
	}
	if same {
		t.Error("different seeds gave the same clusters")
	}
}

// TestEveryField: a fleet of 300 sets every field of #Cluster that a
// cluster file may set, in at least one cluster, and both enables and
// leaves off every optional bundle: a field added to the schema fails this
// test until the generator exercises it, so benchmarks hide no feature.
func TestEveryField(t *testing.T) {
	dir := t.TempDir()
	if err := Generate(repo(), dir, 300, 1); err != nil {
		t.Fatal(err)
	}
	schema := clusterSchema(t, dir)
	set := map[string]bool{}
	files, _ := filepath.Glob(filepath.Join(dir, "clusters", "c*.cue"))
	for _, file := range files {
		f, err := parser.ParseFile(file, nil)
		if err != nil {
			t.Fatal(err)
		}
		// clusters: "<name>": {...}
		cl := f.Decls[1].(*ast.Field).Value.(*ast.StructLit).Elts[0].(*ast.Field).Value
		setPaths(cl, "", set)
	}
	for _, p := range schema {
		if !set[p] {
			t.Errorf("no generated cluster sets %s", p)
		}
	}
	for _, b := range OptionalBundles() {
		if !set["bundles."+b] {
			t.Errorf("no generated cluster enables %s", b)
		}
	}
	// Servers of every shape.
	shapes := map[string]bool{}
	r := NewRand(1)
	for i := range 300 {
		spec := NewSpec(r, i)
		switch {
		case strings.Contains(spec.Server, "["):
			shapes["ipv6"] = true
		case strings.HasPrefix(spec.Server, "https://10."):
			shapes["ipv4"] = true
		case strings.Contains(spec.Server, "/clusters/"):
			shapes["path"] = true
		case !strings.Contains(strings.TrimPrefix(spec.Server, "https://"), ":"):
			shapes["no port"] = true
		}
		if len(spec.Name) == LongName {
			shapes["long name"] = true
		}
		if len(spec.Bundles) == 0 {
			shapes["required bundles only"] = true
		}
		for _, b := range OptionalBundles() {
			if !slices.Contains(spec.Bundles, b) {
				shapes["without "+b] = true
			}
		}
	}
	wants := []string{"ipv6", "ipv4", "path", "no port", "long name", "required bundles only"}
	for _, b := range OptionalBundles() {
		wants = append(wants, "without "+b)
	}
	for _, want := range wants {
		if !shapes[want] {
			t.Errorf("no generated cluster has %s", want)
		}
	}
}

// setPaths adds the dotted paths of the fields that n sets, below prefix.
func setPaths(n ast.Expr, prefix string, set map[string]bool) {
	st, ok := n.(*ast.StructLit)
	if !ok {
		set[strings.TrimSuffix(prefix, ".")] = true
		return
	}
	for _, e := range st.Elts {
		f, ok := e.(*ast.Field)
		if !ok {
			continue
		}
		name, _, _ := ast.LabelName(f.Label)
		setPaths(f.Value, prefix+name+".", set)
		set[prefix+name] = true
	}
}

// clusterSchema lists the fields of #Cluster a cluster file may set, as
// dotted paths: every regular and optional field, down to the leaves, and
// maps (labels, annotations) as themselves. name comes from the key, and
// secret fields are never in a file.
func clusterSchema(t *testing.T, dir string) []string {
	t.Helper()
	insts := load.Instances([]string{"./defs"}, &load.Config{Dir: dir})
	v := cuecontext.New().BuildInstance(insts[0])
	if err := v.Err(); err != nil {
		t.Fatal(err)
	}
	var out []string
	var walk func(v cue.Value, prefix string)
	walk = func(v cue.Value, prefix string) {
		iter, err := v.Fields(cue.Optional(true))
		if err != nil {
			return
		}
		for iter.Next() {
			name := iter.Selector().Unquoted()
			fv := iter.Value()
			if a := fv.Attribute("secret"); a.Err() == nil {
				continue
			}
			p := prefix + name
			switch p {
			case "name":
				continue
			case "bundles":
				// A map of bundle names, checked bundle by bundle.
				out = append(out, p)
				continue
			}
			sub, _ := fv.Fields(cue.Optional(true))
			if fv.IncompleteKind() == cue.StructKind && sub != nil && sub.Next() {
				walk(fv, p+".")
				continue
			}
			out = append(out, p)
		}
	}
	walk(v.LookupPath(cue.ParsePath("#Cluster")), "")
	return out
}
