package output

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// TestFullDisk fails the write of each new file in turn, as a full disk
// would, and checks that Write reports it and leaves the tree exactly as it
// was: no file, directory, ledger entry or temporary file changes, although
// the run would have pruned files, made directories and replaced a file
// with a directory.
func TestFullDisk(t *testing.T) {
	before := files(
		"cluster/a/values.yaml", "a1\n",
		"cluster/b", "b was a file\n",
		"cluster/gone/values.yaml", "gone\n",
	)
	after := files(
		"argocd/new.yaml", "new\n",
		"cluster/a/values.yaml", "a2\n",
		"cluster/b/values.yaml", "b is a directory now\n",
		"cluster/c/deep/values.yaml", "c\n",
	)
	toWrite := []string{"argocd/new.yaml", "cluster/a/values.yaml", "cluster/b/values.yaml", "cluster/c/deep/values.yaml"}
	for _, full := range toWrite {
		t.Run(full, func(t *testing.T) {
			root := t.TempDir()
			mustWrite(t, root, Plan{Files: before})
			writeFile(t, filepath.Join(root, "cluster/NOTES.md"), "foreign\n")
			was := tree(t, root)

			testHookStage = func(rel string) error {
				if rel == full {
					return syscall.ENOSPC
				}
				return nil
			}
			_, err := Write(root, Plan{Files: after})
			testHookStage = nil
			if want := "write " + filepath.Join(root, full) + ": no space left on device"; err == nil || err.Error() != want {
				t.Fatalf("Write: %v\nwant:  %s", err, want)
			}
			if !errors.Is(err, syscall.ENOSPC) {
				t.Errorf("Write: %v is not ENOSPC", err)
			}
			checkTree(t, root, was)

			// With space again, the same Write goes through.
			mustWrite(t, root, Plan{Files: after})
			checkTree(t, root, want(after, map[string]string{"cluster/NOTES.md": "foreign\n"}))
		})
	}
}

// TestFullDiskNewRoot: a Write that fails into a root it created removes
// the root again.
func TestFullDiskNewRoot(t *testing.T) {
	root := filepath.Join(t.TempDir(), "deploy")
	testHookStage = func(string) error { return syscall.ENOSPC }
	defer func() { testHookStage = nil }()
	if _, err := Write(root, Plan{Files: files("a/x.yaml", "x\n")}); !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("Write: %v, want ENOSPC", err)
	}
	if _, err := os.Lstat(root); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("root left behind: %v", err)
	}
}

// TestPrivate: a private plan's files and directories are for their owner
// only, the ledger included.
func TestPrivate(t *testing.T) {
	root := filepath.Join(t.TempDir(), "secrets")
	mustWrite(t, root, Plan{Files: files("x.yaml", "x\n", "d/y.yaml", "y\n"), Private: true})
	for rel, want := range map[string]os.FileMode{
		".":        0o700 | os.ModeDir,
		"d":        0o700 | os.ModeDir,
		"x.yaml":   0o600,
		"d/y.yaml": 0o600,
		LedgerName: 0o600,
	} {
		fi, err := os.Lstat(filepath.Join(root, rel))
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode() != want {
			t.Errorf("%s: mode %v, want %v", rel, fi.Mode(), want)
		}
	}
}

// TestFreshStamps: the stamps of files written into fresh directories
// (through descriptors on Linux, handles elsewhere) are what lstat shows
// of them in place, so the next Write trusts them; and files of a
// directory that exists, written beside it and renamed, likewise.
func TestFreshStamps(t *testing.T) {
	root := filepath.Join(t.TempDir(), "deploy")
	mustWrite(t, root, Plan{Files: files("old/x.yaml", "x\n")})
	res := mustWrite(t, root, Plan{Files: files("old/x.yaml", "x2\n", "a/b/c/y.yaml", "yy\n", "a/b/d/z.yaml", "z\n", "e/w.yaml", "")})
	if len(res.Written) != 4 {
		t.Fatalf("written %v, want 4 files", res.Written)
	}
	for _, rel := range res.Written {
		fi, err := os.Lstat(filepath.Join(root, filepath.FromSlash(rel)))
		if err != nil {
			t.Fatal(err)
		}
		got := res.Stamps.Files[rel]
		want := stampOf(fi, got.Sum)
		if got != want || got.Inode == 0 || got.Ctime == 0 {
			t.Errorf("%s: stamp %+v, lstat shows %+v", rel, got, want)
		}
		if fi.Mode() != 0o644 {
			t.Errorf("%s: mode %v, want 0644", rel, fi.Mode())
		}
	}
	res = mustWrite(t, root, Plan{Files: files("old/x.yaml", "x2\n", "a/b/c/y.yaml", "yy\n", "a/b/d/z.yaml", "z\n", "e/w.yaml", ""), Known: res.Stamps})
	if len(res.Written) != 0 || len(res.Unchanged) != 4 {
		t.Errorf("rewrite: written %v, unchanged %v", res.Written, res.Unchanged)
	}
}
