package output

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"syscall"
)

// todo is what inspect finds a Write has to do.
type todo struct {
	prunes    []string        // owned files in scope that are not planned, sorted
	toRemove  map[string]bool // the prunes that exist as regular files
	toWrite   []planned       // planned files not on disk as planned
	unchanged []string        // planned files already on disk
	// stamps holds the stamps of the unchanged files; stage adds those
	// of the files it writes.
	stamps map[string]Stamp
	// vouched counts the unchanged files that their stamps in Plan.Known
	// vouched for.
	vouched int
}

// inspect looks at the tree before Write changes anything, and returns
// what it has to do, or an error (a *ConflictError for files fleetc does
// not own) if Write must not go ahead.
func (w *writer) inspect(st *statCache) (*todo, error) {
	t := &todo{prunes: prunesOf(w.old, w.files, w.scope), stamps: make(map[string]Stamp, len(w.files))}
	var err error
	if t.toRemove, err = w.removable(st, t.prunes); err != nil {
		return nil, err
	}
	same := w.warm(st)
	conflicts := make(map[string]bool)
	for i, f := range w.files {
		if same[i] == byStamp {
			t.unchanged = append(t.unchanged, f.path)
			t.stamps[f.path] = w.known.Files[f.path]
			t.vouched++
			continue
		}
		fi, conflict, err := w.onDisk(st, f, t.toRemove)
		switch {
		case err != nil:
			return nil, err
		case conflict != "":
			conflicts[conflict] = true
		case fi != nil && same[i] == byBytes:
			t.unchanged = append(t.unchanged, f.path)
			t.stamps[f.path] = stampOf(fi, f.sum)
		default:
			t.toWrite = append(t.toWrite, f)
		}
	}
	if len(conflicts) > 0 {
		return nil, &ConflictError{Root: w.display, Paths: sortedKeys(conflicts)}
	}
	return t, nil
}

// onDisk looks at what stands where the planned file f goes: the regular
// file fleetc owns there, if any (nil if f is to be written where nothing
// is, or where a directory vanishes with the prunes in toRemove), or the
// path in its way that fleetc does not own. It is an error if what is in
// the way is not to be replaced: a file fleetc owns outside the run's
// scope, an owned path that is not a regular file.
func (w *writer) onDisk(st *statCache, f planned, toRemove map[string]bool) (fs.FileInfo, string, error) {
	blocker, absent, err := st.parentState(f.path)
	switch {
	case err != nil:
		return nil, "", w.fail("write", f.path, err)
	case blocker == "" || toRemove[blocker]:
		// Nothing in the way, or pruned before the writes.
	case w.old[blocker] != "":
		return nil, "", w.fail("write", f.path, fmt.Errorf("%s is a file fleetc owns outside this run's scope", w.show(blocker)))
	default:
		return nil, blocker, nil
	}
	if absent {
		return nil, "", nil
	}
	fi, err := st.lstat(f.path)
	_, owned := w.old[f.path]
	switch {
	case err != nil:
		return nil, "", w.fail("write", f.path, err)
	case fi == nil:
		return nil, "", nil
	case !owned && fi.IsDir() && w.vanishes(f.path, toRemove):
		return nil, "", nil
	case !owned:
		return nil, f.path, nil
	case !fi.Mode().IsRegular():
		return nil, "", w.fail("write", f.path, errors.New("not a regular file; fleetc only replaces files it wrote"))
	}
	return fi, "", nil
}

// sameness is what a first look at the tree finds of a planned file.
type sameness uint8

const (
	unknown sameness = iota // not known to hold its bytes: inspect looks again
	byStamp                 // its stamp in Plan.Known vouches for it
	byBytes                 // its bytes were read and are the planned ones
)

// warm looks at the planned files, on every core when there are enough
// of them, and reports which already hold their bytes: a file whose stamp
// vouches for it costs one lstat; any other is looked up, with the
// directories above it, through handles (inspect then finds the Lstat
// results in st) and read if its size is right. A lookup that fails is
// left for inspect to make again and report.
func (w *writer) warm(st *statCache) []sameness {
	same := make([]sameness, len(w.files))
	locals := make([]*statCache, min(runtime.GOMAXPROCS(0), (len(w.files)+warmChunk-1)/warmChunk))
	for g := range locals {
		locals[g] = w.newStatCache()
		defer locals[g].dirs.close()
	}
	inRuns(len(w.files), len(locals), func(i int) string { return "look at " + w.show(w.files[i].path) }, func(g, i int) bool {
		same[i] = w.sameOnDisk(locals[g], w.files[i])
		return true
	})
	for _, local := range locals {
		maps.Copy(st.info, local.info)
	}
	return same
}

