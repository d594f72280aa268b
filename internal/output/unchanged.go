package output

import (
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// Unchanged reports whether the tree under root is still as the Write
// that returned known left it, and writes nothing: no Write is under way
// or unfinished, the ledger has the bytes it had, and every file that
// known stamps is unchanged, by its stamp or, where the stamp is too
// recent to vouch for it, by its bytes. A caller that would plan exactly
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
	w := &writer{root: root, display: display, r: r}
	if w.display == "" {
		w.display = root
	}
	unlock, err := lock(r, w.show(lockName))
	if err != nil {
		return nil, false, err
	}
	defer unlock()
	if staging, err := w.exists(stagingName); err != nil || staging {
		return nil, false, nil
	}
	// As readLedger: the ledger itself, not what a symlink points to.
	if fi, err := r.Lstat(LedgerName); err != nil || !fi.Mode().IsRegular() {
		return nil, false, nil
	}
	ledger, err := r.ReadFile(LedgerName)
	if err != nil || sum(ledger) != known.Ledger {
		return nil, false, nil
	}

	paths := make([]string, 0, len(known.Files))
	for p := range known.Files {
		paths = append(paths, p)
	}
	// Files whose stamps vouch for them, on every core; the others (too
	// recent for their stamps) are read afterwards.
	racy := make([]bool, len(paths))
	var failed atomic.Bool
	var wg sync.WaitGroup
	n := runtime.GOMAXPROCS(0)
	for g := range n {
		wg.Go(func() {
			for i := g; i < len(paths) && !failed.Load(); i += n {
				vouched, ok := w.stamped(known, paths[i])
				if !ok {
					failed.Store(true)
					return
				}
				racy[i] = !vouched
			}
		})
	}
	wg.Wait()
	if failed.Load() {
		return nil, false, nil
	}
	var files map[string]Stamp
	st := &statCache{r: r, show: w.show, info: make(map[string]fs.FileInfo)}
	for i, p := range paths {
		if !racy[i] {
			continue
		}
		fresh, ok := w.reread(st, known.Files[p].Sum, p)
		if !ok {
			return nil, false, nil
		}
		if files == nil {
			files = maps.Clone(known.Files)
		}
		files[p] = fresh
	}
	if files == nil {
		return known, true, nil
	}
	return &Stamps{At: time.Now(), Files: files, Ledger: known.Ledger}, true, nil
}

// stamped checks one stamped file by lstat: ok is false if it is not the
// regular file its stamp says, vouched false if the stamp is too recent
// to vouch for it.
func (w *writer) stamped(known *Stamps, p string) (vouched, ok bool) {
	k := known.Files[p]
	if !filepath.IsLocal(filepath.FromSlash(p)) {
		return false, false
	}
	// A plain lstat, as in vouched: nothing is written here, so a
	// symlinked parent cannot lead anywhere.
	fi, err := os.Lstat(filepath.Join(w.root, filepath.FromSlash(p)))
	if err != nil || !fi.Mode().IsRegular() {
		return false, false
	}
	t, trusted := known.trusted(p, k.Sum)
	if !trusted {
		return false, true
	}
	return true, stampOf(fi, k.Sum) == t
}

// reread checks by its bytes a file whose stamp is too recent to vouch
// for it, as Write's inspect would (no symlink above it), and returns its
// stamp now.
func (w *writer) reread(st *statCache, want, p string) (Stamp, bool) {
	if _, absent, err := st.parentState(p); err != nil || absent {
		return Stamp{}, false
	}
	fi, err := w.r.Lstat(p)
	if err != nil || !fi.Mode().IsRegular() {
		return Stamp{}, false
	}
	data, err := w.r.ReadFile(p)
	if err != nil || sum(data) != want {
		return Stamp{}, false
	}
	return stampOf(fi, want), true
}
