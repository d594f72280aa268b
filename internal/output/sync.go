package output

import (
	"errors"
	"io/fs"
	"os"
	"runtime"
	"syscall"
)

// testHookSynced, when set by a test, is told what syncEach syncs.
var testHookSynced func(files, dirs []string)

// syncEach makes files and directories stable one fsync each.
func (w *writer) syncEach(files, dirs []string) error {
	if testHookSynced != nil {
		testHookSynced(files, dirs)
	}
	for _, t := range files {
		f, err := w.r.OpenFile(t, os.O_RDWR, 0)
		if err != nil {
			return w.fail("sync", t, err)
		}
		err = f.Sync()
		f.Close()
		if err != nil {
			return w.fail("sync", t, err)
		}
	}
	for _, d := range dirs {
		if err := w.syncDir(d); err != nil {
			return err
		}
	}
	return nil
}

// syncDir flushes a directory's entries to stable storage where the
// system supports it.
func (w *writer) syncDir(dir string) error {
	if runtime.GOOS == "windows" {
		return nil // directories cannot be opened for syncing there
	}
	f, err := w.r.Open(dir)
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
		return nil // removed since; its parent is synced instead
	}
	if err != nil {
		return w.fail("sync", dir, err)
	}
	err = f.Sync()
	f.Close()
	if err != nil && !errors.Is(err, syscall.EINVAL) && !errors.Is(err, errors.ErrUnsupported) {
		return w.fail("sync", dir, err)
	}
	return nil
}
