//go:build darwin || dragonfly || freebsd || illumos || linux || netbsd || openbsd

package output

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

// holdLock takes root's lock as a concurrent Write would and returns the
// function that releases it.
func holdLock(t *testing.T, root string) func() {
	t.Helper()
	r, err := os.OpenRoot(root)
	if err != nil {
		t.Fatal(err)
	}
	unlock, err := lock(r, filepath.Join(root, lockName))
	if err != nil {
		r.Close()
		t.Fatal(err)
	}
	return func() {
		if err := unlock(); err != nil {
			t.Error(err)
		}
		r.Close()
	}
}

func TestLocked(t *testing.T) {
	root := t.TempDir()
	fs1 := files("a/x.yaml", "x\n")
	release := holdLock(t, root)
	_, err := Write(root, Plan{Files: fs1})
	var le *LockedError
	if !errors.As(err, &le) {
		t.Fatalf("Write while locked: %v, want *LockedError", err)
	}
	if want := filepath.Join(root, lockName); le.Path != want {
		t.Errorf("LockedError.Path = %s, want %s", le.Path, want)
	}
	if want := "lock " + filepath.Join(root, lockName) + ": another fleetc is writing this directory; try again when it has finished"; err.Error() != want {
		t.Errorf("error: %s\nwant:  %s", err, want)
	}
	// Nothing was written, and the holder's lock file is still there.
	checkTree(t, root, map[string]string{lockName: ""})
	release()
	checkTree(t, root, map[string]string{})

	mustWrite(t, root, Plan{Files: fs1})
	checkTree(t, root, want(fs1, nil))
}

// TestLockReplaced checks the inode check: a lock file that is no longer
// the one at the path does not count as holding the lock.
func TestLockReplaced(t *testing.T) {
	root := t.TempDir()
	release := holdLock(t, root)
	// Someone removes the held lock file; a new Write must then be able
	// to lock the new file at the path, and a third must be refused.
	if err := os.Remove(filepath.Join(root, lockName)); err != nil {
		t.Fatal(err)
	}
	release2 := holdLock(t, root)
	_, err := Write(root, Plan{})
	var le *LockedError
	if !errors.As(err, &le) {
		t.Errorf("Write: %v, want *LockedError", err)
	}
	release2()
	release()
	if _, err := os.Lstat(filepath.Join(root, lockName)); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("lock file left: %v", err)
	}
}

func TestConcurrentWrites(t *testing.T) {
	root := t.TempDir()
	plan := files("a/x.yaml", "x\n", "b/y.yaml", "y\n", "z.yaml", "z\n")
	const n = 8
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = Write(root, Plan{Files: plan})
		}()
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		var le *LockedError
		switch {
		case err == nil:
			ok++
		case !errors.As(err, &le):
			t.Errorf("Write: %v", err)
		}
	}
	t.Logf("%d of %d concurrent Writes succeeded", ok, n)
	if ok == 0 {
		t.Error("no Write succeeded")
	}
	checkTree(t, root, want(plan, nil))
}
