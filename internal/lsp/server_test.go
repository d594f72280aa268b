package lsp_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"cuelang.org/go/cue/token"

	"github.com/fleetc/fleetc/internal/diag"
	"github.com/fleetc/fleetc/internal/lsp"
)

// fakePlatform is a tiny platform module with clusters a and b, checked by
// a fake checker: each BAD in a cluster file is an error there, and
// BREAKS_B in a.cue is an error in b.cue, as a fleet-wide check would
// report it. The checker records what it was asked.
type fakePlatform struct {
	root string
	mu   sync.Mutex
	// requests are the clusters of each check ("*" for all).
	requests []string
	// overlays are the overlays the checks saw.
	overlays []map[string][]byte
}

func newFakePlatform(t *testing.T, files map[string]string) *fakePlatform {
	t.Helper()
	root := t.TempDir()
	all := map[string]string{
		"cue.mod/module.cue":    "module: \"example.com/platform@v0\"\nlanguage: version: \"v0.17.0\"\n",
		"clusters/platform.cue": "package clusters\n\nclusters: [string]: {env: string}\n",
		"clusters/a.cue":        "package clusters\n\nclusters: a: env: \"dev\"\n",
		"clusters/b.cue":        "package clusters\n\nclusters: b: env: \"dev\"\n",
	}
	for name, text := range files {
		all[name] = text
	}
	for name, text := range all {
		path := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return &fakePlatform{root: root}
}

func (f *fakePlatform) path(name string) string { return filepath.Join(f.root, "clusters", name) }
func (f *fakePlatform) uri(name string) string  { return fileURI(f.path(name)) }

func (f *fakePlatform) check(_ context.Context, req lsp.Request) error {
	f.mu.Lock()
	if len(req.Clusters) == 0 {
		f.requests = append(f.requests, "*")
	} else {
		f.requests = append(f.requests, strings.Join(req.Clusters, ","))
	}
	f.overlays = append(f.overlays, req.Overlay)
	f.mu.Unlock()
	var out diag.List
	for _, name := range []string{"a", "b"} {
		if len(req.Clusters) > 0 && !slices.Contains(req.Clusters, name) {
			continue
		}
		path := f.path(name + ".cue")
		src, ok := req.Overlay[path]
		if !ok {
			var err error
			if src, err = os.ReadFile(path); err != nil {
				return err
			}
		}
		for i, ln := range bytes.Split(src, []byte("\n")) {
			if col := bytes.Index(ln, []byte("BAD")); col >= 0 {
				out = append(out, diag.Diagnostic{Pos: token.Position{Filename: path, Line: i + 1, Column: col + 1}, Cluster: name, Path: "env", Message: "bad value"})
			}
		}
		if name == "a" && len(req.Clusters) == 0 && bytes.Contains(src, []byte("BREAKS_B")) {
			out = append(out, diag.Diagnostic{Pos: token.Position{Filename: f.path("b.cue"), Line: 3, Column: 14}, Cluster: "b", Path: "server", Message: "also the server of a"})
		}
	}
	return out.Err()
}

func (f *fakePlatform) start(t *testing.T) *client {
	c := startClient(t, func(in io.Reader, out io.Writer) error {
		return lsp.Serve(in, out, lsp.Options{Check: f.check})
	})
	c.initialize()
	return c
}

func (f *fakePlatform) requested() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.requests)
}

func count(n int) func(published) bool {
	return func(p published) bool { return len(p.Diagnostics) == n }
}