// warmChunk is the fewest files worth a goroutine of their own in warm; a
// variable so that tests can make warm use one.
var warmChunk = 512

// sameOnDisk is how warm finds f, looking through c.
func (w *writer) sameOnDisk(c *statCache, f planned) sameness {
	if k, ok := w.known.trusted(f.path, f.sum); ok && w.old[f.path] != "" && w.holds(c.plain, f.path, k) {
		return byStamp
	}
	if _, absent, err := c.parentState(f.path); err != nil || absent {
		return unknown
	}
	fi, err := c.lstat(f.path)
	if err == nil && fi != nil && fi.Mode().IsRegular() && fi.Size() == int64(len(f.data)) && c.sameContent(f) {
		return byBytes
	}
	return unknown
}

// holds reports whether lstat still shows the regular file rel as its
// stamp st took it, below directories that are no symlinks (dirsPlain,
// remembering in seen those it looked at), as a Write would find it. Plain
// lstats of joined paths, where the careful path of inspect opens every
// parent: it only decides that nothing needs doing.
func (w *writer) holds(seen map[string]bool, rel string, st Stamp) bool {
	if !w.dirsPlain(seen, rel) {
		return false
	}
	fi, err := os.Lstat(filepath.Join(w.root, filepath.FromSlash(rel)))
	return err == nil && fi.Mode().IsRegular() && stampOf(fi, st.Sum) == st
}

// sameContent reports whether f's bytes are already at f.path.
func (c *statCache) sameContent(f planned) bool {
	d, err := c.dirs.dir(path.Dir(f.path), false)
	if err != nil {
		return false
	}
	data, err := d.ReadFile(path.Base(f.path))
	return err == nil && bytes.Equal(data, f.data)
}

// statCache remembers Lstat results while Write looks at the tree before
// changing it. It looks through handles on the directories, kept by a
// cursor: a lookup of a whole path through the root opens every directory
// above it, which made comparing 57,000 values files with what is on disk
// (a compile into a checked-out tree with an empty cache) take as long as
// writing them.
type statCache struct {
	r    *os.Root
	show func(rel string) string // as writer.show
	info map[string]fs.FileInfo
	dirs *cursor
	// plain are the directories seen to be directories, no symlinks
	// (dirsPlain).
	plain map[string]bool
}

// newStatCache is an empty statCache of the tree w has open.
func (w *writer) newStatCache() *statCache {
	return &statCache{r: w.r, show: w.show, info: make(map[string]fs.FileInfo), dirs: newCursor(w), plain: map[string]bool{}}
}

// lstat returns the FileInfo of rel without following a final symlink, or
// nil if rel does not exist.
func (c *statCache) lstat(rel string) (fs.FileInfo, error) {
	if fi, ok := c.info[rel]; ok {
		return fi, nil
	}
	var fi fs.FileInfo
	d, err := c.dirs.dir(path.Dir(rel), false)
	if err == nil {
		fi, err = d.Lstat(path.Base(rel))
	} else {
		// A directory above rel is missing or is not one: the root
		// tells which, as it did before there were handles.
		fi, err = c.r.Lstat(rel)
	}
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
		fi, err = nil, nil
	}
	if err != nil {
		return nil, err
	}
	c.info[rel] = fi
	return fi, nil
}

// parentState looks at the directories above rel, outermost first. It
// returns an error if one is a symlink, and otherwise reports absent if
// rel cannot exist because one of them does not exist or is not a
// directory; blocker is then that non-directory, if any.
func (c *statCache) parentState(rel string) (blocker string, absent bool, err error) {
	for _, d := range parents(rel) {
		fi, err := c.lstat(d)
		switch {
		case err != nil:
			return "", false, err
		case fi == nil:
			return "", true, nil
		case fi.Mode()&fs.ModeSymlink != 0:
			return "", false, fmt.Errorf("%s is a symlink; fleetc does not go through symlinks", c.show(d))
		case !fi.IsDir():
			return d, true, nil
		}
	}
	return "", false, nil
}

// missing returns the outermost directory above rel that does not exist,
// or "" if they all do. It is an error if one is a symlink or not a
// directory.
func (c *statCache) missing(rel string) (string, error) {
	for _, d := range parents(rel) {
		fi, err := c.lstat(d)
		switch {
		case err != nil:
			return "", err
		case fi == nil:
			return d, nil
		case !fi.IsDir():
			return "", fmt.Errorf("%s is not a directory", c.show(d))
		}
	}
	return "", nil
}
