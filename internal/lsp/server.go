// Package lsp is fleetc's language server: it shows in an editor, as the
// user types, every problem `fleetc vet` would report, at its file, line
// and column, computed from the editor's unsaved buffers.
//
// It speaks the least of the Language Server Protocol that does this,
// over one stream pair (stdio): initialize, shutdown and exit; the
// open/change/save/close notifications of text documents (full text); and
// textDocument/publishDiagnostics. The CUE language server keeps doing the
// rest (syntax, navigation, formatting); this one adds what only an
// evaluation of the platform finds.
//
// After a change the server waits briefly for more (Options.Debounce), then
// checks the platform the document belongs to. A change to cluster files
// alone is checked in two steps: those clusters first, published as soon
// as they are known, then the whole fleet, for the checks that span
// clusters. Any other change is checked whole. Checks of one platform run
// one at a time, never in parallel with each other.
package lsp

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/fleetc/fleetc/internal/credentials"
	"github.com/fleetc/fleetc/internal/diag"
	"github.com/fleetc/fleetc/internal/load"
)

// Request is one check of a platform.
type Request struct {
	// Root is the module root of the platform.
	Root string
	// Overlay holds the open CUE documents by absolute path; they replace
	// the files on disk.
	Overlay map[string][]byte
	// Clusters limits the check to these clusters; empty means the whole
	// platform.
	Clusters []string
}

// Checker checks a platform as `fleetc vet` does and returns nil, a
// diag.List of the problems found, or another error when the check could
// not run.
type Checker func(Request) error

// Options configure the server.
type Options struct {
	// Check checks a platform.
	Check Checker
	// Debounce is how long the server waits after a change for another one
	// before checking; 0 means DefaultDebounce.
	Debounce time.Duration
	// Version is the version the server reports to the client.
	Version string
}

// DefaultDebounce is short enough that diagnostics follow a pause in
// typing at once, and long enough to let a burst of keystrokes (or an
// editor's save, which sends several notifications) through first.
const DefaultDebounce = 30 * time.Millisecond

// ErrNoShutdown is returned by Serve when the client asks the server to
// exit without asking it to shut down first, or goes away; the protocol
// wants the exit status to say so.
var ErrNoShutdown = errors.New("the client ended the session without a shutdown request")

// Serve runs the server on a stream from in to out until the client asks
// it to exit. It returns nil after a shutdown, ErrNoShutdown after an exit
// without shutdown or when in ends before one, and other errors when the
// stream breaks.
func Serve(in io.Reader, out io.Writer, opts Options) error {
	if opts.Debounce <= 0 {
		opts.Debounce = DefaultDebounce
	}
	s := &server{
		opts:    opts,
		out:     out,
		docs:    map[string]*document{},
		modules: map[string]*module{},
		roots:   map[string]string{},
		wake:    make(chan wakeup),
		results: make(chan *result),
		quit:    make(chan struct{}),
	}
	msgs := make(chan []byte)
	readErr := make(chan error, 1)
	go func() {
		r := &reader{r: bufio.NewReader(in)}
		for {
			body, err := r.read()
			if err != nil {
				readErr <- err
				return
			}
			select {
			case msgs <- body:
			case <-s.quit:
				return
			}
		}
	}()
	defer s.stop()
	for {
		var err error
		select {
		case body := <-msgs:
			var done bool
			if done, err = s.handle(body); done {
				return err
			}
		case err = <-readErr:
			if errors.Is(err, io.EOF) {
				if s.shutdown {
					return nil // shut down, then gone without an exit
				}
				return ErrNoShutdown
			}
			return fmt.Errorf("read from the client: %w", err)
		case w := <-s.wake:
			m := w.m
			if w.gen != m.gen {
				break // a debounce that a later change replaced
			}
			m.timer = nil
			if m.running {
				m.due = true
			} else {
				s.start(m, false)
			}
		case r := <-s.results:
			err = s.finish(r)
		}
		if err != nil {
			return err
		}
	}
}

// server is the state of a session. Only Serve's loop touches it; checks
// run on their own goroutines with copies of what they need.
type server struct {
	opts Options
	out  io.Writer

	shutdown bool

	// docs are the open documents by path.
	docs map[string]*document
	// modules are the platforms of open documents by module root.
	modules map[string]*module
	// roots caches the module root of a directory ("" for none).
	roots map[string]string

	wake    chan wakeup
	results chan *result
	quit    chan struct{}
	checks  sync.WaitGroup
}

