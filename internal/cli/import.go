package cli

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/fleetc/fleetc/internal/diag"
	"github.com/fleetc/fleetc/internal/importer"
	"github.com/fleetc/fleetc/internal/load"
	"github.com/fleetc/fleetc/internal/output"
)

type importOptions struct {
	IO
	root     string
	selector string
	force    bool
	// renames are the names to import clusters under (import argocd
	// --rename OLD=NEW).
	renames map[string]string
}

// importFunc reads one kind of input into clusters.
type importFunc func(data []byte, sel labels.Selector, voc importer.Vocabulary) (*importer.Result, error)

func newImportCmd(io IO) *cobra.Command {
	o := &importOptions{IO: io}
	c := &cobra.Command{
		Use:   "import",
		Short: "Write cluster files for clusters that exist already",
		Long: `import writes one cluster file, clusters/<name>.cue, for each cluster that
kubectl lists: TanzuKubernetesClusters (import tkc) or the cluster Secrets of
an Argo CD that ` + "`argocd cluster add`" + ` filled (import argocd).

A cluster's env and bundles come from its labels (env=<env>, <bundle>=enabled);
its other labels are kept when platform.labels lists them. A label the platform
has no place for is reported and left out, and named in a comment of the file.
Existing files are not overwritten unless --force is given: without it,
nothing is written if any of them exists.

Compiling the imported clusters yields registrations with the labels,
annotations, name and server of the Secrets that ` + "`argocd cluster add`" + ` made, under
the same Secret name, so applying them takes those Secrets over in place.

Exit status: 0 when every selected object was imported whole; 1 when anything
was reported (the clusters that could be imported are written all the same) or
on error; 2 on a usage error.`,
		Example: `  # The dev clusters of every vSphere namespace, as the old script chose them
  kubectl get tkc -A -o json | fleetc import tkc --selector env=dev

  # Every cluster the hub's Argo CD knows, from a file
  kubectl -n argocd get secrets -l argocd.argoproj.io/secret-type=cluster -o json > secrets.json
  fleetc import argocd secrets.json`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(*cobra.Command, []string) error {
			return usageError{errors.New("say what to import: fleetc import tkc, fleetc import argocd or fleetc import values")}
		},
	}
	c.PersistentFlags().StringVar(&o.root, "root", "", "directory inside the platform's CUE module (default: the working directory)")
	c.PersistentFlags().StringVarP(&o.selector, "selector", "l", "", "import only the objects whose labels match this `selector`, as kubectl -l takes it (env=dev, env in (dev,staging))")
	c.PersistentFlags().BoolVar(&o.force, "force", false, "overwrite cluster files that exist")
	argocdCmd := o.kindCmd("argocd [FILE|-]", "Write cluster files for the clusters of an Argo CD",
		`argocd reads the output of
`+"`kubectl get secrets -l argocd.argoproj.io/secret-type=cluster -o json`"+` from
FILE, or from stdin when FILE is - or left out, and writes a cluster file for
each cluster Secret the selector matches: its name and server, its labels and
annotations, and its project, namespaces and clusterResources. Its credentials
(the Secret's config) are never read: put each cluster's bearer token and CA in
the secret store that platform.secretStore names before applying the
registrations.

A cluster whose name is not a valid cluster name (a DNS-1123 label; a
kubeconfig context such as kubernetes-admin@Dev_Cluster.2 is not) is imported
under a name derived from it (kubernetes-admin-dev-cluster-2), reported, or
under the name --rename gives. A namespace-scoped cluster (a Secret with
namespaces) gets the namespaces its apps deploy to added, reported, so that it
compiles.`,
		`  kubectl -n argocd get secrets -l argocd.argoproj.io/secret-type=cluster -o json |
    fleetc import argocd --selector env=prod`,
		func(data []byte, sel labels.Selector, voc importer.Vocabulary) (*importer.Result, error) {
			return importer.ArgoCDSecretsRenamed(data, sel, voc, o.renames)
		})
	argocdCmd.Flags().StringToStringVar(&o.renames, "rename", nil, "import the cluster named `OLD` in its Secret as NEW (OLD=NEW; repeat, or separate with commas)")
	c.AddCommand(
		o.kindCmd("tkc [FILE|-]", "Write cluster files for TanzuKubernetesClusters",
			`tkc reads the output of `+"`kubectl get tkc -A -o json`"+` from FILE, or from stdin
when FILE is - or left out, and writes a cluster file for each cluster the
selector matches. Its server is https://<host>:<port> of the first API endpoint
in its status; a cluster without one (not provisioned yet) is reported.`,
			`  kubectl get tkc -A -o json | fleetc import tkc --selector env=dev
  fleetc import tkc --selector 'env in (dev,staging)' tkcs.json`,
			importer.TKC),
		argocdCmd,
		o.valuesCmd(),
	)
	return c
}

