package load

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/fleetc/fleetc/internal/diag"
)

// With returns a copy of p in which the files at paths (absolute, in the
// clusters directory) are read again, from overlay or else from disk, and
// the other cluster files are as p has them: for an editor that checks
// the cluster files it changed without reading the rest of the fleet.
// names are the clusters the files declare. ok is false when a file
// needs a whole Load to be read right: it is no cluster file now (shared,
// or gone), or its cluster is in another file too. What is wrong with a
// file itself (syntax, layout) comes back as a diag.List.
func (p *Platform) With(overlay map[string][]byte, paths []string) (q *Platform, names []string, ok bool, err error) {
	byPath := map[string]int{}
	for i, cf := range p.Clusters {
		byPath[cf.Path] = i
	}
	q = &Platform{Root: p.Root, Shared: p.Shared, Clusters: slices.Clone(p.Clusters), sharedFiles: p.sharedFiles, overlay: p.overlay, inputs: p.inputs, dirs: p.dirs}
	var ds diag.List
	for _, path := range paths {
		if !inClusters(p.Root, path) {
			return nil, nil, false, nil
		}
		src, err := readSource(path, overlay)
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil, false, nil
		} else if err != nil {
			return nil, nil, false, fmt.Errorf("read %s: %w", path, err)
		}
		cf, isCluster, fds := parseClusterFile(path, src)
		if len(fds) > 0 {
			ds = append(ds, fds...)
			continue
		}
		if !isCluster {
			return nil, nil, false, nil
		}
		cf.Problems = fileProblems(cf)
		if i, ok := byPath[path]; ok {
			q.Clusters[i] = cf
		} else {
			byPath[path] = len(q.Clusters)
			q.Clusters = append(q.Clusters, cf)
		}
		names = append(names, cf.Name)
	}
	if len(ds) > 0 {
		return nil, nil, true, ds.Sorted()
	}
	seen := make(map[string]bool, len(q.Clusters))
	for _, cf := range q.Clusters {
		if seen[cf.Name] {
			return nil, nil, false, nil // Load says where both are
		}
		seen[cf.Name] = true
	}
	slices.SortFunc(q.Clusters, func(a, b *ClusterFile) int { return strings.Compare(a.Name, b.Name) })
	return q, names, true, nil
}

// SharedChanged reports whether any file the shared instance of p is made
// of (the module file, the shared files, the packages they import) now
// holds other bytes, in overlay or else on disk, than p loaded, or a
// shared file is gone: then a platform loaded before no longer gives the
// cluster files their meaning. New files are not looked for; a Load
// finds them.
func (p *Platform) SharedChanged(overlay map[string][]byte) bool {
	for _, name := range p.inputs {
		src, err := readSource(name, overlay)
		if err != nil {
			return true
		}
		if !bytes.Equal(src, p.overlay[name]) {
			return true
		}
	}
	// An overlay may add a file to a package the shared instance is
	// made of.
	for name := range overlay {
		if _, ok := p.overlay[name]; ok || !strings.HasSuffix(name, ".cue") {
			continue
		}
		if dir := filepath.Dir(name); dir != filepath.Join(p.Root, ClustersDir) && slices.Contains(p.dirs, dir) {
			return true
		}
	}
	return false
}

// ClusterOf reads one file as Load reads the files of the clusters
// directory under root: the cluster it declares, or "" when it is no
// cluster file (a shared file, a file elsewhere, one that is gone), and
// what is wrong with it, such as its syntax. It reads src, or the file
// on disk when src is nil.
func ClusterOf(root, path string, src []byte) (string, diag.List) {
	if !inClusters(root, path) {
		return "", nil
	}
	if src == nil {
		var err error
		if src, err = os.ReadFile(path); err != nil {
			return "", nil
		}
	}
	cf, isCluster, ds := parseClusterFile(path, src)
	if len(ds) > 0 || !isCluster {
		return "", ds
	}
	return cf.Name, nil
}
