package lsp_test

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fleetc/fleetc/internal/cli"
)

// startFleetc runs `fleetc lsp` in the test, as the editor would start it,
// in dir, and initializes the session.
func startFleetc(t testing.TB, dir string) *client {
	t.Helper()
	c := startClient(t, func(in io.Reader, out io.Writer) error {
		var stderr bytes.Buffer
		io := cli.IO{Stdin: in, Stdout: out, Stderr: &stderr, Getenv: func(string) string { return "" }, Cwd: dir}
		if code := cli.Run([]string{"lsp"}, io); code != 0 {
			return fmt.Errorf("fleetc lsp: exit %d: %s", code, stderr.String())
		}
		return nil
	})
	c.initialize()
	return c
}

// referenceCluster copies the reference platform into a new directory and
// returns the path and text of the cluster file sandbox-dev.cue there.
func referenceCluster(t testing.TB) (path, text string) {
	t.Helper()
	dir := t.TempDir()
	copyPlatform(t, dir)
	path = filepath.Join(dir, "clusters", "sandbox-dev.cue")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return path, string(data)
}

// edit replaces old, which must occur in text, with new.
func edit(t testing.TB, text, old, new string) string {
	t.Helper()
	if !strings.Contains(text, old) {
		t.Fatalf("%q not in the cluster file:\n%s", old, text)
	}
	return strings.Replace(text, old, new, 1)
}

// at returns the LSP position (0-based; ASCII text) of the first match of
// s in text.
func at(t testing.TB, text, s string) (line, char int) {
	t.Helper()
	i := strings.Index(text, s)
	if i < 0 {
		t.Fatalf("%q not in %s", s, text)
	}
	line = strings.Count(text[:i], "\n")
	return line, i - strings.LastIndex(text[:i], "\n") - 1
}

func version(v int, n int) func(published) bool {
	return func(p published) bool {
		return p.Version != nil && *p.Version == v && (n < 0 || len(p.Diagnostics) == n)
	}
}

// TestReferencePlatform edits a cluster of the reference platform through
// the real fleetc: an error appears where CUE places it, a fleet-wide
// error appears once the whole fleet is checked, and both clear.
func TestReferencePlatform(t *testing.T) {
	path, good := referenceCluster(t)
	uri := fileURI(path)
	c := startFleetc(t, filepath.Dir(path))
	c.open(uri, good)
	c.diagnostics(uri, version(1, 0))

	bad := edit(t, good, `env:    "dev"`, `env:    "qa"`)
	c.change(uri, 2, bad)
	p := c.diagnostics(uri, version(2, 1))
	d := p.Diagnostics[0]
	line, char := at(t, bad, `"qa"`)
	if d.Range.Start.Line != line || d.Range.Start.Character != char || d.Range.End.Character != char+4 {
		t.Errorf("range = %+v, want %d:%d-%d", d.Range, line, char, char+4)
	}
	if want := `env: "qa" matches none of "dev" | "prod" | "staging"`; d.Message != want {
		t.Errorf("message = %q, want %q", d.Message, want)
	}

	c.change(uri, 3, good)
	c.diagnostics(uri, version(3, 0))

	// edge-minimal has this server already: the check of the changed
	// cluster alone, which comes first and fast, cannot tell; the check
	// of the whole fleet that follows does.
	dup := edit(t, good, `server: "https://sandbox-dev.k8s.corp.local:6443"`, `server: "https://10.20.30.40:6443"`)
	c.change(uri, 4, dup)
	p = c.diagnostics(uri, version(4, -1))
	if len(p.Diagnostics) != 0 {
		t.Errorf("the check of the changed cluster found %+v", p.Diagnostics)
	}
	p = c.diagnostics(uri, version(4, -1))
	if len(p.Diagnostics) != 1 || !strings.Contains(p.Diagnostics[0].Message, `is also the server of cluster "edge-minimal"`) {
		t.Errorf("diagnostics = %+v, want the duplicate server", p.Diagnostics)
	}
	c.change(uri, 5, good)
	c.diagnostics(uri, version(5, 0))
	c.diagnostics(uri, version(5, 0))

	// A buffer that does not parse is a diagnostic, not a crash.
	c.change(uri, 6, strings.TrimRight(good, "}\n")+"\n")
	p = c.diagnostics(uri, version(6, -1))
	if len(p.Diagnostics) == 0 {
		t.Error("no diagnostic for a missing closing brace")
	}
	c.change(uri, 7, good)
	c.diagnostics(uri, version(7, 0))

	if err := c.stop(); err != nil {
		t.Fatal(err)
	}
}

// BenchmarkLSPChange measures what a user waits for: from a change of one
// cluster file of the reference platform (alternately breaking and fixing
// it) to the diagnostics of that file, debounce included. fleet-ns/op is
// the time until the check of the whole fleet is published as well.
func BenchmarkLSPChange(b *testing.B) {
	path, good := referenceCluster(b)
	bad := edit(b, good, `env:    "dev"`, `env:    "qa"`)
	uri := fileURI(path)
	c := startFleetc(b, filepath.Dir(path))
	c.open(uri, good)
	c.diagnostics(uri, version(1, 0))
	c.diagnostics(uri, version(1, 0))

	var fleet time.Duration
	b.ResetTimer()
	for i := range b.N {
		v, text, n := i+2, bad, 1
		if i%2 == 1 {
			text, n = good, 0
		}
		start := time.Now()
		c.change(uri, v, text)
		c.diagnostics(uri, version(v, n))
		b.StopTimer()
		// Let the fleet check finish, so that the next change waits for
		// nothing.
		c.diagnostics(uri, version(v, n))
		fleet += time.Since(start)
		b.StartTimer()
	}
	b.ReportMetric(float64(fleet.Nanoseconds())/float64(b.N), "fleet-ns/op")
}
