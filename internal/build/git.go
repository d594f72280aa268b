package build

import (
	"archive/tar"
	"bytes"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/fleetc/fleetc/internal/cache"
	"github.com/fleetc/fleetc/internal/diag"
	"github.com/fleetc/fleetc/internal/load"
)

// RefError is a platform that does not build at a git ref; its
// diagnostics name files as ref:path, as git names a file at a commit.
type RefError struct {
	Ref string
	Err error
}

func (e *RefError) Error() string { return fmt.Sprintf("base %s does not compile: %v", e.Ref, e.Err) }
func (e *RefError) Unwrap() error { return e.Err }

// Ref is a commit of the git repository that holds a platform.
type Ref struct {
	Name   string // as the user gave it, such as origin/main
	Top    string // the top of the git repository
	Commit string
	Rel    string // the platform's directory, relative to Top
}

// ResolveRef finds the commit of the ref name in the repository of dir.
// cwd is for messages.
func ResolveRef(dir, name, cwd string) (Ref, error) {
	top, err := git(dir, "rev-parse", "--show-toplevel")
	if err != nil {
		return Ref{}, fmt.Errorf("--base needs a git repository: %w", err)
	}
	commit, err := git(top, "rev-parse", "--verify", "--quiet", "--end-of-options", name+"^{commit}")
	if err != nil {
		return Ref{}, fmt.Errorf("--base %s: no such commit in %s", name, diag.DisplayPath(cwd, top))
	}
	rel, err := relReal(top, dir)
	if err != nil {
		return Ref{}, err
	}
	return Ref{Name: name, Top: top, Commit: commit, Rel: rel}, nil
}

// AtRef builds the platform as it is at ref: the ref's sources, from git
// archive, in a temporary directory that is removed afterwards, through
// the same cluster cache as the working tree (keys hold no absolute
// path), so that what did not change is not evaluated again. The user's
// checkout is never touched. cfg.Dir and cfg.Out are ignored: the
// platform is the one at ref.Rel, its output the one its settings name.
// A platform that does not build there is a *RefError.
func AtRef(cfg Config, ref Ref) (*Platform, *Plan, error) {
	tmp, err := os.MkdirTemp("", "fleetc-base-")
	if err != nil {
		return nil, nil, err
	}
	defer os.RemoveAll(tmp)
	// The loader reports real, absolute paths; relabel and the overlay of
	// the clusters package must be named as it names them (TMPDIR may be
	// relative).
	if abs, err := filepath.Abs(tmp); err == nil {
		tmp = abs
	}
	if real, err := filepath.EvalSymlinks(tmp); err == nil {
		tmp = real
	}
	cfg.Dir, cfg.Out = filepath.Join(tmp, ref.Rel), ""
	t0 := time.Now()
	b, err := archiveSources(cfg, ref.Top, ref.Commit, ref.Rel, tmp)
	if err != nil {
		return nil, nil, fmt.Errorf("read %s from git: %w", ref.Name, err)
	}
	if b == nil {
		b, err = Load(cfg)
	}
	if err == nil {
		// The build began with git archive, around the load.
		st := &b.Stats
		git := time.Since(t0) - st.Phases[0].D
		st.start, st.Phases = t0, append([]Phase{{"git", git, "the sources at " + ref.Name + ", from git archive (never the output)"}}, st.Phases...)
	}
	var pl *Plan
	if err == nil {
		pl, err = b.Plan()
	}
	if err != nil {
		return nil, nil, relabel(err, tmp, ref.Name)
	}
	return b, pl, nil
}

// relabel turns paths inside the temporary tree of ref into ref:path, as
// git names a file at a commit, so that messages mean something once the
// tree is gone.
func relabel(err error, tmp, ref string) error {
	var dl diag.List
	if errors.As(err, &dl) {
		out := make(diag.List, len(dl))
		for i, d := range dl {
			if rel, rerr := filepath.Rel(tmp, d.Pos.Filename); rerr == nil && filepath.IsLocal(rel) {
				d.Pos.Filename = ref + ":" + filepath.ToSlash(rel)
			}
			d.Message = strings.ReplaceAll(d.Message, tmp+string(filepath.Separator), ref+":")
			out[i] = d
		}
		return &RefError{Ref: ref, Err: out}
	}
	return &RefError{Ref: ref, Err: errors.New(strings.ReplaceAll(err.Error(), tmp+string(filepath.Separator), ref+":"))}
}

