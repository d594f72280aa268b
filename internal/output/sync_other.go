//go:build !linux

package output

// durable makes the n staged files and the directories made under
// temporary names, as staged lists them, stable, one fsync each where the
// system has no cheaper way.
func (w *writer) durable(n int, staged func() (files, dirs []string)) error {
	return w.syncEach(staged())
}

// durableDirs makes the renames in dirs stable.
func (w *writer) durableDirs(dirs []string) error {
	return w.syncEach(nil, dirs)
}
