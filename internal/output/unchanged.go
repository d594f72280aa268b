package output

import (
	"maps"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// Unchanged reports whether the tree under root is still as the Write
// that returned known left it, and changes nothing (it holds the lock
// file while it looks, as Write does): no Write is under way or
// unfinished, the ledger has the bytes it had, and every file that
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
	var reread []int
	for i := range paths {
		if racy[i] {
			reread = append(reread, i)
		}
	}
	if len(reread) == 0 {
		return known, true, nil
	}
	fresh := make([]Stamp, len(paths))
	for g := range n {
		wg.Go(func() {
			dirs := map[string]bool{} // directories seen to be no symlinks
			for j := g; j < len(reread) && !failed.Load(); j += n {
				p := paths[reread[j]]
				stamp, ok := w.reread(dirs, known.Files[p].Sum, p)
				if !ok {
					failed.Store(true)
					return
				}
				fresh[reread[j]] = stamp
			}
		})
	}
	wg.Wait()
	if failed.Load() {
		return nil, false, nil
	}
	files := maps.Clone(known.Files)
	for _, i := range reread {
		files[paths[i]] = fresh[i]
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
// stamp now. dirs holds the directories already seen to be directories.
func (w *writer) reread(dirs map[string]bool, want, p string) (Stamp, bool) {
	// Plain calls on joined paths, outermost directory first, so that a
	// symlink is seen before anything is looked up through it; through
	// the root each call walks the path one openat at a time (70 µs a
	// file here). Only reading follows, so a symlink swapped in meanwhile
	// could mislead the check, never a write.
	for _, d := range parents(p) {
		if dirs[d] {
			continue
		}
		fi, err := os.Lstat(filepath.Join(w.root, filepath.FromSlash(d)))
		if err != nil || !fi.IsDir() {
			return Stamp{}, false
		}
		dirs[d] = true
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
