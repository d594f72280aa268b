package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"cuelang.org/go/cue"
	"github.com/spf13/cobra"

	"github.com/fleetc/fleetc/internal/compile"
	"github.com/fleetc/fleetc/internal/explain"
	"github.com/fleetc/fleetc/internal/load"
	"github.com/fleetc/fleetc/internal/render"
)

type explainOptions struct {
	IO
	root   string
	format string
}

func newExplainCmd(io IO) *cobra.Command {
	o := &explainOptions{IO: io}
	c := &cobra.Command{
		Use:   "explain <cluster> <category>/<app> <path>",
		Short: "Show a value of a values file and where it came from",
		Long: `explain prints the value at a path of a cluster's values file for an app, then
where it came from: the expression of the catalog that computes it and, for
every cluster setting, default or platform setting that expression reads, the
line that set it and the default or schema it overrode or unified with.

The app is named as in the values file's path, cluster/<cluster>/<category>/<app>/
(the category may be left out). The path is the YAML path in that file: keys
joined by dots, list items by index, as image.repository, env[0].value or
env.0.value; a key holding a dot or a bracket is written in double quotes,
as datasources."datasources.yaml".apiVersion.

Each line names a kind:

  set       the cluster's own file set it
  default   a default of the schema applied, because the cluster set nothing
  schema    a constraint the value unified with, or a default it overrode
  platform  an expression or setting of the platform (defs/, clusters/platform.cue)

With --format json explain prints {cluster, app, path, value, origins}, each
origin {of, value, kind, file, line, column, expr, note}: "of" names the value
the origin belongs to (the path itself, or a value it reads, such as
cluster.registry) and "value" is that value as CUE.

Files are relative to the working directory. Exit status: 0 on success, 1 if
the platform is invalid or the cluster, app or path does not exist, 2 on a
usage error.`,
		Example: `  # Where does the config-reloader image of the operator come from?
  fleetc explain armored-core-development monitoring/victoria-metrics-operator \
    victoria-metrics-operator.env[0].value

  # A whole map, as JSON
  fleetc explain payments-prod monitoring/grafana grafana.ingress --format json`,
		Args:              usageArgs(cobra.ExactArgs(3)),
		ValidArgsFunction: o.complete,
		RunE:              func(_ *cobra.Command, args []string) error { return o.run(args) },
	}
	c.Flags().StringVar(&o.root, "root", "", "directory inside the platform's CUE module (default: the working directory)")
	c.Flags().StringVar(&o.format, "format", "text", "output `format`: text or json")
	_ = c.RegisterFlagCompletionFunc("format", cobra.FixedCompletions([]string{"text", "json"}, cobra.ShellCompDirectiveNoFileComp))
	return c
}

// explained is what explain finds on the worker that evaluated the
// cluster, as plain data.
type explained struct {
	app   compile.App
	path  string
	yaml  []byte
	json  json.RawMessage
	steps []explain.Step
	// err is an app or path the cluster does not have: a mistake on the
	// command line, not in the cluster's file.
	err error
	// noApp says err is about the app.
	noApp bool
}

func (o *explainOptions) run(args []string) error {
	if o.format != "text" && o.format != "json" {
		return usageError{fmt.Errorf("unknown format %q: want text or json", o.format)}
	}
	cluster, appArg := args[0], args[1]
	path, err := explain.ParsePath(args[2])
	if err != nil {
		return usageError{err}
	}
	p, err := load.Load(load.Config{Dir: rootDir(o.Cwd, o.root)})
	if err != nil {
		return err
	}
	if err := checkCluster(p, cluster); err != nil {
		return err
	}
	res, err := compile.Fleet(p, compile.Options{Clusters: []string{cluster}, Workers: 1}, func(c *compile.Cluster) (*explained, error) {
		// A cluster that compile refuses for a credential is refused
		// here too, whichever part of it is asked for.
		if err := render.Leak(c); err != nil {
			return nil, err
		}
		app, err := findApp(c, appArg)
		if err != nil {
			return &explained{err: err, noApp: true}, nil
		}
		// The only worker evaluated the cluster with p.Shared, so
		// building it again costs nothing.
		e, err := explain.Explain(c, app, path, explain.LoadPackages(c.Value.Context(), p.Shared))
		if err != nil {
			return &explained{err: fmt.Errorf("%s %s: %w", cluster, app.Category+"/"+app.Name, err)}, nil
		}
		out := &explained{app: app, path: e.Path, steps: e.Steps}
		if out.yaml, err = render.YAML(e.Value, ""); err != nil {
			return nil, err
		}
		if out.json, err = e.Value.MarshalJSON(); err != nil {
			return nil, err
		}
		return out, nil
	})
	if err != nil {
		return err
	}
	x := res[0].Value
	if x.noApp {
		if hint := bundleHint(p, cluster, appArg); hint != "" {
			return fmt.Errorf("cluster %q has no app %q: %s", cluster, appArg, hint)
		}
		return x.err
	}
	if x.err != nil {
		return x.err
	}
	if o.format == "json" {
		return o.writeJSON(cluster, x)
	}
	return o.writeText(x)
}

// rootDir is where to look for the platform: --root, relative to the
// working directory, or the working directory.
func rootDir(cwd, root string) string {
	switch {
	case root == "":
		return cwd
	case filepath.IsAbs(root):
		return root
	}
	return filepath.Join(cwd, root)
}

