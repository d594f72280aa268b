package output

import (
	"errors"
	"io/fs"
	"os"
	"strings"
)

// cursor opens the directories of an output tree one path at a time and
// keeps the handles of the current directory and its parents, so that
// work on files in tree order (sorted paths) opens each directory once
// instead of walking every path from the root for every operation: at
// 3,000 clusters, with each values file in a directory of its own, that
// walk was most of the time a Write took.
type cursor struct {
	w     *writer
	names []string   // components of the current directory
	roots []*os.Root // roots[i] is the directory names[:i+1]
	// raw holds the descriptors through which createFresh makes fresh
	// trees, where the system has them.
	raw rawDirs
}

func newCursor(w *writer) *cursor { return &cursor{w: w} }

// dir returns a handle on dir (slash-separated, relative to the output
// root, "." for the root). With create, it makes the directories that do
// not exist; an existing one must be a directory, not a symlink.
func (c *cursor) dir(dir string, create bool) (*os.Root, error) {
	want, keep := components(dir, c.names)
	c.truncate(keep)
	for i := keep; i < len(want); i++ {
		parent := c.w.r
		if i > 0 {
			parent = c.roots[i-1]
		}
		name := want[i]
		if create {
			err := parent.Mkdir(name, c.w.dirMode)
			switch {
			case err == nil:
			case errors.Is(err, fs.ErrExist):
				fi, lerr := parent.Lstat(name)
				if lerr != nil {
					return nil, lerr
				}
				if !fi.IsDir() {
					return nil, &fs.PathError{Op: "mkdir", Path: name, Err: errors.New("exists and is not a directory")}
				}
			default:
				return nil, err
			}
		}
		r, err := parent.OpenRoot(name)
		if err != nil {
			return nil, err
		}
		c.names = append(c.names, name)
		c.roots = append(c.roots, r)
	}
	if len(want) == 0 {
		return c.w.r, nil
	}
	return c.roots[len(want)-1], nil
}

// components splits dir (slash-separated, "." for the root) into its
// components, and counts how many of them lead the components of the
// directory a cursor has open: those it keeps.
func components(dir string, open []string) (want []string, keep int) {
	if dir != "." {
		want = strings.Split(dir, "/")
	}
	for keep < len(open) && keep < len(want) && open[keep] == want[keep] {
		keep++
	}
	return want, keep
}

// truncate closes the handles below the first n components.
func (c *cursor) truncate(n int) {
	for i := len(c.roots) - 1; i >= n; i-- {
		c.roots[i].Close()
	}
	c.names, c.roots = c.names[:n], c.roots[:n]
}

// close closes every handle.
func (c *cursor) close() {
	c.truncate(0)
	c.raw.close()
}
