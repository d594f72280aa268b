package load

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"cuelang.org/go/cue"
	"cuelang.org/go/cue/ast"
	"cuelang.org/go/cue/cuecontext"
	"cuelang.org/go/cue/format"
	"cuelang.org/go/cue/parser"
)

// TestSharedFilesPinned: a shared file saved while fleetc runs (after Load)
// changes neither what a worker loads later nor the digest the cache keys
// on, so the two always describe the same bytes.
func TestSharedFilesPinned(t *testing.T) {
	root, p := loadCopy(t)
	before, err := p.SharedDigest()
	if err != nil {
		t.Fatal(err)
	}
	// A file of an imported package and a shared file of the clusters
	// package, both saved after Load.
	for _, f := range []struct{ rel, old, new string }{
		{"defs/platform.cue", `output: "deploy"`, `output: "elsewhere"`},
		{"clusters/platform.cue", "package clusters", "package clusters\n\n// saved later"},
	} {
		name := filepath.Join(root, f.rel)
		src, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Contains(src, []byte(f.old)) {
			t.Fatalf("%s has no %q", f.rel, f.old)
		}
		if err := os.WriteFile(name, bytes.Replace(src, []byte(f.old), []byte(f.new), 1), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	after, err := p.SharedDigest()
	if err != nil {
		t.Fatal(err)
	}
	if after != before {
		t.Errorf("SharedDigest changed when files were saved after Load")
	}
	inst, err := p.LoadShared()
	if err != nil {
		t.Fatal(err)
	}
	v := cuecontext.New().BuildInstance(inst)
	out, err := v.LookupPath(cue.ParsePath("platform.output")).String()
	if err != nil || out != "deploy" {
		t.Errorf("a worker's load after the save has platform.output %q (%v), want the loaded %q", out, err, "deploy")
	}
	// A new Load sees the new files.
	q, err := Load(Config{Dir: root})
	if err != nil {
		t.Fatal(err)
	}
	if d, err := q.SharedDigest(); err != nil || d == before {
		t.Errorf("a new Load after the save has the old digest (%v)", err)
	}
}

// TestFields: Fields yields each place a file spells a path out, through
// shorthands and struct literals alike, in order; Field is the first.
func TestFields(t *testing.T) {
	f, err := parser.ParseFile("x.cue", "a: b: 1\nc: b: 9\na: {d: 4, b: 3}\na: 5\n\"a\": b: 6\n")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		path []string
		want string
	}{
		{[]string{"a", "b"}, "1|3|6"},
		{[]string{"a"}, "{ b: 1 }|{d: 4, b: 3}|5|{ b: 6 }"},
		{[]string{"a", "x"}, ""},
		{[]string{"b"}, ""},
	} {
		var got []string
		for fd := range Fields(f.Decls, tc.path...) {
			got = append(got, firstValue(t, fd))
		}
		if strings.Join(got, "|") != tc.want {
			t.Errorf("Fields(%v) = %q, want %q", tc.path, got, tc.want)
		}
		if fd := Field(f.Decls, tc.path...); (fd == nil) != (tc.want == "") || fd != nil && !strings.HasPrefix(tc.want, firstValue(t, fd)) {
			t.Errorf("Field(%v) = %v, want the first of %q", tc.path, fd, tc.want)
		}
	}
}

// firstValue is the value of fd on one line.
func firstValue(t *testing.T, fd *ast.Field) string {
	b, err := format.Node(fd.Value)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Join(strings.Fields(string(b)), " ")
}
