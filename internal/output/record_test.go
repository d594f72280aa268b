package output

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRecordRoundTrip(t *testing.T) {
	r := newRecord([]string{"b", ".", "a/c", "b"})
	got, err := parseRecord(r.bytes())
	if err != nil {
		t.Fatal(err)
	}
	if got.token != r.token || strings.Join(got.dirs, ",") != ".,a/c,b" {
		t.Errorf("parsed %+v, want %+v", got, r)
	}
	if !validToken(r.token) {
		t.Errorf("drawn token %q is not valid", r.token)
	}
	if !got.owns("a/c", r.prefix()+"7") || got.owns("a", r.prefix()+"7") || got.owns("a/c", tmpPrefix+"x") {
		t.Error("owns: wrong")
	}
}

// TestRecordCutShort: a record without its last line was cut short while
// it was written, before the run created anything: Write removes it and
// nothing else, even files with its token.
func TestRecordCutShort(t *testing.T) {
	r := &record{token: testToken, dirs: []string{".", "a"}}
	data := r.bytes()
	// Wherever the write stopped: nothing, in the header, in the token,
	// in the directories, in the last line.
	for _, n := range []int{0, 1, len(recordHeader) - 1, len(recordHeader), len(recordHeader) + 10, len(data) - len(recordEnd) - 3, len(data) - 2} {
		root := t.TempDir()
		fl := files("a/x.yaml", "x\n")
		mustWrite(t, root, Plan{Files: fl})
		writeFile(t, filepath.Join(root, recordName), string(data[:n]))
		writeFile(t, filepath.Join(root, "a", r.prefix()+"1"), "not made by the run")
		mustWrite(t, root, Plan{Files: fl})
		checkTree(t, root, want(fl, map[string]string{"a/" + r.prefix() + "1": "not made by the run"}))
	}
}

// TestForeignRecord: whatever is at the record's name and is not a record
// fleetc wrote stops Write and Check, and stays as it is.
func TestForeignRecord(t *testing.T) {
	for name, setup := range map[string]func(t *testing.T, root string){
		"file": func(t *testing.T, root string) {
			writeFile(t, filepath.Join(root, recordName), "my notes\n")
		},
		"directory": func(t *testing.T, root string) {
			writeFile(t, filepath.Join(root, recordName, "notes"), "my notes\n")
		},
		"malformed": func(t *testing.T, root string) {
			writeFile(t, filepath.Join(root, recordName), recordHeader+"token "+testToken+"\ndir ../x\nend\n")
		},
		"symlink": func(t *testing.T, root string) {
			symlink(t, "elsewhere", filepath.Join(root, recordName))
		},
	} {
		t.Run(name, func(t *testing.T) {
			root := t.TempDir()
			fl := files("a/x.yaml", "x\n")
			mustWrite(t, root, Plan{Files: fl})
			setup(t, root)
			before := tree(t, root)
			for op, f := range map[string]func() error{
				"Write": func() error { _, err := Write(root, Plan{Files: files("a/x.yaml", "x2\n")}); return err },
				"Check": func() error { return Check(root, Plan{Files: files("a/x.yaml", "x2\n")}) },
			} {
				err := f()
				if err == nil || !errors.Is(err, errNotRecord) || !strings.HasPrefix(err.Error(), "read "+filepath.Join(root, recordName)+": ") {
					t.Errorf("%s: %v, want the record refused", op, err)
				}
			}
			checkTree(t, root, before)
		})
	}
}

// TestTempLookalikesStay: files and directories of the user's named like
// fleetc's temporaries, at the root and below, stay byte for byte through
// a Write that creates files, one that replaces them, a Check, and one
// that prunes every file around them; a planned file may have such a name.
func TestTempLookalikesStay(t *testing.T) {
	root := t.TempDir()
	mustWrite(t, root, Plan{Files: files("cluster/a/x.yaml", "x\n", "cluster/b/y.yaml", "y\n")})
	extra := tempLookalikes(t, root, "", "cluster/", "cluster/a/", "cluster/b/")
	fl := files("cluster/a/x.yaml", "x2\n", "cluster/b/y.yaml", "y2\n", "cluster/c/z.yaml", "z\n", "cluster/d/"+tmpPrefix+"planned", "p\n")
	mustWrite(t, root, Plan{Files: fl})
	checkTree(t, root, want(fl, extra))
	if err := Check(root, Plan{Files: files("cluster/a/x.yaml", "x3\n")}); err != nil {
		t.Errorf("Check: %v", err)
	}
	checkTree(t, root, want(fl, extra))
	// Pruned: cluster/b stays for the lookalikes in it, cluster/c and
	// cluster/d go.
	fl = files("cluster/a/x.yaml", "x2\n")
	res := mustWrite(t, root, Plan{Files: fl})
	checkResult(t, res, Result{Unchanged: []string{"cluster/a/x.yaml"}, Removed: []string{"cluster/b/y.yaml", "cluster/c/z.yaml", "cluster/d/" + tmpPrefix + "planned"}})
	checkTree(t, root, want(fl, extra))
	if _, err := os.Lstat(filepath.Join(root, recordName)); !os.IsNotExist(err) {
		t.Errorf("record left: %v", err)
	}
}
