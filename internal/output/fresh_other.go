//go:build !linux

package output

import (
	"io/fs"
	"path"
)

// rawDirs is Linux's; elsewhere fresh trees are made through the
// cursor's handles.
type rawDirs struct{}

func (rawDirs) close() {}

// createFresh writes f into the fresh tree at at (its path under the
// fresh directory's temporary name), making its directories.
func (w *writer) createFresh(cur *cursor, at string, f planned) (fs.FileInfo, error) {
	d, err := cur.dir(path.Dir(at), true)
	if err != nil {
		return nil, w.fail("create directory", path.Dir(f.path), err)
	}
	return w.create(d, path.Base(at), f.path, f.data)
}
