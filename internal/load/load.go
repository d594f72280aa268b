// Package load finds a fleetc platform on disk and reads it: the CUE module
// root, the shared files of the clusters package, and one parsed file per
// cluster. It is the only package that imports cue/load.
package load

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"io/fs"
	"iter"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"cuelang.org/go/cue/ast"
	"cuelang.org/go/cue/build"
	cueerrors "cuelang.org/go/cue/errors"
	cueload "cuelang.org/go/cue/load"
	"cuelang.org/go/cue/parser"
	"cuelang.org/go/cue/token"

	"github.com/fleetc/fleetc/internal/diag"
	"github.com/fleetc/fleetc/internal/fan"
)

// The layout of a platform module.
const (
	// ModuleFile marks the root of a CUE module.
	ModuleFile = "cue.mod/module.cue"
	// ClustersDir holds the clusters package: one file per cluster plus the
	// shared files that apply the platform to each of them.
	ClustersDir = "clusters"
	// ClustersField is the top-level field of the clusters package that
	// every cluster file adds its cluster to.
	ClustersField = "clusters"
)

// Platform is a platform module as read from disk.
type Platform struct {
	// Root is the absolute path of the module root.
	Root string
	// Shared is the clusters package without its cluster files: what
	// every cluster is unified with. Its imports (the defs package) are
	// loaded and resolved. Building an instance mutates it, so each
	// evaluator that runs concurrently with others loads its own copy
	// with LoadShared.
	Shared *build.Instance
	// Clusters are the cluster files, sorted by cluster name.
	Clusters []*ClusterFile

	sharedFiles []string
	overlay     map[string][]byte
	// inputs are the files the shared instance is made of, and dirs the
	// directories of its packages in the module, as loaded (SharedChanged
	// reads them while evaluators build the instance).
	inputs, dirs []string
}

// ClusterFile is one file of the clusters package that defines one cluster.
type ClusterFile struct {
	// Name is the cluster's name, the key under `clusters:`.
	Name string
	// Path is the file's absolute path.
	Path string
	// Pos is the position of the cluster's name in the file.
	Pos token.Pos
	// Syntax is the parsed file.
	Syntax *ast.File
	// Digest is the SHA-256 of the file's bytes.
	Digest [sha256.Size]byte
	// Problems are what is wrong with the file that does not stop its
	// cluster from being evaluated, such as a file named after another
	// cluster: compile reports them with the cluster's other errors, so
	// that one does not hide the others.
	Problems diag.List
}

// Config says where to find the platform.
type Config struct {
	// Dir is the directory to start from; the module root is Dir or its
	// nearest ancestor with cue.mod/module.cue.
	Dir string
	// Overlay maps absolute file paths to contents that replace what is on
	// disk, for editors with unsaved buffers.
	Overlay map[string][]byte
	// AllowEmpty accepts a clusters package without any cluster, for
	// commands that add the first ones (import).
	AllowEmpty bool
	// Reuse is a platform loaded before from the same directory (by an
	// editor's session): a cluster file whose bytes are those Reuse
	// parsed is not parsed again.
	Reuse *Platform
}

// FindRoot returns the nearest directory at or above dir that holds a CUE
// module.
func FindRoot(dir string) (string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	// A directory that is not there is a typo, not a platform without a
	// module: say so rather than look above it.
	if fi, err := os.Stat(abs); errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("%s: no such directory", abs)
	} else if err != nil {
		return "", err
	} else if !fi.IsDir() {
		return "", fmt.Errorf("%s is not a directory", abs)
	}
	for d := abs; ; {
		if _, err := os.Stat(filepath.Join(d, ModuleFile)); err == nil {
			return d, nil
		}
		parent := filepath.Dir(d)
		if parent == d {
			return "", fmt.Errorf("no CUE module in %s or any parent directory: a fleetc platform has %s at its root", abs, ModuleFile)
		}
		d = parent
	}
}

