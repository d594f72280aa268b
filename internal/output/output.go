// Package output is the only code in fleetc that writes to disk. Write
// replaces the files fleetc owns under an output root with a Plan's files,
// atomically per file (a new directory is put in place whole), keeping a
// ledger of what it owns so that it never overwrites or deletes anything
// else, and prunes files it wrote earlier that are no longer planned.
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
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/fleetc/fleetc/internal/render"
)

// lockName is the lock file Write holds at the output root while it works.
const lockName = ".fleetc-lock"

// Plan is what one Write makes true on disk.
type Plan struct {
	// Files is the complete content of every file this run owns in scope.
	// Paths are slash-separated and relative to the output root.
	Files []render.File
	// Scope reports which owned paths this run manages; nil means all.
	// Ledger entries outside Scope are kept as they are and never pruned,
	// so that compiling one cluster leaves the others alone. Every planned
	// file must be in Scope. It may be called from several goroutines at
	// once.
	Scope func(path string) bool
	// Private makes the files readable by their owner only (mode 0600,
	// directories 0700): for credentials.
	Private bool
	// Display is how messages name the output root, such as a path
	// relative to the working directory; empty means the root as given.
	Display string
	// Known, when set, holds the stamps a previous Write returned. A
	// planned file whose stamp still matches the disk and whose bytes are
	// those the stamp records is left alone without being read.
	Known *Stamps
	// Carried lists more planned files, by path: each is to hold the
	// bytes whose checksum its stamp in Known records, the bytes the
	// last Write left there. Their bytes are not at hand; Write asks
	// Fetch for those of the files whose stamps cannot vouch that the
	// disk still holds them (a file edited by hand, or written too
	// recently for its stamp to be trusted), before it changes anything.
	// An error from Fetch is returned as it is. Write changes nothing, and
	// returns an error wrapping ErrCarried, if a carried file has no stamp
	// or Fetch brings other bytes than its stamp records.
	Carried []string
	Fetch   func(paths []string) ([][]byte, error)
}

// ErrCarried is wrapped by the errors of a Write that could not know what
// a carried file is to hold (see Plan.Carried); it changed nothing, and a
// Write with the files' bytes at hand can take its place.
var ErrCarried = errors.New("the bytes of a carried file are not known")

// Stamp is what lstat shows of a file that Write wrote or found
// unchanged, with the checksum of its bytes then: while size, modification
// time and inode stay the same, so do the bytes.
type Stamp struct {
	Size    int64
	ModTime int64 // nanoseconds since the epoch
	Inode   uint64
	Sum     string // hex SHA-256 of the content
}

// Stamps are the stamps of the files under one root, taken at At, and
// the checksum of the ledger then (hex SHA-256; empty if there was none).
type Stamps struct {
	At     time.Time
	Files  map[string]Stamp
	Ledger string
}

// racyWindow: a file modified less than this before its stamp was taken
// could be changed again within the same timestamp tick without its stamp
// showing it, so such a stamp is not trusted and the file is read.
const racyWindow = time.Second

// trusted returns the stamp of rel if it can vouch for the file's bytes.
func (s *Stamps) trusted(rel, sum string) (Stamp, bool) {
	if s == nil {
		return Stamp{}, false
	}
	st, ok := s.Files[rel]
	if !ok || st.Sum != sum || st.ModTime >= s.At.Add(-racyWindow).UnixNano() {
		return Stamp{}, false
	}
	return st, true
}

// stampOf returns the stamp of a file with content sum, as fi shows it.
func stampOf(fi fs.FileInfo, sum string) Stamp {
	st := Stamp{Size: fi.Size(), ModTime: fi.ModTime().UnixNano(), Sum: sum}
	st.Inode = inode(fi)
	return st
}

// Result says what Write did. Each list holds sorted slash paths relative
// to the output root.
type Result struct {
	// Written lists planned files that were created or replaced.
	Written []string
	// Unchanged lists planned files whose bytes were already on disk.
	Unchanged []string
	// Removed lists previously owned files that Write deleted.
	Removed []string
	// Stamps are the stamps of the planned files as they are on disk
	// now, for the next Write's Plan.Known; nil if Write failed, and
	// Plan.Known itself if they are the same.
	Stamps *Stamps
}