func TestInitializeAndShutdown(t *testing.T) {
	f := newFakePlatform(t, nil)
	c := startClient(t, func(in io.Reader, out io.Writer) error {
		return lsp.Serve(in, out, lsp.Options{Check: f.check, Version: "v1.2.3"})
	})
	r := c.call("initialize", map[string]any{"capabilities": map[string]any{}})
	var init struct {
		Capabilities struct {
			TextDocumentSync struct {
				OpenClose bool `json:"openClose"`
				Change    int  `json:"change"`
				Save      struct {
					IncludeText bool `json:"includeText"`
				} `json:"save"`
			} `json:"textDocumentSync"`
		} `json:"capabilities"`
		ServerInfo struct{ Name, Version string } `json:"serverInfo"`
	}
	if err := json.Unmarshal(r.Result, &init); err != nil {
		t.Fatal(err)
	}
	sync := init.Capabilities.TextDocumentSync
	if !sync.OpenClose || sync.Change != 1 || !sync.Save.IncludeText || init.ServerInfo.Name != "fleetc" || init.ServerInfo.Version != "v1.2.3" {
		t.Errorf("initialize result = %s", r.Result)
	}
	c.notify("initialized", map[string]any{})
	c.notify("$/cancelRequest", map[string]any{"id": 7})

	if r := c.call("textDocument/hover", map[string]any{}); r.Error == nil || r.Error.Code != -32601 {
		t.Errorf("hover: got %+v, want error -32601 (method not found)", r)
	}
	if err := c.stop(); err != nil {
		t.Errorf("Serve after shutdown and exit = %v, want nil", err)
	}
}

func TestExitWithoutShutdown(t *testing.T) {
	f := newFakePlatform(t, nil)
	c := f.start(t)
	c.notify("exit", nil)
	if err := <-c.served; !errors.Is(err, lsp.ErrNoShutdown) {
		t.Errorf("Serve = %v, want ErrNoShutdown", err)
	}
	c.served <- nil
}

func TestClientGoesAway(t *testing.T) {
	f := newFakePlatform(t, nil)
	c := f.start(t)
	c.toSrv.Close()
	if err := <-c.served; !errors.Is(err, lsp.ErrNoShutdown) {
		t.Errorf("Serve = %v, want ErrNoShutdown", err)
	}
	c.served <- nil
}

func TestParseError(t *testing.T) {
	f := newFakePlatform(t, nil)
	c := f.start(t)
	c.toSrv.Write([]byte("Content-Length: 5\r\n\r\n{oops"))
	m := c.next(5e9)
	if m.Error == nil || m.Error.Code != -32700 {
		t.Errorf("got %+v, want a parse error response", m)
	}
	// The session goes on.
	if r := c.call("shutdown", nil); r.Error != nil {
		t.Errorf("shutdown: %+v", r.Error)
	}
}

// TestOpenChangeClear follows a cluster file from open to an error to its
// fix: diagnostics appear at the right UTF-16 position and are cleared.
// Each change is checked for its cluster first, then for the fleet.
func TestOpenChangeClear(t *testing.T) {
	f := newFakePlatform(t, nil)
	c := f.start(t)
	a := f.uri("a.cue")

	c.open(a, "package clusters\n\nclusters: a: env: \"dev\"\n")
	c.diagnostics(a, count(0))
	c.diagnostics(a, count(0))

	// ü is two bytes and one UTF-16 unit, 🚀 four bytes and two units.
	text := "package clusters\n\n// ü🚀\nclusters: a: {env: \"dev\", note: \"ü🚀\", x: BAD}\n"
	c.change(a, 2, text)
	p := c.diagnostics(a, count(1))
	d := p.Diagnostics[0]
	// In bytes, BAD is at column 46 of line 4; in UTF-16 units 3 fewer.
	if d.Range.Start.Line != 3 || d.Range.Start.Character != 42 || d.Range.End.Line != 3 || d.Range.End.Character != 45 {
		t.Errorf("range = %+v, want 3:42-3:45", d.Range)
	}
	if d.Message != "env: bad value" || d.Source != "fleetc" || d.Severity != 1 {
		t.Errorf("diagnostic = %+v", d)
	}
	if p.Version == nil || *p.Version != 2 {
		t.Errorf("version = %v, want 2", p.Version)
	}
	// The fleet check follows and says the same.
	c.diagnostics(a, count(1))

	c.change(a, 3, "package clusters\n\nclusters: a: env: \"dev\"\n")
	c.diagnostics(a, count(0))
	c.diagnostics(a, count(0))

	if err := c.stop(); err != nil {
		t.Fatal(err)
	}
	got := f.requested()
	if want := []string{"a", "*", "a", "*", "a", "*"}; !slices.Equal(got, want) {
		t.Errorf("checks = %q, want %q", got, want)
	}
}

