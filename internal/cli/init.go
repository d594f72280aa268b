package cli

import (
	"errors"
	"fmt"
	"path/filepath"
	"runtime/debug"

	"github.com/spf13/cobra"

	"github.com/fleetc/fleetc"
	"github.com/fleetc/fleetc/internal/output"
	"github.com/fleetc/fleetc/internal/scaffold"
)

type initOptions struct {
	IO
	module, valuesRepo, catalogRepo, secretStore string
}

func newInitCmd(io IO) *cobra.Command {
	o := &initOptions{IO: io}
	c := &cobra.Command{
		Use:   "init [DIR] --module PATH",
		Short: "Start a platform repository from the reference platform",
		Long: `init writes a new platform repository into DIR (default: the working
directory): the reference platform that fleetc carries (cue.mod with the module
path --module, defs/, the shared file clusters/platform.cue, one example
cluster, ` + fleetc.ExampleCluster + `, and argocd/handwritten/), a GitHub Actions workflow
that runs vet and compile --check on every push and posts diff on every pull
request, a .gitignore and a README.

--module is the CUE module path, as cue mod init takes it
(example.com/platform@v0); the imports of the module's own packages follow it.
--values-repo, --catalog-repo and --secret-store replace the reference
platform's platform.repos and platform.secretStore.name in defs/platform.cue
(and the repositories the hand-written ApplicationSets name); left out, the
reference platform's stay, to be edited there.

DIR must be empty but for a .git directory, or not exist: init never writes
over anything, and writes nothing when it refuses. Exit status: 0 when the
repository was written, 1 on error, 2 on a usage error (a DIR that holds
anything, a missing or invalid --module, an invalid repository or store).`,
		Example: `  git init my-platform && cd my-platform
  fleetc init --module example.com/platform@v0 \
    --values-repo git@git.example.com:platform/values.git \
    --catalog-repo https://git.example.com/platform/catalog.git \
    --secret-store vault
  fleetc compile`,
		Args: usageArgs(cobra.MaximumNArgs(1)),
		RunE: func(_ *cobra.Command, args []string) error {
			dir := "."
			if len(args) == 1 {
				dir = args[0]
			}
			return o.run(dir)
		},
	}
	f := c.Flags()
	f.StringVar(&o.module, "module", "", "the CUE module `path` of the new platform, such as example.com/platform@v0 (required)")
	f.StringVar(&o.valuesRepo, "values-repo", "", "the `URL` of the values repository, platform.repos.values")
	f.StringVar(&o.catalogRepo, "catalog-repo", "", "the `URL` of the chart catalog repository, platform.repos.catalog")
	f.StringVar(&o.secretStore, "secret-store", "", "the `name` of the External Secrets store the hub reads cluster credentials from, platform.secretStore.name")
	return c
}

func (o *initOptions) run(dir string) error {
	if o.module == "" {
		return usageError{errors.New("--module is required: the CUE module path of the new platform, such as example.com/platform@v0")}
	}
	opts := scaffold.Options{
		Module:      o.module,
		ValuesRepo:  o.valuesRepo,
		CatalogRepo: o.catalogRepo,
		SecretStore: o.secretStore,
		Example:     fleetc.ExampleCluster,
	}
	if err := opts.Check(); err != nil {
		return usageError{err}
	}
	// CI installs this fleetc if it is a release (scaffold.InstallVersion).
	if bi, ok := debug.ReadBuildInfo(); ok {
		opts.Version = bi.Main.Version
	}
	files, err := scaffold.Files(fleetc.Platform(), opts)
	if err != nil {
		return fmt.Errorf("init: %w", err)
	}
	abs := dir
	if !filepath.IsAbs(abs) {
		abs = filepath.Join(o.Cwd, dir)
	}
	err = output.WriteNew(abs, dir, files)
	var ne *output.NotEmptyError
	if errors.As(err, &ne) {
		return usageError{fmt.Errorf("%w: init writes a new platform repository into an empty directory", err)}
	}
	if err != nil {
		return fmt.Errorf("init %s: %w", dir, err)
	}
	fmt.Fprintf(o.Stderr, "fleetc: wrote a platform repository for %s into %s (%d files); compile it with fleetc compile\n", o.module, dir, len(files))
	return nil
}