type document struct {
	uri     string
	path    string
	version int
	text    []byte
	module  *module // nil outside a platform
}

// module is one platform with open documents.
type module struct {
	root string
	// changed are the files changed since the last check started.
	changed map[string]bool
	// timer waits out the debounce after a change; gen counts the
	// changes, so that a timer that fired just as a later change stopped
	// it is recognised and ignored.
	timer *time.Timer
	gen   int
	// running says a check is under way; due says the debounce ended
	// meanwhile, so another must start when it finishes.
	running, due bool
	// published maps each file whose diagnostics the client shows to the
	// URI they were published under.
	published map[string]string
	// lastErr is the last error that stopped a check, logged once.
	lastErr string
}

// wakeup says that the debounce of the gen'th change of m has ended.
type wakeup struct {
	m   *module
	gen int
}

// result is the outcome of one check.
type result struct {
	m *module
	// scope is the set of files the diagnostics are complete for; nil
	// means every file.
	scope map[string]bool
	// partial says the check covered only the changed clusters.
	partial bool
	diags   diag.List
	err     error
	// docs are the open documents as the check saw them.
	docs map[string]*document
}

// handle handles one message. It returns done when the session is over.
func (s *server) handle(body []byte) (done bool, err error) {
	var m message
	if err := json.Unmarshal(body, &m); err != nil {
		return false, s.replyError(json.RawMessage("null"), codeParseError, "parse error: "+err.Error())
	}
	if m.Method == "" {
		return false, nil // a response: the server sends no requests
	}
	if m.Method == "exit" {
		if !s.shutdown {
			return true, ErrNoShutdown
		}
		return true, nil
	}
	if s.shutdown {
		if m.isRequest() {
			return false, s.replyError(m.ID, codeInvalidRequest, "the server is shut down")
		}
		return false, nil
	}
	switch m.Method {
	case "initialize":
		return false, s.reply(m.ID, initializeResult{
			Capabilities: serverCapabilities{TextDocumentSync: textDocumentSyncOptions{
				OpenClose: true, Change: syncFull, Save: saveOptions{IncludeText: true},
			}},
			ServerInfo: serverInfo{Name: "fleetc", Version: s.opts.Version},
		})
	case "shutdown":
		s.shutdown = true
		s.stopTimers()
		return false, s.reply(m.ID, nil)
	case "textDocument/didOpen":
		var p didOpenParams
		if err := json.Unmarshal(m.Params, &p); err != nil {
			return false, s.logf(messageError, "fleetc: %s: %v", m.Method, err)
		}
		s.open(p.TextDocument)
	case "textDocument/didChange":
		var p didChangeParams
		if err := json.Unmarshal(m.Params, &p); err != nil {
			return false, s.logf(messageError, "fleetc: %s: %v", m.Method, err)
		}
		s.change(p)
	case "textDocument/didSave":
		var p didSaveParams
		if err := json.Unmarshal(m.Params, &p); err != nil {
			return false, s.logf(messageError, "fleetc: %s: %v", m.Method, err)
		}
		s.save(p)
	case "textDocument/didClose":
		var p didCloseParams
		if err := json.Unmarshal(m.Params, &p); err != nil {
			return false, s.logf(messageError, "fleetc: %s: %v", m.Method, err)
		}
		s.close(p.TextDocument.URI)
	default:
		// Other notifications ($/cancelRequest, initialized, settings)
		// need nothing from this server.
		if m.isRequest() {
			return false, s.replyError(m.ID, codeMethodNotFound, "fleetc does not implement "+m.Method)
		}
	}
	return false, nil
}

func (s *server) open(item textDocumentItem) {
	path, ok := pathOf(item.URI)
	if !ok {
		return
	}
	d := &document{uri: item.URI, path: path, version: item.Version, text: []byte(item.Text), module: s.moduleOf(path)}
	s.docs[path] = d
	s.touch(d.module, path)
}

func (s *server) change(p didChangeParams) {
	path, ok := pathOf(p.TextDocument.URI)
	if !ok {
		return
	}
	d := s.docs[path]
	if d == nil {
		return
	}
	for _, c := range p.ContentChanges {
		if c.Range == nil {
			d.text = []byte(c.Text)
			continue
		}
		start, end := byteOffset(d.text, c.Range.Start), byteOffset(d.text, c.Range.End)
		if end < start {
			start, end = end, start
		}
		d.text = slices.Concat(d.text[:start:start], []byte(c.Text), d.text[end:])
	}
	d.version = p.TextDocument.Version
	s.touch(d.module, path)
}

