package output

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestStamps: a file whose stamp still matches is not rewritten, and any
// change that shows in lstat (content, size, deletion, replacement) makes
// Write look at the file again, as does a stamp taken too soon after the
// file was written to vouch for it.
func TestStamps(t *testing.T) {
	fl := files("a/x.yaml", "x: 1\n", "b/y.yaml", "y: 1\n", "z.yaml", "z\n")
	for _, tc := range []struct {
		name   string
		change func(root string)
		known  func(*Stamps) *Stamps
		want   Result
	}{
		{
			name:  "nothing changed",
			known: aged,
			want:  Result{Unchanged: []string{"a/x.yaml", "b/y.yaml", "z.yaml"}},
		},
		{
			name:   "edited, same size",
			change: func(root string) { edit(t, filepath.Join(root, "a/x.yaml"), "x: 2\n", time.Now().Add(time.Minute)) },
			known:  aged,
			want:   Result{Written: []string{"a/x.yaml"}, Unchanged: []string{"b/y.yaml", "z.yaml"}},
		},
		{
			// Edited in place by hand, same size, with the old
			// modification time put back (touch -d): the change time
			// shows it, which no one can set back.
			name: "edited, modification time put back",
			change: func(root string) {
				p := filepath.Join(root, "a/x.yaml")
				fi, _ := os.Stat(p)
				time.Sleep(10 * time.Millisecond) // a change time of its own
				edit(t, p, "x: 9\n", fi.ModTime())
			},
			known: aged,
			want:  Result{Written: []string{"a/x.yaml"}, Unchanged: []string{"b/y.yaml", "z.yaml"}},
		},
		{
			name:   "removed",
			change: func(root string) { os.Remove(filepath.Join(root, "b/y.yaml")) },
			known:  aged,
			want:   Result{Written: []string{"b/y.yaml"}, Unchanged: []string{"a/x.yaml", "z.yaml"}},
		},
		{
			name: "replaced by a file with the same bytes",
			change: func(root string) {
				p := filepath.Join(root, "z.yaml")
				os.Remove(p)
				writeFile(t, p, "z\n")
			},
			known: aged,
			// The bytes are right: read, found equal, left alone.
			want: Result{Unchanged: []string{"a/x.yaml", "b/y.yaml", "z.yaml"}},
		},
		{
			// Edited within the same timestamp tick as the write, with
			// the same size and modification time: only reading shows
			// it, and a stamp taken right after the write is not
			// trusted for that reason.
			name: "racy edit",
			change: func(root string) {
				p := filepath.Join(root, "a/x.yaml")
				fi, _ := os.Stat(p)
				edit(t, p, "x: 3\n", fi.ModTime())
			},
			known: func(s *Stamps) *Stamps { return s },
			want:  Result{Written: []string{"a/x.yaml"}, Unchanged: []string{"b/y.yaml", "z.yaml"}},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			first := mustWrite(t, root, Plan{Files: fl})
			if first.Stamps == nil || len(first.Stamps.Files) != len(fl) {
				t.Fatalf("stamps after the first write: %+v", first.Stamps)
			}
			if tc.change != nil {
				tc.change(root)
			}
			res := mustWrite(t, root, Plan{Files: fl, Known: tc.known(first.Stamps)})
			checkResult(t, res, tc.want)
			checkTree(t, root, want(fl, nil))
			// The new stamps vouch for what is on disk now.
			for _, f := range fl {
				fi, err := os.Lstat(filepath.Join(root, f.Path))
				if err != nil {
					t.Fatal(err)
				}
				if got, want := res.Stamps.Files[f.Path], stampOf(fi, sum(f.Data)); got != want {
					t.Errorf("stamp of %s: %+v, disk shows %+v", f.Path, got, want)
				}
			}
		})
	}
}

