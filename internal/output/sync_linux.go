//go:build linux

package output

import (
	"golang.org/x/sys/unix"
)

// fewSyncs is how many files and directories are cheaper to make stable
// one fsync each than with a syncfs(2), which writes back everything that
// waits on the file system, whoever wrote it (the build cache, say).
const fewSyncs = 16

// durable makes the n staged files and the directories made under
// temporary names (which staged lists) stable: one fsync each when they
// are few, else with one syncfs(2) of the file system that holds root,
// one journal commit instead of one per file.
func (w *writer) durable(n int, staged func() (files, dirs []string)) error {
	if n <= fewSyncs && !w.created {
		if files, dirs := staged(); len(files)+len(dirs) <= fewSyncs {
			return w.syncEach(files, dirs)
		}
	}
	return w.syncfs()
}

// durableDirs makes the renames in dirs stable.
func (w *writer) durableDirs(dirs []string) error {
	switch {
	case len(dirs) == 0:
		return nil
	case len(dirs) <= fewSyncs && !w.created:
		return w.syncEach(nil, dirs)
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
