package output

import (
	"errors"
	"fmt"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"unicode/utf8"
)

// tmpPrefix starts the name of every temporary file Write creates. Files
// with this prefix are fleetc's by name: Write removes leftovers of a killed
// run, so planned paths may not use the prefix in any element.
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
	// ledger or the lock file has to be.
	if first, _, _ := strings.Cut(p, "/"); first == LedgerName || first == lockName {
		return errors.New("path is reserved for fleetc's own bookkeeping")
	}
	for elem := range strings.SplitSeq(p, "/") {
		if strings.HasPrefix(elem, tmpPrefix) {
			return fmt.Errorf("path element %q uses the prefix %q reserved for fleetc's temporary files", elem, tmpPrefix)
		}
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
// returns the files sorted by path.
func checkPlan(p Plan) ([]planned, error) {
	files := make([]planned, 0, len(p.Files))
	seen := make(map[string]bool, len(p.Files))
	for _, f := range p.Files {
		if err := checkPath(f.Path); err != nil {
			return nil, fmt.Errorf("invalid output path %q: %w", f.Path, err)
		}
		if seen[f.Path] {
			return nil, fmt.Errorf("invalid output path %q: planned more than once", f.Path)
		}
		if p.Scope != nil && !p.Scope(f.Path) {
			return nil, fmt.Errorf("invalid output path %q: outside the plan's scope", f.Path)
		}
		seen[f.Path] = true
		files = append(files, planned{path: f.Path, data: f.Data})
	}
	// Checksums of every planned file: tens of megabytes for a large
	// fleet, so on every core.
	onEveryCore(len(files), func(_, i int) bool {
		files[i].sum = sum(files[i].data)
		return true
	})
	slices.SortFunc(files, func(a, b planned) int { return strings.Compare(a.path, b.path) })
	for _, f := range files {
		for _, dir := range parents(f.path) {
			if seen[dir] {
				return nil, fmt.Errorf("invalid output path %q: it is also a directory of planned file %q", dir, f.path)
			}
		}
	}
	return files, nil
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