// TestFleetWide: a change to one cluster can put an error in (and later
// take it out of) another cluster's file, which is not open.
func TestFleetWide(t *testing.T) {
	f := newFakePlatform(t, nil)
	c := f.start(t)
	a, b := f.uri("a.cue"), f.uri("b.cue")

	c.open(a, "package clusters\n\n// BREAKS_B\nclusters: a: env: \"dev\"\n")
	p := c.diagnostics(b, count(1))
	if d := p.Diagnostics[0]; d.Message != "server: also the server of a" || d.Range.Start.Line != 2 || d.Range.Start.Character != 13 || d.Range.End.Character != 16 {
		t.Errorf("diagnostic in b.cue = %+v", d)
	}
	if p.Version != nil {
		t.Errorf("version of a file that is not open = %d, want none", *p.Version)
	}

	c.change(a, 2, "package clusters\n\nclusters: a: env: \"dev\"\n")
	c.diagnostics(b, count(0))
}

// TestSharedFileChecksAll: a change to a file that is not a cluster file
// (a shared file, which imports) is checked for the whole fleet at once.
func TestSharedFileChecksAll(t *testing.T) {
	f := newFakePlatform(t, nil)
	c := f.start(t)
	shared := f.uri("platform.cue")
	c.open(shared, "package clusters\n\nimport \"strings\"\n\nclusters: [string]: {env: string, x?: int, y?: strings.MinRunes(1)}\n")
	c.diagnostics(shared, count(0))
	if err := c.stop(); err != nil {
		t.Fatal(err)
	}
	if got := f.requested(); !slices.Equal(got, []string{"*"}) {
		t.Errorf("checks = %q, want one of everything", got)
	}
}

// TestSyntaxError: a buffer that does not parse is a diagnostic; the other
// files keep theirs, as nothing could be evaluated.
func TestSyntaxError(t *testing.T) {
	f := newFakePlatform(t, map[string]string{"clusters/b.cue": "package clusters\n\nclusters: b: env: BAD\n"})
	c := f.start(t)
	a, b := f.uri("a.cue"), f.uri("b.cue")
	c.open(a, "package clusters\n\nclusters: a: env: \"dev\"\n")
	c.diagnostics(b, count(1))

	c.change(a, 2, "package clusters\n\nclusters: a: env: \"dev\n")
	p := c.diagnostics(a, count(1))
	if d := p.Diagnostics[0]; d.Range.Start.Line != 2 || !strings.Contains(d.Message, "string literal not terminated") {
		t.Errorf("diagnostic = %+v", d)
	}
	// Nothing was published for b.cue with that result: the next message
	// answers a request sent afterwards.
	if r := c.call("textDocument/hover", map[string]any{}); r.Error == nil {
		t.Fatal("hover answered")
	}
	for _, m := range c.pending {
		if m.Method == "textDocument/publishDiagnostics" && strings.Contains(string(m.Params), "b.cue") {
			t.Errorf("b.cue published while a.cue does not parse: %s", m.Params)
		}
	}
	c.pending = nil
}

