package output

import (
	"errors"
	"io/fs"
	"os"
	"path"
	"slices"
)

// testHookRename, when set by a test, runs just before a temporary file is
// renamed onto rel; an error it returns is treated as a failed write.
var testHookRename func(rel string) error

// testHookStage, when set by a test, runs after the data of rel has gone
// into its temporary file; an error it returns is treated as a failed
// write of that data, as a full disk would make it.
var testHookStage func(rel string) error

// staged is where stage puts the files of toWrite, for place to put them
// in place.
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

// layout decides where stage puts each file of toWrite, changing nothing.
// A file whose directory exists goes to a temporary file next to it,
// renamed over it later; at the root instead when a file in toRemove
// stands where one of its directories has to be (blocked). A directory
// that does not exist yet is fresh: built whole, its files written under
// their own names, beneath a temporary name in its parent and renamed into
// place later, one rename for a new cluster instead of one per file, and
// no temporary names inside it.
func (w *writer) layout(st *statCache, toWrite []planned, toRemove map[string]bool) (*staged, error) {
	s := &staged{temps: make([]string, len(toWrite)), fresh: make([]string, len(toWrite)), tmpDir: make(map[string]string)}
	for i, f := range toWrite {
		if blocked(f.path, toRemove) {
			continue
		}
		d, err := st.missing(f.path)
		if err != nil {
			return nil, w.fail("write", f.path, err)
		}
		s.fresh[i] = d
	}
	return s, nil
}

// blocked reports whether a file of toRemove stands where a directory of
// rel has to be: rel is then staged at the root.
func blocked(rel string, toRemove map[string]bool) bool {
	return len(toRemove) > 0 && slices.ContainsFunc(parents(rel), func(d string) bool { return toRemove[d] })
}

// tempDirs lists the directories in which stage creates temporary files
// as s places them (beside a file whose directory exists, in the parent
// of a fresh directory, at the root for a blocked file), and the root,
// for the ledger's.
func (s *staged) tempDirs(toWrite []planned, toRemove map[string]bool) []string {
	dirs := map[string]bool{".": true}
	for i, f := range toWrite {
		switch {
		case s.fresh[i] != "":
			dirs[path.Dir(s.fresh[i])] = true
		case !blocked(f.path, toRemove):
			dirs[path.Dir(f.path)] = true
		}
	}
	return sortedKeys(dirs)
}

