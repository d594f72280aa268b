// Package output is the only code in fleetc that writes to disk. Write
// replaces the files fleetc owns under an output root with a Plan's files,
// atomically per file (a new directory is put in place whole), keeping a
// ledger of what it owns so that it never overwrites or deletes anything
// else, and prunes files it wrote earlier that are no longer planned.
package output

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
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
func Write(root string, p Plan) (res Result, err error) {
	if root == "" {
		return Result{}, errors.New("write output: output directory is empty")
	}
	early := readEarly(root, p.Known)
	files, err := checkPlan(p)
	ledger := early()
	if err != nil {
		return Result{}, err
	}
	w := newWriter(root, p, files)
	unlock, err := w.open()
	if err != nil {
		return Result{}, err
	}
	// Deferred, so that a panic relayed from a worker leaves no lock.
	defer func() {
		if uerr := unlock(); uerr != nil && err == nil {
			err = uerr
		}
		if err != nil && w.created {
			os.Remove(root) // only if it is still empty: nothing was written
		}
		w.r.Close()
	}()
	return w.write(ledger)
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
	p.Known = nil // Check looks at every file, whatever stamps say
	w := newWriter(root, p, files)
	if w.r, err = os.OpenRoot(root); errors.Is(err, fs.ErrNotExist) {
		return nil
	} else if err != nil {
		return opError("open", w.display, err)
	}
	defer w.r.Close()
	if err := w.readState(earlyLedger{}); err != nil {
		return err
	}
	st := w.newStatCache()
	defer st.dirs.close()
	_, err = w.inspect(st)
	return err
}

// newWriter is the writer of p, whose files are checked and sorted, into
// root, before it opens anything.
func newWriter(root string, p Plan, files []planned) *writer {
	w := &writer{root: root, display: p.Display, fileMode: 0o644, dirMode: 0o755,
		files: files, scope: p.Scope, known: p.Known}
	if w.display == "" {
		w.display = root
	}
	if p.Private {
		w.fileMode, w.dirMode = 0o600, 0o700
	}
	return w
}