// Load reads the platform that contains cfg.Dir. Problems with the files
// themselves (syntax, layout, duplicate clusters) come back as a diag.List;
// other errors are plain.
func Load(cfg Config) (*Platform, error) {
	root, err := FindRoot(cfg.Dir)
	if err != nil {
		return nil, err
	}
	paths, diags, err := clusterSources(root, cfg.Overlay)
	if err != nil {
		return nil, err
	}
	sources, err := parseSources(root, paths, cfg)
	if err != nil {
		return nil, err
	}
	p := &Platform{Root: root}
	ds, sharedSrc := p.add(sources)
	diags = append(diags, ds...)
	for _, cf := range p.Clusters {
		cf.Problems = fileProblems(cf)
	}
	dir := filepath.Join(root, ClustersDir)
	if len(p.Clusters) == 0 && len(diags) == 0 && !cfg.AllowEmpty {
		return nil, fmt.Errorf("%s defines no cluster: add one file per cluster, such as clusters/<name>.cue with `clusters: \"<name>\": {...}`", dir)
	}
	if len(p.sharedFiles) == 0 && len(diags) == 0 {
		return nil, fmt.Errorf("%s has no shared file: one file of the clusters package must apply the platform to %s (see clusters/platform.cue in the fleetc repository)", dir, ClustersField)
	}
	if len(diags) > 0 {
		// The platform does not load: say everything found so far.
		for _, cf := range p.Clusters {
			diags = append(diags, cf.Problems...)
		}
		return nil, diags.Sorted()
	}
	slices.SortFunc(p.Clusters, func(a, b *ClusterFile) int { return strings.Compare(a.Name, b.Name) })
	if err := p.pinShared(cfg.Overlay, sharedSrc); err != nil {
		return nil, err
	}
	return p, nil
}

// clusterSources are the paths of the clusters package's files under
// root, in name order, an editor's new file included before it is saved.
// A CUE file that the package leaves out is an error, as its cluster would
// silently lose its registration and values: one in a subdirectory
// (nestedFiles), or a name starting with "_" or ".", or an extension in
// other case than .cue (leftOut).
func clusterSources(root string, overlay map[string][]byte) ([]string, diag.List, error) {
	dir := filepath.Join(root, ClustersDir)
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil, fmt.Errorf("no %s directory in %s: a fleetc platform keeps one file per cluster there", ClustersDir, root)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("read %s: %w", dir, err)
	}
	diags, err := nestedFiles(dir, entries, overlay)
	if err != nil {
		return nil, nil, err
	}
	var names, paths []string
	listed := make(map[string]bool, len(entries))
	for _, e := range entries {
		if !e.IsDir() && !linkedDir(dir, e) {
			names = append(names, e.Name())
			listed[e.Name()] = true
		}
	}
	// An overlay may hold every file (diff --base loads the clusters
	// package at a ref from memory), not an editor's few.
	for path := range overlay {
		if name := filepath.Base(path); filepath.Dir(path) == dir && !listed[name] {
			names = append(names, name)
			listed[name] = true
		}
	}
	slices.Sort(names)
	for _, name := range names {
		switch path := filepath.Join(dir, name); {
		case compiled(name):
			paths = append(paths, path)
		case isCUE(name):
			diags = append(diags, leftOut(dir, path, overlay))
		}
	}
	return paths, diags, nil
}

// parsed is one file of the clusters package as parseSources found it.
type parsed struct {
	path      string
	cf        *ClusterFile
	isCluster bool
	src       []byte // a shared file's bytes, for pinShared
	diags     diag.List
	err       error
}

// parseSources reads and parses the files at paths on every core, as a
// fleet has thousands; a cluster file whose bytes cfg.Reuse parsed is not
// parsed again. The first file that cannot be read is the error. A panic
// (of the parser, say) is raised again in the caller, naming the file.
func parseSources(root string, paths []string, cfg Config) ([]parsed, error) {
	reuse := map[string]*ClusterFile{}
	if cfg.Reuse != nil && cfg.Reuse.Root == root {
		for _, cf := range cfg.Reuse.Clusters {
			reuse[cf.Path] = cf
		}
	}
	all := make([]parsed, len(paths))
	fan.Each(len(paths), 0, func(i int) string { return "parse " + paths[i] }, func(i int) {
		s := &all[i]
		s.path = paths[i]
		src, err := readSource(s.path, cfg.Overlay)
		if err != nil {
			s.err = fmt.Errorf("read %s: %w", s.path, err)
			return
		}
		if prev := reuse[s.path]; prev != nil && prev.Digest == sha256.Sum256(src) {
			// The syntax tree is shared. Evaluating it writes only what
			// parsing resolved already; the caller keeps two
			// evaluations of it from overlapping.
			cf := *prev
			s.cf, s.isCluster = &cf, true
			return
		}
		s.cf, s.isCluster, s.diags = parseClusterFile(s.path, src)
		if !s.isCluster {
			s.src = src
		}
	})
	for _, s := range all {
		if s.err != nil {
			return nil, s.err
		}
	}
	return all, nil
}

