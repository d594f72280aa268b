package output

import (
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
	ledger, err := r.ReadFile(LedgerName)
	if err != nil || sum(ledger) != known.Ledger {
		return nil, false, nil
	}

	paths := make([]string, 0, len(known.Files))
	for p := range known.Files {
		paths = append(paths, p)
	}
	fresh := make([]Stamp, len(paths)) // set where a file had to be read
	var failed, reread atomic.Bool
	var wg sync.WaitGroup
	n := runtime.GOMAXPROCS(0)
	for g := range n {
		wg.Go(func() {
			for i := g; i < len(paths) && !failed.Load(); i += n {
				st, read, ok := w.unchanged(known, paths[i])
				if !ok {
					failed.Store(true)
					return
				}
				if read {
					fresh[i] = st
					reread.Store(true)
				}
			}
		})
	}
	wg.Wait()
	if failed.Load() {
		return nil, false, nil
	}
	if !reread.Load() {
		return known, true, nil
	}
	files := make(map[string]Stamp, len(paths))
	for i, p := range paths {
		if fresh[i].Sum != "" {
			files[p] = fresh[i]
		} else {
			files[p] = known.Files[p]
		}
	}
	return &Stamps{At: time.Now(), Files: files, Ledger: known.Ledger}, true, nil
}

// unchanged checks one stamped file: by its stamp when known can vouch
// for it, else by reading it, in which case it returns its new stamp and
// read set.
func (w *writer) unchanged(known *Stamps, p string) (st Stamp, read, ok bool) {
	k := known.Files[p]
	if !filepath.IsLocal(filepath.FromSlash(p)) {
		return Stamp{}, false, false
	}
	// A plain lstat, as in vouched: nothing is written here, so a
	// symlinked parent cannot lead anywhere.
	fi, err := os.Lstat(filepath.Join(w.root, filepath.FromSlash(p)))
	if err != nil || !fi.Mode().IsRegular() {
		return Stamp{}, false, false
	}
	if t, ok := known.trusted(p, k.Sum); ok {
		return Stamp{}, false, stampOf(fi, k.Sum) == t
	}
	data, err := w.r.ReadFile(p)
	if err != nil || sum(data) != k.Sum {
		return Stamp{}, false, false
	}
	return stampOf(fi, k.Sum), true, true
}