// stage writes each file of toWrite where layout placed it, where no one
// sees it yet, and stamps it in stamps. It makes them all durable with
// one sync of the file system rather than one per file (which costs a
// journal commit each). Nothing a user sees changes: on error (a full
// disk) it removes what it made, and the tree is as it was.
func (w *writer) stage(s *staged, toWrite []planned, toRemove map[string]bool, stamps map[string]Stamp) error {
	err := w.makeFresh(s)
	var infos []fs.FileInfo
	if err == nil {
		infos, err = w.stageFiles(s, toWrite, toRemove)
	}
	if err == nil && len(toWrite) > 0 {
		err = w.durable(len(toWrite), func() ([]string, []string) { return s.paths(toWrite) })
	}
	if err != nil {
		w.undo(s, 0)
		return err
	}
	for i, f := range toWrite {
		stamps[f.path] = stampOf(infos[i], f.sum)
	}
	return nil
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

// makeFresh makes the fresh directories of s under their temporary
// names, in tree order, before any file: each is made once, whichever
// stager reaches it.
func (w *writer) makeFresh(s *staged) error {
	cur := newCursor(w)
	defer cur.close()
	for _, d := range s.fresh {
		if _, made := s.tmpDir[d]; d == "" || made {
			continue
		}
		name := w.tempName()
		parent, err := cur.dir(path.Dir(d), false)
		if err == nil {
			err = parent.Mkdir(name, w.dirMode)
		}
		if err != nil {
			return w.fail("create directory", d, err)
		}
		s.tmpDir[d] = path.Join(path.Dir(d), name)
	}
	return nil
}

// stageFiles writes the files of toWrite where s places them and returns
// what fstat shows of each. Creating files and directories is the file
// system's work, and it goes faster a few at a time: each stager takes a
// run of files in tree order, so they rarely share a directory.
func (w *writer) stageFiles(s *staged, toWrite []planned, toRemove map[string]bool) ([]fs.FileInfo, error) {
	infos := make([]fs.FileInfo, len(toWrite))
	curs := make([]*cursor, min(stagers, (len(toWrite)+stageChunk-1)/stageChunk))
	for g := range curs {
		curs[g] = newCursor(w)
		defer curs[g].close()
	}
	errs := make([]error, len(curs))
	inRuns(len(toWrite), len(curs), func(i int) string { return "write " + w.show(toWrite[i].path) }, func(g, i int) bool {
		f := toWrite[i]
		infos[i], errs[g] = w.stageFile(curs[g], s, i, f, blocked(f.path, toRemove))
		return errs[g] == nil
	})
	return infos, firstErr(errs)
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

// stageFile writes f, toWrite[i], where s places it (at the root if
// atRoot), through the directory handles of cur.
func (w *writer) stageFile(cur *cursor, s *staged, i int, f planned, atRoot bool) (fs.FileInfo, error) {
	if fd := s.fresh[i]; fd != "" {
		return w.createFresh(cur, s.tmpDir[fd]+f.path[len(fd):], f)
	}
	dir := path.Dir(f.path)
	if atRoot {
		dir = "."
	}
	d, err := cur.dir(dir, false)
	if err != nil {
		return nil, w.fail("write", f.path, err)
	}
	tmp := w.tempName()
	fi, err := w.create(d, tmp, f.path, f.data)
	if err == nil {
		s.temps[i] = path.Join(dir, tmp)
	}
	return fi, err
}

// create writes data to the new file name in d, with the final mode of
// rel, and returns what fstat shows of it: renaming keeps size,
// modification time and inode (Write stamps a file renamed over rel again
// for its change time). Write renames a temporary file over rel only once
// every one is durable, so that rel always holds either its old or its
// new content. A file it could not finish is removed; an error wraps
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

// place puts every staged file in place, a fresh directory with one rename
// when its first file comes up, other files one rename each, and notes in
// touched the directories whose entries changed. It returns the files it
// put in place; on error it removes what is still staged.
func (w *writer) place(s *staged, toWrite []planned, touched map[string]bool) (written []string, err error) {
	handles := newCursor(w)
	defer handles.close()
	placed := make(map[string]bool) // fresh directories renamed into place
	for i, f := range toWrite {
		switch fd := s.fresh[i]; {
		case fd == "":
			err = w.placeFile(handles, s.temps[i], f.path, touched)
		case !placed[fd]:
			placed[fd], touched[path.Dir(fd)] = true, true
			err = w.rename(handles, s.tmpDir[fd], fd)
		}
		if err != nil {
			w.undo(s, i)
			return written, err
		}
		written = append(written, f.path)
	}
	return written, nil
}

// placeFile renames the temporary file tmp onto rel, making rel's
// directory first if tmp was staged at the root (a pruned file stood where
// that directory goes).
func (w *writer) placeFile(handles *cursor, tmp, rel string, touched map[string]bool) error {
	dir := path.Dir(rel)
	if path.Dir(tmp) != dir {
		if err := w.r.MkdirAll(dir, w.dirMode); err != nil {
			return w.fail("write", rel, err)
		}
		// MkdirAll may have made any of them.
		touched["."] = true
		for _, d := range parents(dir) {
			touched[d] = true
		}
	}
	touched[dir], touched[path.Dir(tmp)] = true, true
	return w.rename(handles, tmp, rel)
}

// rename renames the staged from onto to (after testHookRename).
func (w *writer) rename(handles *cursor, from, to string) error {
	var err error
	if testHookRename != nil {
		err = testHookRename(to)
	}
	if err == nil {
		err = w.renameIn(handles, from, to)
	}
	if err != nil {
		return w.fail("write", to, err)
	}
	return nil
}

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

// undo removes what stage made for toWrite[from:] that is not in place:
// everything (from 0) before anything is, what is left after a failure
// to put toWrite[from] in place. Best effort: the next Write removes
// leftovers.
func (w *writer) undo(s *staged, from int) {
	for _, t := range s.temps[from:] {
		if t != "" {
			w.removeTemp(t)
		}
	}
	done := make(map[string]bool)
	for _, fd := range s.fresh[from:] {
		if t, ok := s.tmpDir[fd]; ok && !done[fd] {
			done[fd] = true
			w.removeTemp(t)
		}
	}
}

// removeTemp removes the temporary file or directory t (with everything
// in it), noting whether it is left behind.
func (w *writer) removeTemp(t string) {
	if err := w.r.RemoveAll(t); err != nil {
		w.tempsLeft.Store(true)
	}
}
