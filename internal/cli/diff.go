package cli

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/fleetc/fleetc/internal/build"
	"github.com/fleetc/fleetc/internal/diff"
	"github.com/fleetc/fleetc/internal/fan"
	"github.com/fleetc/fleetc/internal/load"
	"github.com/fleetc/fleetc/internal/output"
	"github.com/fleetc/fleetc/internal/render"
)

type diffOptions struct {
	IO
	platformFlags
	base   string
	format string
	stats  bool
	cmd    *cobra.Command // for the usage errors trouble reports
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
		RunE: func(c *cobra.Command, _ []string) error { o.cmd = c; return o.run() },
	}
	o.platformFlags.bind(c)
	c.Flags().StringVar(&o.base, "base", "", "compare with the platform as it is at this git `ref` (such as origin/main) instead of the output on disk")
	c.Flags().StringVar(&o.format, "format", "text", "output `format`: text, markdown or json")
	c.Flags().BoolVar(&o.stats, "stats", false, "print the time each phase took to stderr, for each side")
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
		var re *build.RefError
		if errors.As(err, &re) {
			fmt.Fprintf(&buf, "fleetc: base %s does not compile:\n", re.Ref)
			err = re.Err
		}
		report(io, o.cmd, err)
	}
	fmt.Fprint(o.Stderr, red.Redact(buf.String()))
	return exitError{exitTrouble}
}

// againstDisk compares the output fleetc owns on disk with a compile of
// the working tree.
func (o *diffOptions) againstDisk() (before, after diff.Side, v diffView, err error) {
	b, err := loadPlatform(o.IO, o.config(o.IO))
	var pl *build.Plan
	if err == nil {
		if o.stats {
			defer printStats(o.Stderr, "", &b.Stats)
		}
		pl, err = b.Plan()
	}
	if err != nil {
		// The output on disk still tells the redactor what is secret, in
		// case an error message quotes it.
		for _, dir := range o.outputDirs() {
			files, _ := build.ReadOwned(dir, nil)
			before.Files = append(before.Files, files...)
		}
		return before, after, v, err
	}
	after = diff.Side{Files: pl.Files, Outputs: pl.Outputs}
	c, err := b.Compare(pl)
	if err != nil {
		return before, after, v, err
	}
	before = diff.Side{Files: c.Before, Fleet: c.Fleet}
	v.before, v.after = b.Display(), "a compile of the working tree"
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
	cfg := flags.config(o.IO)
	ref, refErr := build.ResolveRef(o.dir(o.Cwd), o.base, o.Cwd)
	work, workErr := loadPlatform(o.IO, cfg)
	v.before, v.after, v.baseCommit = o.base, "the working tree", ref.Commit
	if refErr == nil && workErr == nil && work.SameAt(ref) {
		// The same fleetc compiles the same inputs on both sides.
		if err := o.checkClusters(work.ClusterNames()); err != nil {
			return before, after, v, err
		}
		if o.stats {
			fmt.Fprintf(o.Stderr, "fleetc: stats\n  the inputs are those at %s, compiled before: nothing compiled (%s)\n", o.base, seconds(work.Stats.Total()))
		}
		return before, after, v, nil
	}
	var workPlan, basePlan *build.Plan
	var base *build.Platform
	var baseErr error
	var g fan.Group
	g.Go("compile the working tree", func() {
		if workErr == nil {
			workPlan, workErr = work.Plan()
		}
	})
	g.Go("compile "+o.base, func() {
		if baseErr = refErr; refErr == nil {
			baseCfg := cfg
			baseCfg.Progress = nil // one progress line: the working tree's
			base, basePlan, baseErr = build.AtRef(baseCfg, ref)
		}
	})
	g.Wait()
	if o.stats {
		if work != nil {
			printStats(o.Stderr, " (the working tree)", &work.Stats)
		}
		if base != nil {
			printStats(o.Stderr, " ("+o.base+")", &base.Stats)
		}
	}
	if workPlan != nil && basePlan != nil {
		// A name either side has.
		if err := o.checkClusters(append(work.ClusterNames(), clustersOf(basePlan)...)); err != nil {
			return before, after, v, err
		}
	}
	names := o.clusters
	if workPlan != nil && basePlan != nil && len(names) > 0 {
		names = withRenamed(names, diff.Renames(diff.Side{Files: basePlan.Files}, diff.Side{Files: workPlan.Files}))
	}
	if workPlan != nil {
		after = side(workPlan, names)
	}
	if basePlan != nil {
		before = side(basePlan, names)
	}
	return before, after, v, errors.Join(baseErr, workErr)
}

// checkClusters makes --cluster names that are not among known a usage
// error that names the nearest one.
func (o *diffOptions) checkClusters(known []string) error {
	slices.Sort(known)
	if msgs := unknownNames("--cluster", "cluster", o.clusters, slices.Compact(known)); len(msgs) > 0 {
		return usageError{errors.New(strings.Join(msgs, "\n"))}
	}
	return nil
}

// clustersOf is the names of the clusters a plan compiled.
func clustersOf(pl *build.Plan) []string {
	names := make([]string, len(pl.Outputs))
	for i, o := range pl.Outputs {
		names[i] = o.Cluster
	}
	return names
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
func side(p *build.Plan, names []string) diff.Side {
	s := diff.Side{Files: p.Files, Outputs: p.Outputs}
	if len(names) == 0 {
		return s
	}
	for _, f := range p.Files {
		if render.IsAppSetPath(f.Path) {
			s.Fleet = append(s.Fleet, f)
		}
	}
	s.Files = slices.DeleteFunc(slices.Clone(s.Files), func(f render.File) bool {
		return !slices.ContainsFunc(names, func(c string) bool { return render.OwnedBy(c, f.Path) })
	})
	s.Outputs = slices.DeleteFunc(slices.Clone(s.Outputs), func(out *render.Output) bool { return !slices.Contains(names, out.Cluster) })
	return s
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