// add takes the parsed sources in, in name order, a cluster file into
// p.Clusters and any other into p's shared files, whose bytes it returns;
// a file with problems goes nowhere. Two files that define the same
// cluster are both at fault.
func (p *Platform) add(sources []parsed) (diag.List, map[string][]byte) {
	var diags diag.List
	sharedSrc := map[string][]byte{}
	byName := map[string]*ClusterFile{}
	for _, s := range sources {
		diags = append(diags, s.diags...)
		switch cf := s.cf; {
		case len(s.diags) > 0:
		case !s.isCluster:
			p.sharedFiles = append(p.sharedFiles, s.path)
			sharedSrc[s.path] = s.src
		case byName[cf.Name] != nil:
			// Name the other file relative to the module, so that the
			// message reads the same on every machine.
			for _, pair := range [][2]*ClusterFile{{cf, byName[cf.Name]}, {byName[cf.Name], cf}} {
				other := pair[1].Pos.Position()
				rel, _ := filepath.Rel(p.Root, other.Filename)
				diags = append(diags, diag.Errorf(pair[0].Pos, cf.Name, "cluster %q is defined twice: here and in %s:%d:%d", cf.Name, filepath.ToSlash(rel), other.Line, other.Column))
			}
		default:
			byName[cf.Name] = cf
			p.Clusters = append(p.Clusters, cf)
		}
	}
	return diags, sharedSrc
}

// nestedFiles reports every CUE file in a subdirectory of the clusters
// directory dir, at any depth, on disk or in the editor's overlay: the
// clusters package is the files of dir alone, so fleetc would never
// compile such a file, and a cluster file moved into a subdirectory would
// silently lose its registration and values. No subdirectory is left out,
// whatever its name ("_old", ".old", testdata, another module), and a
// symbolic link to a directory is followed (each directory once), so
// that every CUE file under dir is accounted for. Other files may stay.
// entries are dir's, as the caller read them.
func nestedFiles(dir string, entries []fs.DirEntry, overlay map[string][]byte) (diag.List, error) {
	var paths []string
	seen := map[string]bool{RealPath(dir): true}
	var walk func(d string, entries []fs.DirEntry, top bool) error
	walk = func(d string, entries []fs.DirEntry, top bool) error {
		for _, e := range entries {
			path := filepath.Join(d, e.Name())
			if e.IsDir() || linkedDir(d, e) {
				if real := RealPath(path); !seen[real] {
					seen[real] = true
					sub, err := os.ReadDir(path)
					if err != nil {
						return fmt.Errorf("read %s: %w", path, err)
					}
					if err := walk(path, sub, false); err != nil {
						return err
					}
				}
				continue
			}
			if !top && isCUE(e.Name()) {
				paths = append(paths, path)
			}
		}
		return nil
	}
	if err := walk(dir, entries, true); err != nil {
		return nil, err
	}
	for path := range overlay {
		rel, err := filepath.Rel(dir, path)
		if err != nil || !strings.Contains(filepath.ToSlash(rel), "/") || !filepath.IsLocal(rel) ||
			!isCUE(path) || slices.Contains(paths, path) {
			continue
		}
		paths = append(paths, path)
	}
	slices.Sort(paths)
	var ds diag.List
	for _, path := range paths {
		ds = append(ds, leftOut(dir, path, overlay))
	}
	return ds, nil
}

// linkedDir reports whether the entry e of directory dir is a symbolic
// link to a directory.
func linkedDir(dir string, e fs.DirEntry) bool {
	if e.Type()&fs.ModeSymlink == 0 {
		return false
	}
	fi, err := os.Stat(filepath.Join(dir, e.Name()))
	return err == nil && fi.IsDir()
}

// isCUE reports whether a file of this name is CUE, in any case of its
// extension (x.CUE is one the cue tool skips).
func isCUE(name string) bool {
	return strings.HasSuffix(strings.ToLower(name), ".cue")
}

// compiled reports whether a file of this name in the clusters directory
// is part of the clusters package: the cue tool and fleetc read files
// ending in .cue (lower case) whose names do not start with "." or "_".
func compiled(name string) bool {
	return strings.HasSuffix(name, ".cue") && !cueSkips(name)
}

// readSource is what the file at path holds for fleetc: the editor's buffer
// in overlay if there is one, else the file on disk.
func readSource(path string, overlay map[string][]byte) ([]byte, error) {
	if src, ok := overlay[path]; ok {
		return src, nil
	}
	return os.ReadFile(path)
}