func (s *server) save(p didSaveParams) {
	path, ok := pathOf(p.TextDocument.URI)
	if !ok {
		return
	}
	if d := s.docs[path]; d != nil && p.Text != nil {
		d.text = []byte(*p.Text)
	}
	// A file saved outside the set of open ones (some clients send that)
	// changes the platform on disk as well.
	s.touch(s.moduleOf(path), path)
}

func (s *server) close(uri string) {
	path, ok := pathOf(uri)
	if !ok {
		return
	}
	d := s.docs[path]
	if d == nil {
		return
	}
	delete(s.docs, path)
	// The file on disk replaces the buffer, which may have held unsaved
	// changes.
	s.touch(d.module, path)
}

// moduleOf returns the platform that path belongs to, or nil.
func (s *server) moduleOf(path string) *module {
	dir := filepath.Dir(path)
	root, ok := s.roots[dir]
	if !ok {
		root, _ = load.FindRoot(dir)
		s.roots[dir] = root
	}
	if root == "" {
		return nil
	}
	m := s.modules[root]
	if m == nil {
		m = &module{root: root, changed: map[string]bool{}, published: map[string]string{}}
		s.modules[root] = m
	}
	return m
}

// touch notes a change of path in m and (re)starts m's debounce.
func (s *server) touch(m *module, path string) {
	if m == nil {
		return
	}
	m.changed[path] = true
	if m.timer != nil {
		m.timer.Stop()
	}
	m.gen++
	w := wakeup{m: m, gen: m.gen}
	m.timer = time.AfterFunc(s.opts.Debounce, func() {
		select {
		case s.wake <- w:
		case <-s.quit:
		}
	})
}

// start starts a check of m on the open documents as they are now: of the
// changed clusters first if only cluster files changed, else (or when
// full) of everything.
func (s *server) start(m *module, full bool) {
	m.running, m.due = true, false
	docs := map[string]*document{}
	overlay := map[string][]byte{}
	for path, d := range s.docs {
		if d.module != m {
			continue
		}
		docs[path] = &document{uri: d.uri, path: d.path, version: d.version, text: d.text}
		if strings.HasSuffix(path, ".cue") {
			overlay[path] = d.text
		}
	}
	changed := slices.Sorted(maps.Keys(m.changed))
	clear(m.changed)
	s.checks.Add(1)
	go func() {
		defer s.checks.Done()
		r := s.check(m, overlay, changed, full)
		r.docs = docs
		select {
		case s.results <- r:
		case <-s.quit:
		}
	}()
}

// check runs on its own goroutine. It loads the platform first to learn
// which of the changed files are cluster files (and to report a broken
// load without touching the diagnostics of other files), then asks the
// checker.
func (s *server) check(m *module, overlay map[string][]byte, changed []string, full bool) (r *result) {
	r = &result{m: m}
	defer func() {
		// A panic in the evaluator must not take the editor's server
		// down; the next change checks again.
		if v := recover(); v != nil {
			r = &result{m: m, err: fmt.Errorf("internal error: %v", v)}
		}
	}()
	p, err := load.Load(load.Config{Dir: m.root, Overlay: overlay})
	if err != nil {
		var dl diag.List
		if !errors.As(err, &dl) {
			r.err = err
			return r
		}
		// The files that do not load say why; the others were not
		// evaluated, so what they showed still stands.
		r.diags, r.scope = dl, setOf(changed)
		for _, d := range dl {
			if d.Pos.Filename != "" {
				r.scope[filepath.Clean(d.Pos.Filename)] = true
			}
		}
		return r
	}
	req := Request{Root: m.root, Overlay: overlay}
	if !full {
		req.Clusters = clustersOf(p, changed)
	}
	if len(req.Clusters) > 0 {
		r.partial, r.scope = true, setOf(changed)
	}
	err = s.opts.Check(req)
	var dl diag.List
	switch {
	case err == nil:
	case errors.As(err, &dl):
		r.diags = dl
	default:
		r.err = err
	}
	return r
}

// clustersOf returns the clusters that the changed files define, or nil
// if any of them is not a cluster file.
func clustersOf(p *load.Platform, changed []string) []string {
	var names []string
	for _, path := range changed {
		i := slices.IndexFunc(p.Clusters, func(c *load.ClusterFile) bool { return c.Path == path })
		if i < 0 {
			return nil
		}
		names = append(names, p.Clusters[i].Name)
	}
	return names
}

