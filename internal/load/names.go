package load

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
)

// ClusterNames lists the clusters of the platform that contains dir, sorted
// and each once, from the cluster files alone: each file of the clusters
// directory is parsed to tell a cluster file from a shared one, and nothing
// is loaded or evaluated. It is for shell completion, which must answer at
// once; a file that does not parse is left out.
func ClusterNames(dir string) ([]string, error) {
	root, err := FindRoot(dir)
	if err != nil {
		return nil, err
	}
	cdir := filepath.Join(root, ClustersDir)
	entries, err := os.ReadDir(cdir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", cdir, err)
	}
	var names []string
	for _, e := range entries {
		n := e.Name()
		if e.IsDir() || !compiled(n) {
			continue
		}
		path := filepath.Join(cdir, n)
		src, err := os.ReadFile(path)
		if err != nil {
			continue
		}
		if cf, ok, ds := parseClusterFile(path, src); ok && len(ds) == 0 {
			names = append(names, cf.Name)
		}
	}
	slices.Sort(names)
	return slices.Compact(names), nil
}
