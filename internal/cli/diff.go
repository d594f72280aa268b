package cli

import (
	"archive/tar"
	"bytes"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/spf13/cobra"

	"github.com/fleetc/fleetc/internal/cache"
	"github.com/fleetc/fleetc/internal/diag"
	"github.com/fleetc/fleetc/internal/diff"
	"github.com/fleetc/fleetc/internal/load"
	"github.com/fleetc/fleetc/internal/output"
	"github.com/fleetc/fleetc/internal/render"
)

type diffOptions struct {
	IO
	platformFlags
	base   string
	format string
}

func newDiffCmd(io IO) *cobra.Command {
	o := &diffOptions{IO: io}
	c := &cobra.Command{
		Use:   "diff",
		Short: "Show what a change does to every cluster",
		Long: `diff compiles the platform in memory and shows what changes against the output
committed in the output directory, or, with --base, against the platform as it
is at a git ref: what a pull request does.

The report starts with a summary of the clusters and apps added, removed and
changed, then the placement changes (Argo CD Applications that are created or
deleted, prod first; "orphaned (resources kept)" where the ApplicationSet
preserves resources on deletion; a cluster renamed on the same server in one
line, with where its registration now reads the credentials), then the
changed lines. A hunk that changes the same way on many clusters is shown
once, with <cluster> for each cluster's name and the clusters it applies to
by env. Removed files are named, not printed.

Formats: text (coloured on a terminal, unless NO_COLOR is set), markdown (a
pull-request comment, cut to fit GitHub's 65,536 characters with a note
saying so) and json (every file with its hunks, for tools).

Secret values (of Secrets and ExternalSecrets, credentials in Argo CD's
config, keys named like passwords or tokens) are never shown: a changed one
reads "*** (before)" and "*** (after)", an unchanged one "***".

Exit status: 0 without changes, 1 with changes, 2 on any trouble.`,
		Example: `  # What would compile change in the output directory?
  fleetc diff

  # What does this branch change compared with origin/main, as a PR comment?
  fleetc diff --base origin/main --format markdown`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(*cobra.Command, []string) error { return o.run() },
	}
	o.platformFlags.bind(c)
	c.Flags().StringVar(&o.base, "base", "", "compare with the platform as it is at this git `ref` (such as origin/main) instead of the output on disk")
	c.Flags().StringVar(&o.format, "format", "text", "output `format`: text, markdown or json")
	_ = c.RegisterFlagCompletionFunc("format", oneOf(keysOf(diffFormats)...))
	return c
}

func (o *diffOptions) run() error {
	format, ok := diffFormats[o.format]
	if !ok {
		return usageError{fmt.Errorf("unknown format %q: want text, markdown or json", o.format)}
	}
	var before, after diff.Side
	var v diffView
	var err error
	if o.base == "" {
		before, after, v, err = o.againstDisk()
	} else {
		before, after, v, err = o.againstBase()
	}
	red := diff.NewRedactor(before, after)
	if err != nil {
		return o.trouble(red, err)
	}
	v.color = o.format == "text" && useColor(o.IO)
	v.full = o.command()

	r := diff.Compare(before, after)
	r.Redact(red)
	var buf bytes.Buffer
	if err := format(&buf, r, v); err != nil {
		return o.trouble(red, err)
	}
	if _, err := o.Stdout.Write(buf.Bytes()); err != nil {
		return o.trouble(red, err)
	}
	if !r.Empty() {
		return exitError{exitFailed}
	}
	return nil
}

// trouble reports err (each error, if it joins several) through the one
// error printer, with any known secret redacted, and fails with exit
// status 2 as diff(1) does.
func (o *diffOptions) trouble(red *diff.Redactor, err error) error {
	errs := []error{err}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		errs = j.Unwrap()
	}
	var buf bytes.Buffer
	io := o.IO
	io.Stderr = &buf
	for _, err := range errs {
		var be *baseError
		if errors.As(err, &be) {
			fmt.Fprintf(&buf, "fleetc: base %s does not compile:\n", be.ref)
			err = be.err
		}
		report(io, nil, err)
	}
	fmt.Fprint(o.Stderr, red.Redact(buf.String()))
	return exitError{exitTrouble}
}