// git runs git in dir and returns its trimmed output.
func git(dir string, args ...string) (string, error) {
	cmd := exec.Command("git", append([]string{"-C", dir}, args...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		if msg := strings.TrimSpace(stderr.String()); msg != "" {
			return "", fmt.Errorf("git %s: %s", args[0], msg)
		}
		return "", fmt.Errorf("git %s: %w", args[0], err)
	}
	return strings.TrimSpace(string(out)), nil
}

// relReal is dir relative to top, both with symbolic links resolved (git
// reports the real path of the top level).
func relReal(top, dir string) (string, error) {
	realTop, err := filepath.EvalSymlinks(top)
	if err != nil {
		return "", err
	}
	realDir, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return "", err
	}
	rel, err := filepath.Rel(realTop, realDir)
	if err != nil || !filepath.IsLocal(rel) && rel != "." {
		return "", fmt.Errorf("%s is not inside the git repository %s", dir, top)
	}
	return rel, nil
}

// SameAt reports whether the working tree's inputs are those of
// the last compile of the whole fleet that succeeded (the build cache's
// record of the output directory says so), and every file that compiling
// the platform in dir reads is, byte for byte, what it is at the base ref:
// the CUE files of the module, its cue.mod and the hand-written
// ApplicationSets, compared as git compares them (blob hashes), never the
// output. Then the same fleetc compiles the same valid inputs on both
// sides, and the diff is empty by construction: nothing need be extracted
// or compiled. Any doubt (no cache or record, no repository, a platform
// that does not load, a file that cannot be read) answers false, and the
// diff runs in full, which also reports a platform that does not compile.
func (b *Platform) SameAt(ref Ref) bool {
	if !b.whole() {
		return false
	}
	last := b.lastEntry().entry
	if hw, ok := b.handwrittenKey(); !ok || last.Key == (cache.Key{}) || b.cc.fleetKey(b.Sources, b.OutDir, hw) != last.Key {
		return false
	}
	in, err := b.inputs(ref.Top)
	if err != nil {
		return false
	}
	atRef, err := in.blobsAt(ref.Commit)
	return err == nil && in.sameIn(b.Sources.Root, atRef)
}

// inputs are the files of a repository that compiling a platform reads,
// by slash path from the top of the repository: the module's CUE files,
// its cue.mod and the hand-written ApplicationSets, never the output.
type inputs struct {
	top, realTop             string
	module, out, handwritten string
}

func (b *Platform) inputs(top string) (*inputs, error) {
	realTop, err := filepath.EvalSymlinks(top)
	if err != nil {
		return nil, err
	}
	in := &inputs{top: top, realTop: realTop}
	for _, x := range []struct {
		dst  *string
		path string
	}{
		{&in.module, b.Sources.Root},
		{&in.out, filepath.Join(b.Sources.Root, b.Settings.Output)},
		{&in.handwritten, filepath.Join(b.Sources.Root, b.Settings.ApplicationSets.Handwritten)},
	} {
		var ok bool
		if *x.dst, ok = in.rel(x.path); !ok {
			return nil, fmt.Errorf("%s is outside the repository", x.path)
		}
	}
	return in, nil
}

// rel is path relative to the top, if it is inside.
func (in *inputs) rel(path string) (string, bool) {
	r, err := filepath.Rel(in.realTop, path)
	return filepath.ToSlash(r), err == nil && filepath.IsLocal(r)
}

// reads reports whether path is an input.
func (in *inputs) reads(path string) bool {
	under := func(path, dir string) bool { return dir == "." || path == dir || strings.HasPrefix(path, dir+"/") }
	return under(path, in.module) && !under(path, in.out) &&
		(strings.HasSuffix(path, ".cue") || under(path, pathJoin(in.module, "cue.mod")) || under(path, in.handwritten))
}

// blobsAt is the blob hash of each input at commit, by path.
func (in *inputs) blobsAt(commit string) (map[string]string, error) {
	list, err := git(in.top, "ls-tree", "-r", "-z", "--full-tree", commit)
	if err != nil {
		return nil, err
	}
	blobs := map[string]string{}
	for _, entry := range strings.Split(list, "\x00") {
		meta, path, found := strings.Cut(entry, "\t")
		if fields := strings.Fields(meta); found && len(fields) == 3 && in.reads(path) {
			blobs[path] = fields[2]
		}
	}
	return blobs, nil
}