// ConflictError is returned when planned files already exist on disk but
// fleetc does not own them. Write then changes nothing.
type ConflictError struct {
	// Root is the output root as messages name it (Plan.Display).
	Root string
	// Paths lists the conflicting paths, sorted, slash-separated and
	// relative to Root.
	Paths []string
}

// Error names every conflicting file.
func (e *ConflictError) Error() string {
	names := make([]string, len(e.Paths))
	for i, p := range e.Paths {
		names[i] = filepath.Join(e.Root, filepath.FromSlash(p))
	}
	if len(names) == 1 {
		return fmt.Sprintf("refusing to overwrite file fleetc does not own: %s (move it away or delete it)", names[0])
	}
	return fmt.Sprintf("refusing to overwrite files fleetc does not own: %s (move them away or delete them)", strings.Join(names, ", "))
}

// LockedError is returned when another Write, usually another fleetc
// process, holds the lock on the same output root.
type LockedError struct {
	// Path is the lock file: the output root joined with its name.
	Path string
}

// Error says that another fleetc is writing the directory.
func (e *LockedError) Error() string {
	return fmt.Sprintf("lock %s: another fleetc is writing this directory; try again when it has finished", e.Path)
}

// testHookRename, when set by a test, runs just before a temporary file is
// renamed onto rel; an error it returns is treated as a failed write.
var testHookRename func(rel string) error

// testHookStage, when set by a test, runs after the data of rel has gone
// into its temporary file; an error it returns is treated as a failed
// write of that data, as a full disk would make it.
var testHookStage func(rel string) error

// Write makes the files fleetc owns under root match p, creating root if
// needed. Root itself may be a symlink; nothing below it may.
//
// Before it touches the disk, Write checks every planned path, and it
// refuses (with a *ConflictError, changing nothing) to overwrite files that
// exist but are not in the ledger. It never writes or removes anything
// through a symbolic link. Files whose bytes are already on disk are left
// alone; others are replaced atomically. Owned files in p.Scope that are
// not planned are removed, as are directories that become empty because of
// that. The ledger is updated so that, even if the process is killed at any
// point, every file fleetc may have created is owned and the next Write
// repairs the tree. Every new file is written in full before any is put in
// place, so a failure to write one (a full disk) leaves the tree exactly as
// it was. Concurrent Writes on one root fail fast with a *LockedError.
//
// On error, the Result lists what had been done before the failure.
func Write(root string, p Plan) (Result, error) {
	if root == "" {
		return Result{}, errors.New("write output: output directory is empty")
	}
	early := readEarly(root, p.Known)
	files, err := checkPlan(p)
	if err != nil {
		return Result{}, err
	}
	w := newWriter(root, p)
	_, err = os.Lstat(root)
	created := errors.Is(err, fs.ErrNotExist)
	w.created = created
	if err := os.MkdirAll(root, w.dirMode); err != nil {
		return Result{}, opError("create directory", w.display, err)
	}
	r, err := os.OpenRoot(root)
	if err != nil {
		return Result{}, opError("open", w.display, err)
	}
	defer r.Close()
	w.r = r
	unlock, err := lock(r, w.show(lockName))
	if err != nil {
		return Result{}, err
	}
	res, err := w.write(files, p.Scope, p.Known, <-early)
	if uerr := unlock(); uerr != nil && err == nil {
		err = uerr
	}
	if err != nil && created {
		os.Remove(root) // only if it is still empty: nothing was written
	}
	return res, err
}

// Check reports what would stop a Write of p into root, without writing
// or locking anything: a *ConflictError for files in the way that fleetc
// does not own, or an error for an owned path that is no longer a regular
// file. A root that does not exist yet stops nothing.
func Check(root string, p Plan) error {
	files, err := checkPlan(p)
	if err != nil {
		return err
	}
	w := newWriter(root, p)
	r, err := os.OpenRoot(root)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return opError("open", w.display, err)
	}
	defer r.Close()
	w.r = r
	old, _, err := w.readLedger(earlyLedger{})
	if err != nil {
		return err
	}
	if w.prev, err = w.readRecord(); err != nil {
		return err
	}
	st := w.newStatCache()
	defer st.dirs.close()
	_, _, _, err = w.inspect(st, old, files, prunesOf(old, files, p.Scope), nil, make(map[string]Stamp, len(files)))
	return err
}

