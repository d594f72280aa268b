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
	"path"
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
