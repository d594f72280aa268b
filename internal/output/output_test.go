package output

import (
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/fleetc/fleetc/internal/render"
)

// files builds planned files from path, content pairs.
func files(pairs ...string) []render.File {
	var fl []render.File
	for i := 0; i < len(pairs); i += 2 {
		fl = append(fl, render.File{Path: pairs[i], Data: []byte(pairs[i+1])})
	}
	return fl
}

// tree returns everything under root: regular files map to their content,
// directories to "<dir>", symlinks to "-> target".
func tree(t *testing.T, root string) map[string]string {
	t.Helper()
	got := map[string]string{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p == root {
			return nil
		}
		rel, _ := filepath.Rel(root, p)
		rel = filepath.ToSlash(rel)
		switch {
		case d.Type()&fs.ModeSymlink != 0:
			target, err := os.Readlink(p)
			if err != nil {
				return err
			}
			got[rel] = "-> " + target
		case d.IsDir():
			got[rel] = "<dir>"
		default:
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			got[rel] = string(data)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// ledgerOf is the ledger Write produces for exactly these files.
func ledgerOf(fl []render.File) string {
	l := Ledger{}
	for _, f := range fl {
		l[f.Path] = sum(f.Data)
	}
	return string(l.bytes())
}

// want is the tree expected after writing fl: the files, their
// directories and the ledger, plus extra entries.
func want(fl []render.File, extra map[string]string) map[string]string {
	m := map[string]string{LedgerName: ledgerOf(fl)}
	for _, f := range fl {
		m[f.Path] = string(f.Data)
		for _, d := range parents(f.Path) {
			m[d] = "<dir>"
		}
	}
	for k, v := range extra {
		m[k] = v
	}
	return m
}

func mustWrite(t *testing.T, root string, p Plan) Result {
	t.Helper()
	res, err := Write(root, p)
	if err != nil {
		t.Fatalf("Write: %v", err)
	}
	return res
}

func checkTree(t *testing.T, root string, want map[string]string) {
	t.Helper()
	got := tree(t, root)
	if !reflect.DeepEqual(got, want) {
		for k, v := range want {
			if g, ok := got[k]; !ok {
				t.Errorf("missing %s", k)
			} else if g != v {
				t.Errorf("%s = %q, want %q", k, g, v)
			}
		}
		for k, v := range got {
			if _, ok := want[k]; !ok {
				t.Errorf("unexpected %s (%q)", k, v)
			}
		}
	}
}

func checkResult(t *testing.T, got, want Result) {
	t.Helper()
	norm := func(s []string) []string {
		if len(s) == 0 {
			return nil
		}
		return s
	}
	if !reflect.DeepEqual(norm(got.Written), norm(want.Written)) ||
		!reflect.DeepEqual(norm(got.Unchanged), norm(want.Unchanged)) ||
		!reflect.DeepEqual(norm(got.Removed), norm(want.Removed)) {
		t.Errorf("Result = %+v\nwant     %+v", got, want)
	}
}

func writeFile(t *testing.T, name, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(name, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestWriteSequence(t *testing.T) {
	base := files(
		"cluster/b/values.yaml", "b: 1\n",
		"argocd/clusters/a.yaml", "kind: Secret\n",
		"cluster/a/apps/web/values.yaml", "a: 1\n",
	)
	changed := files(
		"cluster/b/values.yaml", "b: 2\n",
		"argocd/clusters/a.yaml", "kind: Secret\n",
		"cluster/a/apps/web/values.yaml", "a: 1\n",
	)
	type step struct {
		files []render.File
		res   Result
	}
	tests := []struct {
		name  string
		steps []step
		extra map[string]string // foreign files present throughout
		final map[string]string // expected tree after the last step
	}{{
		name:  "first write",
		steps: []step{{base, Result{Written: []string{"argocd/clusters/a.yaml", "cluster/a/apps/web/values.yaml", "cluster/b/values.yaml"}}}},
		final: want(base, nil),
	}, {
		name: "identical write is unchanged",
		steps: []step{
			{base, Result{Written: []string{"argocd/clusters/a.yaml", "cluster/a/apps/web/values.yaml", "cluster/b/values.yaml"}}},
			{base, Result{Unchanged: []string{"argocd/clusters/a.yaml", "cluster/a/apps/web/values.yaml", "cluster/b/values.yaml"}}},
		},
		final: want(base, nil),
	}, {
		name: "change one file",
		steps: []step{
			{base, Result{Written: []string{"argocd/clusters/a.yaml", "cluster/a/apps/web/values.yaml", "cluster/b/values.yaml"}}},
			{changed, Result{Written: []string{"cluster/b/values.yaml"}, Unchanged: []string{"argocd/clusters/a.yaml", "cluster/a/apps/web/values.yaml"}}},
		},
		final: want(changed, nil),
	}, {
		name: "prune removes nested empty directories",
		steps: []step{
			{base, Result{Written: []string{"argocd/clusters/a.yaml", "cluster/a/apps/web/values.yaml", "cluster/b/values.yaml"}}},
			{files("cluster/b/values.yaml", "b: 1\n"), Result{
				Unchanged: []string{"cluster/b/values.yaml"},
				Removed:   []string{"argocd/clusters/a.yaml", "cluster/a/apps/web/values.yaml"},
			}},
		},
		final: want(files("cluster/b/values.yaml", "b: 1\n"), nil),
	}, {
		name:  "prune keeps directories holding foreign files",
		extra: map[string]string{"cluster/a/NOTES.md": "mine\n"},
		steps: []step{
			{base, Result{Written: []string{"argocd/clusters/a.yaml", "cluster/a/apps/web/values.yaml", "cluster/b/values.yaml"}}},
			{files("cluster/b/values.yaml", "b: 1\n"), Result{
				Unchanged: []string{"cluster/b/values.yaml"},
				Removed:   []string{"argocd/clusters/a.yaml", "cluster/a/apps/web/values.yaml"},
			}},
		},
		final: want(files("cluster/b/values.yaml", "b: 1\n"), map[string]string{"cluster/a": "<dir>", "cluster/a/NOTES.md": "mine\n"}),
	}, {
		name: "empty plan prunes everything",
		steps: []step{
			{base, Result{Written: []string{"argocd/clusters/a.yaml", "cluster/a/apps/web/values.yaml", "cluster/b/values.yaml"}}},
			{nil, Result{Removed: []string{"argocd/clusters/a.yaml", "cluster/a/apps/web/values.yaml", "cluster/b/values.yaml"}}},
		},
		final: map[string]string{LedgerName: ledgerHeader},
	}, {
		name: "owned file becomes a directory",
		steps: []step{
			{files("a", "file\n"), Result{Written: []string{"a"}}},
			{files("a/b", "nested\n"), Result{Written: []string{"a/b"}, Removed: []string{"a"}}},
		},
		final: want(files("a/b", "nested\n"), nil),
	}, {
		name: "owned directory becomes a file",
		steps: []step{
			{files("a/b/c", "nested\n", "a/d", "x"), Result{Written: []string{"a/b/c", "a/d"}}},
			{files("a", "file\n"), Result{Written: []string{"a"}, Removed: []string{"a/b/c", "a/d"}}},
		},
		final: want(files("a", "file\n"), nil),
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := filepath.Join(t.TempDir(), "deploy")
			for name, content := range tt.extra {
				writeFile(t, filepath.Join(root, name), content)
			}
			for i, s := range tt.steps {
				res := mustWrite(t, root, Plan{Files: s.files})
				t.Logf("step %d: %+v", i, res)
				checkResult(t, res, s.res)
			}
			checkTree(t, root, tt.final)
		})
	}
}

func TestUnchangedKeepsMtimes(t *testing.T) {
	root := t.TempDir()
	fl := files("a/x.yaml", "x\n", "y.yaml", "y\n")
	mustWrite(t, root, Plan{Files: fl})
	past := time.Date(2001, 2, 3, 4, 5, 6, 0, time.UTC)
	names := []string{"a/x.yaml", "y.yaml", LedgerName}
	for _, n := range names {
		if err := os.Chtimes(filepath.Join(root, n), past, past); err != nil {
			t.Fatal(err)
		}
	}
	res := mustWrite(t, root, Plan{Files: fl})
	checkResult(t, res, Result{Unchanged: []string{"a/x.yaml", "y.yaml"}})
	for _, n := range names {
		fi, err := os.Stat(filepath.Join(root, n))
		if err != nil {
			t.Fatal(err)
		}
		if !fi.ModTime().Equal(past) {
			t.Errorf("%s was rewritten: mtime %v", n, fi.ModTime())
		}
	}
}

func TestFileMode(t *testing.T) {
	root := t.TempDir()
	mustWrite(t, root, Plan{Files: files("a/x.yaml", "x\n")})
	for name, mode := range map[string]fs.FileMode{"a/x.yaml": 0o644, LedgerName: 0o644} {
		fi, err := os.Stat(filepath.Join(root, name))
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != mode {
			t.Errorf("%s: mode %v, want %v", name, fi.Mode().Perm(), mode)
		}
	}
}

func TestLedgerGolden(t *testing.T) {
	root := t.TempDir()
	mustWrite(t, root, Plan{Files: files("z/b.yaml", "b: 2\n", "a.yaml", "a: 1\n", "empty", "")})
	got, err := os.ReadFile(filepath.Join(root, LedgerName))
	if err != nil {
		t.Fatal(err)
	}
	const golden = "# Generated by fleetc. DO NOT EDIT. Files fleetc owns here, one per line: <sha256 hex>  <path>\n" +
		"37b128c59f1f5097f73f82691cb519f1f568667faab5ced1b4ab979d36837eae  a.yaml\n" +
		"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855  empty\n" +
		"d4eed209fa44e2eb45f5dbe26726d1985cef0bc7b9a2c923a8d7e8003662234e  z/b.yaml\n"
	if string(got) != golden {
		t.Errorf("ledger:\n%s\nwant:\n%s", got, golden)
	}
	l, err := ReadLedger(root)
	if err != nil {
		t.Fatal(err)
	}
	wantLedger := Ledger{
		"a.yaml":   "37b128c59f1f5097f73f82691cb519f1f568667faab5ced1b4ab979d36837eae",
		"empty":    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
		"z/b.yaml": "d4eed209fa44e2eb45f5dbe26726d1985cef0bc7b9a2c923a8d7e8003662234e",
	}
	if !reflect.DeepEqual(l, wantLedger) {
		t.Errorf("ReadLedger = %v, want %v", l, wantLedger)
	}
	// What a later Write reads when the ledger is the one its stamps
	// record: the same, without checking the lines again.
	if w := writtenLedger(got); !reflect.DeepEqual(w, wantLedger) {
		t.Errorf("writtenLedger = %v, want %v", w, wantLedger)
	}
	if got, want := l.Paths(), []string{"a.yaml", "empty", "z/b.yaml"}; !reflect.DeepEqual(got, want) {
		t.Errorf("Paths = %v, want %v", got, want)
	}
}

func TestReadLedgerMissing(t *testing.T) {
	for _, root := range []string{t.TempDir(), filepath.Join(t.TempDir(), "nope")} {
		l, err := ReadLedger(root)
		if err != nil || len(l) != 0 {
			t.Errorf("ReadLedger(%s) = %v, %v; want empty, nil", root, l, err)
		}
	}
}

func TestConflict(t *testing.T) {
	root := t.TempDir()
	mustWrite(t, root, Plan{Files: files("a.yaml", "a: 1\n")})
	writeFile(t, filepath.Join(root, "b.yaml"), "foreign b\n")
	writeFile(t, filepath.Join(root, "c/d.yaml"), "foreign d\n")
	writeFile(t, filepath.Join(root, "f"), "foreign file where a directory is planned\n")
	if err := os.Mkdir(filepath.Join(root, "g"), 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(root, "g/keep"), "foreign\n")
	before := tree(t, root)

	plan := Plan{Files: files(
		"a.yaml", "a: 2\n",
		"b.yaml", "b\n",
		"c/d.yaml", "d\n",
		"e.yaml", "e\n",
		"f/x.yaml", "x\n",
		"f/y.yaml", "y\n",
		"g", "file over a foreign directory\n",
	)}
	// Check sees what stops Write, and touches nothing.
	var checked *ConflictError
	if err := Check(root, plan); !errors.As(err, &checked) {
		t.Fatalf("Check: %v, want *ConflictError", err)
	}
	if !reflect.DeepEqual(tree(t, root), before) {
		t.Error("Check changed the tree")
	}
	_, err := Write(root, plan)
	var ce *ConflictError
	if !errors.As(err, &ce) {
		t.Fatalf("Write: %v, want *ConflictError", err)
	}
	if !reflect.DeepEqual(checked, ce) {
		t.Errorf("Check found %v, Write %v", checked, ce)
	}
	if err := Check(filepath.Join(root, "nothing-yet"), plan); err != nil {
		t.Errorf("Check of a root that is not there: %v", err)
	}
	if err := Check(root, Plan{Files: files("a.yaml", "a: 2\n", "e.yaml", "e\n")}); err != nil {
		t.Errorf("Check of a plan nothing is in the way of: %v", err)
	}
	if want := []string{"b.yaml", "c/d.yaml", "f", "g"}; !reflect.DeepEqual(ce.Paths, want) {
		t.Errorf("Paths = %q, want %q", ce.Paths, want)
	}
	j := func(p string) string { return filepath.Join(root, p) }
	wantMsg := fmt.Sprintf("refusing to overwrite files fleetc does not own: %s, %s, %s, %s (move them away or delete them)",
		j("b.yaml"), j("c/d.yaml"), j("f"), j("g"))
	if err.Error() != wantMsg {
		t.Errorf("error:\n%s\nwant:\n%s", err, wantMsg)
	}
	checkTree(t, root, before)

	// One conflict reads as one.
	_, err = Write(root, Plan{Files: files("b.yaml", "b\n")})
	if want := fmt.Sprintf("refusing to overwrite file fleetc does not own: %s (move it away or delete it)", j("b.yaml")); err == nil || err.Error() != want {
		t.Errorf("error: %v, want %s", err, want)
	}
	checkTree(t, root, before)
}

func TestScope(t *testing.T) {
	root := t.TempDir()
	all := files(
		"argocd/a.yaml", "a\n",
		"argocd/b.yaml", "b\n",
		"cluster/a/x.yaml", "x\n",
		"cluster/a/y.yaml", "y\n",
		"cluster/b/x.yaml", "x\n",
	)
	mustWrite(t, root, Plan{Files: all})
	inA := func(p string) bool { return p == "argocd/a.yaml" || strings.HasPrefix(p, "cluster/a/") }

	res := mustWrite(t, root, Plan{
		Files: files("argocd/a.yaml", "a2\n", "cluster/a/x.yaml", "x\n", "cluster/a/z.yaml", "z\n"),
		Scope: inA,
	})
	checkResult(t, res, Result{
		Written:   []string{"argocd/a.yaml", "cluster/a/z.yaml"},
		Unchanged: []string{"cluster/a/x.yaml"},
		Removed:   []string{"cluster/a/y.yaml"},
	})
	checkTree(t, root, want(files(
		"argocd/a.yaml", "a2\n",
		"argocd/b.yaml", "b\n",
		"cluster/a/x.yaml", "x\n",
		"cluster/a/z.yaml", "z\n",
		"cluster/b/x.yaml", "x\n",
	), nil))

	// An empty plan in scope prunes the scope only.
	res = mustWrite(t, root, Plan{Scope: inA})
	checkResult(t, res, Result{Removed: []string{"argocd/a.yaml", "cluster/a/x.yaml", "cluster/a/z.yaml"}})
	checkTree(t, root, want(files("argocd/b.yaml", "b\n", "cluster/b/x.yaml", "x\n"), nil))

	// A planned file must be in scope.
	before := tree(t, root)
	_, err := Write(root, Plan{Files: files("cluster/b/x.yaml", "x\n"), Scope: inA})
	if err == nil || !strings.Contains(err.Error(), `"cluster/b/x.yaml": outside the plan's scope`) {
		t.Errorf("Write out of scope: %v", err)
	}
	checkTree(t, root, before)
}

func TestMalformedLedger(t *testing.T) {
	const h = "37b128c59f1f5097f73f82691cb519f1f568667faab5ced1b4ab979d36837eae"
	tests := []struct {
		name, ledger string
		line         int
		msg          string
	}{
		{"garbage", ledgerHeader + "garbage\n", 2, `malformed ledger entry "garbage"`},
		{"one space", ledgerHeader + h + " a.yaml\n", 2, "malformed ledger entry"},
		{"short sum", ledgerHeader + "abc  a.yaml\n", 2, "malformed ledger entry"},
		{"upper-case sum", ledgerHeader + strings.ToUpper(h) + "  a.yaml\n", 2, "malformed ledger entry"},
		{"no path", ledgerHeader + h + "  \n", 2, `invalid path ""`},
		{"dot-dot", ledgerHeader + h + "  a.yaml\n" + h + "  ../x\n", 3, `invalid path "../x"`},
		{"absolute", h + "  /etc/passwd\n", 1, `invalid path "/etc/passwd"`},
		{"duplicate", ledgerHeader + h + "  a\n" + h + "  a\n", 3, `path "a" listed twice`},
		{"merge conflict", ledgerHeader + "<<<<<<< HEAD\n", 2, "malformed ledger entry"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			writeFile(t, filepath.Join(root, LedgerName), tt.ledger)
			before := tree(t, root)
			prefix := fmt.Sprintf("%s:%d: ", filepath.Join(root, LedgerName), tt.line)
			_, err := Write(root, Plan{Files: files("a.yaml", "a: 1\n")})
			if err == nil || !strings.HasPrefix(err.Error(), prefix) || !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("Write: %v\nwant prefix %q containing %q", err, prefix, tt.msg)
			}
			checkTree(t, root, before)
			_, err = ReadLedger(root)
			if err == nil || !strings.HasPrefix(err.Error(), prefix) {
				t.Errorf("ReadLedger: %v, want prefix %q", err, prefix)
			}
		})
	}
}

func TestLedgerTolerance(t *testing.T) {
	const h = "37b128c59f1f5097f73f82691cb519f1f568667faab5ced1b4ab979d36837eae"
	for _, text := range []string{
		"",
		ledgerHeader,
		h + "  a.yaml",                           // no header, no final newline
		"# comment\r\n\r\n" + h + "  a.yaml\r\n", // CRLF from a checkout
		ledgerHeader + h + "  b/c d.yaml\n" + h + "  a.yaml\n",   // unsorted, spaces in a name
		ledgerHeader + h + "   lead\n" + h + "  trail \n# end\n", // leading/trailing spaces belong to the path
	} {
		l, err := parseLedger([]byte(text), "L")
		if err != nil {
			t.Errorf("parseLedger(%q): %v", text, err)
			continue
		}
		for p, s := range l {
			if s != h || checkPath(p) != nil {
				t.Errorf("parseLedger(%q): entry %q %q", text, s, p)
			}
		}
	}
	l, _ := parseLedger([]byte(ledgerHeader+h+"   lead\n"+h+"  trail \n"), "L")
	if _, ok := l[" lead"]; !ok {
		t.Errorf("leading space lost: %q", l.Paths())
	}
	if _, ok := l["trail "]; !ok {
		t.Errorf("trailing space lost: %q", l.Paths())
	}
}

func TestBadPaths(t *testing.T) {
	tests := []struct {
		name  string
		files []render.File
		bad   string // the path the error must name
		why   string
	}{
		{"parent", files("../x", ""), "../x", `".." element`},
		{"deep parent", files("a/../../x", ""), "a/../../x", `".." element`},
		{"inner parent", files("a/../b", ""), "a/../b", `".." element`},
		{"absolute", files("/abs", ""), "/abs", "absolute"},
		{"backslash", files(`a\b`, ""), `a\b`, "backslash"},
		{"windows parent", files(`..\x`, ""), `..\x`, "backslash"},
		{"empty", files("", ""), "", "empty"},
		{"dot", files(".", ""), ".", "output root itself"},
		{"dot prefix", files("./a", ""), "./a", "not clean"},
		{"trailing slash", files("a/", ""), "a/", "not clean"},
		{"double slash", files("a//b", ""), "a//b", "not clean"},
		{"inner dot", files("a/./b", ""), "a/./b", "not clean"},
		{"nul", files("a\x00b", ""), "a\x00b", "NUL"},
		{"newline", files("a\nb", ""), "a\nb", "control character"},
		{"invalid utf-8", files("a\xffb", ""), "a\xffb", "UTF-8"},
		{"ledger", files(LedgerName, ""), LedgerName, "reserved"},
		{"lock", files(".fleetc-lock", ""), ".fleetc-lock", "reserved"},
		{"record", files(recordName, ""), recordName, "reserved"},
		{"below the record", files(recordName+"/x", ""), recordName + "/x", "reserved"},
		{"duplicate", files("a", "1", "b", "", "a", "2"), "a", "more than once"},
		{"file and directory", files("a/b/c", "", "a/b", ""), "a/b", `directory of planned file "a/b/c"`},
		{"file and directory, sorted apart", files("a", "", "a-b", "", "a/c", ""), "a", `directory of planned file "a/c"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			parent := t.TempDir()
			root := filepath.Join(parent, "deploy")
			// Valid files come first so that nothing is written before the
			// bad one is seen.
			fl := append(files("ok/first.yaml", "ok\n"), tt.files...)
			_, err := Write(root, Plan{Files: fl})
			want := fmt.Sprintf("invalid output path %q: ", tt.bad)
			if err == nil || !strings.HasPrefix(err.Error(), want) || !strings.Contains(err.Error(), tt.why) {
				t.Fatalf("Write: %v\nwant prefix %q containing %q", err, want, tt.why)
			}
			checkTree(t, parent, map[string]string{})
		})
	}
}

func TestSymlinks(t *testing.T) {
	tests := []struct {
		name   string
		setup  func(t *testing.T, root, outside string)
		files  []render.File
		errMsg string // "" for a *ConflictError
	}{{
		name: "directory symlink out of root",
		setup: func(t *testing.T, root, outside string) {
			symlink(t, outside, filepath.Join(root, "sub"))
		},
		files:  files("sub/x.yaml", "x\n"),
		errMsg: "write %[1]s/sub/x.yaml: %[1]s/sub is a symlink",
	}, {
		name: "owned directory symlink out of root",
		setup: func(t *testing.T, root, outside string) {
			mustWrite(t, root, Plan{Files: files("sub/x.yaml", "old\n")})
			os.RemoveAll(filepath.Join(root, "sub"))
			symlink(t, outside, filepath.Join(root, "sub"))
		},
		files:  files("sub/x.yaml", "x\n"),
		errMsg: "write %[1]s/sub/x.yaml: %[1]s/sub is a symlink",
	}, {
		name: "relative directory symlink inside root",
		setup: func(t *testing.T, root, outside string) {
			if err := os.Mkdir(filepath.Join(root, "real"), 0o755); err != nil {
				t.Fatal(err)
			}
			symlink(t, "real", filepath.Join(root, "link"))
		},
		files:  files("link/x.yaml", "x\n"),
		errMsg: "write %[1]s/link/x.yaml: %[1]s/link is a symlink",
	}, {
		name: "foreign file symlink",
		setup: func(t *testing.T, root, outside string) {
			symlink(t, filepath.Join(outside, "secret"), filepath.Join(root, "x.yaml"))
		},
		files: files("x.yaml", "x\n"),
	}, {
		name: "owned file replaced by symlink",
		setup: func(t *testing.T, root, outside string) {
			mustWrite(t, root, Plan{Files: files("x.yaml", "old\n")})
			os.Remove(filepath.Join(root, "x.yaml"))
			symlink(t, filepath.Join(outside, "secret"), filepath.Join(root, "x.yaml"))
		},
		files:  files("x.yaml", "x\n"),
		errMsg: "write %[1]s/x.yaml: not a regular file",
	}, {
		name: "prune through symlink",
		setup: func(t *testing.T, root, outside string) {
			mustWrite(t, root, Plan{Files: files("sub/secret", "old\n")})
			os.RemoveAll(filepath.Join(root, "sub"))
			symlink(t, outside, filepath.Join(root, "sub"))
		},
		files:  nil,
		errMsg: "remove %[1]s/sub/secret: %[1]s/sub is a symlink",
	}, {
		name: "prune a symlink",
		setup: func(t *testing.T, root, outside string) {
			mustWrite(t, root, Plan{Files: files("x", "old\n")})
			os.Remove(filepath.Join(root, "x"))
			symlink(t, filepath.Join(outside, "secret"), filepath.Join(root, "x"))
		},
		files:  nil,
		errMsg: "remove %[1]s/x: not a regular file",
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			parent := t.TempDir()
			root := filepath.Join(parent, "root")
			outside := filepath.Join(parent, "outside")
			writeFile(t, filepath.Join(outside, "secret"), "do not touch\n")
			if err := os.MkdirAll(root, 0o755); err != nil {
				t.Fatal(err)
			}
			tt.setup(t, root, outside)
			before := tree(t, parent)
			_, err := Write(root, Plan{Files: tt.files})
			if tt.errMsg == "" {
				var ce *ConflictError
				if !errors.As(err, &ce) {
					t.Errorf("Write: %v, want *ConflictError", err)
				}
			} else if want := fmt.Sprintf(tt.errMsg, root); err == nil || !strings.HasPrefix(err.Error(), want) {
				t.Errorf("Write: %v\nwant prefix %s", err, want)
			}
			checkTree(t, parent, before)
		})
	}
}

func symlink(t *testing.T, target, name string) {
	t.Helper()
	if err := os.Symlink(target, name); err != nil {
		t.Skipf("symlinks unavailable: %v", err)
	}
}

// TestLeftoverTempFiles: a Write removes the temporaries that the record
// of a run that did not finish names (files and directories with its
// token, in its directories), and nothing else: files of the user's named
// like temporaries stay, byte for byte.
func TestLeftoverTempFiles(t *testing.T) {
	root := t.TempDir()
	fl := files("a/x.yaml", "x\n", "y.yaml", "y\n")
	mustWrite(t, root, Plan{Files: fl})
	pre := leaveRecord(t, root, testToken, ".", "a")
	// The ledger's temporary file, a file's, a new directory staged under
	// a temporary name at the root and deeper, with what was written
	// into it.
	writeFile(t, filepath.Join(root, pre+"1"), "# Generated")
	writeFile(t, filepath.Join(root, "a", pre+"2"), "partial")
	writeFile(t, filepath.Join(root, pre+"3/x/values.yaml"), "partial")
	writeFile(t, filepath.Join(root, "a", pre+"4/values.yaml"), "whole\n")
	lookalikes := tempLookalikes(t, root, "", "a/", "a/b/")
	// The token, but not in a directory the record names.
	writeFile(t, filepath.Join(root, "a/b", pre+"5"), "mine")
	lookalikes["a/b/"+pre+"5"] = "mine"
	res := mustWrite(t, root, Plan{Files: fl})
	checkResult(t, res, Result{Unchanged: []string{"a/x.yaml", "y.yaml"}})
	checkTree(t, root, want(fl, lookalikes))
}

// testToken is a token as a Write draws them, for records made by tests.
const testToken = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"

// leaveRecord leaves at root the record of temporaries that a run with
// token, killed, would have left, naming dirs, and returns the prefix of
// its temporaries.
func leaveRecord(t *testing.T, root, token string, dirs ...string) string {
	t.Helper()
	r := &record{token: token, dirs: dirs}
	slices.Sort(r.dirs)
	writeFile(t, filepath.Join(root, recordName), string(r.bytes()))
	return r.prefix()
}

// tempLookalikes makes, below root in each directory of dirs ("" for
// the root, else ending in "/"), a file and a directory named like each
// kind of temporary fleetc has made (the temporary file and directory of
// a Write, with and without a token of the form Write draws, the staging
// marker of earlier versions, import's temporary source file), and
// returns them as want's extra entries.
func tempLookalikes(t *testing.T, root string, dirs ...string) map[string]string {
	t.Helper()
	extra := map[string]string{}
	for _, d := range dirs {
		if d != "" {
			extra[strings.TrimSuffix(d, "/")] = "<dir>"
		}
		for _, name := range []string{tmpPrefix + "x", tmpPrefix + "ZZZZZZZZZZZZZZZZZZZZZZZZZZ-1", ".fleetc-staging", ".fleetc-x.tmp"} {
			f := d + name
			writeFile(t, filepath.Join(root, f), "the user's "+f+"\n")
			extra[f] = "the user's " + f + "\n"
			dir := d + name + "-dir"
			writeFile(t, filepath.Join(root, dir, "notes"), "the user's notes\n")
			extra[dir] = "<dir>"
			extra[dir+"/notes"] = "the user's notes\n"
		}
	}
	return extra
}

// A directory that becomes a file is replaced even when a killed run left
// a temporary file or a new directory half built inside it: those are
// leftovers, not foreign files in the way. A lookalike the record does
// not name is in the way.
func TestLeftoverTempInDirectoryThatBecomesFile(t *testing.T) {
	for _, tc := range []struct {
		leftover string
		recorded bool
	}{
		{"FILE", true},
		{"DIR/x/values.yaml", true},
		{"FILE", false},
		{"DIR/x/values.yaml", false},
	} {
		t.Run(fmt.Sprintf("%s recorded=%v", tc.leftover, tc.recorded), func(t *testing.T) {
			root := t.TempDir()
			mustWrite(t, root, Plan{Files: files("a/old.yaml", "old\n")})
			pre := tmpPrefix
			if tc.recorded {
				pre = leaveRecord(t, root, testToken, ".", "a")
			}
			writeFile(t, filepath.Join(root, "a", pre+tc.leftover), "partial")
			fl := files("a", "now a file\n")
			if !tc.recorded {
				before := tree(t, root)
				_, err := Write(root, Plan{Files: fl})
				var ce *ConflictError
				if !errors.As(err, &ce) {
					t.Errorf("Write: %v, want *ConflictError", err)
				}
				checkTree(t, root, before)
				return
			}
			res := mustWrite(t, root, Plan{Files: fl})
			checkResult(t, res, Result{Written: []string{"a"}, Removed: []string{"a/old.yaml"}})
			checkTree(t, root, want(fl, nil))
		})
	}
}

func TestStaleLockFile(t *testing.T) {
	root := t.TempDir()
	// A killed fleetc leaves its lock file, empty.
	writeFile(t, filepath.Join(root, lockName), "")
	fl := files("x", "x")
	mustWrite(t, root, Plan{Files: fl})
	checkTree(t, root, want(fl, nil))
}

// TestUsersLockFile: a file at the lock's name with something in it is
// not fleetc's (its lock files are empty): Write locks it and leaves it.
func TestUsersLockFile(t *testing.T) {
	root := t.TempDir()
	writeFile(t, filepath.Join(root, lockName), "the user's\n")
	fl := files("x", "x")
	mustWrite(t, root, Plan{Files: fl})
	checkTree(t, root, want(fl, map[string]string{lockName: "the user's\n"}))
}

func TestCrashRecovery(t *testing.T) {
	plan := files(
		"argocd/a.yaml", "app\n",
		"cluster/a/values.yaml", "new-a\n",
		"cluster/b/values.yaml", "b\n",
	)
	root := t.TempDir()
	// The state a killed run leaves: its union ledger (old entries plus
	// what it planned), some files written, some not, temporary files, an
	// empty directory it created, its lock file.
	ledger := Ledger{
		"argocd/a.yaml":         sum([]byte("app\n")),
		"cluster/a/values.yaml": sum([]byte("old-a\n")),
		"cluster/b/values.yaml": sum([]byte("b\n")),
		"cluster/c/values.yaml": sum([]byte("c\n")),
		"cluster/d/values.yaml": sum([]byte("d\n")),
	}
	writeFile(t, filepath.Join(root, LedgerName), string(ledger.bytes()))
	writeFile(t, filepath.Join(root, "cluster/a/values.yaml"), "old-a\n")
	pre := leaveRecord(t, root, testToken, ".", "cluster/a")
	writeFile(t, filepath.Join(root, "cluster/a", pre+"2"), "new-")
	writeFile(t, filepath.Join(root, "cluster/b/values.yaml"), "b\n")
	writeFile(t, filepath.Join(root, "cluster/c/values.yaml"), "c\n")
	if err := os.MkdirAll(filepath.Join(root, "cluster/d"), 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(root, pre+"1"), "# Generated")
	writeFile(t, filepath.Join(root, lockName), "")
	writeFile(t, filepath.Join(root, "cluster/README.md"), "foreign\n")

	res := mustWrite(t, root, Plan{Files: plan})
	checkResult(t, res, Result{
		Written:   []string{"argocd/a.yaml", "cluster/a/values.yaml"},
		Unchanged: []string{"cluster/b/values.yaml"},
		Removed:   []string{"cluster/c/values.yaml"},
	})
	checkTree(t, root, want(plan, map[string]string{"cluster/README.md": "foreign\n"}))
}

// TestInterrupted stops Write at every rename it makes, leaving a temporary
// file behind as a killed process would, and checks that the next Write
// restores the expected tree from there.
func TestInterrupted(t *testing.T) {
	before := files(
		"cluster/a/values.yaml", "a1\n",
		"cluster/b/values.yaml", "b1\n",
		"cluster/c/deep/values.yaml", "c1\n",
	)
	after := files(
		"argocd/a.yaml", "app\n",
		"cluster/a/values.yaml", "a2\n",
		"cluster/b/values.yaml", "b1\n",
		"cluster/d/values.yaml", "d2\n",
	)
	for stop := 0; ; stop++ {
		root := t.TempDir()
		mustWrite(t, root, Plan{Files: before})
		n := 0
		var left []byte // the record a killed process would leave
		testHookRename = func(rel string) error {
			n++
			left = recordedTemps(t, root)
			if n <= stop {
				return nil
			}
			r, err := parseRecord(left)
			if err != nil {
				t.Fatal(err)
			}
			dir := filepath.Dir(filepath.Join(root, filepath.FromSlash(rel)))
			os.WriteFile(filepath.Join(dir, r.prefix()+"killed"), []byte("partial"), 0o600)
			return errors.New("killed")
		}
		_, err := Write(root, Plan{Files: after})
		testHookRename = nil
		if err == nil {
			checkTree(t, root, want(after, nil))
			if stop < 3 {
				t.Errorf("only %d renames", stop)
			}
			return
		}
		if !strings.HasSuffix(err.Error(), ": killed") {
			t.Fatalf("stop %d: %v", stop, err)
		}
		if _, err := os.Lstat(filepath.Join(root, lockName)); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("stop %d: lock file left: %v", stop, err)
		}
		// A killed process would not have removed its record.
		writeFile(t, filepath.Join(root, recordName), string(left))
		mustWrite(t, root, Plan{Files: after})
		checkTree(t, root, want(after, nil))
	}
}

// recordedTemps checks, while a Write is under way, that its record
// names every temporary file and directory in the tree, and returns the
// record's bytes.
func recordedTemps(t *testing.T, root string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(root, recordName))
	if err != nil {
		t.Fatalf("no record while a Write is under way: %v", err)
	}
	r, err := parseRecord(data)
	if err != nil {
		t.Fatal(err)
	}
	filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !strings.HasPrefix(d.Name(), tmpPrefix) {
			return err
		}
		rel, _ := filepath.Rel(root, filepath.Dir(p))
		if !r.owns(filepath.ToSlash(rel), d.Name()) {
			t.Errorf("%s: a temporary its record does not name", p)
		}
		return filepath.SkipDir
	})
	return data
}

// TestWriteErrorRemovesTemp fails the rename that puts a file in place:
// a temporary file next to its target, and a new directory staged under a
// temporary name. Either is removed, and the union ledger is left to own
// what the run might have created.
func TestWriteErrorRemovesTemp(t *testing.T) {
	for _, tc := range []struct {
		name, fail string
		before     []render.File
		left       map[string]string
	}{
		{name: "file", fail: "a/x.yaml", before: files("a/y.yaml", "y\n"), left: map[string]string{"a": "<dir>", "a/y.yaml": "y\n"}},
		{name: "new directory", fail: "a"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			if tc.before != nil {
				mustWrite(t, root, Plan{Files: tc.before})
			}
			testHookRename = func(rel string) error {
				if rel == tc.fail {
					return errors.New("boom")
				}
				return nil
			}
			defer func() { testHookRename = nil }()
			plan := append(files("a/x.yaml", "x\n"), tc.before...)
			_, err := Write(root, Plan{Files: plan})
			if want := "write " + filepath.Join(root, tc.fail) + ": boom"; err == nil || err.Error() != want {
				t.Fatalf("Write: %v, want %s", err, want)
			}
			left := map[string]string{LedgerName: ledgerOf(plan)}
			for p, c := range tc.left {
				left[p] = c
			}
			checkTree(t, root, left)
		})
	}
}

func TestUnwritableRoot(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("permissions do not apply to root")
	}
	root := t.TempDir()
	fl := files("a/x.yaml", "x\n", "y.yaml", "y\n")
	mustWrite(t, root, Plan{Files: fl})
	for _, d := range []string{root, filepath.Join(root, "a")} {
		if err := os.Chmod(d, 0o555); err != nil {
			t.Fatal(err)
		}
		defer os.Chmod(d, 0o755)
	}
	_, err := Write(root, Plan{Files: files("a/x.yaml", "x2\n", "y.yaml", "y2\n")})
	if want := "lock " + filepath.Join(root, lockName) + ": permission denied"; err == nil || err.Error() != want {
		t.Errorf("Write: %v, want %s", err, want)
	}
	if !errors.Is(err, fs.ErrPermission) {
		t.Errorf("Write: %v is not fs.ErrPermission", err)
	}
	checkTree(t, root, want(fl, nil))

	// A read-only directory below a writable root.
	if err := os.Chmod(root, 0o755); err != nil {
		t.Fatal(err)
	}
	_, err = Write(root, Plan{Files: files("a/x.yaml", "x2\n", "y.yaml", "y2\n")})
	if want := "write " + filepath.Join(root, "a/x.yaml") + ": permission denied"; err == nil || err.Error() != want {
		t.Errorf("Write: %v, want %s", err, want)
	}
	got := tree(t, root)
	if got["a/x.yaml"] != "x\n" || got["y.yaml"] != "y\n" {
		t.Errorf("files changed: %q", got)
	}
	if _, ok := got[lockName]; ok {
		t.Error("lock file left behind")
	}
}

func TestRootIsAFile(t *testing.T) {
	root := filepath.Join(t.TempDir(), "deploy")
	writeFile(t, root, "not a directory")
	_, err := Write(root, Plan{Files: files("x", "x")})
	if want := "create directory " + root + ": "; err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Errorf("Write: %v, want prefix %s", err, want)
	}
	if _, err := Write("", Plan{}); err == nil {
		t.Error("Write with empty root succeeded")
	}
}

func TestPlanNotModified(t *testing.T) {
	fl := files("b", "2", "a", "1")
	mustWrite(t, t.TempDir(), Plan{Files: fl})
	if fl[0].Path != "b" || fl[1].Path != "a" {
		t.Errorf("Write reordered the plan: %v", fl)
	}
}

// TestNextLedger checks the merge that writes the next ledger against
// its definition: the old files that keep reports, the planned files
// over them, every path once, in order.
func TestNextLedger(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	paths := []string{"a", "a/b", "a/b/c", "a.b", "b", "b/a", "c", "c/d/e", "d", "e"}
	for range 2000 {
		old := Ledger{}
		var files []planned
		for _, p := range paths {
			if rng.IntN(2) == 0 {
				old[p] = fmt.Sprintf("%064x", rng.IntN(4))
			}
			if rng.IntN(2) == 0 {
				files = append(files, planned{path: p, sum: fmt.Sprintf("%064x", rng.IntN(4))})
			}
		}
		slices.SortFunc(files, func(a, b planned) int { return strings.Compare(a.path, b.path) })
		dropped := paths[rng.IntN(len(paths))]
		keep := func(p string) bool { return p < dropped }
		want := Ledger{}
		for p, s := range old {
			if keep(p) {
				want[p] = s
			}
		}
		for _, f := range files {
			want[f.path] = f.sum
		}
		if got := string(nextLedger(old, files, keep)); got != string(want.bytes()) {
			t.Fatalf("old %v, files %v, kept below %q:\n%s\nwant\n%s", old, files, dropped, got, want.bytes())
		}
	}
}