// newWriter is the writer of p into root, before it opens anything.
func newWriter(root string, p Plan) *writer {
	w := &writer{root: root, display: p.Display, fileMode: 0o644, dirMode: 0o755, fetch: p.Fetch}
	if w.display == "" {
		w.display = root
	}
	if p.Private {
		w.fileMode, w.dirMode = 0o600, 0o700
	}
	return w
}

// newStatCache is an empty statCache of the tree w has open.
func (w *writer) newStatCache() *statCache {
	return &statCache{r: w.r, show: w.show, info: make(map[string]fs.FileInfo), dirs: newCursor(w)}
}

// writer carries one Write's state.
type writer struct {
	root     string   // output root as given
	display  string   // how messages name root
	r        *os.Root // confines every operation to root
	fileMode fs.FileMode
	dirMode  fs.FileMode
	// tempsLeft is set when a temporary file could not be removed after
	// a failure, so the record of temporaries must stay.
	tempsLeft atomic.Bool
	fetch     func(paths []string) ([][]byte, error) // Plan.Fetch
	// created is set when Write made the root itself (and maybe its
	// parents): only a sync of the whole file system covers them.
	created bool
	// prev is the record of temporaries a run that did not finish left,
	// nil if there was none: its temporaries, and no other files, are
	// fleetc's to remove.
	prev *record
	// rec is this Write's record of temporaries, once written, and seq
	// numbers its temporaries.
	rec *record
	seq atomic.Uint64
}

// show turns rel into the path shown to users: the displayed root
// joined with rel.
func (w *writer) show(rel string) string {
	return filepath.Join(w.display, filepath.FromSlash(rel))
}

func (w *writer) fail(op, rel string, err error) error {
	return opError(op, w.show(rel), err)
}

// opError formats err as "op name: reason", dropping the operation and
// path that os errors carry so they are not repeated.
func opError(op, name string, err error) error {
	switch e := err.(type) {
	case *fs.PathError:
		err = e.Err
	case *os.LinkError:
		err = e.Err
	case *os.SyscallError:
		err = e.Err
	}
	return fmt.Errorf("%s %s: %w", op, name, err)
}