// sameIn reports whether the inputs in the working tree below root are
// exactly atRef: the same paths, each with the same blob hash.
func (in *inputs) sameIn(root string, atRef map[string]string) bool {
	seen := 0
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		r, ok := in.rel(path)
		if !ok && path != root {
			return errors.New("outside the repository")
		}
		if d.IsDir() {
			if d.Name() == ".git" || r == in.out {
				return filepath.SkipDir
			}
			return nil
		}
		if !in.reads(r) {
			return nil
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		seen++
		if atRef[r] != blobHash(data) {
			return errDiffers
		}
		return nil
	})
	return err == nil && seen == len(atRef)
}

// errDiffers stops the walk of sameIn at the first input that differs.
var errDiffers = errors.New("an input differs from the ref")

// pathJoin joins slash-separated relative paths, "." being the top.
func pathJoin(dir, name string) string {
	if dir == "." {
		return name
	}
	return dir + "/" + name
}

// blobHash is the name git gives a file's bytes.
func blobHash(data []byte) string {
	h := sha1.New()
	fmt.Fprintf(h, "blob %d\x00", len(data))
	h.Write(data)
	return hex.EncodeToString(h.Sum(nil))
}

// Pathspecs (relative to the top of the repository) of what any platform
// reads first: the CUE files and the module's cue.mod.
var cueSpecs = []string{":(glob)**/*.cue", ":(glob)**/cue.mod/**"}

// archiveSources writes into dir what compiling the platform at rel in the
// tree of commit reads, and not the committed output, which is most of a
// large fleet's files and none of its inputs: first the CUE files, from
// which the settings at commit say where the output is, then every other
// file but that directory (hand-written ApplicationSets, files that CUE
// embeds). The files of the clusters package, thousands in a large fleet,
// are not written: the load reads them once, from memory (extractCUE). It
// returns the platform as loaded from the CUE files, for the compile to go
// on from (nil if it does not load: then every file is on disk, and the
// rest comes whole, so that the compile reports what is wrong at commit).
func archiveSources(cfg Config, top, commit, rel, dir string) (*Platform, error) {
	var entries []tarEntry
	if err := gitArchive(top, commit, func(r io.Reader) (err error) { entries, err = readTar(r); return err }, cueSpecs...); err != nil {
		// No CUE file at commit: the compile will say what is missing.
		return nil, archive(top, commit, dir)
	}
	overlay, err := extractCUE(dir, rel, entries)
	if err != nil {
		return nil, err
	}
	rest := []string{"."}
	for _, s := range cueSpecs {
		rest = append(rest, ":(exclude,"+strings.TrimPrefix(s, ":("))
	}
	cfg.Dir, cfg.Overlay = filepath.Join(dir, rel), overlay
	l, err := Load(cfg)
	if err == nil {
		out, err := filepath.Rel(dir, filepath.Join(l.Sources.Root, l.Settings.Output))
		if err == nil && filepath.IsLocal(out) {
			rest = append(rest, ":(exclude,literal)"+filepath.ToSlash(out))
		}
	} else {
		l = nil
		if err := writeOverlay(dir, overlay); err != nil {
			return nil, err
		}
	}
	return l, archive(top, commit, dir, rest...)
}

// tarEntry is a file of a tar stream, read into memory.
type tarEntry struct {
	h    *tar.Header
	data []byte
}

// readTar reads a tar stream into memory.
func readTar(r io.Reader) ([]tarEntry, error) {
	var out []tarEntry
	err := eachEntry(r, func(h *tar.Header, r io.Reader) error {
		var data []byte
		if h.Typeflag == tar.TypeReg {
			data = make([]byte, h.Size)
			if _, err := io.ReadFull(r, data); err != nil {
				return err
			}
		}
		out = append(out, tarEntry{h: h, data: data})
		return nil
	})
	return out, err
}

// eachEntry calls fn with each entry of the tar stream r and a reader of
// its data, until fn fails.
func eachEntry(r io.Reader, fn func(h *tar.Header, r io.Reader) error) error {
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if err := fn(h, tr); err != nil {
			return err
		}
	}
}

