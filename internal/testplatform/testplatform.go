// Package testplatform gives tests the repository's reference platform and
// a way to read output trees, so that every test starts from the real
// thing rather than its own copy of it.
package testplatform

import (
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
)

// Dirs are the parts of the repository that make up the reference
// platform: what `fleetc compile` reads.
var Dirs = []string{"cue.mod", "defs", "clusters", "argocd"}

// Repo returns the repository's root directory.
func Repo() string {
	_, self, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(self), "..", "..")
}

// Copy copies the reference platform into dir.
func Copy(dir string) error {
	repo := Repo()
	for _, sub := range Dirs {
		src := filepath.Join(repo, sub)
		if _, err := os.Stat(src); os.IsNotExist(err) {
			continue
		}
		err := filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			rel, err := filepath.Rel(repo, path)
			if err != nil {
				return err
			}
			target := filepath.Join(dir, rel)
			if d.IsDir() {
				return os.MkdirAll(target, 0o755)
			}
			data, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			return os.WriteFile(target, data, 0o644)
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// ReadTree returns every regular file below root by slash-separated path
// relative to root.
func ReadTree(root string) (map[string][]byte, error) {
	files := map[string][]byte{}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, path)
		files[filepath.ToSlash(rel)] = data
		return err
	})
	return files, err
}