func (w *writer) write(files []planned, scope func(string) bool, known *Stamps, early earlyLedger) (res Result, err error) {
	old, cur, err := w.readLedger(early)
	if err != nil {
		return res, err
	}
	if w.prev, err = w.readRecord(); err != nil {
		return res, err
	}
	prunes := prunesOf(old, files, scope)
	needDirs := make(map[string]bool) // directories holding planned files, if anything is pruned
	if len(prunes) > 0 {
		for _, f := range files {
			for _, d := range parents(f.path) {
				needDirs[d] = true
			}
		}
	}

	// Look before touching anything.
	st := w.newStatCache()
	defer st.dirs.close()
	stamps := make(map[string]Stamp, len(files))
	toRemove, toWrite, unchanged, err := w.inspect(st, old, files, prunes, known, stamps)
	if err != nil {
		return Result{}, err
	}
	res.Unchanged = unchanged

	// Leftovers of a run that did not finish: the temporaries its
	// record names, and nothing else.
	if w.prev != nil {
		if err := w.removeLeftovers(st, w.prev); err != nil {
			return res, err
		}
	}
	changes := len(toWrite) > 0 || len(toRemove) > 0 || !sameLedger(old, files, scope)
	if changes {
		// Durably, before the first temporary file (the ledger's too), so
		// that a run killed from here on leaves the next one the record
		// of exactly what to remove.
		dirs, derr := w.tempDirs(st, toWrite, toRemove)
		if derr != nil {
			return res, derr
		}
		if rerr := w.writeRecord(dirs); rerr != nil {
			return res, rerr
		}
		// A failure from here on removes its temporary files; the record
		// goes too unless one of them could not be removed.
		defer func() {
			if err != nil && !w.tempsLeft.Load() {
				w.r.Remove(recordName)
			}
		}()
	}

	// Write every new file where no one sees it first (a temporary file,
	// or a new directory under a temporary name) and make them all durable
	// with one sync of the file system rather than one per file (which
	// costs a journal commit each). Nothing a user sees changes until that
	// has succeeded: a failure here, such as a full disk, leaves the tree
	// exactly as it was.
	sg, err := w.stage(st, toWrite, toRemove, stamps)
	// Nothing looks at the tree through st from here on, and an open
	// handle could keep a directory from being removed on some systems.
	st.dirs.close()
	if err != nil {
		return res, err
	}

	// Own every file this run may create before creating any (unless the
	// ledger owns them all already: its checksums are not what makes a
	// file owned, and the final ledger below updates them).
	if !owned(old, toWrite) {
		union := make(Ledger, len(old)+len(files))
		for p, s := range old {
			union[p] = s
		}
		for _, f := range files {
			union[f.path] = f.sum
		}
		if cur, err = w.writeLedger(union, cur); err != nil {
			w.undo(sg)
			return res, err
		}
	}

	touched := make(map[string]bool) // directories whose entries changed
	for _, p := range prunes {
		if !toRemove[p] {
			continue
		}
		if err := w.r.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			w.undo(sg)
			return res, w.fail("remove", p, err)
		}
		res.Removed = append(res.Removed, p)
		touched[path.Dir(p)] = true
	}
	for _, p := range prunes {
		w.removeEmptyParents(p, needDirs, touched)
	}

	// Put everything in place: a fresh directory with one rename when its
	// first file comes up, other files one rename each.
	handles := newCursor(w)
	defer handles.close()
	placed := make(map[string]bool) // fresh directories renamed into place
	for i, f := range toWrite {
		var err error
		switch fd, tmp := sg.fresh[i], sg.temps[i]; {
		case fd != "" && placed[fd]:
		case fd != "":
			if testHookRename != nil {
				err = testHookRename(fd)
			}
			if err == nil {
				err = w.renameIn(handles, sg.tmpDir[fd], fd)
			}
			if err != nil {
				w.abandon(sg, i)
				return res, w.fail("write", fd, err)
			}
			placed[fd] = true
			touched[path.Dir(fd)] = true
		default:
			dir := path.Dir(f.path)
			if dir != "." && path.Dir(tmp) != dir {
				// Staged at the root: a pruned file stood where this
				// directory goes.
				err = w.r.MkdirAll(dir, w.dirMode)
			}
			if err == nil && testHookRename != nil {
				err = testHookRename(f.path)
			}
			if err == nil {
				err = w.renameIn(handles, tmp, f.path)
			}
			if err != nil {
				w.abandon(sg, i)
				return res, w.fail("write", f.path, err)
			}
			touched[dir] = true
			touched[path.Dir(tmp)] = true
			if path.Dir(tmp) != dir {
				// MkdirAll may have made any of them.
				touched["."] = true
				for _, d := range parents(dir) {
					touched[d] = true
				}
			}
		}
		res.Written = append(res.Written, f.path)
	}
	if err := w.durableDirs(sortedKeys(touched)); err != nil {
		return res, err
	}

	if len(toWrite) > 0 || len(res.Removed) > 0 || !sameLedger(old, files, scope) {
		final := make(Ledger, len(old)+len(files))
		for p, s := range old {
			if scope != nil && !scope(p) {
				final[p] = s
			}
		}
		for _, f := range files {
			final[f.path] = f.sum
		}
		if cur, err = w.writeLedger(final, cur); err != nil {
			return res, err
		}
	}
	if changes {
		// Every temporary file is renamed or removed. If this removal is
		// lost in a crash, the next Write merely looks for them again.
		if err := w.r.Remove(recordName); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return res, w.fail("remove", recordName, err)
		}
	}
	ledgerSum := ""
	if cur != nil {
		ledgerSum = sum(cur)
	}
	if known != nil && len(res.Written) == 0 && len(res.Removed) == 0 && trustedAll(known, stamps) && known.Ledger == ledgerSum {
		// Nothing moved: the stamps given are still true, and taking
		// them anew would only make recent ones look racy again.
		res.Stamps = known
		return res, nil
	}
	res.Stamps = &Stamps{At: time.Now(), Files: stamps, Ledger: ledgerSum}
	return res, nil
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