// extractCUE writes entries, the CUE files of a commit, into dir, but for
// the .cue files of the clusters directory of the module at or above rel:
// it makes that directory and returns them, by absolute path, for the
// load's overlay. Writing them to the disk and reading them back was most
// of what extracting a fleet of 3,000 clusters cost.
func extractCUE(dir, rel string, entries []tarEntry) (map[string][]byte, error) {
	names := make(map[string]bool, len(entries))
	for _, e := range entries {
		names[path.Clean(e.h.Name)] = true
	}
	clusters := ""
	for d := path.Clean(filepath.ToSlash(rel)); ; d = path.Dir(d) {
		if names[path.Join(d, "cue.mod", "module.cue")] {
			clusters = path.Join(d, load.ClustersDir)
			break
		}
		if d == "." || d == "/" {
			break
		}
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, err
	}
	defer root.Close()
	overlay := map[string][]byte{}
	for _, e := range entries {
		name := path.Clean(e.h.Name)
		if e.h.Typeflag == tar.TypeReg && clusters != "" && path.Dir(name) == clusters && strings.HasSuffix(name, ".cue") {
			overlay[filepath.Join(dir, filepath.FromSlash(name))] = e.data
			continue
		}
		if err := writeEntry(root, e.h, bytes.NewReader(e.data)); err != nil {
			return nil, err
		}
	}
	if len(overlay) > 0 {
		if err := root.MkdirAll(filepath.FromSlash(clusters), 0o755); err != nil {
			return nil, err
		}
	}
	return overlay, nil
}

// writeOverlay writes the files extractCUE kept in memory into dir, for
// a compile that loads the platform from the disk.
func writeOverlay(dir string, overlay map[string][]byte) error {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return err
	}
	defer root.Close()
	for name, data := range overlay {
		rel, err := filepath.Rel(dir, name)
		if err != nil {
			return err
		}
		if err := root.WriteFile(rel, data, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// archive writes the files of commit in the repository top that the
// pathspecs name (all of them without any) into dir.
func archive(top, commit, dir string, pathspecs ...string) error {
	return gitArchive(top, commit, func(r io.Reader) error { return untar(r, dir) }, pathspecs...)
}

// gitArchive runs git archive of the files of commit in the repository
// top that the pathspecs name (all of them without any), and passes its
// tar stream to read.
func gitArchive(top, commit string, read func(io.Reader) error, pathspecs ...string) error {
	args := []string{"-C", top, "archive", "--format=tar", commit}
	if len(pathspecs) > 0 {
		args = append(append(args, "--"), pathspecs...)
	}
	cmd := exec.Command("git", args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	pipe, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	xerr := read(pipe)
	// Drain, so git is not stuck writing when extraction stopped early.
	_, _ = io.Copy(io.Discard, pipe)
	if err := cmd.Wait(); err != nil {
		if msg := strings.TrimSpace(stderr.String()); msg != "" {
			return errors.New(msg)
		}
		return err
	}
	return xerr
}

// untar extracts a tar stream into dir; nothing lands outside it.
func untar(r io.Reader, dir string) error {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return err
	}
	defer root.Close()
	return eachEntry(r, func(h *tar.Header, r io.Reader) error { return writeEntry(root, h, r) })
}

// writeEntry writes the tar entry h, with its data from r, under root.
func writeEntry(root *os.Root, h *tar.Header, r io.Reader) error {
	name := filepath.FromSlash(path.Clean(h.Name))
	switch h.Typeflag {
	case tar.TypeDir:
		return root.MkdirAll(name, 0o755)
	case tar.TypeReg:
		if err := root.MkdirAll(filepath.Dir(name), 0o755); err != nil {
			return err
		}
		return writeFrom(root, name, r, fs.FileMode(h.Mode)&0o755|0o600)
	case tar.TypeSymlink:
		if err := root.MkdirAll(filepath.Dir(name), 0o755); err != nil {
			return err
		}
		return root.Symlink(h.Linkname, name)
	}
	return nil
}

func writeFrom(root *os.Root, name string, r io.Reader, mode fs.FileMode) error {
	f, err := root.OpenFile(name, os.O_CREATE|os.O_EXCL|os.O_WRONLY, mode)
	if err != nil {
		return err
	}
	_, err = io.Copy(f, r)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}
