// Package load finds a fleetc platform on disk and reads it: the CUE module
// root, the shared files of the clusters package, and one parsed file per
// cluster. It is the only package that imports cue/load.
package load

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"cuelang.org/go/cue/ast"
	"cuelang.org/go/cue/build"
	cueerrors "cuelang.org/go/cue/errors"
	cueload "cuelang.org/go/cue/load"
	"cuelang.org/go/cue/parser"
	"cuelang.org/go/cue/token"

	"github.com/fleetc/fleetc/internal/diag"
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
	p := &Platform{Root: root}
	dir := filepath.Join(root, ClustersDir)
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("no %s directory in %s: a fleetc platform keeps one file per cluster there", ClustersDir, root)
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", dir, err)
	}

	var diags diag.List
	var shared []string
	byName := map[string]*ClusterFile{}
	var names []string
	for _, e := range entries {
		if !e.IsDir() {
			names = append(names, e.Name())
		}
	}
	// An editor's new file is part of the package before it is saved.
	for path := range cfg.Overlay {
		if filepath.Dir(path) == dir && !slices.Contains(names, filepath.Base(path)) {
			names = append(names, filepath.Base(path))
		}
	}
	slices.Sort(names)
	names = slices.DeleteFunc(names, func(name string) bool {
		return !strings.HasSuffix(name, ".cue") || strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_")
	})
	// Reading and parsing thousands of files is worth every core; what
	// they hold is then looked at in name order.
	type parsed struct {
		cf        *ClusterFile
		src       []byte
		isCluster bool
		diags     diag.List
		err       error
	}
	all := make([]parsed, len(names))
	var wg sync.WaitGroup
	n := runtime.GOMAXPROCS(0)
	for g := range n {
		wg.Go(func() {
			for i := g; i < len(names); i += n {
				path := filepath.Join(dir, names[i])
				src, ok := cfg.Overlay[path]
				if !ok {
					var err error
					if src, err = os.ReadFile(path); err != nil {
						all[i].err = fmt.Errorf("read %s: %w", path, err)
						continue
					}
				}
				all[i].cf, all[i].isCluster, all[i].diags = parseClusterFile(path, src)
				if !all[i].isCluster {
					all[i].src = src // kept for pinShared
				}
			}
		})
	}
	wg.Wait()
	sharedSrc := map[string][]byte{} // what was read of the shared files
	for i, name := range names {
		if all[i].err != nil {
			return nil, all[i].err
		}
		path := filepath.Join(dir, name)
		cf, isCluster, ds := all[i].cf, all[i].isCluster, all[i].diags
		diags = append(diags, ds...)
		if len(ds) > 0 {
			continue
		}
		if !isCluster {
			shared = append(shared, path)
			sharedSrc[path] = all[i].src
			continue
		}
		if prev, dup := byName[cf.Name]; dup {
			// Both files are at fault; name the other one relative to the
			// module so the message reads the same on every machine.
			for _, pair := range [][2]*ClusterFile{{cf, prev}, {prev, cf}} {
				other := pair[1].Pos.Position()
				rel, _ := filepath.Rel(root, other.Filename)
				diags = append(diags, diag.Errorf(pair[0].Pos, cf.Name, "cluster %q is defined twice: here and in %s:%d:%d", cf.Name, filepath.ToSlash(rel), other.Line, other.Column))
			}
			continue
		}
		byName[cf.Name] = cf
		p.Clusters = append(p.Clusters, cf)
	}
	for _, cf := range p.Clusters {
		if want := strings.TrimSuffix(filepath.Base(cf.Path), ".cue"); want != cf.Name {
			cf.Problems = append(cf.Problems, diag.Errorf(cf.Pos, cf.Name, "cluster %q is defined in %s: a cluster file is named after its cluster (%s.cue)", cf.Name, filepath.Base(cf.Path), cf.Name))
		}
	}
	if len(p.Clusters) == 0 && len(diags) == 0 && !cfg.AllowEmpty {
		return nil, fmt.Errorf("%s defines no cluster: add one file per cluster, such as clusters/<name>.cue with `clusters: \"<name>\": {...}`", dir)
	}
	if len(shared) == 0 && len(diags) == 0 {
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

	p.sharedFiles = shared
	if err := p.pinShared(cfg.Overlay, sharedSrc); err != nil {
		return nil, err
	}
	return p, nil
}

// pinShared loads the shared instance and keeps the bytes of every file
// it is made of (the editor's overlay, then what was read, srcs), so that
// every later load of it (one per evaluating worker), SharedDigest and the
// cache key made from that agree on one version of each file even if one
// is saved while fleetc runs.
func (p *Platform) pinShared(overlay, srcs map[string][]byte) error {
	pinned := maps.Clone(srcs)
	maps.Copy(pinned, overlay)
	p.overlay = pinned
	for range 3 {
		inst, err := p.LoadShared()
		if err != nil {
			return err
		}
		complete := true
		for _, name := range sharedInputs(p.Root, inst) {
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
			p.Shared = inst
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
	for _, name := range sharedInputs(p.Root, p.Shared) {
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
	src, ok := overlay[name]
	if !ok {
		var err error
		if src, err = os.ReadFile(name); err != nil {
			return at
		}
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
	for _, d := range decls {
		fd, ok := d.(*ast.Field)
		if !ok {
			continue
		}
		if l, _, err := ast.LabelName(fd.Label); err != nil || l != path[0] {
			continue
		}
		if len(path) == 1 {
			return fd
		}
		if s, ok := fd.Value.(*ast.StructLit); ok {
			if inner := Field(s.Elts, path[1:]...); inner != nil {
				return inner
			}
		}
	}
	return nil
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
// whether it is a cluster file: one whose only declarations add a single
// named cluster to `clusters`. Anything else (definitions, patterns that
// apply to every cluster, the schema glue) is shared.
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
	cf := &ClusterFile{Path: path, Syntax: f, Digest: sha256.Sum256(src)}
	for _, decl := range f.Decls {
		switch d := decl.(type) {
		case *ast.Package, *ast.CommentGroup, *ast.Attribute:
			continue
		case *ast.ImportDecl:
			// Cluster files are data: only shared files may import.
			return nil, false, nil
		case *ast.Field:
			name, pos, ok := clusterName(d)
			if !ok {
				return nil, false, nil
			}
			if cf.Name != "" && cf.Name != name {
				return nil, false, diag.List{diag.Errorf(pos, name, "a cluster file defines one cluster, and this one already defines %q: move %q to %s.cue", cf.Name, name, name)}
			}
			if cf.Name == "" {
				cf.Name, cf.Pos = name, pos
			}
		default:
			return nil, false, nil
		}
	}
	if cf.Name == "" {
		return nil, false, nil
	}
	return cf, true, nil
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
	if label, _, _ := ast.LabelName(f.Label); label != ClustersField || f.Constraint != token.ILLEGAL {
		return "", token.NoPos, false
	}
	s, ok := f.Value.(*ast.StructLit)
	if !ok || len(s.Elts) != 1 {
		return "", token.NoPos, false
	}
	inner, ok := s.Elts[0].(*ast.Field)
	if !ok || inner.Constraint != token.ILLEGAL {
		return "", token.NoPos, false
	}
	switch l := inner.Label.(type) {
	case *ast.Ident:
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
