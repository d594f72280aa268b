//go:build linux

package output

import (
	"errors"
	"maps"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
)

// TestFreshWithoutOpenat2 writes a fresh tree whose directories hold
// files, directories or both, with openat2 and as a system without it
// would: the trees and their stamps must be the same.
func TestFreshWithoutOpenat2(t *testing.T) {
	plan := files(
		"a/f.yaml", "f\n",
		"a/b/c/y.yaml", "y\n",
		"a/b/g.yaml", "g\n",
		"a/b/h/z.yaml", "z\n",
		"a/b/h/z2.yaml", "z2\n",
		"e/w.yaml", "",
		"top.yaml", "t\n",
	)
	var trees []map[string]string
	for _, without := range []bool{false, true} {
		root := filepath.Join(t.TempDir(), "deploy")
		var res Result
		if without {
			was := noOpenat2.Load()
			noOpenat2.Store(true)
			res = mustWrite(t, root, Plan{Files: plan})
			noOpenat2.Store(was)
		} else {
			res = mustWrite(t, root, Plan{Files: plan})
		}
		for _, rel := range res.Written {
			fi, err := os.Lstat(filepath.Join(root, filepath.FromSlash(rel)))
			if err != nil {
				t.Fatal(err)
			}
			if got, want := res.Stamps.Files[rel], stampOf(fi, res.Stamps.Files[rel].Sum); got != want || got.Inode == 0 {
				t.Errorf("without openat2 %v: %s: stamp %+v, lstat shows %+v", without, rel, got, want)
			}
		}
		trees = append(trees, tree(t, root))
	}
	delete(trees[0], LedgerName)
	delete(trees[1], LedgerName)
	if !maps.Equal(trees[0], trees[1]) {
		t.Errorf("with openat2:\n%v\nwithout:\n%v", trees[0], trees[1])
	}
	if trees[0]["a/b/h/z2.yaml"] != "z2\n" || trees[0]["a/f.yaml"] != "f\n" {
		t.Errorf("tree %v", trees[0])
	}
}

// TestFreshLeafSymlink checks that a file created through a directory
// that was made but not opened does not follow a symbolic link put in
// the directory's place.
func TestFreshLeafSymlink(t *testing.T) {
	if noOpenat2.Load() {
		t.Skip("no openat2 here")
	}
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "elsewhere"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("elsewhere", filepath.Join(dir, "leaf")); err != nil {
		t.Fatal(err)
	}
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	w := newWriter(dir, Plan{}, nil)
	_, err = w.createAt(&rawDirs{}, fd, "leaf", "values.yaml", "leaf/values.yaml", []byte("x\n"))
	if noOpenat2.Load() {
		t.Skip("no openat2 here")
	}
	if !errors.Is(err, unix.ELOOP) {
		t.Errorf("created through a symbolic link: error %v, want ELOOP", err)
	}
	if _, err := os.Lstat(filepath.Join(dir, "elsewhere", "values.yaml")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the file is there through the link: %v", err)
	}
}

// TestFreshOpenat2Refused makes openat2 fail as a kernel without it and a
// seccomp filter that refuses it do, in the middle of a fresh tree: the
// write opens the directories from then on, and the tree is whole.
func TestFreshOpenat2Refused(t *testing.T) {
	for _, errno := range []error{unix.ENOSYS, unix.EPERM} {
		was := noOpenat2.Load()
		calls := 0
		testHookOpenat2 = func() error { calls++; return errno }
		root := filepath.Join(t.TempDir(), "deploy")
		plan := files("a/b/x.yaml", "x\n", "a/c/y.yaml", "y\n", "d/z.yaml", "z\n")
		res := mustWrite(t, root, Plan{Files: plan})
		testHookOpenat2 = nil
		refused := noOpenat2.Load()
		noOpenat2.Store(was)
		if calls != 1 || !refused {
			t.Errorf("%v: openat2 tried %d times, then given up %v; want once, then given up", errno, calls, refused)
		}
		got := tree(t, root)
		for _, f := range plan {
			if got[f.Path] != string(f.Data) {
				t.Errorf("%v: %s holds %q, want %q", errno, f.Path, got[f.Path], f.Data)
			}
		}
		if len(res.Written) != len(plan) {
			t.Errorf("%v: written %v", errno, res.Written)
		}
	}
}
