package cli

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/spf13/cobra"

	"github.com/fleetc/fleetc/internal/diag"
	"github.com/fleetc/fleetc/internal/importer"
	"github.com/fleetc/fleetc/internal/load"
	"github.com/fleetc/fleetc/internal/output"
)

// valuesOptions are the flags of import values; the persistent flags of
// import (--root, --force) are in importOptions.
type valuesOptions struct {
	*importOptions
	bundles map[string]string
	labels  []string
	partial bool
}

func (o *importOptions) valuesCmd() *cobra.Command {
	v := &valuesOptions{importOptions: o}
	c := &cobra.Command{
		Use:   "values DIR",
		Short: "Write the catalog and cluster settings that reproduce an old templater's values files",
		Long: `values reads the values files an old templater rendered,
DIR/cluster/<cluster>/<category>/<app>/values.yaml (DIR may also be the
cluster/ directory itself), and writes the CUE that makes fleetc compile the
same values: each app's catalog entry in defs/<category>.cue, with literals
for what every cluster has alike, interpolations of the cluster's name, env
settings in platform.envs for what the env decides, and a field of #Cluster
(values.<app>.<setting>, the most common value its default) for what differs,
set in the files of the clusters that differ.

Every cluster with values must have its cluster file (import argocd or tkc
first): its env and bundles come from there, or from --labels. Values files of
apps whose bundle a cluster does not enable are reported as unused and not
reproduced. An app the catalog lacks gets the bundle --bundle names, or the
one bundle that exactly the clusters with its values enable.

Before writing, the result is compiled in memory and every values file is
compared with its input as data; nothing is written unless all are equal, or
--partial is given (then every file that differs is listed, and why). Files
that exist and would change are only rewritten with --force.

Exit status: 0 when every values file is reproduced and written; 1 when a
file differs or is left out (unused, or not a values file), or on error; 2
on a usage error.`,
		Example: `  fleetc import argocd secrets.json
  fleetc import values --force --bundle stakater-reloader=core-basic ../old-values`,
		Args: usageArgs(cobra.ExactArgs(1)),
		RunE: func(_ *cobra.Command, args []string) error { return v.run(args[0]) },
	}
	c.Flags().StringToStringVar(&v.bundles, "bundle", nil, "the `app=bundle` of an app the catalog does not have (repeat, or separate with commas)")
	c.Flags().StringArrayVar(&v.labels, "labels", nil, "the registration labels of a cluster, `name=env=dev,monitoring-basic=enabled`, in place of its file's env and bundles (repeat per cluster)")
	c.Flags().BoolVar(&v.partial, "partial", false, "write even if some values files are not reproduced, and list them")
	return c
}

