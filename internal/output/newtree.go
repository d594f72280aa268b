package output

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/fleetc/fleetc/internal/render"
)

// NotEmptyError is returned by WriteNew for a directory that already holds
// something, Entries being the names in it, sorted; or for a file where
// the directory should be, with no Entries.
type NotEmptyError struct {
	Dir     string
	Entries []string
}

func (e *NotEmptyError) Error() string {
	if len(e.Entries) == 0 {
		return fmt.Sprintf("%s is a file, not a directory", e.Dir)
	}
	names := e.Entries
	more := ""
	if len(names) > 3 {
		names, more = names[:3], fmt.Sprintf(" and %d more", len(e.Entries)-3)
	}
	return fmt.Sprintf("directory %s is not empty (it holds %s%s)", e.Dir, strings.Join(names, ", "), more)
}

// gitDir is the one entry WriteNew accepts in its directory: a repository
// just made with `git init` (or `git init --separate-git-dir`, which makes
// .git a file), or cloned empty, is where a new platform repository
// usually goes.
const gitDir = ".git"

// WriteNew writes files, new source files that belong to the user once
// written, into dir, which must not exist or be empty but for a .git
// entry: otherwise it returns a *NotEmptyError and writes nothing.
// Each file is written as WriteSource writes it, atomically. If any write
// fails, WriteNew removes what it wrote (and dir and its parents, if it
// made them), so that a failed call leaves nothing behind. display is how
// errors name dir.
func WriteNew(dir, display string, files []render.File) (err error) {
	if fi, err := os.Stat(dir); err == nil && !fi.IsDir() {
		return &NotEmptyError{Dir: display}
	}
	entries, err := os.ReadDir(dir)
	made := "" // the outermost directory WriteNew made, if any
	switch {
	case errors.Is(err, fs.ErrNotExist):
		made = outermostMissing(dir)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			os.RemoveAll(made)
			return err
		}
	case err != nil:
		return err
	default:
		var names []string
		for _, e := range entries {
			if e.Name() != gitDir {
				names = append(names, e.Name())
			}
		}
		if len(names) > 0 {
			slices.Sort(names)
			return &NotEmptyError{Dir: display, Entries: names}
		}
	}

	// What WriteNew made, to remove on failure: the top-level entries
	// it created in dir, or the directories it made.
	var created []string
	defer func() {
		if err == nil {
			return
		}
		if made != "" {
			os.RemoveAll(made)
			return
		}
		for _, c := range created {
			os.RemoveAll(filepath.Join(dir, c))
		}
	}()
	for _, f := range files {
		rel := filepath.FromSlash(f.Path)
		top, _, _ := strings.Cut(f.Path, "/")
		if !filepath.IsLocal(rel) || top == gitDir {
			return fmt.Errorf("write %s: path %q is not one of a new repository's files", display, f.Path)
		}
		if !slices.Contains(created, top) {
			created = append(created, top)
		}
		target := filepath.Join(dir, rel)
		if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
			return err
		}
		if err := WriteSource(target, f.Data, false); err != nil {
			return err
		}
	}
	return nil
}

// outermostMissing is the outermost directory of dir's path that does
// not exist: the one that MkdirAll(dir) makes first.
func outermostMissing(dir string) string {
	dir = filepath.Clean(dir)
	for {
		parent := filepath.Dir(dir)
		if parent == dir {
			return dir
		}
		if _, err := os.Lstat(parent); err == nil {
			return dir
		}
		dir = parent
	}
}

// Leftovers are the names, as .gitignore patterns, of what a fleetc killed
// while it wrote may leave in a platform repository until the next write
// removes it: the lock and the record of temporaries at an output root,
// Write's temporaries and WriteSource's. The ledger is not among them: it
// is committed with the output.
func Leftovers() []string {
	return []string{lockName, recordName, tmpPrefix + "*", sourceTmpPattern}
}

// sourceTmpPattern matches the temporary files of WriteSource.
const sourceTmpPattern = ".fleetc-*.tmp"
