// Package cli is fleetc's command line: one file per verb, each an options
// struct, a constructor that binds flags into it and a run function that
// reads like the pipeline (load, compile, render, then write or diff).
// It is the only package that prints, reads the environment or the clock.
package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/pprof"

	"github.com/spf13/cobra"

	"github.com/fleetc/fleetc/internal/credentials"
	"github.com/fleetc/fleetc/internal/diag"
)

// Exit codes, as diff(1) has them.
const (
	exitOK      = 0
	exitFailed  = 1 // invalid input, or changes found
	exitTrouble = 2 // usage errors (and, for diff, any error)
)

// IO is what a command reads and writes; tests pass their own.
type IO struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	// Getenv reads the environment.
	Getenv func(string) string
	// Cwd is the working directory that paths in messages are relative to.
	Cwd string
	// StderrTerminal says that Stderr is a terminal, where a long compile
	// shows its progress.
	StderrTerminal bool
}

// Main runs fleetc with the process's arguments and returns its exit code.
func Main() int {
	cwd, _ := os.Getwd()
	return Run(os.Args[1:], IO{
		Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, Getenv: os.Getenv, Cwd: cwd,
		StderrTerminal: isTerminal(os.Stderr.Fd()),
	})
}

// Run runs fleetc with args and returns its exit code. The root command is
// built anew on every call, so nothing leaks between runs.
func Run(args []string, io IO) (code int) {
	defer func() {
		// A crash prints one short line, never a Go stack, and fails.
		if r := recover(); r != nil {
			fmt.Fprintf(io.Stderr, "fleetc: internal error: %v\nplease report this with the command you ran\n", r)
			code = exitTrouble
		}
	}()
	root := newRoot(io)
	root.SetArgs(args)
	cmd, err := root.ExecuteC()
	if err != nil {
		// cobra skips the post-run hooks of a command that failed, and
		// diff fails whenever it finds changes: the profile is written
		// all the same.
		root.PersistentPostRun(cmd, nil)
	}
	return report(io, cmd, err)
}

func newRoot(io IO) *cobra.Command {
	root := &cobra.Command{
		Use:   "fleetc",
		Short: "Compile a CUE platform into Argo CD values files and cluster registrations",
		Long: `fleetc compiles a platform written in CUE (defs/ for the schema, defaults and
bundle catalog, clusters/ for one file per cluster) into the values files that
Argo CD ApplicationSets read and the registrations that tell Argo CD which
bundles each cluster gets.`,
		SilenceErrors: true,
		SilenceUsage:  true,
	}
	root.SetIn(io.Stdin)
	root.SetOut(io.Stdout)
	root.SetErr(io.Stderr)
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error { return usageError{err} })
	// With Args set, cobra hands an unknown verb to the root rather than
	// failing with a plain error.
	root.Args = func(c *cobra.Command, args []string) error {
		if len(args) > 0 {
			return usageError{fmt.Errorf("unknown command %q", args[0])}
		}
		return nil
	}
	root.RunE = func(c *cobra.Command, args []string) error { return c.Help() }
	// --cpuprofile is for whoever measures fleetc itself, hidden from
	// everyone else.
	var profile string
	var stopProfile func()
	root.PersistentFlags().StringVar(&profile, "cpuprofile", "", "write a CPU profile of the command to `file`")
	root.PersistentFlags().MarkHidden("cpuprofile")
	root.PersistentPreRunE = func(*cobra.Command, []string) error {
		if profile == "" {
			return nil
		}
		f, err := os.Create(profile)
		if err != nil {
			return err
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			f.Close()
			return err
		}
		stopProfile = func() { pprof.StopCPUProfile(); f.Close() }
		return nil
	}
	root.PersistentPostRun = func(*cobra.Command, []string) {
		if stopProfile != nil {
			stopProfile()
			stopProfile = nil
		}
	}
	root.AddCommand(
		newCompileCmd(io),
		newDiffCmd(io),
		newPlacementCmd(io),
		newVersionCmd(io),
		newVetCmd(io),
		newLSPCmd(io),
		newExplainCmd(io),
		newImportCmd(io),
		newInitCmd(io),
	)
	// fleetc --version says what fleetc version says.
	root.Version = version()
	root.SetVersionTemplate("{{.Version}}")
	completeFlags(root, io)
	return root
}

// usageError is a mistake in how fleetc was called: it prints usage and
// exits 2.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

// exitError carries an exit code for a failure that has already been
// reported, or that needs no message (diff found changes).
type exitError struct{ code int }

func (e exitError) Error() string { return fmt.Sprintf("exit %d", e.code) }

// report is fleetc's one error printer. cmd is the command that failed,
// if known: a usage error points at its help.
// Whatever it prints goes through credentials.Scrub: a message may quote
// a value (CUE's do), and no credential is ever shown.
func report(io IO, cmd *cobra.Command, err error) int {
	if err == nil {
		return exitOK
	}
	var ee exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	var ue usageError
	if errors.As(err, &ue) {
		fmt.Fprintf(io.Stderr, "fleetc: %s\n", credentials.Scrub(err.Error()))
		path := "fleetc"
		if cmd != nil {
			path = cmd.CommandPath()
		}
		fmt.Fprintf(io.Stderr, "Run '%s --help' for usage.\n", path)
		return exitTrouble
	}
	var dl diag.List
	if errors.As(err, &dl) {
		for _, d := range dl {
			fmt.Fprintln(io.Stderr, d.Scrubbed().Format(io.Cwd))
		}
		fmt.Fprintf(io.Stderr, "fleetc: %d %s\n", len(dl), plural(len(dl), "error", "errors"))
		return exitFailed
	}
	fmt.Fprintf(io.Stderr, "fleetc: %s\n", credentials.Scrub(err.Error()))
	return exitFailed
}

// usageArgs makes a cobra argument check's failure a usage error.
func usageArgs(check cobra.PositionalArgs) cobra.PositionalArgs {
	return func(c *cobra.Command, args []string) error {
		if err := check(c, args); err != nil {
			return usageError{err}
		}
		return nil
	}
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