func (v *valuesOptions) run(dir string) error {
	if v.selector != "" {
		return usageError{fmt.Errorf("--selector does not apply to import values: give --labels or import the clusters first")}
	}
	labels, err := parseClusterLabels(v.labels)
	if err != nil {
		return usageError{err}
	}
	shown := dir
	if !filepath.IsAbs(dir) {
		dir = filepath.Join(v.Cwd, dir)
	}
	tree, err := importer.ReadValuesTree(dir, shown)
	if err != nil {
		return err
	}
	p, err := load.Load(load.Config{Dir: rootDir(v.Cwd, v.root), AllowEmpty: true})
	if err != nil {
		return err
	}
	imp, err := importer.Values(p, tree, importer.ValuesOptions{Bundles: v.bundles, Labels: labels})
	if err != nil {
		return err
	}
	for _, f := range imp.Ignored {
		fmt.Fprintf(v.Stderr, "fleetc: %s/%s: not a values file (%s/<cluster>/<category>/<app>/%s): left out\n", importer.ValuesDir, f, importer.ValuesDir, importer.ValuesFile)
	}
	for _, r := range imp.Renamed {
		fmt.Fprintf(v.Stderr, "fleetc: %s\n", r)
	}
	for _, u := range imp.Unused {
		fmt.Fprintf(v.Stderr, "fleetc: %s: unused, as Argo CD never deployed it: not reproduced\n", u)
	}
	diffs, err := imp.Prove(p.Root)
	if err != nil {
		fmt.Fprintln(v.Stderr, "fleetc: the imported platform does not compile; nothing written")
		return inImported(err, imp.Files, v.Cwd)
	}
	for _, d := range diffs {
		fmt.Fprintf(v.Stderr, "fleetc: %s: not reproduced: %s\n", d.Path, d.Why)
	}
	fmt.Fprintf(v.Stderr, "fleetc: %s\n", imp.Summary())
	if len(diffs) == 0 {
		fmt.Fprintf(v.Stderr, "fleetc: compiled in memory, the platform reproduces all %d values files as data\n", imp.Reproduce())
	} else {
		fmt.Fprintf(v.Stderr, "fleetc: compiled in memory, the platform reproduces %d of %d values files as data\n", imp.Reproduce()-len(diffs), imp.Reproduce())
	}
	if len(diffs) > 0 && !v.partial {
		return fmt.Errorf("%d values %s not reproduced: nothing written; give --partial to write the rest", len(diffs), plural(len(diffs), "file is", "files are"))
	}
	var exist []string
	for _, f := range imp.Files {
		if f.Exists && !v.force {
			exist = append(exist, filepath.ToSlash(diag.DisplayPath(v.Cwd, f.Path)))
		}
	}
	if len(exist) > 0 {
		shown := exist
		if len(shown) > 10 {
			shown = append(shown[:10:10], fmt.Sprintf("and %d more", len(exist)-10))
		}
		return fmt.Errorf("%s would change: nothing written; give --force to rewrite %s", strings.Join(shown, ", "), plural(len(exist), "it", "them"))
	}
	// Thousands of cluster files, each synced before its rename: written
	// a few at a time, listed in order.
	errs := make([]error, len(imp.Files))
	var wg sync.WaitGroup
	const writers = 8
	for w := range writers {
		wg.Go(func() {
			for i := w; i < len(imp.Files); i += writers {
				f := imp.Files[i]
				errs[i] = output.WriteSource(f.Path, f.Data, v.force || f.Exists)
			}
		})
	}
	wg.Wait()
	for i, f := range imp.Files {
		if errs[i] == nil {
			fmt.Fprintln(v.Stdout, filepath.ToSlash(diag.DisplayPath(v.Cwd, f.Path)))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	if len(diffs) > 0 || len(imp.Unused) > 0 || len(imp.Ignored) > 0 {
		return exitError{exitFailed}
	}
	return nil
}

// parseClusterLabels reads --labels: name=key=value,key=value.
func parseClusterLabels(flags []string) (map[string]map[string]string, error) {
	out := map[string]map[string]string{}
	for _, f := range flags {
		name, rest, ok := strings.Cut(f, "=")
		if !ok || name == "" || rest == "" {
			return nil, fmt.Errorf("--labels %s: want name=key=value,key=value", f)
		}
		if _, dup := out[name]; dup {
			return nil, fmt.Errorf("--labels %s: cluster %s is given twice", f, name)
		}
		m := map[string]string{}
		for _, kv := range strings.Split(rest, ",") {
			k, val, ok := strings.Cut(kv, "=")
			if !ok || k == "" {
				return nil, fmt.Errorf("--labels %s: %q is not key=value", f, kv)
			}
			m[k] = val
		}
		out[name] = m
	}
	return out, nil
}

// inImported says, of each problem of err that lies in a file the import
// would write, that the file is the import's (it is not on disk, or not as
// the message reads it); and, of an app whose category the platform does
// not have, what to do about it.
func inImported(err error, files []importer.SourceFile, cwd string) error {
	var dl diag.List
	if !errors.As(err, &dl) {
		return err
	}
	written := map[string]bool{}
	for _, f := range files {
		written[f.Path] = true
	}
	out := make(diag.List, len(dl))
	for i, d := range dl {
		if written[d.Pos.Filename] {
			what := "the file import values would write"
			if _, err := os.Stat(d.Pos.Filename); err != nil {
				what = "a file import values would create"
			}
			d.Message += fmt.Sprintf(" (%s is %s)", filepath.ToSlash(diag.DisplayPath(cwd, d.Pos.Filename)), what)
			if strings.HasSuffix(d.Path, ".category") {
				d.Message += "; the platform has no such category: add it to the pattern of #Category in defs, or move the app's values files under a category it has"
			}
		}
		out[i] = d
	}
	return out
}
