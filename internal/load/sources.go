package load

import (
	"fmt"
	"path"
	"path/filepath"
	"slices"
	"strings"
)

// source is a directory of the platform's sources: the module's cue.mod,
// the clusters package, each package of the module the shared files
// import, and the hand-written ApplicationSets.
type source struct {
	dir  string // absolute, symlinks resolved
	name string // as the module names it: slash path from the module root
	// inside says why an output directory may not be below dir either,
	// or "" if it may.
	inside string
}

// sources lists the directories of the platform's sources; handwritten is
// the directory of hand-written ApplicationSets, relative to the module
// root ("" for none).
func (p *Platform) sources(handwritten string) []source {
	root := RealPath(p.Root)
	srcs := []source{
		{dir: filepath.Join(root, "cue.mod"), name: "cue.mod", inside: "which holds the module's file and dependencies"},
		{dir: filepath.Join(root, ClustersDir), name: ClustersDir},
	}
	if p.Shared != nil {
		for _, inst := range Packages(p.Shared, p.Root) {
			srcs = append(srcs, source{dir: RealPath(inst.Dir)})
		}
	}
	if handwritten != "" {
		srcs = append(srcs, source{dir: RealPath(filepath.Join(p.Root, filepath.FromSlash(handwritten))), inside: "whose .yaml files fleetc reads as hand-written ApplicationSets"})
	}
	for i := range srcs {
		if srcs[i].name == "" {
			if rel, err := filepath.Rel(root, srcs[i].dir); err == nil && filepath.IsLocal(rel) {
				srcs[i].name = filepath.ToSlash(rel)
			} else {
				srcs[i].name = srcs[i].dir
			}
		}
	}
	return srcs
}

// OutputProblem says why dir, an absolute path, cannot be an output
// directory of the platform, or returns "" if it can. fleetc owns its
// output directory (it prunes what it wrote there and keeps a ledger at
// its root), so that directory may not be the file system's root, the
// module root, a directory of the platform's sources (the module's
// cue.mod, the clusters package, every package of the module the shared
// files import, the hand-written ApplicationSets) or hold one, nor be
// inside one of them (but for a package at the module root) or a .git
// directory.
// Symlinks are resolved first, so that a link cannot hide where dir is;
// the message then says where it leads.
func (p *Platform) OutputProblem(dir, handwritten string) string {
	real := RealPath(dir)
	why := func(msg string) string {
		if real != filepath.Clean(dir) {
			msg += fmt.Sprintf(" (it leads to %s)", real)
		}
		return msg
	}
	root := RealPath(p.Root)
	switch {
	case filepath.Dir(real) == real:
		return why("the output directory cannot be the file system's root")
	case real == root:
		return why("the output directory cannot be the module root, which holds the platform's sources")
	case Within(root, real):
		return why(fmt.Sprintf("the output directory cannot hold the platform's module %s", p.Root))
	case slices.Contains(strings.Split(filepath.ToSlash(real), "/"), ".git"):
		return why("the output directory cannot be inside a .git directory, which holds a git repository")
	}
	for _, s := range p.sources(handwritten) {
		switch {
		case real == s.dir:
			return why(fmt.Sprintf("the output directory cannot be %s, which holds the platform's sources", s.name))
		case Within(s.dir, real):
			return why(fmt.Sprintf("the output directory cannot hold %s, which holds the platform's sources", s.name))
		case s.inside != "" && Within(real, s.dir):
			return why(fmt.Sprintf("the output directory cannot be inside %s, %s", s.name, s.inside))
		case s.dir != root && Within(real, s.dir):
			// Inside a package directory, fleetc's output would sit
			// among the package's sources (a clusters/x of values
			// files is the CUE files of clusters/ to account for, a
			// defs/x is a directory of the package's tree).
			return why(fmt.Sprintf("the output directory cannot be inside %s, which holds the platform's sources", s.name))
		}
	}
	return ""
}

// RealPath resolves the symbolic links of the longest existing prefix of
// the absolute path p, so that a link cannot hide where a path is.
func RealPath(p string) string {
	p = filepath.Clean(p)
	var rest []string
	for {
		if r, err := filepath.EvalSymlinks(p); err == nil {
			return filepath.Join(append([]string{r}, rest...)...)
		}
		parent := filepath.Dir(p)
		if parent == p {
			return filepath.Join(append([]string{p}, rest...)...)
		}
		rest = append([]string{filepath.Base(p)}, rest...)
		p = parent
	}
}

// Within reports whether the path p is dir or below it, as paths (resolve
// symlinks first where they matter, with RealPath).
func Within(p, dir string) bool {
	rel, err := filepath.Rel(dir, p)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}

// SettingProblem says why out, the output directory as the platform's
// settings give it (relative to the module root), cannot be the
// platform's output directory, or returns "" if it can: it must be a
// directory inside the module, also once symlinks are resolved, that
// OutputProblem accepts. It is also the path of the values files in the
// values repository, which is the module's.
func (p *Platform) SettingProblem(out, handwritten string) string {
	switch {
	case out == "":
		return `the output directory is empty: want a directory relative to the module root, such as "deploy"`
	case strings.TrimSpace(out) == "":
		return fmt.Sprintf(`the output directory %q is only white space: want a directory relative to the module root, such as "deploy"`, out)
	case path.IsAbs(out) || filepath.IsAbs(out):
		return fmt.Sprintf("the output directory %q is absolute: want a directory relative to the module root", out)
	case path.Clean(out) != "." && !filepath.IsLocal(filepath.FromSlash(out)):
		return fmt.Sprintf("the output directory %q is outside the module: want a directory inside it, relative to the module root", out)
	}
	dir := filepath.Join(p.Root, filepath.FromSlash(out))
	if real := RealPath(dir); !Within(real, RealPath(p.Root)) {
		return fmt.Sprintf("the output directory %q is outside the module (it leads to %s)", out, real)
	}
	return p.OutputProblem(dir, handwritten)
}
