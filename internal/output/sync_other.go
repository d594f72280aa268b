//go:build !linux

package output

import "os"

// durable makes the temporary files' data stable, one fsync each where the
// system has no cheaper way.
func (w *writer) durable(temps []string) error {
	for _, t := range temps {
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
	return nil
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