// againstDisk compares the output fleetc owns on disk with a compile of
// the working tree.
func (o *diffOptions) againstDisk() (before, after diff.Side, v diffView, err error) {
	p, err := buildPlan(o.IO, o.platformFlags)
	if err != nil {
		// The output on disk still tells the redactor what is secret, in
		// case an error message quotes it.
		for _, dir := range o.outputDirs() {
			files, _, _ := readOutput(dir, nil)
			before.Files = append(before.Files, files...)
		}
		return before, after, v, err
	}
	after = diff.Side{Files: p.files, Outputs: p.outputs}
	files, _, err := readOutput(p.outDir, p.scope)
	if err != nil {
		return before, after, v, err
	}
	before = diff.Side{Files: files}
	if p.scope != nil {
		// Out of scope, but they say whether a deleted Application keeps
		// its resources.
		if before.Fleet, _, err = readOutput(p.outDir, isAppSet); err != nil {
			return before, after, v, err
		}
	}
	out := displayPath(o.Cwd, p.outDir)
	v.before, v.after = out, "a compile of the working tree"
	return before, after, v, nil
}

// dir is the directory the flags name inside the platform.
func (f platformFlags) dir(cwd string) string {
	switch {
	case f.root == "":
		return cwd
	case filepath.IsAbs(f.root):
		return f.root
	}
	return filepath.Join(cwd, f.root)
}

// outputDirs finds the output directories of a platform that may not
// compile: --out, or else every directory below the module root that
// holds a ledger.
func (o *diffOptions) outputDirs() []string {
	if o.out != "" {
		if filepath.IsAbs(o.out) {
			return []string{o.out}
		}
		return []string{filepath.Join(o.Cwd, o.out)}
	}
	root, err := load.FindRoot(o.dir(o.Cwd))
	if err != nil {
		return nil
	}
	var dirs []string
	const maxDepth = 4
	_ = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if d.IsDir() {
			if rel, _ := filepath.Rel(root, p); strings.Count(rel, string(filepath.Separator)) >= maxDepth || d.Name() == ".git" || d.Name() == path.Dir(load.ModuleFile) {
				return filepath.SkipDir
			}
			return nil
		}
		if d.Name() == output.LedgerName {
			dirs = append(dirs, filepath.Dir(p))
		}
		return nil
	})
	return dirs
}

// againstBase compares a compile of the platform at the base ref with a
// compile of the working tree; the two run at once.
func (o *diffOptions) againstBase() (before, after diff.Side, v diffView, err error) {
	// Both sides compile every cluster, so that --cluster can name one
	// that only one side has; the report is cut down afterwards.
	flags := o.platformFlags
	flags.clusters = nil
	ref, refErr := o.resolveBase(o.dir(o.Cwd))
	l, loadErr := loadPlatform(o.IO, flags)
	if refErr == nil && loadErr == nil && o.unchangedSince(l, ref) {
		// The same fleetc compiles the same inputs on both sides.
		v.before, v.after, v.baseCommit = o.base, "the working tree", ref.commit
		return before, after, v, nil
	}
	var work, base *plan
	var workErr, baseErr error
	var commit string
	var wg sync.WaitGroup
	var crash crashed
	wg.Go(func() {
		defer crash.catch()
		if workErr = loadErr; loadErr == nil {
			work, workErr = l.plan(o.IO, flags)
		}
	})
	wg.Go(func() {
		defer crash.catch()
		if baseErr = refErr; refErr == nil {
			base, commit, baseErr = o.compileAt(ref)
		}
	})
	wg.Wait()
	crash.raise()
	names := o.clusters
	if work != nil && base != nil && len(names) > 0 {
		names = withRenamed(names, diff.Renames(diff.Side{Files: base.files}, diff.Side{Files: work.files}))
	}
	if work != nil {
		after = side(work, names)
	}
	if base != nil {
		before = side(base, names)
	}
	if err := errors.Join(baseErr, workErr); err != nil {
		return before, after, v, err
	}
	v.before, v.after, v.baseCommit = o.base, "the working tree", commit
	return before, after, v, nil
}