// prunesOf lists the files the ledger old owns, in scope, that files
// does not plan: what a Write removes. Sorted.
func prunesOf(old Ledger, files []planned, scope func(string) bool) []string {
	if ownedPlanned(old, files) == len(old) {
		return nil
	}
	inPlan := make(map[string]bool, len(files))
	for _, f := range files {
		inPlan[f.path] = true
	}
	var prunes []string
	for p := range old {
		if (scope == nil || scope(p)) && !inPlan[p] {
			prunes = append(prunes, p)
		}
	}
	slices.Sort(prunes)
	return prunes
}

// ownedPlanned counts the planned files that the ledger old owns: when
// that is every file it owns, nothing is to be pruned, and the set of
// planned paths need not be built.
func ownedPlanned(old Ledger, files []planned) int {
	n := 0
	for _, f := range files {
		if _, ok := old[f.path]; ok {
			n++
		}
	}
	return n
}

// owned reports whether the ledger old owns every file of files.
func owned(old Ledger, files []planned) bool {
	for _, f := range files {
		if old[f.path] == "" {
			return false
		}
	}
	return true
}

// sameLedger reports whether the ledger old already says exactly what a
// Write of files within scope would make it say.
func sameLedger(old Ledger, files []planned, scope func(string) bool) bool {
	for _, f := range files {
		if old[f.path] != f.sum {
			return false
		}
	}
	if scope == nil {
		return len(old) == len(files)
	}
	inScope := 0
	for p := range old {
		if scope(p) {
			inScope++
		}
	}
	return inScope == len(files)
}

// trustedAll reports whether stamps are exactly those of known, all of
// them trusted.
func trustedAll(known *Stamps, stamps map[string]Stamp) bool {
	if len(stamps) != len(known.Files) {
		return false
	}
	for p, st := range stamps {
		if k, ok := known.trusted(p, st.Sum); !ok || k != st {
			return false
		}
	}
	return true
}

// exists reports whether rel exists, without following a final symlink.
func (w *writer) exists(rel string) (bool, error) {
	_, err := w.r.Lstat(rel)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, w.fail("read", rel, err)
	}
	return true, nil
}

// inspect looks at the tree before Write changes anything. It returns the
// prunes that exist as regular files, the planned files to write and those
// already on disk, or an error (a *ConflictError for files fleetc does not
// own) if Write must not go ahead.
func (w *writer) inspect(st *statCache, old Ledger, files []planned, prunes []string, known *Stamps, stamps map[string]Stamp) (toRemove map[string]bool, toWrite []planned, unchanged []string, err error) {
	toRemove = make(map[string]bool)
	for _, p := range prunes {
		_, absent, err := st.parentState(p)
		if err != nil {
			return nil, nil, nil, w.fail("remove", p, err)
		}
		if absent {
			continue
		}
		fi, err := st.lstat(p)
		if err != nil {
			return nil, nil, nil, w.fail("remove", p, err)
		}
		if fi == nil {
			continue
		}
		if !fi.Mode().IsRegular() {
			return nil, nil, nil, w.fail("remove", p, errors.New("not a regular file; fleetc only removes files it wrote"))
		}
		toRemove[p] = true
	}
	conflicts := make(map[string]bool)
	vouched := w.vouched(files, old, known)
	if err := w.fetchCarried(files, vouched); err != nil {
		return nil, nil, nil, err
	}
	same := st.warm(files, vouched)
	for i, f := range files {
		if vouched[i] {
			unchanged = append(unchanged, f.path)
			stamps[f.path] = known.Files[f.path]
			continue
		}
		blocker, absent, err := st.parentState(f.path)
		if err != nil {
			return nil, nil, nil, w.fail("write", f.path, err)
		}
		if blocker != "" {
			switch {
			case toRemove[blocker]:
				// Pruned before the writes.
			case old[blocker] != "":
				return nil, nil, nil, w.fail("write", f.path, fmt.Errorf("%s is a file fleetc owns outside this run's scope", w.show(blocker)))
			default:
				conflicts[blocker] = true
			}
		}
		if absent {
			toWrite = append(toWrite, f)
			continue
		}
		fi, err := st.lstat(f.path)
		if err != nil {
			return nil, nil, nil, w.fail("write", f.path, err)
		}
		_, owned := old[f.path]
		switch {
		case fi == nil:
			toWrite = append(toWrite, f)
		case !owned:
			if fi.IsDir() && w.vanishes(f.path, toRemove) {
				toWrite = append(toWrite, f)
			} else {
				conflicts[f.path] = true
			}
		case !fi.Mode().IsRegular():
			return nil, nil, nil, w.fail("write", f.path, errors.New("not a regular file; fleetc only replaces files it wrote"))
		case fi.Size() == int64(len(f.data)) && same[i]:
			unchanged = append(unchanged, f.path)
			stamps[f.path] = stampOf(fi, f.sum)
		default:
			toWrite = append(toWrite, f)
		}
	}
	if len(conflicts) > 0 {
		paths := make([]string, 0, len(conflicts))
		for p := range conflicts {
			paths = append(paths, p)
		}
		sort.Strings(paths)
		return nil, nil, nil, &ConflictError{Root: w.display, Paths: paths}
	}
	return toRemove, toWrite, unchanged, nil

}