// inClusters reports whether path is a file of the clusters package of
// the module at root.
func inClusters(root, path string) bool {
	return filepath.Dir(path) == filepath.Join(root, ClustersDir) && compiled(filepath.Base(path))
}

// fileProblems are what is wrong with cf that does not keep it from
// being read (ClusterFile.Problems): a file not named after its cluster.
func fileProblems(cf *ClusterFile) diag.List {
	if strings.TrimSuffix(filepath.Base(cf.Path), ".cue") == cf.Name {
		return nil
	}
	return diag.List{diag.Errorf(cf.Pos, cf.Name, "cluster %q is defined in %s: a cluster file is named after its cluster (%s.cue)", cf.Name, filepath.Base(cf.Path), cf.Name)}
}

// leftOut is the error for the CUE file at path under the clusters
// directory dir that is not part of the clusters package: it names the
// file, says why fleetc does not compile it and what to do, at the
// cluster it declares when it parses far enough to show one.
func leftOut(dir, path string, overlay map[string][]byte) diag.Diagnostic {
	d := diag.Diagnostic{Pos: token.Position{Filename: path, Line: 1, Column: 1}}
	src, _ := readSource(path, overlay) // only to name the cluster
	want := "<cluster>"
	if f, err := parser.ParseFile(path, src); err == nil {
		if name, pos := declaredCluster(f.Decls); name != "" {
			d.Cluster, d.Pos, want = name, pos.Position(), name
		}
	}
	rel, _ := filepath.Rel(dir, path)
	rel = ClustersDir + "/" + filepath.ToSlash(rel)
	base := filepath.Base(path)
	var why string
	switch {
	case filepath.Dir(path) != dir:
		why = fmt.Sprintf("is in a subdirectory of %s/, outside the clusters package", ClustersDir)
	case cueSkips(base):
		why = fmt.Sprintf("has a name starting with %q, which the cue tool and fleetc leave out of the clusters package", base[:1])
	default:
		why = fmt.Sprintf("ends in %q, not \".cue\", which the cue tool and fleetc leave out of the clusters package", filepath.Ext(base))
	}
	d.Message = fmt.Sprintf("%s %s, so fleetc would never compile it: a cluster file is %s/%s.cue; move it out of %s/ if it is not meant to be compiled",
		rel, why, ClustersDir, want, ClustersDir)
	return d
}

// cueSkips reports whether the cue tool leaves out a file or directory
// of this name: it starts with "." or "_".
func cueSkips(name string) bool {
	return strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_")
}

// pinShared loads the shared instance and keeps the bytes of every file
// it is made of (the editor's overlay, then what was read, srcs), so that
// every later load of it (one per evaluating worker), SharedDigest and the
// cache key made from that agree on one version of each file even if one
// is saved while fleetc runs.
func (p *Platform) pinShared(overlay, srcs map[string][]byte) error {
	pinned := maps.Clone(srcs)
	// The cluster files of the overlay are no input of the shared
	// package; each LoadShared hands cue/load every file pinned.
	clusterFile := make(map[string]bool, len(p.Clusters))
	for _, cf := range p.Clusters {
		clusterFile[cf.Path] = true
	}
	for name, src := range overlay {
		if !clusterFile[name] {
			pinned[name] = src
		}
	}
	p.overlay = pinned
	for range 3 {
		inst, err := p.LoadShared()
		if err != nil {
			return err
		}
		complete := true
		inputs := sharedInputs(p.Root, inst)
		for _, name := range inputs {
			if _, ok := pinned[name]; ok {
				continue
			}
			src, err := os.ReadFile(name)
			if err != nil {
				return fmt.Errorf("read %s: %w", name, err)
			}
			pinned[name], complete = src, false
		}
		if complete {
			p.Shared, p.inputs = inst, inputs
			for _, i := range Packages(inst, p.Root) {
				p.dirs = append(p.dirs, i.Dir)
			}
			return nil
		}
		// Loaded from disk in part: again, from the bytes kept.
	}
	return fmt.Errorf("the files of %s kept changing while fleetc read them; run it again", p.Root)
}

// sharedInputs lists the files the shared instance inst is made of: the
// module file and every file of its package and of the packages it
// imports, sorted.
func sharedInputs(root string, inst *build.Instance) []string {
	files := map[string]bool{filepath.Join(root, "cue.mod", "module.cue"): true}
	for _, i := range Packages(inst, "") {
		for _, f := range i.BuildFiles {
			files[f.Filename] = true
		}
	}
	return slices.Sorted(maps.Keys(files))
}

