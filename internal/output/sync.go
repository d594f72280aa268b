package output

import "os"

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