// fetchCarried gets the bytes of the carried files that vouched does not
// vouch for, and checks that they are the bytes their stamps record.
func (w *writer) fetchCarried(files []planned, vouched []bool) error {
	var need []int
	for i, f := range files {
		if f.carried && !vouched[i] {
			need = append(need, i)
		}
	}
	if len(need) == 0 {
		return nil
	}
	if w.fetch == nil {
		return w.fail("write", files[need[0]].path, errors.New("its bytes are not at hand and the plan has no way to fetch them"))
	}
	paths := make([]string, len(need))
	for j, i := range need {
		paths[j] = files[i].path
	}
	data, err := w.fetch(paths)
	if err != nil {
		return err
	}
	if len(data) != len(need) {
		return fmt.Errorf("write output: fetched %d files for %d carried ones", len(data), len(need))
	}
	for j, i := range need {
		if sum(data[j]) != files[i].sum {
			return w.fail("write", files[i].path, fmt.Errorf("%w: the bytes fetched for it are not those its stamp records", ErrCarried))
		}
		files[i].data = data[j]
	}
	return nil
}

// vouched reports, for each file, whether its stamp in known is trusted
// and still holds, so that it is unchanged without reading it. Tens of
// thousands of them, on every core.
func (w *writer) vouched(files []planned, old Ledger, known *Stamps) []bool {
	out := make([]bool, len(files))
	if known == nil || len(known.Files) == 0 {
		return out
	}
	onEveryCore(len(files), func(_, i int) bool {
		f := files[i]
		if k, ok := known.trusted(f.path, f.sum); ok && old[f.path] != "" {
			out[i] = w.holds(f.path, k)
		}
		return true
	})
	return out
}

// holds reports whether lstat still shows the regular file rel as its
// stamp st took it. A plain lstat of the joined path, where the careful
// path of inspect opens every parent: it only decides that nothing needs
// doing, so a symlinked parent cannot lead anywhere.
func (w *writer) holds(rel string, st Stamp) bool {
	fi, err := os.Lstat(filepath.Join(w.root, filepath.FromSlash(rel)))
	return err == nil && fi.Mode().IsRegular() && stampOf(fi, st.Sum) == st
}

// earlyLedger is the ledger as readEarly read it before the lock.
type earlyLedger struct {
	data []byte
	l    Ledger
}

// readEarly reads the ledger that the stamps known record, without the
// lock, while Write checks the plan: for a large fleet each takes a tenth
// of a second. readLedger takes it only if the bytes under the lock are
// the same.
func readEarly(root string, known *Stamps) <-chan earlyLedger {
	ch := make(chan earlyLedger, 1)
	if known == nil || known.Ledger == "" {
		ch <- earlyLedger{}
		return ch
	}
	go func() {
		data, err := os.ReadFile(filepath.Join(root, LedgerName))
		if err != nil || sum(data) != known.Ledger {
			ch <- earlyLedger{}
			return
		}
		ch <- earlyLedger{data: data, l: writtenLedger(data)}
	}()
	return ch
}

// readLedger reads the ledger under the root, returning it and its bytes
// (nil if there is none). The early read is taken when the bytes are the
// same: a ledger whose checksum the stamps record was written by a Write
// that checked every path in it, so its lines are not checked again (for
// a large fleet that was most of the cost of reading it).
func (w *writer) readLedger(early earlyLedger) (Ledger, []byte, error) {
	data, ok, err := w.ledgerBytes()
	if !ok || err != nil {
		return Ledger{}, nil, err
	}
	if early.l != nil && bytes.Equal(data, early.data) {
		return early.l, data, nil
	}
	l, err := parseLedger(data, w.show(LedgerName))
	if err != nil {
		return nil, nil, err
	}
	return l, data, nil
}