// withRenamed adds to names the other name of each renamed cluster that
// one of its names is in: a rename needs both to be told.
func withRenamed(names []string, renames []diff.Rename) []string {
	out := slices.Clone(names)
	for _, r := range renames {
		switch {
		case slices.Contains(names, r.From) && !slices.Contains(out, r.To):
			out = append(out, r.To)
		case slices.Contains(names, r.To) && !slices.Contains(out, r.From):
			out = append(out, r.From)
		}
	}
	return out
}

// side is what a plan gives diff, cut down to the named clusters (all
// if none is named).
func side(p *plan, names []string) diff.Side {
	s := diff.Side{Files: p.files, Outputs: p.outputs}
	if len(names) == 0 {
		return s
	}
	for _, f := range p.files {
		if isAppSet(f.Path) {
			s.Fleet = append(s.Fleet, f)
		}
	}
	s.Files = slices.DeleteFunc(slices.Clone(s.Files), func(f render.File) bool {
		return !slices.ContainsFunc(names, func(c string) bool { return render.OwnedBy(c, f.Path) })
	})
	s.Outputs = slices.DeleteFunc(slices.Clone(s.Outputs), func(out *render.Output) bool { return !slices.Contains(names, out.Cluster) })
	return s
}

// isAppSet reports whether an output path is a generated ApplicationSet.
func isAppSet(p string) bool { return render.IsAppSetPath(p) }

// baseError is a base that does not compile.
type baseError struct {
	ref string
	err error
}

func (e *baseError) Error() string { return fmt.Sprintf("base %s does not compile: %v", e.ref, e.err) }
func (e *baseError) Unwrap() error { return e.err }

// compileAt compiles the platform in dir as it is at the base ref: the
// ref's sources, from git archive, in a temporary directory that is removed
// afterwards, through the same cluster cache as the working tree (keys
// hold no absolute path), so that what did not change is not evaluated
// again. The user's checkout is never touched.
func (o *diffOptions) compileAt(ref baseRef) (*plan, string, error) {
	tmp, err := os.MkdirTemp("", "fleetc-base-")
	if err != nil {
		return nil, "", err
	}
	defer os.RemoveAll(tmp)
	// The loader reports real paths; relabel must recognise them.
	if real, err := filepath.EvalSymlinks(tmp); err == nil {
		tmp = real
	}
	root := platformFlags{root: filepath.Join(tmp, ref.rel)}
	l, err := archiveSources(o.IO, ref.top, ref.commit, ref.rel, tmp)
	if err != nil {
		return nil, "", fmt.Errorf("read %s from git: %w", o.base, err)
	}
	var p *plan
	if l != nil {
		p, err = l.plan(o.IO, root)
	} else {
		p, err = buildPlan(o.IO, root)
	}
	if err != nil {
		return nil, ref.commit, relabel(err, tmp, o.base)
	}
	return p, ref.commit, nil
}

// baseRef is the commit --base names and where the platform is in it.
type baseRef struct {
	top    string // the top of the git repository
	commit string
	rel    string // the platform's directory, relative to top
}

// resolveBase finds the commit of --base in the repository of dir.
func (o *diffOptions) resolveBase(dir string) (baseRef, error) {
	top, err := git(dir, "rev-parse", "--show-toplevel")
	if err != nil {
		return baseRef{}, fmt.Errorf("--base needs a git repository: %w", err)
	}
	commit, err := git(top, "rev-parse", "--verify", "--quiet", "--end-of-options", o.base+"^{commit}")
	if err != nil {
		return baseRef{}, fmt.Errorf("--base %s: no such commit in %s", o.base, displayPath(o.Cwd, top))
	}
	rel, err := relReal(top, dir)
	if err != nil {
		return baseRef{}, err
	}
	return baseRef{top: top, commit: commit, rel: rel}, nil
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
		return &baseError{ref: ref, err: out}
	}
	return &baseError{ref: ref, err: errors.New(strings.ReplaceAll(err.Error(), tmp+string(filepath.Separator), ref+":"))}
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

