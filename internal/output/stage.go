package output

import (
	"errors"
	"io/fs"
	"os"
	"path"
	"slices"
	"sync"
)

// testHookRename, when set by a test, runs just before a temporary file is
// renamed onto rel; an error it returns is treated as a failed write.
var testHookRename func(rel string) error

// testHookStage, when set by a test, runs after the data of rel has gone
// into its temporary file; an error it returns is treated as a failed
// write of that data, as a full disk would make it.
var testHookStage func(rel string) error

// renameIn renames from to to, within one directory through a handle on
// it, else from the root.
func (w *writer) renameIn(handles *cursor, from, to string) error {
	if dir := path.Dir(to); path.Dir(from) == dir {
		d, err := handles.dir(dir, false)
		if err != nil {
			return err
		}
		return d.Rename(path.Base(from), path.Base(to))
	}
	return w.r.Rename(from, to)
}

// abandon removes what was staged for toWrite[i:] and not yet put in
// place, after a failure to put toWrite[i] in place. Best effort: the next
// Write removes leftovers.
func (w *writer) abandon(sg *staged, i int) {
	for j := i; j < len(sg.temps); j++ {
		if sg.temps[j] != "" {
			w.removeTemp(sg.temps[j])
		}
	}
	done := make(map[string]bool)
	for j := i; j < len(sg.fresh); j++ {
		if fd := sg.fresh[j]; fd != "" && !done[fd] {
			done[fd] = true
			if _, err := w.r.Lstat(sg.tmpDir[fd]); err == nil {
				w.removeTempDir(sg.tmpDir[fd])
			}
		}
	}
}

// removeTemp removes the temporary file t, noting whether it is left
// behind.
func (w *writer) removeTemp(t string) {
	if err := w.r.Remove(t); err != nil && !errors.Is(err, fs.ErrNotExist) {
		w.tempsLeft.Store(true)
	}
}

// staged is what stage left on disk for Write to put in place.
type staged struct {
	// temps[i] is the temporary file of toWrite[i], or "" if the file
	// was written under a fresh directory's temporary name.
	temps []string
	// fresh[i] is the directory of toWrite[i] that did not exist and is
	// built under a temporary name, or "".
	fresh []string
	// tmpDir maps each fresh directory to its temporary name, a sibling.
	tmpDir map[string]string
}

// paths lists the files stage wrote and the directories it made within
// fresh ones, for systems that make each durable on its own.
func (s *staged) paths(toWrite []planned) (files, dirs []string) {
	made := make(map[string]bool)
	for i, f := range toWrite {
		if s.temps[i] != "" {
			files = append(files, s.temps[i])
			continue
		}
		fd := s.fresh[i]
		at := s.tmpDir[fd] + f.path[len(fd):]
		for d := path.Dir(at); !made[d]; d = path.Dir(d) {
			made[d] = true
			if d == s.tmpDir[fd] {
				break
			}
		}
		files = append(files, at)
	}
	return files, sortedKeys(made)
}

// undo removes what stage made; the tree is then as it was.
func (w *writer) undo(s *staged) {
	for _, t := range s.temps {
		if t != "" {
			w.removeTemp(t)
		}
	}
	for _, t := range s.tmpDir {
		w.removeTempDir(t)
	}
}

// stage writes each file of toWrite where no one sees it yet, and makes
// them all durable. A file whose directory exists goes to a temporary file
// next to it, renamed over it later; at the root instead when a file in
// toRemove stands where one of its directories has to be. A directory that
// does not exist yet is built whole, its files written under their own
// names, beneath a temporary name in its parent and renamed into place
// later: one rename for a new cluster instead of one per file, and no
// temporary names inside it. On error it removes what it made, and the
// tree is as it was.
func (w *writer) stage(st *statCache, toWrite []planned, toRemove map[string]bool, stamps map[string]Stamp) (*staged, error) {
	s := &staged{
		temps:  make([]string, len(toWrite)),
		fresh:  make([]string, len(toWrite)),
		tmpDir: make(map[string]string),
	}
	blocked := func(f planned) bool {
		return slices.ContainsFunc(parents(f.path), func(d string) bool { return toRemove[d] })
	}
	// The fresh directories and their temporary names, in tree order,
	// before any file: each is made once, whichever stager reaches it.
	cur := newCursor(w)
	for i, f := range toWrite {
		if blocked(f) {
			continue
		}
		d, err := st.missing(f.path)
		if err != nil {
			cur.close()
			w.undo(s)
			return nil, w.fail("write", f.path, err)
		}
		if d == "" {
			continue
		}
		s.fresh[i] = d
		if _, ok := s.tmpDir[d]; ok {
			continue
		}
		parent, err := cur.dir(path.Dir(d), false)
		if err == nil {
			var name string
			if name, err = w.mkdirTemp(parent); err == nil {
				s.tmpDir[d] = path.Join(path.Dir(d), name)
			}
		}
		if err != nil {
			cur.close()
			w.undo(s)
			return nil, w.fail("create directory", d, err)
		}
	}
	cur.close()

	// Creating files and directories is the file system's work, and it
	// goes faster a few at a time: each stager takes a run of files in
	// tree order, so they rarely share a directory.
	infos := make([]fs.FileInfo, len(toWrite))
	n := min(stagers, (len(toWrite)+stageChunk-1)/stageChunk)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for g := range n {
		lo, hi := g*len(toWrite)/n, (g+1)*len(toWrite)/n
		wg.Go(func() {
			cur := newCursor(w)
			defer cur.close()
			for i := lo; i < hi; i++ {
				f := toWrite[i]
				if fd := s.fresh[i]; fd != "" {
					at := s.tmpDir[fd] + f.path[len(fd):]
					d, err := cur.dir(path.Dir(at), true)
					if err != nil {
						errs[g] = w.fail("create directory", path.Dir(f.path), err)
						return
					}
					if infos[i], err = w.create(d, path.Base(at), f.path, f.data); err != nil {
						errs[g] = err
						return
					}
					continue
				}
				dir := path.Dir(f.path)
				if blocked(f) {
					dir = "."
				}
				d, err := cur.dir(dir, false)
				if err != nil {
					errs[g] = w.fail("write", f.path, err)
					return
				}
				tmp, fi, err := w.writeTemp(d, f.path, f.data)
				if err != nil {
					errs[g] = err
					return
				}
				s.temps[i], infos[i] = path.Join(dir, tmp), fi
			}
		})
	}
	wg.Wait()
	if err := firstErr(errs); err != nil {
		w.undo(s)
		return nil, err
	}
	for i, f := range toWrite {
		stamps[f.path] = stampOf(infos[i], f.sum)
	}
	if len(toWrite) > 0 {
		if err := w.durable(len(toWrite), func() ([]string, []string) { return s.paths(toWrite) }); err != nil {
			w.undo(s)
			return nil, err
		}
	}
	return s, nil
}

