package cli

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/fleetc/fleetc/internal/build"
	"github.com/fleetc/fleetc/internal/diag"
	"github.com/fleetc/fleetc/internal/output"
)

// platformFlags locate the platform and select its clusters; the verbs
// that build share them.
type platformFlags struct {
	root     string
	out      string
	clusters []string
}

func (f *platformFlags) bind(c *cobra.Command) {
	c.Flags().StringVar(&f.root, "root", "", "directory inside the platform's CUE module (default: the working directory)")
	c.Flags().StringVar(&f.out, "out", "", "output directory (default: platform.output of the platform, relative to the module root)")
	nameListVar(c.Flags(), &f.clusters, "cluster", "cluster", "compile only these clusters (repeatable, or a comma-separated list)")
}

type compileOptions struct {
	IO
	platformFlags
	check   bool
	stats   bool
	secrets secretsFlags
}

func newCompileCmd(io IO) *cobra.Command {
	o := &compileOptions{IO: io}
	c := &cobra.Command{
		Use:   "compile",
		Short: "Write every cluster's values files and Argo CD registration",
		Long: `compile evaluates every cluster of the platform against its schema and writes,
into the output directory:

  cluster/<cluster>/<category>/<app>/values.yaml   one per app of each enabled bundle
  argocd/clusters/<cluster>.yaml                   the cluster's Argo CD registration
  .fleetc-ledger                                   the files fleetc owns there

If any cluster is invalid nothing is written. Files fleetc does not own are
never overwritten or deleted; files it owns that are no longer produced (a
removed cluster, a disabled bundle) are removed.

A registration is an ExternalSecret: the credentials stay in the secret
store. With --cluster-secrets=inline, compile also writes each cluster's
Argo CD cluster Secret with its credentials in it, read from the sources
that the @secret attributes of the cluster schema name, into
--secrets-out: a directory outside the git work tree, files mode 0600.`,
		Example: `  # Compile the platform that contains the working directory
  fleetc compile

  # Compile two clusters only, into another directory
  fleetc compile --cluster sandbox-dev --cluster payments-prod --out /tmp/deploy

  # In CI, also write cluster Secrets with credentials from the environment
  fleetc compile --cluster-secrets=inline --secrets-out "$RUNNER_TEMP/secrets"`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(c *cobra.Command, _ []string) error {
			if c.Flags().Changed("out") && strings.TrimSpace(o.out) == "" {
				return usageError{errors.New("--out is empty: want the directory to write into")}
			}
			return o.run()
		},
	}
	o.platformFlags.bind(c)
	c.Flags().BoolVar(&o.check, "check", false, "write nothing; list the files that are stale and exit 1 if there are any")
	c.Flags().BoolVar(&o.stats, "stats", false, "print the time each phase took (load, evaluate, render, checks, write) to stderr")
	o.secrets.bind(c)
	return c
}

func (o *compileOptions) run() error {
	secretsDir, err := o.secrets.dir(o.Cwd, o.dir(o.Cwd), o.check)
	if err != nil {
		return err
	}
	cfg := o.config(o.IO)
	if secretsDir != "" {
		cfg.ReadSecret = readSecret(o.IO)
	}
	b, err := loadPlatform(o.IO, cfg)
	if err != nil {
		return err
	}
	if secretsDir != "" {
		if err := refuseSecretsDir(secretsDir, b.OutDir); err != nil {
			return err
		}
	}
	if o.stats {
		defer printStats(o.Stderr, "", &b.Stats)
	}
	if o.check {
		return o.checkTree(b)
	}
	if n, ok, err := b.Unchanged(); ok || err != nil {
		if err == nil {
			o.done(b, len(b.Sources.Clusters), fmt.Sprintf("0 written, %d unchanged, 0 removed", n))
		}
		return err
	}
	pl, err := b.Plan()
	if err != nil {
		return err
	}
	res, err := b.Write(pl)
	if err != nil {
		return err
	}
	secrets, err := o.writeSecrets(secretsDir, pl)
	if err != nil {
		return err
	}
	o.done(b, pl.Clusters, counts(res)+secrets)
	return nil
}

// writeSecrets writes the plan's inline cluster Secrets into dir, if
// there is one, and says what it did, for the line that ends the compile.
func (o *compileOptions) writeSecrets(dir string, pl *build.Plan) (string, error) {
	if dir == "" {
		return "", nil
	}
	shown := diag.DisplayPath(o.Cwd, dir)
	res, err := output.Write(dir, output.Plan{Files: pl.Secrets, Scope: pl.SecretScope, Private: true, Display: shown})
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("; cluster Secrets into %s: %s", shown, counts(res)), nil
}

// done is the line that ends a compile that wrote.
func (o *compileOptions) done(b *build.Platform, clusters int, what string) {
	fmt.Fprintf(o.Stderr, "fleetc: compiled %d %s into %s: %s (%s)\n", clusters, plural(clusters, "cluster", "clusters"),
		b.Display(), what, b.Stats.Total().Round(time.Millisecond))
}

func counts(res output.Result) string {
	return fmt.Sprintf("%d written, %d unchanged, %d removed", len(res.Written), len(res.Unchanged), len(res.Removed))
}

// checkTree is compile --check: it lists the files on disk that differ
// from what the plan would write, and fails if there are any. It writes
// nothing.
func (o *compileOptions) checkTree(b *build.Platform) error {
	pl, err := b.Plan()
	if err != nil {
		return err
	}
	// What would stop compile stops --check the same way: a file in the
	// way is no stale file that compile would update.
	if err := output.Check(pl.OutDir, output.Plan{Files: pl.Files, Scope: pl.Scope, Display: b.Display()}); err != nil {
		return err
	}
	c, err := b.Compare(pl)
	if err != nil {
		return err
	}
	out := b.Display()
	if len(c.Stale) == 0 {
		fmt.Fprintf(o.Stderr, "fleetc: %s is up to date (%d %s, %d files)\n", out, pl.Clusters, plural(pl.Clusters, "cluster", "clusters"), len(pl.Files))
		return nil
	}
	for _, c := range c.Stale {
		fmt.Fprintf(o.Stdout, "%-8s %s\n", c.Status, filepath.Join(out, filepath.FromSlash(c.Path)))
	}
	fmt.Fprintf(o.Stderr, "fleetc: %d %s in %s %s stale; to update, run: %s\n",
		len(c.Stale), plural(len(c.Stale), "file", "files"), out, plural(len(c.Stale), "is", "are"), o.commandLine("compile"))
	return exitError{exitFailed}
}

// config is what the flags say to build.
func (f *platformFlags) config(io IO) build.Config {
	return build.Config{Dir: f.dir(io.Cwd), Out: f.out, Cwd: io.Cwd, Clusters: f.clusters, Getenv: io.Getenv,
		Progress: newProgress(io, "compiling clusters").fn()}
}

// loadPlatform is the first step of every verb that builds: it loads the
// platform and refuses what the flags ask of it that it cannot do (an
// --out fleetc cannot own, --cluster names it does not have) before
// anything is compiled.
func loadPlatform(io IO, cfg build.Config) (*build.Platform, error) {
	b, err := build.Load(cfg)
	if err != nil {
		return nil, err
	}
	if msg := b.OutProblem(); msg != "" {
		return nil, usageError{fmt.Errorf("--out %s: %s", cfg.Out, msg)}
	}
	if msgs := unknownNames("--cluster", "cluster", cfg.Clusters, b.ClusterNames()); len(msgs) > 0 {
		return nil, usageError{errors.New(strings.Join(msgs, "\n"))}
	}
	return b, nil
}