// Packages lists inst and every package it imports, directly or not, each
// once, in the order they are first reached. With root set, only the
// packages in the directory tree at root, the module's own: a package
// outside it is left out with everything it imports.
func Packages(inst *build.Instance, root string) []*build.Instance {
	var out []*build.Instance
	seen := map[*build.Instance]bool{}
	var walk func(*build.Instance)
	walk = func(i *build.Instance) {
		if seen[i] {
			return
		}
		seen[i] = true
		if root != "" {
			if rel, err := filepath.Rel(root, i.Dir); err != nil || rel == ".." || strings.HasPrefix(rel, "../") {
				return
			}
		}
		out = append(out, i)
		for _, imp := range i.Imports {
			walk(imp)
		}
	}
	walk(inst)
	return out
}

// SharedDigest is the SHA-256 of everything the shared instance is made
// of: the module file and every file of the shared package and of the
// packages it imports, by path relative to the module root. Two platforms
// with the same digest give every cluster file the same meaning.
func (p *Platform) SharedDigest() ([sha256.Size]byte, error) {
	h := sha256.New()
	inputs := p.inputs
	if inputs == nil {
		inputs = sharedInputs(p.Root, p.Shared)
	}
	for _, name := range inputs {
		src, ok := p.overlay[name]
		if !ok {
			// pinShared keeps every input: reading the disk now could
			// hash other bytes than were loaded.
			return [sha256.Size]byte{}, fmt.Errorf("%s: not among the files loaded", name)
		}
		rel, err := filepath.Rel(p.Root, name)
		if err != nil {
			rel = name
		}
		fmt.Fprintf(h, "%s\x00%d\x00", filepath.ToSlash(rel), len(src))
		h.Write(src)
	}
	var d [sha256.Size]byte
	h.Sum(d[:0])
	return d, nil
}

// LoadShared loads a fresh copy of the shared instance, for an evaluator
// that builds it concurrently with others.
func (p *Platform) LoadShared() (*build.Instance, error) {
	return loadShared(p.Root, p.sharedFiles, p.overlay)
}

// loadShared loads the shared files of the clusters package as one
// instance, with its imports resolved within the module.
func loadShared(root string, files []string, overlay map[string][]byte) (*build.Instance, error) {
	lc := &cueload.Config{Dir: root, ModuleRoot: root}
	if len(overlay) > 0 {
		lc.Overlay = map[string]cueload.Source{}
		for path, src := range overlay {
			lc.Overlay[path] = cueload.FromBytes(src)
		}
	}
	insts := cueload.Instances(files, lc)
	if len(insts) != 1 {
		return nil, fmt.Errorf("load %s: got %d instances, want 1", ClustersDir, len(insts))
	}
	inst := insts[0]
	if err := instanceErr(inst); err != nil {
		ds := diag.FromCUE(err, "", "", token.NoPos, nil)
		for i, d := range ds {
			// cue/load reports problems with the module file, such as
			// a language version this fleetc's CUE does not know, with
			// no position: point at the module file's language version.
			if d.Pos.Filename == "" && strings.Contains(d.Message, "module.cue") {
				ds[i].Pos = moduleVersionPos(root, overlay)
			}
		}
		return nil, ds.Sorted()
	}
	return inst, nil
}

// moduleVersionPos is where cue.mod/module.cue declares the language
// version, or the start of the file if it does not parse or say.
func moduleVersionPos(root string, overlay map[string][]byte) token.Position {
	name := filepath.Join(root, "cue.mod", "module.cue")
	at := token.Position{Filename: name, Line: 1, Column: 1}
	src, err := readSource(name, overlay)
	if err != nil {
		return at
	}
	f, err := parser.ParseFile(name, src)
	if err != nil {
		return at
	}
	if v := Field(f.Decls, "language", "version"); v != nil {
		return v.Value.Pos().Position()
	}
	if lang := Field(f.Decls, "language"); lang != nil {
		return lang.Pos().Position()
	}
	return at
}

// Field finds the field at path among decls, following struct literals
// and their one-field shorthands (`a: b: c`): the first that spells the
// whole path out, or nil.
func Field(decls []ast.Decl, path ...string) *ast.Field {
	for fd := range Fields(decls, path...) {
		return fd
	}
	return nil
}

// Fields yields every field at path among decls, in the order Field
// meets them: CUE lets a file spell one path out more than once
// (`a: b: 1` and `a: {b: 1}`), and an edit of the field must see each.
func Fields(decls []ast.Decl, path ...string) iter.Seq[*ast.Field] {
	return func(yield func(*ast.Field) bool) { fields(decls, path, yield) }
}