// unchangedSince reports whether the working tree's inputs are those of
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
func (o *diffOptions) unchangedSince(l *loaded, ref baseRef) bool {
	if l.cc.cache == nil {
		return false
	}
	var last outputEntry
	data, ok := l.cc.cache.Get("output", cache.PathKey(l.outDir))
	if !ok {
		return false
	}
	if _, err := last.decodeHead(data); err != nil || last.Key == (cache.Key{}) {
		return false
	}
	if hw, ok := l.handwrittenKey(); !ok || l.cc.fleetKey(l.p, l.outDir, hw) != last.Key {
		return false
	}
	p, s, top, commit := l.p, l.settings, ref.top, ref.commit
	realTop, err := filepath.EvalSymlinks(top)
	if err != nil {
		return false
	}
	rel := func(path string) (string, bool) {
		r, err := filepath.Rel(realTop, path)
		return filepath.ToSlash(r), err == nil && filepath.IsLocal(r)
	}
	module, ok1 := rel(p.Root)
	out, ok2 := rel(filepath.Join(p.Root, s.Output))
	hw, ok3 := rel(filepath.Join(p.Root, s.ApplicationSets.Handwritten))
	if !ok1 || !ok2 || !ok3 {
		return false
	}
	under := func(path, dir string) bool { return dir == "." || path == dir || strings.HasPrefix(path, dir+"/") }
	reads := func(path string) bool {
		return under(path, module) && !under(path, out) &&
			(strings.HasSuffix(path, ".cue") || under(path, pathJoin(module, "cue.mod")) || under(path, hw))
	}
	// At the ref: path -> blob hash.
	list, err := git(top, "ls-tree", "-r", "-z", "--full-tree", commit)
	if err != nil {
		return false
	}
	atRef := map[string]string{}
	for _, entry := range strings.Split(list, "\x00") {
		meta, path, found := strings.Cut(entry, "\t")
		if fields := strings.Fields(meta); found && len(fields) == 3 && reads(path) {
			atRef[path] = fields[2]
		}
	}
	// In the working tree, the same.
	same := true
	seen := 0
	walkErr := filepath.WalkDir(p.Root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		r, ok := rel(path)
		if !ok && path != p.Root {
			return errors.New("outside the repository")
		}
		if d.IsDir() {
			if d.Name() == ".git" || r == out {
				return filepath.SkipDir
			}
			return nil
		}
		if !reads(r) {
			return nil
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		seen++
		if atRef[r] != blobHash(data) {
			same = false
			return filepath.SkipAll
		}
		return nil
	})
	if walkErr != nil || !same || seen != len(atRef) {
		return false
	}
	return true
}

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
// embeds). It returns the platform as loaded from the CUE files, for the
// compile to go on from (nil if it does not load: then the rest comes
// whole, so that the compile reports what is wrong at commit).
func archiveSources(io IO, top, commit, rel, dir string) (*loaded, error) {
	if err := archive(top, commit, dir, cueSpecs...); err != nil {
		// No CUE file at commit: the compile will say what is missing.
		return nil, archive(top, commit, dir)
	}
	rest := []string{"."}
	for _, s := range cueSpecs {
		rest = append(rest, ":(exclude,"+strings.TrimPrefix(s, ":("))
	}
	l, err := loadPlatform(io, platformFlags{root: filepath.Join(dir, rel)})
	if err == nil {
		out, err := filepath.Rel(dir, filepath.Join(l.p.Root, l.settings.Output))
		if err == nil && filepath.IsLocal(out) {
			rest = append(rest, ":(exclude,literal)"+filepath.ToSlash(out))
		}
	} else {
		l = nil
	}
	return l, archive(top, commit, dir, rest...)
}

// archive writes the files of commit in the repository top that the
// pathspecs name (all of them without any) into dir.
func archive(top, commit, dir string, pathspecs ...string) error {
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
	xerr := untar(pipe, dir)
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
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		name := filepath.FromSlash(path.Clean(h.Name))
		switch h.Typeflag {
		case tar.TypeDir:
			err = root.MkdirAll(name, 0o755)
		case tar.TypeReg:
			if err = root.MkdirAll(filepath.Dir(name), 0o755); err == nil {
				err = writeFrom(root, name, tr, fs.FileMode(h.Mode)&0o755|0o600)
			}
		case tar.TypeSymlink:
			if err = root.MkdirAll(filepath.Dir(name), 0o755); err == nil {
				err = root.Symlink(h.Linkname, name)
			}
		}
		if err != nil {
			return err
		}
	}
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

