package output

import (
	"errors"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"runtime"
	"time"
)

// Unchanged reports whether the tree under root is still as the Write
// that returned known left it, and changes nothing (it holds the lock
// file while it looks, as Write does): no Write is under way or
// unfinished (there is no record of temporaries), the ledger has the
// bytes it had, and every file that known stamps is unchanged, by its stamp or, where the stamp is too
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
	if unfinished, err := w.exists(recordName); err != nil || unfinished {
		return nil, false, nil
	}
	if ledger, ok, err := w.ledgerBytes(); !ok || err != nil || sum(ledger) != known.Ledger {
		return nil, false, nil
	}

	paths := make([]string, 0, len(known.Files))
	for p := range known.Files {
		paths = append(paths, p)
	}
	// Files whose stamps vouch for them, on every core; the others (too
	// recent for their stamps) are read afterwards.
	racy := make([]bool, len(paths))
	if !onEveryCore(len(paths), func(i int) string { return "look at " + w.show(paths[i]) }, func(_, i int) bool {
		p := paths[i]
		if !filepath.IsLocal(filepath.FromSlash(p)) {
			return false
		}
		t, trusted := known.trusted(p, known.Files[p].Sum)
		racy[i] = !trusted
		return !trusted || w.holds(p, t)
	}) {
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
	dirs := make([]map[string]bool, runtime.GOMAXPROCS(0)) // per worker: directories seen to be no symlinks
	if !onEveryCore(len(reread), func(j int) string { return "read " + w.show(paths[reread[j]]) }, func(worker, j int) bool {
		if dirs[worker] == nil {
			dirs[worker] = map[string]bool{}
		}
		i := reread[j]
		var ok bool
		fresh[i], ok = w.reread(dirs[worker], known.Files[paths[i]].Sum, paths[i])
		return ok
	}) {
		return nil, false, nil
	}
	files := maps.Clone(known.Files)
	for _, i := range reread {
		files[paths[i]] = fresh[i]
	}
	return &Stamps{At: time.Now(), Files: files, Ledger: known.Ledger}, true, nil
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