func (o *importOptions) kindCmd(use, short, long, example string, read importFunc) *cobra.Command {
	return &cobra.Command{
		Use:     use,
		Short:   short,
		Long:    long,
		Example: example,
		Args:    usageArgs(cobra.MaximumNArgs(1)),
		RunE: func(_ *cobra.Command, args []string) error {
			file := "-"
			if len(args) == 1 {
				file = args[0]
			}
			return o.run(file, read)
		},
	}
}

func (o *importOptions) run(file string, read importFunc) error {
	sel, err := importer.ParseSelector(o.selector)
	if err != nil {
		return usageError{fmt.Errorf("--selector: %w", err)}
	}
	data, err := o.input(file)
	if err != nil {
		return err
	}
	p, err := load.Load(load.Config{Dir: rootDir(o.Cwd, o.root), AllowEmpty: true})
	if err != nil {
		return err
	}
	voc, err := importer.ReadVocabulary(p)
	if err != nil {
		return err
	}
	res, err := read(data, sel, voc)
	if err != nil {
		return fmt.Errorf("read %s: %w", displayInput(file), err)
	}
	for _, pr := range res.Problems {
		fmt.Fprintf(o.Stderr, "fleetc: %s\n", pr)
	}
	if len(res.Clusters) == 0 {
		n, rest := o.counts(res)
		return fmt.Errorf("no cluster to import: %s %s imported%s", n, res.Objects, rest)
	}

	dir := filepath.Join(p.Root, load.ClustersDir)
	files := make([][]byte, len(res.Clusters))
	var exist []string
	for i, c := range res.Clusters {
		if files[i], err = importer.File(c); err != nil {
			return fmt.Errorf("format cluster %q: %w", c.Name, err)
		}
		path := filepath.Join(dir, c.Name+".cue")
		if _, err := os.Lstat(path); err == nil && !o.force {
			exist = append(exist, diag.DisplayPath(o.Cwd, path))
		}
	}
	if len(exist) > 0 {
		return fmt.Errorf("%s already %s: nothing written; give --force to overwrite, or --selector to leave %s out",
			strings.Join(exist, ", "), plural(len(exist), "exists", "exist"), plural(len(exist), "it", "them"))
	}
	for i, c := range res.Clusters {
		path := filepath.Join(dir, c.Name+".cue")
		if err := output.WriteSource(path, files[i], o.force); err != nil {
			return err
		}
		fmt.Fprintln(o.Stdout, filepath.ToSlash(diag.DisplayPath(o.Cwd, path)))
	}
	n, rest := o.counts(res)
	fmt.Fprintf(o.Stderr, "fleetc: imported %s %s into %s/%s\n", n, res.Objects, filepath.ToSlash(diag.DisplayPath(o.Cwd, dir)), rest)
	if len(res.Problems) > 0 {
		return exitError{exitFailed}
	}
	return nil
}

// counts says how many of the objects of the input the import wrote, and
// what became of the others.
func (o *importOptions) counts(res *importer.Result) (string, string) {
	var skipped int
	for _, p := range res.Problems {
		if p.Skipped {
			skipped++
		}
	}
	var parts []string
	if res.Unselected > 0 {
		parts = append(parts, fmt.Sprintf("%d not matching %s", res.Unselected, o.selector))
	}
	if skipped > 0 {
		parts = append(parts, fmt.Sprintf("%d not imported", skipped))
	}
	total := len(res.Clusters) + res.Unselected + skipped
	var rest string
	if len(parts) > 0 {
		rest = " (" + strings.Join(parts, ", ") + ")"
	}
	return fmt.Sprintf("%d of %d", len(res.Clusters), total), rest
}

// input reads file, or stdin for "-".
func (o *importOptions) input(file string) ([]byte, error) {
	if file == "-" {
		if o.Stdin == nil {
			return nil, errors.New("read stdin: no input")
		}
		return io.ReadAll(o.Stdin)
	}
	if !filepath.IsAbs(file) {
		file = filepath.Join(o.Cwd, file)
	}
	data, err := os.ReadFile(file)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("read %s: no such file", diag.DisplayPath(o.Cwd, file))
	}
	return data, err
}

func displayInput(file string) string {
	if file == "-" {
		return "stdin"
	}
	return file
}