// TestIncrementalChange: a client that sends ranges (in UTF-16 units)
// although the server asks for full text still gets the right buffer.
func TestIncrementalChange(t *testing.T) {
	f := newFakePlatform(t, nil)
	c := f.start(t)
	a := f.uri("a.cue")
	c.open(a, "package clusters\n\n// 🚀\nclusters: a: env: \"dev\"\n")
	c.diagnostics(a, count(0))
	c.notify("textDocument/didChange", map[string]any{
		"textDocument": map[string]any{"uri": a, "version": 2},
		"contentChanges": []any{
			// Replace "dev" on line 3 with BAD, then the rocket with x.
			map[string]any{"range": map[string]any{"start": map[string]any{"line": 3, "character": 18}, "end": map[string]any{"line": 3, "character": 23}}, "text": "BAD"},
			map[string]any{"range": map[string]any{"start": map[string]any{"line": 2, "character": 3}, "end": map[string]any{"line": 2, "character": 5}}, "text": "x"},
		},
	})
	c.diagnostics(a, count(1))
	if err := c.stop(); err != nil {
		t.Fatal(err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	got := string(f.overlays[len(f.overlays)-1][f.path("a.cue")])
	if want := "package clusters\n\n// x\nclusters: a: env: BAD\n"; got != want {
		t.Errorf("buffer = %q, want %q", got, want)
	}
}

// TestCloseRevertsToDisk: closing a buffer with unsaved changes checks
// the file on disk again.
func TestCloseRevertsToDisk(t *testing.T) {
	f := newFakePlatform(t, nil)
	c := f.start(t)
	a := f.uri("a.cue")
	c.open(a, "package clusters\n\nclusters: a: env: BAD\n")
	c.diagnostics(a, count(1))
	c.notify("textDocument/didClose", map[string]any{"textDocument": map[string]any{"uri": a}})
	c.diagnostics(a, count(0))
}

// TestOutsidePlatform: files outside a CUE module are none of fleetc's
// business.
func TestOutsidePlatform(t *testing.T) {
	f := newFakePlatform(t, nil)
	c := f.start(t)
	c.open(fileURI(filepath.Join(t.TempDir(), "x.cue")), "package x\n")
	c.open("untitled:Untitled-1", "package x\n")
	if err := c.stop(); err != nil {
		t.Fatal(err)
	}
	for _, m := range c.pending {
		t.Errorf("unexpected message %s %s", m.Method, m.Params)
	}
	if got := f.requested(); len(got) > 0 {
		t.Errorf("checks = %q, want none", got)
	}
}

// TestNewUnsavedFile: a cluster file that exists only in the editor is a
// cluster of the platform already.
func TestNewUnsavedFile(t *testing.T) {
	f := newFakePlatform(t, nil)
	c := f.start(t)
	uri := f.uri("c.cue")
	c.open(uri, "package clusters\n\nclusters: c: env: \"dev\"\n")
	c.diagnostics(uri, count(0))
	c.diagnostics(uri, count(0))
	if err := c.stop(); err != nil {
		t.Fatal(err)
	}
	if got, want := f.requested(), []string{"c", "*"}; !slices.Equal(got, want) {
		t.Errorf("checks = %q, want %q", got, want)
	}
}

// TestClustersBeforeSlowFleet: the check of an edited cluster is
// published while the check of the whole fleet is still running, a newer
// edit cancels that stale check (whose result, returned after all, is
// never shown), and the check of the fleet for the newest text follows.
func TestClustersBeforeSlowFleet(t *testing.T) {
	f := newFakePlatform(t, nil)
	release := make(chan struct{})
	started := make(chan struct{}, 10)
	var mu sync.Mutex
	canceled := 0
	check := func(ctx context.Context, req lsp.Request) error {
		if len(req.Clusters) > 0 {
			return f.check(ctx, req)
		}
		started <- struct{}{}
		select {
		case <-release:
			return f.check(ctx, req)
		case <-ctx.Done():
			mu.Lock()
			canceled++
			mu.Unlock()
			// What a check that ran to its end anyway would say: stale,
			// and never to be shown.
			return diag.List{{Pos: token.Position{Filename: f.path("a.cue"), Line: 1, Column: 1}, Cluster: "a", Message: "stale"}}
		}
	}
	c := startClient(t, func(in io.Reader, out io.Writer) error {
		return lsp.Serve(in, out, lsp.Options{Check: check})
	})
	c.initialize()
	a := f.uri("a.cue")

	c.open(a, "package clusters\n\nclusters: a: env: BAD\n")
	c.diagnostics(a, count(1))
	<-started // the check of the fleet is running, and blocks

	for v := 2; v <= 4; v++ {
		text := "package clusters\n\nclusters: a: env: \"dev\"\n"
		n := 0
		if v%2 == 1 {
			text, n = "package clusters\n\nclusters: a: env: BAD\n", 1
		}
		start := time.Now()
		c.change(a, v, text)
		p := c.diagnostics(a, func(p published) bool { return p.Version != nil && *p.Version == v })
		if len(p.Diagnostics) != n {
			t.Errorf("version %d: %d diagnostics, want %d: %+v", v, len(p.Diagnostics), n, p.Diagnostics)
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("version %d: the edited file's diagnostics took %s behind a check of the fleet", v, d)
		}
		<-started // the stale check was cancelled; the next one runs
	}
	mu.Lock()
	if canceled != 3 {
		t.Errorf("%d checks of the fleet cancelled, want 3", canceled)
	}
	mu.Unlock()
	close(release)
	p := c.diagnostics(a, func(p published) bool { return p.Version != nil && *p.Version == 4 })
	for _, d := range p.Diagnostics {
		if d.Message == "stale" {
			t.Errorf("a cancelled check was shown: %+v", d)
		}
	}
	if err := c.stop(); err != nil {
		t.Fatal(err)
	}
	for _, m := range c.pending {
		if strings.Contains(string(m.Params), "stale") {
			t.Errorf("a cancelled check was shown: %s", m.Params)
		}
	}
	if got, want := f.requested(), []string{"a", "a", "a", "a", "*"}; !slices.Equal(got, want) {
		t.Errorf("checks run to their end = %q, want %q", got, want)
	}
}

// fakeAssist records the queries it is asked and answers with their
// path.
type fakeAssist struct {
	mu      sync.Mutex
	queries []lsp.Query
}

func (a *fakeAssist) Complete(_ context.Context, q lsp.Query) ([]lsp.Completion, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.queries = append(a.queries, q)
	return []lsp.Completion{{Text: `"dev"`, Kind: lsp.Name, Detail: "platform.envs.dev", Doc: "branch development"}}, nil
}

func (a *fakeAssist) Hover(_ context.Context, q lsp.Query) (string, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.queries = append(a.queries, q)
	return "**" + strings.Join(q.Path, ".") + "**", nil
}

// TestAssist: with an Assistant, the server advertises completion and
// hover, asks it about the place of the cursor in a cluster file (the
// cluster, the path of fields, label or value), and replaces the word
// typed before the cursor, in UTF-16 units.
func TestAssist(t *testing.T) {
	f := newFakePlatform(t, nil)
	a := &fakeAssist{}
	c := startClient(t, func(in io.Reader, out io.Writer) error {
		return lsp.Serve(in, out, lsp.Options{Check: f.check, Assist: a})
	})
	r := c.call("initialize", map[string]any{"capabilities": map[string]any{}})
	var init struct {
		Capabilities struct {
			CompletionProvider *struct{} `json:"completionProvider"`
			HoverProvider      bool      `json:"hoverProvider"`
		} `json:"capabilities"`
	}
	if err := json.Unmarshal(r.Result, &init); err != nil || init.Capabilities.CompletionProvider == nil || !init.Capabilities.HoverProvider {
		t.Fatalf("initialize = %s, want completion and hover", r.Result)
	}
	uri := f.uri("a.cue")
	text := "package clusters\n\n// ü\nclusters: a: {\n\tmonitoring: retention: \"7d\"\n\tenv: \"dü\n}\n"
	c.open(uri, text)
	at := func(line, char int) map[string]any {
		return map[string]any{"textDocument": map[string]any{"uri": uri}, "position": map[string]any{"line": line, "character": char}}
	}
	// After `"dü` on line 5: 3 UTF-16 units after the quote's column 6.
	r = c.call("textDocument/completion", at(5, 9))
	var list struct {
		Items []struct {
			Label         string `json:"label"`
			Kind          int    `json:"kind"`
			Documentation struct{ Value string }
			TextEdit      struct {
				Range struct {
					Start, End struct{ Line, Character int }
				}
				NewText string `json:"newText"`
			} `json:"textEdit"`
		} `json:"items"`
	}
	if err := json.Unmarshal(r.Result, &list); err != nil || len(list.Items) != 1 {
		t.Fatalf("completion = %s %v", r.Result, r.Error)
	}
	it := list.Items[0]
	if it.Label != `"dev"` || it.Kind != 14 || it.Documentation.Value != "branch development" || it.TextEdit.NewText != `"dev"` ||
		it.TextEdit.Range.Start.Line != 5 || it.TextEdit.Range.Start.Character != 6 || it.TextEdit.Range.End.Character != 9 {
		t.Errorf("completion item = %+v", it)
	}
	r = c.call("textDocument/hover", at(4, 15))
	var hover struct {
		Contents struct{ Kind, Value string }
		Range    struct{ Start, End struct{ Character int } }
	}
	if err := json.Unmarshal(r.Result, &hover); err != nil || hover.Contents.Value != "**monitoring.retention**" || hover.Contents.Kind != "markdown" || hover.Range.Start.Character != 13 || hover.Range.End.Character != 22 {
		t.Errorf("hover = %s %v", r.Result, r.Error)
	}
	// Outside a cluster: nothing to say, and the assistant is not asked.
	if r = c.call("textDocument/hover", at(0, 3)); string(r.Result) != "null" {
		t.Errorf("hover on the package clause = %s", r.Result)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.queries) != 2 || a.queries[0].Cluster != "a" || strings.Join(a.queries[0].Path, ".") != "env" || !a.queries[0].Value ||
		strings.Join(a.queries[1].Path, ".") != "monitoring.retention" || a.queries[1].Value || a.queries[1].File != f.path("a.cue") {
		t.Errorf("queries = %+v", a.queries)
	}
}

// TestCheckPanic: a panic in the checker is an error in the editor's log,
// not the end of the session: the next change is checked.
func TestCheckPanic(t *testing.T) {
	f := newFakePlatform(t, nil)
	var mu sync.Mutex
	panicked := false
	c := startClient(t, func(in io.Reader, out io.Writer) error {
		return lsp.Serve(in, out, lsp.Options{Check: func(ctx context.Context, req lsp.Request) error {
			mu.Lock()
			first := !panicked
			panicked = true
			mu.Unlock()
			if first {
				panic("boom")
			}
			return f.check(ctx, req)
		}})
	})
	c.initialize()
	uri := f.uri("a.cue")
	c.open(uri, "package clusters\n\nclusters: a: env: BAD\n")
	for {
		m := c.next(20 * time.Second)
		var p struct{ Message string }
		if m.Method == "window/logMessage" && json.Unmarshal(m.Params, &p) == nil && strings.Contains(p.Message, "internal error: boom") {
			break
		}
	}
	c.change(uri, 2, "package clusters\n\nclusters: a: env: BAD\n\n")
	c.diagnostics(uri, count(1))
	if err := c.stop(); err != nil {
		t.Errorf("Serve = %v", err)
	}
}

// panicAssist panics on hover.
type panicAssist struct{ fakeAssist }

func (a *panicAssist) Hover(context.Context, lsp.Query) (string, error) { panic("boom") }

// TestAssistPanic: a panic in the assistant fails that request with an
// error; the session answers the next one.
func TestAssistPanic(t *testing.T) {
	f := newFakePlatform(t, nil)
	c := startClient(t, func(in io.Reader, out io.Writer) error {
		return lsp.Serve(in, out, lsp.Options{Check: f.check, Assist: &panicAssist{}})
	})
	c.initialize()
	uri := f.uri("a.cue")
	c.open(uri, "package clusters\n\nclusters: a: {\n\tenv: \"d\n}\n")
	at := map[string]any{"textDocument": map[string]any{"uri": uri}, "position": map[string]any{"line": 3, "character": 3}}
	if r := c.call("textDocument/hover", at); r.Error == nil || r.Error.Message != "internal error: boom" {
		t.Errorf("hover = %s %+v, want an internal error", r.Result, r.Error)
	}
	if r := c.call("textDocument/completion", map[string]any{"textDocument": map[string]any{"uri": uri}, "position": map[string]any{"line": 3, "character": 8}}); r.Error != nil || !strings.Contains(string(r.Result), "platform.envs.dev") {
		t.Errorf("completion after the panic = %s %+v", r.Result, r.Error)
	}
	if err := c.stop(); err != nil {
		t.Errorf("Serve = %v", err)
	}
}