// fields walks decls for Fields; false means yield asked to stop.
func fields(decls []ast.Decl, path []string, yield func(*ast.Field) bool) bool {
	for _, d := range decls {
		fd, ok := d.(*ast.Field)
		if !ok {
			continue
		}
		if l, _, err := ast.LabelName(fd.Label); err != nil || l != path[0] {
			continue
		}
		if len(path) == 1 {
			if !yield(fd) {
				return false
			}
			continue
		}
		if s, ok := fd.Value.(*ast.StructLit); ok && !fields(s.Elts, path[1:], yield) {
			return false
		}
	}
	return true
}

// instanceErr collects the errors of inst and everything it imports.
func instanceErr(inst *build.Instance) error {
	var errs cueerrors.Error
	for _, i := range Packages(inst, "") {
		if i.Err != nil {
			errs = cueerrors.Append(errs, importCauses(i.Err))
		}
	}
	return errs
}

// importCauses replaces each of CUE's "import failed" errors, which point
// at the import declaration and say no more, with what failed in the
// imported package: a syntax error in defs is shown where it is, and an
// import cycle at the import that closes it.
func importCauses(err error) cueerrors.Error {
	var out cueerrors.Error
	for _, e := range cueerrors.Errors(err) {
		pos := e.Position()
		for {
			inner, ok := errors.Unwrap(e).(cueerrors.Error)
			if !ok {
				break
			}
			if p := inner.Position(); p.IsValid() {
				pos = p
			}
			e = inner
		}
		var pe *cueload.PackageError
		if errors.As(e, &pe) && pe.IsImportCycle && len(pe.ImportStack) > 0 {
			e = cueerrors.Newf(pos, "%s: %s", pe.Message.Error(), strings.Join(pe.ImportStack, " imports "))
		} else if !e.Position().IsValid() && pos.IsValid() {
			e = cueerrors.Newf(pos, "%s", e.Error())
		}
		out = cueerrors.Append(out, e)
	}
	return out
}

// parseClusterFile parses one file of the clusters package and tells
// whether it is a cluster file. A file that imports nothing is a cluster
// file: data, the values of one cluster. It must say nothing but
// `clusters: "<name>": {...}`: anything else in it (a second cluster, an
// optional or required cluster, a pattern, a stray field, let or
// embedding), and a file that declares no cluster at all, is an error at
// that place, naming the cluster if there is one, since fleetc would
// otherwise silently ignore it or apply it to the whole fleet. A shared
// file (what applies the platform to every cluster) imports the
// platform's packages.
func parseClusterFile(path string, src []byte) (*ClusterFile, bool, diag.List) {
	if !utf8.Valid(src) {
		line, col := firstInvalidUTF8(src)
		return nil, false, diag.List{{
			Pos:     token.Position{Filename: path, Line: line, Column: col},
			Message: "file is not valid UTF-8",
		}}
	}
	f, err := parser.ParseFile(path, src, parser.ParseComments)
	if err != nil {
		return nil, false, diag.FromCUE(err, brokenCluster(path, f), "", token.NoPos, nil)
	}
	if f.PackageName() != ClustersField {
		return nil, false, diag.List{diag.Errorf(f.Pos(), "", "package %q: files in %s/ belong to package %s", f.PackageName(), ClustersDir, ClustersField)}
	}
	for _, decl := range f.Decls {
		if _, ok := decl.(*ast.ImportDecl); ok {
			// Cluster files are data: only shared files may import.
			return nil, false, nil
		}
	}
	name, pos := declaredCluster(f.Decls)
	if name == "" {
		return nil, false, noCluster(f, src)
	}
	cf := &ClusterFile{Path: path, Syntax: f, Digest: sha256.Sum256(src), Name: name, Pos: pos}
	var ds diag.List
	for _, decl := range f.Decls {
		switch d := decl.(type) {
		case *ast.Package, *ast.CommentGroup, *ast.Attribute:
			continue
		case *ast.Field:
			if s, ok := clustersStruct(d); ok {
				ds = append(ds, cf.entries(s, src)...)
				continue
			}
		}
		ds = append(ds, diag.Errorf(decl.Pos(), name, "%s is outside the cluster: a cluster file says only `%s: %q: {...}`; move it into the cluster, or to a shared file if it is not about %s alone",
			describeDecl(decl, src), ClustersField, name, name))
	}
	if len(ds) > 0 {
		return nil, false, ds
	}
	return cf, true, nil
}

