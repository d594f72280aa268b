package output

import (
	"errors"
	"fmt"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"unicode/utf8"
)

// tmpPrefix starts the name of every temporary file and directory Write
// creates, so that a person who sees one knows what it is. The name alone
// does not make a file fleetc's: only the record of temporaries does (see
// recordName), so a file of the user's named like one is left alone.
const tmpPrefix = ".fleetc-tmp-"

// maxNameBytes is the longest file name ext4, XFS, btrfs, APFS and most
// others allow.
const maxNameBytes = 255

// checkPath reports why p cannot be an output path, or nil if it can.
// The ledger uses the same rules, so every owned path is also a valid one.
func checkPath(p string) error {
	switch {
	case p == "":
		return errors.New("path is empty")
	case p == ".":
		return errors.New("path names the output root itself")
	case strings.IndexByte(p, 0) >= 0:
		return errors.New("path contains a NUL byte")
	case strings.IndexByte(p, '\\') >= 0:
		return errors.New(`path contains a backslash; use "/" to separate directories`)
	case strings.IndexFunc(p, isControl) >= 0:
		return errors.New("path contains a control character")
	case !utf8.ValidString(p):
		return errors.New("path is not valid UTF-8")
	case strings.HasPrefix(p, "/"):
		return errors.New("path is absolute; want a path relative to the output root")
	}
	for elem := range strings.SplitSeq(p, "/") {
		if elem == ".." {
			return errors.New(`path contains a ".." element`)
		}
		if len(elem) > maxNameBytes {
			return fmt.Errorf("path has an element of %d bytes; file systems allow %d", len(elem), maxNameBytes)
		}
	}
	if c := path.Clean(p); c != p {
		return fmt.Errorf("path is not clean (want %q)", c)
	}
	if !filepath.IsLocal(filepath.FromSlash(p)) {
		// Only reachable on Windows: drive letters, reserved names, ...
		return errors.New("path is not local to the output root on this system")
	}
	// Nor below them: a planned directory there would stand where the
	// ledger, the lock file or the record of temporaries has to be.
	if first, _, _ := strings.Cut(p, "/"); first == LedgerName || first == lockName || first == recordName {
		return errors.New("path is reserved for fleetc's own bookkeeping")
	}
	return nil
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f }

// planned is one validated file of a Plan.
type planned struct {
	path string
	data []byte
	sum  string
}

// checkPlan validates every path of p without touching the disk and
// returns the files sorted by path. Tens of thousands of them for a large
// fleet, so the paths are checked and summed on every core, and checked
// against each other in sorted order rather than through a set.
func checkPlan(p Plan) ([]planned, error) {
	files := make([]planned, len(p.Files))
	for i, f := range p.Files {
		files[i] = planned{path: f.Path, data: f.Data}
	}
	check := func(i int) error {
		f := &files[i]
		if err := checkPath(f.path); err != nil {
			return fmt.Errorf("invalid output path %q: %w", f.path, err)
		}
		if p.Scope != nil && !p.Scope(f.path) {
			return fmt.Errorf("invalid output path %q: outside the plan's scope", f.path)
		}
		f.sum = sum(f.data)
		return nil
	}
	if !onEveryCore(len(files), func(i int) string { return "check output path " + files[i].path }, func(_, i int) bool { return check(i) == nil }) {
		// The first error in the plan's order, whichever core saw one.
		for i := range files {
			if err := check(i); err != nil {
				return nil, err
			}
		}
	}
	byPath := func(a, b planned) int { return strings.Compare(a.path, b.path) }
	if !slices.IsSortedFunc(files, byPath) {
		slices.SortFunc(files, byPath)
	}
	for i := 1; i < len(files); i++ {
		if files[i].path == files[i-1].path {
			return nil, fmt.Errorf("invalid output path %q: planned more than once", files[i].path)
		}
	}
	for i := range files {
		if k, ok := dirOfPlanned(files, i); ok {
			return nil, fmt.Errorf("invalid output path %q: it is also a directory of planned file %q", files[i].path, files[k].path)
		}
	}
	return files, nil
}

// dirOfPlanned reports whether the path of files[i] is also a directory
// of another planned file, and which, in files sorted by path without
// duplicates: the paths below it come after it, past only those that
// continue it with a byte that sorts before '/'.
func dirOfPlanned(files []planned, i int) (int, bool) {
	dir := files[i].path
	for k := i + 1; k < len(files); k++ {
		q := files[k].path
		if !strings.HasPrefix(q, dir) {
			return 0, false
		}
		switch c := q[len(dir)]; {
		case c == '/':
			return k, true
		case c > '/':
			return 0, false
		}
	}
	return 0, false
}

// parents returns the proper ancestor directories of the clean relative
// slash path p, outermost first: "a/b/c" gives ["a", "a/b"].
func parents(p string) []string {
	var dirs []string
	for i := 0; i < len(p); i++ {
		if p[i] == '/' {
			dirs = append(dirs, p[:i])
		}
	}
	return dirs
}

func sortedKeys(m map[string]bool) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