// tempDirs lists the directories in which a Write of toWrite, pruning
// toRemove, may create temporary files, as stage places them: beside a
// file whose directory exists, in the parent of the outermost directory
// that does not, at the root when a pruned file stands where a directory
// goes; and at the root for the ledger.
func (w *writer) tempDirs(st *statCache, toWrite []planned, toRemove map[string]bool) ([]string, error) {
	dirs := map[string]bool{".": true}
	for _, f := range toWrite {
		if slices.ContainsFunc(parents(f.path), func(d string) bool { return toRemove[d] }) {
			continue // at the root
		}
		d, err := st.missing(f.path)
		if err != nil {
			return nil, w.fail("write", f.path, err)
		}
		if d == "" {
			d = f.path
		}
		dirs[path.Dir(d)] = true
	}
	return sortedKeys(dirs), nil
}

// stagers is how many goroutines stage files at once, and stageChunk the
// fewest files worth a goroutine of its own.
const (
	stagers    = 4
	stageChunk = 256
)

func firstErr(errs []error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// mkdirTemp makes a new directory with a temporary name in d and returns
// the name.
func (w *writer) mkdirTemp(d *os.Root) (string, error) {
	name := w.tempName()
	if err := d.Mkdir(name, w.dirMode); err != nil {
		return "", err
	}
	return name, nil
}

// removeTempDir removes the temporary directory t with everything in it,
// noting whether it is left behind.
func (w *writer) removeTempDir(t string) {
	if err := w.r.RemoveAll(t); err != nil {
		w.tempsLeft.Store(true)
	}
}

// writeTemp writes data to a new temporary file in dir, with the final
// mode of rel, and returns its name. Write renames it over rel once every
// temporary file is durable, so that rel always holds either its old or
// its new content.
func (w *writer) writeTemp(d *os.Root, rel string, data []byte) (string, fs.FileInfo, error) {
	tmp := w.tempName()
	fi, err := w.create(d, tmp, rel, data)
	if err != nil {
		return "", nil, err
	}
	return tmp, fi, nil
}

// create writes data to the new file name in d, with the final mode of
// rel, and returns what fstat shows of it: renaming keeps size,
// modification time and inode, so this is the stamp the file will have in
// place. A file it could not finish is removed; an error wraps
// fs.ErrExist if name existed.
func (w *writer) create(d *os.Root, name, rel string, data []byte) (fs.FileInfo, error) {
	f, err := d.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, w.fileMode)
	if err != nil {
		return nil, w.fail("write", rel, err)
	}
	_, err = f.Write(data)
	if err == nil && testHookStage != nil {
		err = testHookStage(rel)
	}
	var fi fs.FileInfo
	if err == nil {
		fi, err = f.Stat()
	}
	if err == nil && fi.Mode().Perm() != w.fileMode {
		// The umask took bits the mode must have.
		if err = f.Chmod(w.fileMode); err == nil {
			fi, err = f.Stat()
		}
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		if rerr := d.Remove(name); rerr != nil && !errors.Is(rerr, fs.ErrNotExist) {
			w.tempsLeft.Store(true)
		}
		return nil, w.fail("write", rel, err)
	}
	return fi, nil
}

// writeAtomic replaces rel with data by way of a durable temporary file;
// Write uses it for the ledger.
func (w *writer) writeAtomic(rel string, data []byte) error {
	d := w.r
	if dir := path.Dir(rel); dir != "." {
		var err error
		if d, err = w.r.OpenRoot(dir); err != nil {
			return w.fail("write", rel, err)
		}
		defer d.Close()
	}
	name, _, err := w.writeTemp(d, rel, data)
	if err != nil {
		return err
	}
	tmp := path.Join(path.Dir(rel), name)
	if err = w.durable(1, func() ([]string, []string) { return []string{tmp}, nil }); err == nil && testHookRename != nil {
		err = testHookRename(rel)
	}
	if err == nil {
		err = w.r.Rename(tmp, rel)
	}
	if err != nil {
		w.removeTemp(tmp)
		return w.fail("write", rel, err)
	}
	return nil
}
