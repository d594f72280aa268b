package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/fleetc/fleetc/internal/build"
	"github.com/fleetc/fleetc/internal/diag"
)

type vetOptions struct {
	IO
	platformFlags
	format string
}

func newVetCmd(io IO) *cobra.Command {
	o := &vetOptions{IO: io}
	c := &cobra.Command{
		Use:   "vet",
		Short: "Validate the platform as compile does, writing nothing",
		Long: `vet validates every cluster of the platform exactly as compile does (schema,
bundle rules, Kubernetes names, fleet-wide checks such as duplicate servers and
ApplicationSet placement) and writes nothing.

Formats:

  text    the lines compile prints, file:line:col: cluster: path: message (stderr)
  github  GitHub Actions annotations, ::error file=F,line=L,col=C,title=fleetc::... (stdout)
  json    an array of {file, line, column, cluster, path, message} (stdout);
          [] when there are none

Files are relative to the working directory; lines and columns count from 1,
columns in bytes. On success vet prints one summary line on stderr and
nothing else. Exit status: 0 valid, 1 invalid (or no platform), 2 usage.`,
		Example: `  # In CI, as annotations on the pull request
  fleetc vet --format github

  # One cluster, for a bot
  fleetc vet --cluster payments-prod --format json`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(*cobra.Command, []string) error { return o.run() },
	}
	c.Flags().StringVar(&o.root, "root", "", "directory inside the platform's CUE module (default: the working directory)")
	nameListVar(c.Flags(), &o.clusters, "cluster", "cluster", "validate only these clusters (repeatable, or a comma-separated list)")
	c.Flags().StringVar(&o.format, "format", "text", "output `format`: text, github (GitHub Actions annotations) or json")
	_ = c.RegisterFlagCompletionFunc("format", oneOf("text", "github", "json"))
	return c
}

func (o *vetOptions) run() error {
	// The machine formats print the problems on stdout; text goes through
	// report, as every command's errors do.
	var write func(w io.Writer, cwd string, problems diag.List) error
	switch o.format {
	case "text":
	case "github":
		write = writeGitHub
	case "json":
		write = writeJSON
	default:
		return usageError{fmt.Errorf("unknown format %q: want text, github or json", o.format)}
	}
	start := time.Now()
	plan, err := o.plan()
	if err == nil {
		if o.format == "json" {
			// An empty array, so that a consumer parses every run the
			// same way.
			if werr := writeJSON(o.Stdout, o.Cwd, nil); werr != nil {
				return werr
			}
		}
		fmt.Fprintf(o.Stderr, "fleetc: %d %s valid (%s)\n", plan.Clusters,
			plural(plan.Clusters, "cluster is", "clusters are"), time.Since(start).Round(time.Millisecond))
		return nil
	}
	if write == nil {
		return err
	}
	problems := asProblems(err)
	if werr := write(o.Stdout, o.Cwd, problems); werr != nil {
		return werr
	}
	fmt.Fprintf(o.Stderr, "fleetc: %d %s\n", len(problems), plural(len(problems), "error", "errors"))
	return exitError{exitFailed}
}

// plan builds the platform as vet checks it: what compile would write,
// written nowhere.
func (o *vetOptions) plan() (*build.Plan, error) {
	b, err := loadPlatform(o.IO, o.config(o.IO))
	if err != nil {
		return nil, err
	}
	return b.Plan()
}

// asProblems turns what a plan failed with into diagnostics, scrubbed
// of credentials (Diagnostic.Scrubbed) as report does for text: a diag.List
// as it is, any other error as one diagnostic without a place.
func asProblems(err error) diag.List {
	ds := problems(err)
	for i := range ds {
		ds[i] = ds[i].Scrubbed()
	}
	return ds
}

func problems(err error) diag.List {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out diag.List
		for _, e := range j.Unwrap() {
			out = append(out, problems(e)...)
		}
		return out
	}
	var dl diag.List
	if errors.As(err, &dl) {
		return dl
	}
	return diag.List{{Message: err.Error()}}
}

// vetProblem is one element of vet's JSON output. Every key is always
// present, so consumers need not guess.
type vetProblem struct {
	File    string `json:"file"`
	Line    int    `json:"line"`
	Column  int    `json:"column"`
	Cluster string `json:"cluster"`
	Path    string `json:"path"`
	Message string `json:"message"`
}

func writeJSON(w io.Writer, cwd string, problems diag.List) error {
	out := make([]vetProblem, len(problems))
	for i, d := range problems {
		out[i] = vetProblem{
			File: displayFile(cwd, d.Pos.Filename), Line: d.Pos.Line, Column: d.Pos.Column,
			Cluster: d.Cluster, Path: d.Path, Message: d.Message,
		}
	}
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

// writeGitHub writes one GitHub Actions error annotation per problem:
// https://docs.github.com/actions/reference/workflow-commands-for-github-actions
func writeGitHub(w io.Writer, cwd string, problems diag.List) error {
	var b strings.Builder
	for _, d := range problems {
		var props []string
		if f := displayFile(cwd, d.Pos.Filename); f != "" {
			props = append(props, "file="+escapeProperty(f))
			if d.Pos.Line > 0 {
				props = append(props, "line="+strconv.Itoa(d.Pos.Line), "col="+strconv.Itoa(d.Pos.Column))
			}
		}
		props = append(props, "title=fleetc")
		msg := d.Message
		if d.Path != "" {
			msg = d.Path + ": " + msg
		}
		if d.Cluster != "" {
			msg = d.Cluster + ": " + msg
		}
		fmt.Fprintf(&b, "::error %s::%s\n", strings.Join(props, ","), escapeData(msg))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// escapeData and escapeProperty escape as the Actions runner unescapes
// (actions/toolkit, command.ts): a message may not hold a raw line break,
// a property value not a comma or colon either.
var (
	dataEscaper     = strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A")
	propertyEscaper = strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A", ":", "%3A", ",", "%2C")
)

func escapeData(s string) string     { return dataEscaper.Replace(s) }
func escapeProperty(s string) string { return propertyEscaper.Replace(s) }

// displayFile is a diagnostic's file as vet shows it: relative to cwd
// where it lies below it, with forward slashes.
func displayFile(cwd, name string) string {
	if name == "" {
		return ""
	}
	return filepath.ToSlash(diag.DisplayPath(cwd, name))
}