// writer carries one Write's state.
type writer struct {
	root     string   // output root as given
	display  string   // how messages name root
	r        *os.Root // confines every operation to root
	fileMode fs.FileMode
	dirMode  fs.FileMode
	files    []planned              // the plan's files, sorted by path
	scope    func(path string) bool // Plan.Scope
	known    *Stamps                // Plan.Known
	// planned are the directories that hold planned files
	// (plannedDirs).
	planned map[string]bool
	// old is the ledger as Write found it, and cur the bytes of the
	// ledger on disk (nil while there is none).
	old Ledger
	cur []byte
	// tempsLeft is set when a temporary file could not be removed after
	// a failure, so the record of temporaries must stay.
	tempsLeft atomic.Bool
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

// open makes the root if it does not exist, opens it and takes the lock.
func (w *writer) open() (unlock func() error, err error) {
	_, err = os.Lstat(w.root)
	w.created = errors.Is(err, fs.ErrNotExist)
	if err := os.MkdirAll(w.root, w.dirMode); err != nil {
		return nil, opError("create directory", w.display, err)
	}
	if w.r, err = os.OpenRoot(w.root); err != nil {
		return nil, opError("open", w.display, err)
	}
	if unlock, err = lock(w.r, w.show(lockName)); err != nil {
		w.r.Close()
		return nil, err
	}
	return unlock, nil
}

// readState reads what earlier runs left at the root: the ledger (early,
// if it has the same bytes) and the record of temporaries of a run that
// did not finish.
func (w *writer) readState(early earlyLedger) (err error) {
	if err = w.readLedger(early); err != nil {
		return err
	}
	w.prev, err = w.readRecord()
	return err
}

// write does a Write under the lock: it looks at the tree, removes what a
// run that did not finish left, changes the tree if anything is to
// change, and returns what it did with the stamps of the planned files.
func (w *writer) write(early earlyLedger) (Result, error) {
	if err := w.readState(early); err != nil {
		return Result{}, err
	}
	st := w.newStatCache()
	defer st.dirs.close()
	t, err := w.inspect(st)
	if err != nil {
		return Result{}, err
	}
	res := Result{Unchanged: t.unchanged}
	if w.prev != nil {
		// The temporaries its record names, and nothing else.
		if err := w.removeLeftovers(st, w.prev); err != nil {
			return res, err
		}
	}
	if len(t.toWrite) > 0 || len(t.toRemove) > 0 || !sameLedger(w.old, w.files, w.scope) {
		if err := w.change(st, t, &res); err != nil {
			return res, err
		}
	}
	res.Stamps = w.stamps(t, res)
	return res, nil
}

// change makes the tree what the plan says, in the order that lets a run
// be killed at any point: the record of temporaries; every new file
// staged, durably; the ledger owning them all; prunes; renames; the
// final ledger; and the record removed. Until the first prune or rename
// a failure leaves the tree as it was.
func (w *writer) change(st *statCache, t *todo, res *Result) (err error) {
	s, err := w.layout(st, t.toWrite, t.toRemove)
	// Nothing looks at the tree through st from here on, and an open
	// handle could keep a directory from being removed on some systems.
	st.dirs.close()
	if err != nil {
		return err
	}
	// Durably, before the first temporary file (the ledger's too), so
	// that a run killed from here on leaves the next one the record of
	// exactly what to remove.
	if err := w.writeRecord(s.tempDirs(t.toWrite, t.toRemove)); err != nil {
		return err
	}
	// A failure from here on removes its temporary files; the record
	// goes too unless one of them could not be removed.
	defer func() {
		if err != nil && !w.tempsLeft.Load() {
			w.r.Remove(recordName)
		}
	}()
	if err := w.stage(s, t.toWrite, t.toRemove, t.stamps); err != nil {
		return err
	}
	// Own every file this run may create before creating any (unless the
	// ledger owns them all already: its checksums are not what makes a
	// file owned, and the final ledger below updates them).
	if !owned(w.old, t.toWrite) {
		if err := w.writeLedger(nextLedger(w.old, w.files, func(string) bool { return true })); err != nil {
			w.undo(s, 0)
			return err
		}
	}
	touched := make(map[string]bool) // directories whose entries changed
	if res.Removed, err = w.prune(t, touched); err != nil {
		w.undo(s, 0)
		return err
	}
	if res.Written, err = w.place(s, t.toWrite, touched); err != nil {
		return err
	}
	w.restamp(s, t)
	if err := w.durableDirs(sortedKeys(touched)); err != nil {
		return err
	}
	if err := w.writeLedger(nextLedger(w.old, w.files, func(p string) bool { return w.scope != nil && !w.scope(p) })); err != nil {
		return err
	}
	// Every temporary file is renamed or removed. If this removal is
	// lost in a crash, the next Write merely looks for them again.
	if err := w.r.Remove(recordName); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return w.fail("remove", recordName, err)
	}
	return nil
}

// restamp takes again the stamps of the files renamed into place one by
// one: a rename changes a file's change time, which its stamp records. A
// file that cannot be looked at keeps no stamp, and is read next time.
// (Files of a fresh directory keep theirs: renaming a directory changes
// its own change time, not its files'.)
func (w *writer) restamp(s *staged, t *todo) {
	for i, f := range t.toWrite {
		if s.fresh[i] != "" {
			continue
		}
		if fi, err := w.r.Lstat(f.path); err == nil && fi.Mode().IsRegular() {
			t.stamps[f.path] = stampOf(fi, f.sum)
		} else {
			delete(t.stamps, f.path)
		}
	}
}

// stamps are the stamps of the planned files after a Write that did res:
// the stamps it was given when nothing moved and every file was vouched
// for by them (taking them anew would only make recent ones look racy
// again), else new ones.
func (w *writer) stamps(t *todo, res Result) *Stamps {
	ledgerSum := ""
	if w.cur != nil {
		ledgerSum = sum(w.cur)
	}
	k := w.known
	if k != nil && len(res.Written)+len(res.Removed) == 0 && t.vouched == len(k.Files) && t.vouched == len(w.files) && k.Ledger == ledgerSum {
		return k
	}
	return &Stamps{At: time.Now(), Files: t.stamps, Ledger: ledgerSum}
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