// readOutput reads the files fleetc owns under outDir (in scope, if
// given), as its ledger lists them; a listed file that is gone is left
// out.
func readOutput(outDir string, scope func(string) bool) ([]render.File, output.Ledger, error) {
	ledger, err := output.ReadLedger(outDir)
	if err != nil || len(ledger) == 0 {
		return nil, ledger, err
	}
	root, err := os.OpenRoot(outDir)
	if err != nil {
		return nil, nil, fmt.Errorf("read output: %w", err)
	}
	defer root.Close()
	var files []render.File
	for _, p := range ledger.Paths() {
		if scope != nil && !scope(p) {
			continue
		}
		data, err := root.ReadFile(filepath.FromSlash(p))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, nil, fmt.Errorf("read output: %w", err)
		}
		files = append(files, render.File{Path: p, Data: data})
	}
	return files, ledger, nil
}

// checkOutput is compile --check: it lists the files on disk that differ
// from what the plan would write, and fails if there are any. It writes
// nothing.
func checkOutput(io IO, p *plan, compileCmd string) error {
	// What would stop compile stops --check the same way: a file in the
	// way is no stale file that compile would update.
	if err := output.Check(p.outDir, output.Plan{Files: p.files, Scope: p.scope, Display: displayPath(io.Cwd, p.outDir)}); err != nil {
		return err
	}
	files, ledger, err := readOutput(p.outDir, p.scope)
	if err != nil {
		return err
	}
	stale := diff.Changes(files, p.files)
	if ledgerStale(ledger, p) {
		status := diff.Changed
		if _, err := os.Lstat(filepath.Join(p.outDir, output.LedgerName)); errors.Is(err, fs.ErrNotExist) {
			status = diff.Added
		}
		stale = append(stale, diff.Change{Path: output.LedgerName, Status: status})
	}
	out := displayPath(io.Cwd, p.outDir)
	if len(stale) == 0 {
		fmt.Fprintf(io.Stderr, "fleetc: %s is up to date (%d %s, %d files)\n", out, p.clusters, plural(p.clusters, "cluster", "clusters"), len(p.files))
		return nil
	}
	for _, c := range stale {
		fmt.Fprintf(io.Stdout, "%-8s %s\n", c.Status, filepath.Join(out, filepath.FromSlash(c.Path)))
	}
	fmt.Fprintf(io.Stderr, "fleetc: %d %s in %s %s stale; to update, run: %s\n",
		len(stale), plural(len(stale), "file", "files"), out, plural(len(stale), "is", "are"), compileCmd)
	return exitError{exitFailed}
}

// ledgerStale reports whether compiling would rewrite the ledger: whether
// it lists, in scope, other files or other contents than the plan.
func ledgerStale(l output.Ledger, p *plan) bool {
	n := 0
	for path := range l {
		if p.scope == nil || p.scope(path) {
			n++
		}
	}
	if n != len(p.files) {
		return true
	}
	for _, f := range p.files {
		sum := sha256.Sum256(f.Data)
		if l[f.Path] != hex.EncodeToString(sum[:]) {
			return true
		}
	}
	return false
}

// command is the diff command line that shows the whole report, for
// formats that may cut it short.
func (o *diffOptions) command() string {
	var extra []string
	if o.base != "" {
		extra = []string{"--base", o.base}
	}
	return o.platformFlags.commandLine("diff", extra...)
}

// commandLine is the fleetc command line that runs verb on the same
// platform, output and clusters as these flags, for advice in messages.
func (f *platformFlags) commandLine(verb string, extra ...string) string {
	args := append([]string{"fleetc", verb}, extra...)
	if f.root != "" {
		args = append(args, "--root", f.root)
	}
	if f.out != "" {
		args = append(args, "--out", f.out)
	}
	for _, c := range f.clusters {
		args = append(args, "--cluster", c)
	}
	for i, a := range args {
		if a == "" || strings.ContainsAny(a, " \t\n'\"\\$`*?[]{}();&|<>~#!") {
			args[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
	}
	return strings.Join(args, " ")
}

// useColor reports whether text output gets colour: on a terminal, unless
// NO_COLOR is set (https://no-color.org) or the terminal is dumb.
func useColor(io IO) bool {
	if io.Getenv != nil && (io.Getenv("NO_COLOR") != "" || io.Getenv("TERM") == "dumb") {
		return false
	}
	f, ok := io.Stdout.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
