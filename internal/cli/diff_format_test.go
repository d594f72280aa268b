package cli

import (
	"bytes"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/fleetc/fleetc/internal/diff"
)

// syntheticReport is a report: placement changes on n clusters, and n
// changes of lines lines each.
func syntheticReport(n, lines int) *diff.Report {
	r := &diff.Report{}
	for i := range n {
		cluster := fmt.Sprintf("cluster-%04d", i)
		r.Placement = append(r.Placement, diff.Placement{Status: diff.Added, Cluster: cluster, Env: "prod", App: fmt.Sprintf("app-%d", i%7), Category: "core"})
		h := diff.Hunk{OldStart: 1, OldLines: lines, NewStart: 1, NewLines: lines}
		for j := range lines {
			h.Lines = append(h.Lines, fmt.Sprintf("+  key-%d: value on %s ```", j, cluster))
		}
		f := diff.File{Path: "cluster/" + cluster + "/core/app/values.yaml", Status: diff.Changed, Kind: diff.Values, Cluster: cluster, Env: "prod", Hunks: []diff.Hunk{h}}
		r.Files = append(r.Files, f)
		r.Groups = append(r.Groups, diff.Group{Path: f.Path, Status: f.Status, Kind: f.Kind, Hunks: f.Hunks,
			Clusters: []diff.EnvClusters{{Env: "prod", Clusters: []string{cluster}}}})
	}
	return r
}

// The markdown never exceeds a comment's size, and says when it is cut.
func TestMarkdownCap(t *testing.T) {
	v := diffView{before: "main", after: "the working tree", full: "fleetc diff --base main"}
	for _, c := range []struct {
		n, lines int
		cut      bool
	}{
		{1, 5, false},
		{20, 10, false},
		{200, 10, true},    // changes cut
		{5000, 1, true},    // placement cut
		{3, 100000, true},  // each change too long to show
		{2000, 1000, true}, // both
	} {
		var buf bytes.Buffer
		if err := formatMarkdown(&buf, syntheticReport(c.n, c.lines), v); err != nil {
			t.Fatal(err)
		}
		out := buf.String()
		if len(out) > maxComment {
			t.Errorf("%d changes of %d lines: %d bytes, over %d", c.n, c.lines, len(out), maxComment)
		}
		if cut := strings.Contains(out, "**Cut short:**"); cut != c.cut {
			t.Errorf("%d changes of %d lines: cut = %v, want %v", c.n, c.lines, cut, c.cut)
		}
		if c.cut && !strings.Contains(out, "Run `fleetc diff --base main` to see all of it") {
			t.Errorf("%d changes of %d lines: the cut does not say how to see all of it", c.n, c.lines)
		}
		// Lines holding ``` are fenced with more backticks.
		if c.n == 1 && !strings.Contains(out, "````diff\n") {
			t.Errorf("fence not longer than the backticks in the lines:\n%s", out)
		}
	}
}

func TestClusterList(t *testing.T) {
	var many []string
	for i := range 13 {
		many = append(many, fmt.Sprintf("d%02d", i))
	}
	got := clusterList([]diff.EnvClusters{{Env: "prod", Clusters: []string{"a", "b"}}, {Env: "dev", Clusters: many}, {Clusters: []string{"x"}}}, plainName)
	want := "prod: a, b; dev: d00, d01, d02, d03, d04, d05, d06, d07, d08, d09 and 3 more; env unknown: x"
	if got != want {
		t.Errorf("clusterList = %q, want %q", got, want)
	}
}

func TestThousands(t *testing.T) {
	for n, want := range map[int]string{0: "0", 999: "999", 1000: "1,000", 65536: "65,536", 1234567: "1,234,567"} {
		if got := thousands(n); got != want {
			t.Errorf("thousands(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestUseColor(t *testing.T) {
	env := func(kv ...string) func(string) string {
		return func(k string) string {
			for i := 0; i+1 < len(kv); i += 2 {
				if kv[i] == k {
					return kv[i+1]
				}
			}
			return ""
		}
	}
	var buf bytes.Buffer
	if useColor(IO{Stdout: &buf, Getenv: env()}) {
		t.Errorf("colour when writing to a buffer")
	}
	if useColor(IO{Stdout: os.Stdout, Getenv: env("NO_COLOR", "1")}) {
		t.Errorf("colour with NO_COLOR set")
	}
	if useColor(IO{Stdout: os.Stdout, Getenv: env("TERM", "dumb")}) {
		t.Errorf("colour on a dumb terminal")
	}
	// Colour, when on, paints removed and added lines.
	buf.Reset()
	if err := formatText(&buf, syntheticReport(1, 1), diffView{color: true}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), ansiGreen+"+  key-0") {
		t.Errorf("no colour:\n%q", buf.String())
	}
}

// TestCommandLine: the advice a message gives can be pasted into a shell
// as it is, with the flags of the run that gave it.
func TestCommandLine(t *testing.T) {
	for _, tc := range []struct {
		flags platformFlags
		extra []string
		want  string
	}{
		{platformFlags{}, nil, "fleetc compile"},
		{platformFlags{out: "out", clusters: []string{"a", "b"}}, nil, "fleetc compile --out out --cluster a --cluster b"},
		{platformFlags{root: "my platform"}, nil, "fleetc compile --root 'my platform'"},
		{platformFlags{out: "it's"}, nil, `fleetc compile --out 'it'\''s'`},
		{platformFlags{}, []string{"--base", "origin/main"}, "fleetc compile --base origin/main"},
		{platformFlags{}, []string{"--base", "HEAD~1"}, "fleetc compile --base 'HEAD~1'"},
	} {
		if got := tc.flags.commandLine("compile", tc.extra...); got != tc.want {
			t.Errorf("commandLine(%+v, %q) = %s, want %s", tc.flags, tc.extra, got, tc.want)
		}
	}
}
