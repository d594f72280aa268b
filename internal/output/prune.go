package output

import (
	"errors"
	"io/fs"
	"path"
)

// removable returns the prunes that exist as regular files: what prune
// removes. It is an error if one is anything else, or lies beyond a
// symlink.
func (w *writer) removable(st *statCache, prunes []string) (map[string]bool, error) {
	toRemove := make(map[string]bool)
	for _, p := range prunes {
		_, absent, err := st.parentState(p)
		var fi fs.FileInfo
		if err == nil && !absent {
			fi, err = st.lstat(p)
		}
		switch {
		case err != nil:
			return nil, w.fail("remove", p, err)
		case fi == nil:
		case fi.IsDir() && w.plannedDirs()[p]:
			// Pruned already, and the directory the plan needs made in
			// its place: a Write stopped between the two and renaming
			// files into it left it so. Nothing to remove.
		case !fi.Mode().IsRegular():
			return nil, w.fail("remove", p, errors.New("not a regular file; fleetc only removes files it wrote"))
		default:
			toRemove[p] = true
		}
	}
	return toRemove, nil
}

// prune removes the prunes of t that are in toRemove, then the
// directories that are left empty, and notes in touched the directories
// whose entries changed. It returns what it removed.
func (w *writer) prune(t *todo, touched map[string]bool) (removed []string, err error) {
	if len(t.prunes) == 0 {
		return nil, nil
	}
	for _, p := range t.prunes {
		if !t.toRemove[p] {
			continue
		}
		if err := w.r.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return removed, w.fail("remove", p, err)
		}
		removed = append(removed, p)
		touched[path.Dir(p)] = true
	}
	for _, p := range t.prunes {
		w.removeEmptyParents(p, touched)
	}
	return removed, nil
}

// vanishes reports whether dir will be gone once the files in toRemove are
// pruned (with the directories they leave empty) and the temporaries of
// a run that did not finish are removed: it holds nothing else, and no
// empty directories.
func (w *writer) vanishes(dir string, toRemove map[string]bool) bool {
	ok, any := w.onlyPruned(dir, toRemove)
	return ok && any
}

func (w *writer) onlyPruned(dir string, toRemove map[string]bool) (ok, any bool) {
	f, err := w.r.Open(dir)
	if err != nil {
		return false, false
	}
	entries, err := f.ReadDir(-1)
	f.Close()
	if err != nil {
		return false, false
	}
	for _, e := range entries {
		p := dir + "/" + e.Name()
		switch {
		case w.prev.owns(dir, e.Name()):
			// Removed as a leftover temporary file or directory (a run
			// killed while it built a new directory leaves one).
		case e.Type().IsRegular() && toRemove[p]:
			any = true
		case e.Type().IsDir():
			if ok, sub := w.onlyPruned(p, toRemove); !ok || !sub {
				return false, false
			}
			any = true
		default:
			return false, false
		}
	}
	return true, any
}

// removeEmptyParents removes the directories above the pruned path p that
// are empty now, innermost first, stopping at the root, at a directory that
// holds planned files, or at the first one that cannot be removed (usually
// because it is not empty). It is best effort: a directory left behind is
// harmless.
func (w *writer) removeEmptyParents(p string, touched map[string]bool) {
	dirs := parents(p)
	for i := len(dirs) - 1; i >= 0; i-- {
		d := dirs[i]
		if w.plannedDirs()[d] {
			return
		}
		fi, err := w.r.Lstat(d)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil || !fi.IsDir() {
			return
		}
		if err := w.r.Remove(d); err != nil {
			return
		}
		touched[path.Dir(d)] = true
	}
}

// plannedDirs are the directories that hold planned files, made on
// first use, once per Write: few Writes prune anything.
func (w *writer) plannedDirs() map[string]bool {
	if w.planned == nil {
		w.planned = make(map[string]bool)
		for _, f := range w.files {
			for _, d := range parents(f.path) {
				w.planned[d] = true
			}
		}
	}
	return w.planned
}
