package cli

import (
	"io"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// TestFormatCompletions: on every verb with a --format, the shell offers
// values, each of which the verb accepts, and the verb refuses one it does
// not offer. A verb that gains a format without its completion, or offers
// one it refuses, fails here.
func TestFormatCompletions(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "nowhere")
	root := newRoot(IO{Stdout: io.Discard, Stderr: io.Discard, Getenv: func(string) string { return "" }, Cwd: missing})
	var verbs []*cobra.Command
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		if c.Flags().Lookup("format") != nil {
			verbs = append(verbs, c)
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
	if len(verbs) < 3 {
		t.Fatalf("only %d verbs have --format", len(verbs))
	}
	for _, c := range verbs {
		complete, ok := c.GetFlagCompletionFunc("format")
		if !ok {
			t.Errorf("%s --format: no completion", c.CommandPath())
			continue
		}
		formats, _ := complete(c, nil, "")
		if len(formats) == 0 {
			t.Errorf("%s --format completes nothing", c.CommandPath())
		}
		// As many arguments as the verb takes, so that only --format can
		// be a usage error; the platform is not there, an error of its own.
		var args []string
		for c.Args != nil && c.Args(c, args) != nil && len(args) < 5 {
			args = append(args, "x")
		}
		// The error is then about the platform, not the format: diff
		// exits 2 on any trouble, so the exit code alone cannot tell.
		run := func(format string) (int, string) {
			var stderr strings.Builder
			argv := append(strings.Fields(c.CommandPath())[1:], args...)
			argv = append(argv, "--format", format, "--root", missing)
			code := Run(argv, IO{Stdout: io.Discard, Stderr: &stderr, Getenv: func(string) string { return "" }, Cwd: missing})
			return code, stderr.String()
		}
		for _, f := range formats {
			if code, stderr := run(f); code == exitOK || strings.Contains(stderr, "format") {
				t.Errorf("%s --format %s: offered by the completion, refused by the verb (exit %d):\n%s", c.CommandPath(), f, code, stderr)
			}
		}
		if code, stderr := run("no-such-format"); code != exitTrouble || !strings.Contains(stderr, `"no-such-format"`) {
			t.Errorf("%s --format no-such-format: exit %d, want a usage error that names it:\n%s", c.CommandPath(), code, stderr)
		}
	}
}