func setOf(paths []string) map[string]bool {
	set := make(map[string]bool, len(paths))
	for _, p := range paths {
		set[p] = true
	}
	return set
}

// finish publishes a check's result and starts what must follow: another
// check if the platform changed meanwhile, else the whole fleet after a
// partial check.
func (s *server) finish(r *result) error {
	m := r.m
	m.running = false
	if s.shutdown {
		return nil
	}
	if err := s.publish(r); err != nil {
		return err
	}
	switch {
	case m.due:
		s.start(m, false)
	case len(m.changed) > 0:
		// The debounce is still running; it starts the next check.
	case r.partial:
		s.start(m, true)
	}
	return nil
}

// publish sends the diagnostics of the files in the result's scope.
func (s *server) publish(r *result) error {
	m := r.m
	if r.err != nil {
		if msg := r.err.Error(); msg != m.lastErr {
			m.lastErr = msg
			return s.logf(messageError, "fleetc: %s: %s", m.root, msg)
		}
		return nil
	}
	m.lastErr = ""
	byFile := map[string]diag.List{}
	for _, d := range r.diags {
		if d.Pos.Filename == "" {
			// Nowhere to show it in a file; the log has it.
			if err := s.logf(messageError, "fleetc: %s", d.Format(m.root)); err != nil {
				return err
			}
			continue
		}
		path := filepath.Clean(d.Pos.Filename)
		byFile[path] = append(byFile[path], d)
	}
	// Every file in scope that shows diagnostics now, showed some before
	// or is open gets its list, empty or not: an editor then knows that
	// an open file was checked and is clean.
	files := slices.Collect(maps.Keys(byFile))
	files = slices.AppendSeq(files, maps.Keys(m.published))
	files = slices.AppendSeq(files, maps.Keys(r.docs))
	slices.Sort(files)
	files = slices.Compact(files)
	for _, path := range files {
		if r.scope != nil && !r.scope[path] {
			continue
		}
		params := publishDiagnosticsParams{URI: uriOf(path), Diagnostics: []diagnostic{}}
		var text []byte
		if d := r.docs[path]; d != nil {
			params.URI, text = d.uri, d.text
			params.Version = &d.version
		} else if uri, ok := m.published[path]; ok {
			params.URI = uri
		}
		if text == nil && len(byFile[path]) > 0 {
			// A file the editor does not have open: its text on disk is
			// what the check read.
			text, _ = os.ReadFile(path)
		}
		for _, d := range byFile[path] {
			params.Diagnostics = append(params.Diagnostics, diagnostic{
				Range:    rangeAt(text, d.Pos),
				Severity: severityError,
				Source:   "fleetc",
				Message:  messageOf(d, path),
			})
		}
		if len(params.Diagnostics) > 0 {
			m.published[path] = params.URI
		} else {
			delete(m.published, path)
		}
		if err := s.notify("textDocument/publishDiagnostics", params); err != nil {
			return err
		}
	}
	return nil
}

// messageOf is what the editor shows for d: `path: message`, after the
// cluster's name unless d is in that cluster's own file, scrubbed of
// credentials.
func messageOf(d diag.Diagnostic, file string) string {
	msg := d.Message
	if d.Path != "" {
		msg = d.Path + ": " + msg
	}
	if d.Cluster != "" && filepath.Base(file) != d.Cluster+".cue" {
		msg = d.Cluster + ": " + msg
	}
	return credentials.Scrub(msg)
}

func (s *server) reply(id json.RawMessage, result any) error {
	return writeMessage(s.out, response{JSONRPC: "2.0", ID: id, Result: result})
}

func (s *server) replyError(id json.RawMessage, code int, msg string) error {
	return writeMessage(s.out, errorResponse{JSONRPC: "2.0", ID: id, Error: rpcError{Code: code, Message: msg}})
}

func (s *server) notify(method string, params any) error {
	return writeMessage(s.out, notification{JSONRPC: "2.0", Method: method, Params: params})
}

func (s *server) logf(typ int, format string, args ...any) error {
	return s.notify("window/logMessage", logMessageParams{Type: typ, Message: credentials.Scrub(fmt.Sprintf(format, args...))})
}

func (s *server) stopTimers() {
	for _, m := range s.modules {
		if m.timer != nil {
			m.timer.Stop()
			m.timer = nil
		}
	}
}

// stop ends the session's goroutines: pending debounces are dropped and
// running checks are waited for, their results discarded.
func (s *server) stop() {
	s.stopTimers()
	close(s.quit)
	s.checks.Wait()
}