// ledgerBytes returns the bytes of the ledger under the root, and false
// if there is none. The ledger itself: a symlink in its place is an error.
func (w *writer) ledgerBytes() ([]byte, bool, error) {
	return w.bookkeeping(LedgerName, errors.New("not a regular file"))
}

// bookkeeping returns the bytes of fleetc's own file name at the root (the
// ledger, the record of temporaries), and false if there is none. Only the
// file itself is read: anything else in its place (a symlink, a
// directory) is the error notRegular.
func (w *writer) bookkeeping(name string, notRegular error) ([]byte, bool, error) {
	fi, err := w.r.Lstat(name)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, w.fail("read", name, err)
	}
	if !fi.Mode().IsRegular() {
		return nil, false, w.fail("read", name, notRegular)
	}
	data, err := w.r.ReadFile(name)
	if err != nil {
		return nil, false, w.fail("read", name, err)
	}
	return data, true, nil
}

// writeLedger atomically replaces the ledger with l unless its bytes are
// cur already, and returns the bytes now on disk.
func (w *writer) writeLedger(l Ledger, cur []byte) ([]byte, error) {
	data := l.bytes()
	if cur != nil && bytes.Equal(data, cur) {
		return cur, nil
	}
	if err := w.writeAtomic(LedgerName, data); err != nil {
		return cur, err
	}
	return data, w.syncDir(".")
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

// sameContent reports whether f's bytes are already at f.path.
func (c *statCache) sameContent(f planned) bool {
	d, err := c.dirs.dir(path.Dir(f.path), false)
	if err != nil {
		return false
	}
	data, err := d.ReadFile(path.Base(f.path))
	return err == nil && bytes.Equal(data, f.data)
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
func (w *writer) removeEmptyParents(p string, needDirs, touched map[string]bool) {
	dirs := parents(p)
	for i := len(dirs) - 1; i >= 0; i-- {
		d := dirs[i]
		if needDirs[d] {
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

// syncDir flushes a directory's entries to stable storage where the
// system supports it.
func (w *writer) syncDir(dir string) error {
	if runtime.GOOS == "windows" {
		return nil // directories cannot be opened for syncing there
	}
	f, err := w.r.Open(dir)
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
		return nil // removed since; its parent is synced instead
	}
	if err != nil {
		return w.fail("sync", dir, err)
	}
	err = f.Sync()
	f.Close()
	if err != nil && !errors.Is(err, syscall.EINVAL) && !errors.Is(err, errors.ErrUnsupported) {
		return w.fail("sync", dir, err)
	}
	return nil
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
}

// warm looks at the planned files that skip does not mark, and at the
// directories above them, and reports which already hold their bytes; on
// every core when there are enough of them. Inspect then finds their
// Lstat results in c. A lookup that fails is left for inspect to make
// again and report.
func (c *statCache) warm(files []planned, skip []bool) []bool {
	var todo []int
	for i := range files {
		if !skip[i] {
			todo = append(todo, i)
		}
	}
	same := make([]bool, len(files))
	n := min(runtime.GOMAXPROCS(0), (len(todo)+warmChunk-1)/warmChunk)
	locals := make([]*statCache, n)
	var wg sync.WaitGroup
	for g := range n {
		local := c.dirs.w.newStatCache()
		locals[g] = local
		wg.Go(func() {
			defer local.dirs.close()
			for _, i := range todo[g*len(todo)/n : (g+1)*len(todo)/n] {
				f := files[i]
				if _, absent, err := local.parentState(f.path); err != nil || absent {
					continue
				}
				fi, err := local.lstat(f.path)
				if err == nil && fi != nil && fi.Mode().IsRegular() && fi.Size() == int64(len(f.data)) {
					same[i] = local.sameContent(f)
				}
			}
		})
	}
	wg.Wait()
	for _, local := range locals {
		maps.Copy(c.info, local.info)
	}
	return same
}

// warmChunk is the fewest files worth a goroutine of their own in warm; a
// variable so that tests can make warm use one.
var warmChunk = 512

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

func sortedKeys(m map[string]bool) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
