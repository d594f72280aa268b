package main

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/rogpeppe/go-internal/testscript"
)

// treeCmd implements `tree DIR`: every entry below DIR, one a line in
// path order, with its type and permissions and, for a file, the SHA-256
// of its content; or "missing". Equal listings mean trees equal byte for
// byte and mode for mode, without the timestamps that a failed run may
// change. With -match PATTERN, only the entries with a path element that
// matches PATTERN (path.Match), and what is below them.
func treeCmd(ts *testscript.TestScript, neg bool, args []string) {
	var pattern string
	if len(args) == 3 && args[0] == "-match" {
		pattern, args = args[1], args[2:]
	}
	if neg || len(args) != 1 {
		ts.Fatalf("usage: tree [-match PATTERN] DIR")
	}
	root := ts.MkAbs(args[0])
	if _, err := os.Lstat(root); errors.Is(err, fs.ErrNotExist) {
		fmt.Fprintln(ts.Stdout(), "missing")
		return
	}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		rel = filepath.ToSlash(rel)
		if pattern != "" && !matchesElem(pattern, rel) {
			return nil
		}
		line := fmt.Sprintf("%s %v", rel, fi.Mode())
		switch {
		case fi.Mode().IsRegular():
			data, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			line += fmt.Sprintf(" %x", sha256.Sum256(data))
		case fi.Mode()&fs.ModeSymlink != 0:
			target, _ := os.Readlink(path)
			line += " -> " + target
		}
		fmt.Fprintln(ts.Stdout(), line)
		return nil
	})
	ts.Check(err)
}

// matchesElem reports whether an element of the slash path rel matches
// pattern.
func matchesElem(pattern, rel string) bool {
	for _, e := range strings.Split(rel, "/") {
		if ok, _ := path.Match(pattern, e); ok {
			return true
		}
	}
	return false
}