// edit rewrites name in place (same inode) and sets its modification time.
func edit(t *testing.T, name, content string, mtime time.Time) {
	t.Helper()
	if err := os.WriteFile(name, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(name, mtime, mtime); err != nil {
		t.Fatal(err)
	}
}

// TestRecordRemoved: the record of temporaries exists only while a Write
// may leave temporary files, so a finished Write, with or without
// changes, leaves none.
func TestRecordRemoved(t *testing.T) {
	root := t.TempDir()
	mustWrite(t, root, Plan{Files: files("a/x.yaml", "x\n")})
	mustWrite(t, root, Plan{Files: files("a/x.yaml", "x\n")})
	mustWrite(t, root, Plan{Files: files("a/x.yaml", "x2\n")})
	if _, err := os.Lstat(filepath.Join(root, recordName)); !os.IsNotExist(err) {
		t.Errorf("record of temporaries left after finished writes: %v", err)
	}
}

func TestStampsEncoding(t *testing.T) {
	s := &Stamps{At: time.Unix(0, 1_700_000_000_123_456_789), Files: map[string]Stamp{
		"a/x.yaml": {Size: 5, ModTime: 1_699_999_999_000_000_001, Inode: 42, Ctime: 1_699_999_999_000_000_002, Sum: sum([]byte("x: 1\n"))},
		"z":        {Sum: sum(nil)},
	}}
	b, err := s.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	var got Stamps
	if err := got.UnmarshalBinary(b); err != nil {
		t.Fatal(err)
	}
	// Stamps of another form (before the change time, with no version)
	// vouch for nothing.
	var old Stamps
	if err := old.UnmarshalBinary(b[1:]); err == nil {
		t.Error("stamps without their version decoded")
	}
	if !got.At.Equal(s.At) || len(got.Files) != len(s.Files) {
		t.Fatalf("got %+v, want %+v", got, s)
	}
	for p, st := range s.Files {
		if got.Files[p] != st {
			t.Errorf("%s: got %+v, want %+v", p, got.Files[p], st)
		}
	}
	for i := range b {
		if err := new(Stamps).UnmarshalBinary(b[:i]); err == nil {
			t.Errorf("truncated to %d bytes: no error", i)
		}
	}
}

// aged is s as if taken well after the files were written, so that the
// stamps are trusted.
func aged(s *Stamps) *Stamps {
	return &Stamps{At: s.At.Add(time.Hour), Files: s.Files, Ledger: s.Ledger}
}

// TestStampsNotThroughSymlinks: stamps vouch for no file below a
// directory that became a symlink (to a copy of itself): Unchanged says
// the tree is not as the Write left it, and a Write with the stamps
// refuses the symlink as Check and a Write without stamps do.
func TestStampsNotThroughSymlinks(t *testing.T) {
	root := t.TempDir()
	fl := files("a/b/x.yaml", "x: 1\n", "z.yaml", "z\n")
	first := mustWrite(t, root, Plan{Files: fl})
	known := aged(first.Stamps)
	moved := filepath.Join(t.TempDir(), "b")
	if err := os.Rename(filepath.Join(root, "a/b"), moved); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(moved, filepath.Join(root, "a/b")); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := Unchanged(root, known, root); ok || err != nil {
		t.Errorf("Unchanged through a symlinked directory: %v, %v; want false", ok, err)
	}
	checkErr := Check(root, Plan{Files: fl})
	_, writeErr := Write(root, Plan{Files: fl, Known: known})
	if checkErr == nil || writeErr == nil || !strings.Contains(writeErr.Error(), "symlink") {
		t.Errorf("Check: %v; Write with stamps: %v; want both to refuse the symlink", checkErr, writeErr)
	}
}

// TestFileBecomesDirectoryInterrupted: an owned file a/b whose place a
// directory takes (a/b/c is planned) is pruned and the directory made
// before a/b/c is renamed into it; a Write that stops right there leaves
// a directory where the ledger lists a file, and the next Write repairs
// the tree rather than refuse to remove a directory.
func TestFileBecomesDirectoryInterrupted(t *testing.T) {
	root := t.TempDir()
	mustWrite(t, root, Plan{Files: files("a/b", "old\n")})
	fl := files("a/b/c", "new\n")
	testHookRename = func(rel string) error {
		if rel == "a/b/c" {
			return errors.New("stopped")
		}
		return nil
	}
	_, err := Write(root, Plan{Files: fl})
	testHookRename = nil
	if err == nil {
		t.Fatal("the rename that was to fail did not")
	}
	mustWrite(t, root, Plan{Files: fl})
	checkTree(t, root, want(fl, nil))
}