// checkCluster fails, listing the clusters there are, unless the platform
// has the named one.
func checkCluster(p *load.Platform, name string) error {
	names := make([]string, len(p.Clusters))
	for i, c := range p.Clusters {
		names[i] = c.Name
	}
	if !slices.Contains(names, name) {
		return fmt.Errorf("no cluster %q in %s/: the clusters are %s", name, load.ClustersDir, strings.Join(names, ", "))
	}
	return nil
}

// findApp finds the app named <category>/<app>, or <app>, among c's.
func findApp(c *compile.Cluster, arg string) (compile.App, error) {
	category, name, hasCategory := strings.Cut(arg, "/")
	if !hasCategory {
		category, name = "", arg
	}
	var names []string
	for _, a := range c.Apps {
		if a.Name == name && (category == "" || a.Category == category) {
			return a, nil
		}
		names = append(names, a.Category+"/"+a.Name)
	}
	slices.Sort(names)
	return compile.App{}, fmt.Errorf("cluster %q has no app %q: its apps are %s", c.Name, arg, strings.Join(names, ", "))
}

// bundleHint says which bundle deploys the app the cluster does not have,
// when the catalog has it.
func bundleHint(p *load.Platform, cluster, arg string) string {
	cat, err := compile.ReadCatalog(p)
	if err != nil {
		return ""
	}
	_, name, ok := strings.Cut(arg, "/")
	if !ok {
		name = arg
	}
	for _, a := range cat.Apps {
		if a.Name == name {
			return fmt.Sprintf("%s/%s is in bundle %s, which %s does not enable", a.Category, a.Name, a.Bundle, cluster)
		}
	}
	return ""
}

func (o *explainOptions) writeText(x *explained) error {
	var b strings.Builder
	b.Write(x.yaml)
	b.WriteString("\n")
	b.WriteString(explain.Text(x.steps, o.Cwd, true))
	_, err := io.WriteString(o.Stdout, b.String())
	return err
}

// explainJSON is explain's JSON output. Every key is always present.
type explainJSON struct {
	Cluster string          `json:"cluster"`
	App     string          `json:"app"`
	Path    string          `json:"path"`
	Value   json.RawMessage `json:"value"`
	Origins []originJSON    `json:"origins"`
}

type originJSON struct {
	Of     string `json:"of"`
	Value  string `json:"value"`
	Kind   string `json:"kind"`
	File   string `json:"file"`
	Line   int    `json:"line"`
	Column int    `json:"column"`
	Expr   string `json:"expr"`
	Note   string `json:"note"`
}

func (o *explainOptions) writeJSON(cluster string, x *explained) error {
	out := explainJSON{
		Cluster: cluster,
		App:     x.app.Category + "/" + x.app.Name,
		Path:    x.path,
		Value:   x.json,
		Origins: []originJSON{},
	}
	for _, s := range x.steps {
		for _, or := range s.Origins {
			out.Origins = append(out.Origins, originJSON{
				Of: s.Of, Value: s.Value, Kind: string(or.Kind),
				File: or.File(o.Cwd), Line: or.Pos.Line, Column: or.Pos.Column,
				Expr: or.Expr, Note: or.Note,
			})
		}
	}
	enc := json.NewEncoder(o.Stdout)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

// complete completes the cluster, then the app, then the path one key at
// a time.
func (o *explainOptions) complete(_ *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
	const none = cobra.ShellCompDirectiveNoFileComp
	p, err := load.Load(load.Config{Dir: rootDir(o.Cwd, o.root)})
	if err != nil {
		return nil, none
	}
	if len(args) == 0 {
		var names []string
		for _, c := range p.Clusters {
			names = append(names, c.Name)
		}
		return names, none
	}
	if len(args) > 2 || checkCluster(p, args[0]) != nil {
		return nil, none
	}
	var out []string
	directive := none
	_, _ = compile.Fleet(p, compile.Options{Clusters: args[:1], Workers: 1}, func(c *compile.Cluster) (bool, error) {
		if len(args) == 1 {
			for _, a := range c.Apps {
				out = append(out, a.Category+"/"+a.Name)
			}
			return true, nil
		}
		app, err := findApp(c, args[1])
		if err != nil {
			return false, nil
		}
		out = completePath(app.Values, toComplete)
		directive |= cobra.ShellCompDirectiveNoSpace
		return true, nil
	})
	return out, directive
}

// completePath lists the paths one step below typed when it names a map
// or a list, and else those one step below its last complete key.
func completePath(values cue.Value, typed string) []string {
	if path, err := explain.ParsePath(typed); err == nil {
		if v, _, err := explain.Lookup(values, path); err == nil {
			if k := v.IncompleteKind(); k == cue.StructKind || k == cue.ListKind {
				return children(v, typed)
			}
		}
	}
	if i := strings.LastIndexAny(typed, ".["); i >= 0 {
		path, err := explain.ParsePath(typed[:i])
		if err != nil {
			return nil
		}
		v, _, err := explain.Lookup(values, path)
		if err != nil {
			return nil
		}
		return children(v, typed[:i])
	}
	return children(values, "")
}

// children lists the paths of the keys or items of v, at prefix.
func children(v cue.Value, prefix string) []string {
	var out []string
	switch v.IncompleteKind() {
	case cue.StructKind:
		for _, k := range explain.Keys(v) {
			e := explain.Path{{Key: k}}.String()
			if prefix != "" {
				e = prefix + "." + e
			}
			out = append(out, e)
		}
	case cue.ListKind:
		n, _ := v.Len().Int64()
		for i := range n {
			out = append(out, prefix+"["+strconv.FormatInt(i, 10)+"]")
		}
	}
	return out
}