// noCluster reports what the file f, which imports nothing and so is a
// cluster file, says instead of a cluster: each declaration at its place,
// or the file as a whole if it declares nothing.
func noCluster(f *ast.File, src []byte) diag.List {
	want := strings.TrimSuffix(filepath.Base(f.Filename), ".cue")
	hint := fmt.Sprintf("a file of %s/ that imports nothing is a cluster file, which says only `%s: %q: {...}`; what applies to several clusters goes in a shared file, which imports the platform's packages", ClustersDir, ClustersField, want)
	var ds diag.List
	for _, decl := range f.Decls {
		switch d := decl.(type) {
		case *ast.Package, *ast.CommentGroup, *ast.Attribute:
			continue
		case *ast.Field:
			if s, ok := clustersStruct(d); ok {
				for _, e := range s.Elts {
					switch e := e.(type) {
					case *ast.CommentGroup, *ast.Attribute:
					case *ast.Field:
						if _, isPattern := e.Label.(*ast.ListLit); isPattern {
							ds = append(ds, diag.Errorf(e.Label.Pos(), "", "pattern %s applies to every cluster it matches, and this file declares no cluster: %s", nodeText(e.Label, src), hint))
						} else {
							ds = append(ds, diag.Errorf(e.Label.Pos(), "", "%s under %s is not a cluster name: %s", nodeText(e.Label, src), ClustersField, hint))
						}
					default:
						ds = append(ds, diag.Errorf(e.Pos(), "", "%s under %s is outside any cluster: %s", describeDecl(e, src), ClustersField, hint))
					}
				}
				if len(s.Elts) == 0 {
					ds = append(ds, diag.Errorf(d.Pos(), "", "%s declares no cluster: %s", ClustersField, hint))
				}
				continue
			}
		}
		ds = append(ds, diag.Errorf(decl.Pos(), "", "%s is outside any cluster: %s", describeDecl(decl, src), hint))
	}
	if len(ds) == 0 {
		pos := f.Pos()
		if pkg := f.PackageName(); pkg != "" {
			for _, d := range f.Decls {
				if p, ok := d.(*ast.Package); ok {
					pos = p.Pos()
				}
			}
		}
		ds = append(ds, diag.Errorf(pos, "", "this file declares no cluster: %s", hint))
	}
	return ds
}

// clustersStruct returns the struct of a top-level `clusters: {...}`
// (or `clusters: "x": ...`, whose value is a one-field struct), if the
// declaration is one.
func clustersStruct(f *ast.Field) (*ast.StructLit, bool) {
	if label, _, _ := ast.LabelName(f.Label); label != ClustersField || f.Constraint != token.ILLEGAL {
		return nil, false
	}
	if _, ok := f.Label.(*ast.Alias); ok {
		return nil, false
	}
	s, ok := f.Value.(*ast.StructLit)
	return s, ok
}

// declaredCluster is the first cluster that decls name under
// `clusters`, regular, optional or required, and where its name is.
func declaredCluster(decls []ast.Decl) (string, token.Pos) {
	for _, d := range decls {
		fd, ok := d.(*ast.Field)
		if !ok {
			continue
		}
		s, ok := clustersStruct(fd)
		if !ok {
			continue
		}
		for _, e := range s.Elts {
			if inner, ok := e.(*ast.Field); ok {
				if name, pos, ok := plainName(inner.Label); ok {
					return name, pos
				}
			}
		}
	}
	return "", token.NoPos
}

