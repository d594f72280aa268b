//go:build !linux

package output

import "os"

// durable makes the staged files and the directories made under temporary
// names, as staged lists them, stable, one fsync each where the system has
// no cheaper way.
func (w *writer) durable(staged func() (files, dirs []string)) error {
	files, dirs := staged()
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
	return w.durableDirs(dirs)
}

// durableDirs makes the renames in dirs stable.
func (w *writer) durableDirs(dirs []string) error {
	for _, d := range dirs {
		if err := w.syncDir(d); err != nil {
			return err
		}
	}
	return nil
}
