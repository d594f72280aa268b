package output

import (
	"errors"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sync/atomic"
	"time"
)

// Unchanged reports whether the tree under root is still as the Write
// that returned known left it, and changes nothing (it holds the lock
// file while it looks, as Write does): no Write is under way or
// unfinished (there is no record of temporaries), the ledger has the
// bytes it had, and every file that known stamps is unchanged, by its
// stamp or, where the stamp is too recent to vouch for it, by its bytes. A caller that would plan exactly
// the files of that Write (the same inputs) has then nothing to do.
//
// It also returns the stamps to keep: known, or new ones when files had
// to be read. Another Write under way is a *LockedError; anything else
// that stops the check (a missing root, a file gone) is simply a false.
func Unchanged(root string, known *Stamps, display string) (*Stamps, bool, error) {
	if known == nil || known.Ledger == "" || len(known.Files) == 0 {
		return nil, false, nil
	}
	r, err := os.OpenRoot(root)
	if err != nil {
		return nil, false, nil
	}
	defer r.Close()
	w := newWriter(root, Plan{Display: display}, nil)
	w.r = r
	unlock, err := lock(r, w.show(lockName))
	if err != nil {
		return nil, false, err
	}
	defer unlock()
	if _, err := r.Lstat(recordName); !errors.Is(err, fs.ErrNotExist) {
		return nil, false, nil // a Write is unfinished, or the root cannot be read
	}
	if ledger, ok, err := w.ledgerBytes(); !ok || err != nil || sum(ledger) != known.Ledger {
		return nil, false, nil
	}
	paths := slices.Collect(maps.Keys(known.Files))
	fresh := make([]Stamp, len(paths)) // of the files read
	var read atomic.Bool
	dirs := make([]map[string]bool, runtime.GOMAXPROCS(0)) // per worker: directories seen to be no symlinks
	if !onEveryCore(len(paths), func(i int) string { return "look at " + w.show(paths[i]) }, func(g, i int) bool {
		p, ok := paths[i], false
		if !filepath.IsLocal(filepath.FromSlash(p)) {
			return false
		}
		if dirs[g] == nil {
			dirs[g] = map[string]bool{}
		}
		if t, trusted := known.trusted(p, known.Files[p].Sum); trusted {
			return w.holds(dirs[g], p, t)
		}
		read.Store(true)
		fresh[i], ok = w.reread(dirs[g], known.Files[p].Sum, p)
		return ok
	}) {
		return nil, false, nil
	}
	if !read.Load() {
		return known, true, nil
	}
	files := maps.Clone(known.Files)
	for i, p := range paths {
		if fresh[i] != (Stamp{}) {
			files[p] = fresh[i]
		}
	}
	return &Stamps{At: time.Now(), Files: files, Ledger: known.Ledger}, true, nil
}

// reread checks by its bytes a file whose stamp is too recent to vouch
// for it, as Write's inspect would (no symlink above it), and returns its
// stamp now. dirs holds the directories already seen to be directories.
func (w *writer) reread(dirs map[string]bool, want, p string) (Stamp, bool) {
	if !w.dirsPlain(dirs, p) {
		return Stamp{}, false
	}
	name := filepath.Join(w.root, filepath.FromSlash(p))
	fi, err := os.Lstat(name)
	if err != nil || !fi.Mode().IsRegular() {
		return Stamp{}, false
	}
	data, err := os.ReadFile(name)
	if err != nil || sum(data) != want {
		return Stamp{}, false
	}
	return stampOf(fi, want), true
}

// dirsPlain reports whether every directory above p is a directory, no
// symlink, remembering in seen those it found so. Plain calls on joined
// paths, outermost directory first, so that a symlink is seen before
// anything is looked up through it; through the root each call walks the
// path one openat at a time (70 µs a file here). Only reading follows, so
// a symlink swapped in meanwhile could mislead a check, never a write.
func (w *writer) dirsPlain(seen map[string]bool, p string) bool {
	for _, d := range parents(p) {
		if seen[d] {
			continue
		}
		fi, err := os.Lstat(filepath.Join(w.root, filepath.FromSlash(d)))
		if err != nil || !fi.IsDir() {
			return false
		}
		seen[d] = true
	}
	return true
}