// entries checks the elements of a `clusters` struct of the cluster file
// cf: each must declare cf's cluster as a regular field.
func (cf *ClusterFile) entries(s *ast.StructLit, src []byte) diag.List {
	var ds diag.List
	for _, e := range s.Elts {
		switch e := e.(type) {
		case *ast.CommentGroup, *ast.Attribute:
			continue
		case *ast.Field:
			name, pos, ok := plainName(e.Label)
			switch {
			case !ok:
				if _, isPattern := e.Label.(*ast.ListLit); isPattern {
					ds = append(ds, diag.Errorf(e.Label.Pos(), cf.Name, "pattern %s applies to every cluster it matches, not to %s alone: a cluster file declares only its own cluster; put what applies to several clusters in a shared file",
						nodeText(e.Label, src), cf.Name))
				} else {
					ds = append(ds, diag.Errorf(e.Label.Pos(), cf.Name, "%s under %s is not a cluster name: a cluster file declares its cluster as `%s: %q: {...}`, with the name written out",
						nodeText(e.Label, src), ClustersField, ClustersField, cf.Name))
				}
			case name != cf.Name:
				ds = append(ds, diag.Errorf(pos, name, "a cluster file defines one cluster, and this one already defines %q: move %q to %s.cue", cf.Name, name, name))
			case e.Constraint == token.OPTION:
				ds = append(ds, diag.Errorf(pos, name, "cluster %q is declared optional (`%q?:`), so it is no cluster and fleetc would never compile it: declare it as `%s: %q: {...}`", name, name, ClustersField, name))
			case e.Constraint == token.NOT:
				ds = append(ds, diag.Errorf(pos, name, "cluster %q is declared required (`%q!:`), so it is no cluster and fleetc would never compile it: declare it as `%s: %q: {...}`", name, name, ClustersField, name))
			}
		default:
			ds = append(ds, diag.Errorf(e.Pos(), cf.Name, "%s under %s is outside the cluster: a cluster file says only `%s: %q: {...}`; move it into the cluster, or to a shared file if it is not about %s alone",
				describeDecl(e, src), ClustersField, ClustersField, cf.Name, cf.Name))
		}
	}
	return ds
}

// plainName returns the name a label spells out as an identifier or a
// plain string, as cluster names are written; not a definition, a hidden
// field, an alias, a pattern or a computed label.
func plainName(l ast.Label) (string, token.Pos, bool) {
	switch l := l.(type) {
	case *ast.Ident:
		if strings.HasPrefix(l.Name, "#") || strings.HasPrefix(l.Name, "_") {
			return "", token.NoPos, false
		}
		return l.Name, l.Pos(), true
	case *ast.BasicLit:
		if l.Kind != token.STRING {
			return "", token.NoPos, false
		}
		name, err := strconv.Unquote(l.Value)
		if err != nil {
			return "", token.NoPos, false
		}
		return name, l.Pos(), true
	}
	return "", token.NoPos, false
}

// describeDecl names a declaration for a message: its label as written
// for a field, else what kind of declaration it is.
func describeDecl(d ast.Decl, src []byte) string {
	switch d := d.(type) {
	case *ast.Field:
		if _, isPattern := d.Label.(*ast.ListLit); isPattern {
			return "pattern " + nodeText(d.Label, src)
		}
		return "field " + nodeText(d.Label, src)
	case *ast.LetClause:
		return "let " + d.Ident.Name
	case *ast.EmbedDecl:
		return "an embedded value"
	case *ast.Comprehension:
		return "a comprehension"
	case *ast.Ellipsis:
		return "..."
	}
	return "a declaration"
}

// nodeText is the source text of n, shortened to its first line.
func nodeText(n ast.Node, src []byte) string {
	start, end := n.Pos().Offset(), n.End().Offset()
	if !n.Pos().IsValid() || start < 0 || end > len(src) || start >= end {
		return "a label"
	}
	text := string(src[start:end])
	if i := strings.IndexByte(text, '\n'); i >= 0 {
		text = text[:i] + "…"
	}
	return text
}

// brokenCluster is the cluster that a file which does not parse was
// about, as far as its parsed part shows: a declaration of the cluster the
// file is named after. "" if it shows none, so a shared file is never
// taken for a cluster.
func brokenCluster(path string, f *ast.File) string {
	if f == nil {
		return ""
	}
	base := strings.TrimSuffix(filepath.Base(path), ".cue")
	for _, d := range f.Decls {
		if fd, ok := d.(*ast.Field); ok {
			if name, _, ok := clusterName(fd); ok && name == base {
				return name
			}
		}
	}
	return ""
}

// clusterName returns the cluster that a declaration `clusters: <name>: ...`
// defines, if it is one.
func clusterName(f *ast.Field) (string, token.Pos, bool) {
	s, ok := clustersStruct(f)
	if !ok || len(s.Elts) != 1 {
		return "", token.NoPos, false
	}
	inner, ok := s.Elts[0].(*ast.Field)
	if !ok || inner.Constraint != token.ILLEGAL {
		return "", token.NoPos, false
	}
	return plainName(inner.Label)
}

func firstInvalidUTF8(src []byte) (line, col int) {
	line, col = 1, 1
	for len(src) > 0 {
		r, size := utf8.DecodeRune(src)
		if r == utf8.RuneError && size <= 1 {
			return line, col
		}
		if r == '\n' {
			line, col = line+1, 1
		} else {
			col++
		}
		src = src[size:]
	}
	return line, col
}
