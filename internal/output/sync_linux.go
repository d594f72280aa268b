//go:build linux

package output

import (
	"golang.org/x/sys/unix"
)

// durable makes the staged files and the directories made under temporary
// names (which staged lists, for systems that need them one by one) stable
// with one syncfs(2) of the file system that holds root: one journal commit
// instead of one per file.
func (w *writer) durable(staged func() (files, dirs []string)) error {
	return w.syncfs()
}

// durableDirs makes the renames in dirs stable; syncfs covers directory
// entries too.
func (w *writer) durableDirs(dirs []string) error {
	if len(dirs) == 0 {
		return nil
	}
	return w.syncfs()
}

func (w *writer) syncfs() error {
	f, err := w.r.Open(".")
	if err != nil {
		return w.fail("sync", ".", err)
	}
	defer f.Close()
	if err := unix.Syncfs(int(f.Fd())); err != nil {
		return w.fail("sync", ".", err)
	}
	return nil
}
