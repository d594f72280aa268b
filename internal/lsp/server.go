// Package lsp is fleetc's language server: it shows in an editor, as the
// user types, every problem `fleetc vet` would report, at its file, line
// and column, computed from the editor's unsaved buffers; and in cluster
// files it completes fields and names and explains a field on hover.
//
// It speaks the least of the Language Server Protocol that does this,
// over one stream pair (stdio): initialize, shutdown and exit; the
// open/change/save/close notifications of text documents (full text);
// textDocument/publishDiagnostics; and, with an Assistant,
// textDocument/completion and textDocument/hover. The CUE language
// server keeps doing the rest (syntax, navigation, formatting); this one
// adds what only an evaluation of the platform finds.
//
// After a change the server waits briefly for more (Options.Debounce), then
// checks the platform the document belongs to. A change to cluster files
// alone is checked in two steps: those clusters alone first (no check
// that spans clusters), published as soon as they are known, then the
// whole fleet, for the checks that span clusters. Any other change is
// checked whole. The check of the changed clusters never waits for one of
// the whole fleet: a newer change cancels the check of the fleet that is
// running (Checker's context), and the next one starts when the check of
// the changed clusters is published and the cancelled one has returned.
package lsp

import (
	"bufio"
	"context"
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
	"github.com/fleetc/fleetc/internal/fan"
	"github.com/fleetc/fleetc/internal/load"
)

// Request is one check of a platform.
type Request struct {
	// Root is the module root of the platform.
	Root string
	// Overlay holds the open CUE documents by absolute path; they replace
	// the files on disk.
	Overlay map[string][]byte
	// Clusters, when set, asks for the check of these clusters alone, as
	// each is evaluated on its own: not the checks that span clusters
	// (the check of the whole fleet that follows makes them). Empty
	// means the whole platform, as `fleetc vet` checks it.
	Clusters []string
	// Changed are the files changed since the last check (absolute
	// paths): with Clusters, the files of those clusters.
	Changed []string
}

// Checker checks a platform and returns nil, a diag.List of the problems
// found, a *LoadError when the platform could not be read, or another
// error when the check could not run. When ctx is cancelled (a newer
// change made the check stale), it should return soon; what it returns
// then is not shown.
type Checker func(ctx context.Context, req Request) error

// LoadError is what a Checker returns when the platform could not be
// read (a cluster declared in two files, a file in a subdirectory):
// nothing was evaluated, so the server shows these problems and leaves
// the diagnostics of every other file as they were.
type LoadError struct{ Problems diag.List }

func (e *LoadError) Error() string { return e.Problems.Error() }

// Options configure the server.
type Options struct {
	// Check checks a platform.
	Check Checker
	// Assist answers completion and hover in cluster files; without it
	// the server offers neither.
	Assist Assistant
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
		replies: make(chan reply),
		quit:    make(chan struct{}),
	}
	msgs := make(chan []byte)
	readErr := make(chan error, 1)
	go func() {
		r := bufio.NewReader(in)
		for {
			body, err := ReadMessage(r)
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
			err = s.settled(m)
		case r := <-s.results:
			err = s.finish(r)
		case r := <-s.replies:
			if r.err != nil {
				err = s.replyError(r.id, codeRequestFailed, credentials.Scrub(r.err.Error()))
			} else {
				err = s.reply(r.id, r.result)
			}
		}
		if err != nil {
			return err
		}
	}
}

// server is the state of a session. Only Serve's loop touches it; checks
// and the assistant run on their own goroutines with copies of what they
// need.
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
	replies chan reply
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

// module is one platform with open documents. It has at most one check
// of changed clusters and one check of the whole fleet running, each on
// its own goroutine.
type module struct {
	root string
	// changed are the files changed since the last check started.
	changed map[string]bool
	// timer waits out the debounce after a change; gen counts the
	// changes, so that a timer that fired just as a later change stopped
	// it is recognised and ignored.
	timer *time.Timer
	gen   int
	// quick says a check of changed clusters is running, and queued are
	// the cluster files changed meanwhile, to check when it ends.
	quick  bool
	queued map[string]bool
	// fleet cancels the check of the whole fleet that is running, nil
	// if none is; fleetDue says one must start when nothing stands in
	// its way (a change being debounced, a check of clusters, a
	// cancelled check of the fleet still returning).
	fleet    context.CancelFunc
	fleetCtx context.Context
	fleetDue bool
	// unchecked are the files changed since the check of the whole fleet
	// that is running, or the last one, started.
	unchecked map[string]bool
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
	// quick says the check covered only changed clusters; ctx is that of
	// a check of the whole fleet.
	quick bool
	ctx   context.Context
	// changed are the files changed since the last check of the whole
	// fleet, for one.
	changed []string
	diags   diag.List
	err     error
	// docs are the open documents as the check saw them.
	docs map[string]*document
}

// reply is the answer to a request that was answered on its own
// goroutine.
type reply struct {
	id     json.RawMessage
	result any
	err    error
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
		caps := serverCapabilities{TextDocumentSync: textDocumentSyncOptions{
			OpenClose: true, Change: syncFull, Save: saveOptions{IncludeText: true},
		}}
		if s.opts.Assist != nil {
			caps.CompletionProvider = &completionOptions{TriggerCharacters: []string{`"`, ":"}}
			caps.HoverProvider = true
		}
		return false, s.reply(m.ID, initializeResult{Capabilities: caps, ServerInfo: serverInfo{Name: "fleetc", Version: s.opts.Version}})
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
	case "textDocument/completion", "textDocument/hover":
		if s.opts.Assist == nil {
			return false, s.replyError(m.ID, codeMethodNotFound, "fleetc does not implement "+m.Method)
		}
		var p textDocumentPositionParams
		if err := json.Unmarshal(m.Params, &p); err != nil {
			return false, s.replyError(m.ID, codeInvalidParams, err.Error())
		}
		return false, s.assist(m.ID, m.Method, p)
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
		m = &module{root: root, changed: map[string]bool{}, queued: map[string]bool{}, unchecked: map[string]bool{}, published: map[string]string{}}
		s.modules[root] = m
	}
	return m
}

// touch notes a change of path in m, cancels the check of the whole
// fleet that is running (it is stale now) and (re)starts m's debounce.
func (s *server) touch(m *module, path string) {
	if m == nil {
		return
	}
	m.changed[path] = true
	if m.fleet != nil {
		m.fleet()
	}
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

// snapshot copies the open documents of m and the overlay they make.
func (s *server) snapshot(m *module) (map[string]*document, map[string][]byte) {
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
	return docs, overlay
}

// settled starts the checks of m's changes once the debounce has ended:
// of the changed clusters if only cluster files changed (then the whole
// fleet), else of the whole fleet. A changed file that does not parse is
// shown at once, and nothing is checked: nothing could be evaluated.
func (s *server) settled(m *module) error {
	changed := slices.Sorted(maps.Keys(m.changed))
	clear(m.changed)
	for _, path := range changed {
		m.unchecked[path] = true
	}
	docs, _ := s.snapshot(m)
	var problems diag.List
	clustersOnly := true
	for _, path := range changed {
		var src []byte
		if d := docs[path]; d != nil {
			src = d.text
		}
		name, ds := load.ClusterOf(m.root, path, src)
		problems = append(problems, ds...)
		if name == "" {
			clustersOnly = false
		}
	}
	if len(problems) > 0 {
		// The other files were not evaluated: what they show stands.
		m.fleetDue = false
		return s.publish(&result{m: m, diags: problems, scope: withFiles(setOf(changed), problems), docs: docs})
	}
	m.fleetDue = true
	if clustersOnly {
		for _, path := range changed {
			m.queued[path] = true
		}
		s.startQuick(m)
	}
	s.startFleet(m)
	return nil
}

// startQuick starts the check of the queued cluster files of m, unless
// one is running.
func (s *server) startQuick(m *module) {
	if m.quick || len(m.queued) == 0 {
		return
	}
	m.quick = true
	docs, overlay := s.snapshot(m)
	paths := slices.Sorted(maps.Keys(m.queued))
	clear(m.queued)
	var names []string
	for _, path := range paths {
		var src []byte
		if d := docs[path]; d != nil {
			src = d.text
		}
		if name, _ := load.ClusterOf(m.root, path, src); name != "" {
			names = append(names, name)
		}
	}
	r := &result{m: m, quick: true, scope: setOf(paths), docs: docs}
	if len(names) < len(paths) {
		// A file that changed again since it was queued is no cluster
		// file now; the check of the fleet covers it.
		names = nil
	}
	s.run(context.Background(), r, Request{Root: m.root, Overlay: overlay, Clusters: names, Changed: paths})
}

// startFleet starts the check of the whole fleet of m when one is due and
// nothing stands in its way.
func (s *server) startFleet(m *module) {
	if !m.fleetDue || m.timer != nil || m.quick || len(m.queued) > 0 || m.fleet != nil {
		return
	}
	m.fleetDue = false
	docs, overlay := s.snapshot(m)
	ctx, cancel := context.WithCancel(context.Background())
	m.fleet, m.fleetCtx = cancel, ctx
	changed := slices.Sorted(maps.Keys(m.unchecked))
	clear(m.unchecked)
	s.run(ctx, &result{m: m, ctx: ctx, docs: docs, changed: changed}, Request{Root: m.root, Overlay: overlay, Changed: changed})
}

// run runs the checker for r on its own goroutine and hands r to the
// loop.
func (s *server) run(ctx context.Context, r *result, req Request) {
	if r.quick && len(req.Clusters) == 0 {
		// Nothing to check alone; the result clears nothing.
		r.scope = map[string]bool{}
	}
	s.checks.Add(1)
	go func() {
		defer s.checks.Done()
		if !r.quick || len(req.Clusters) > 0 {
			r.diags, r.err = s.check(ctx, req)
		}
		select {
		case s.results <- r:
		case <-s.quit:
		}
	}()
}

// check runs the checker, on its own goroutine.
func (s *server) check(ctx context.Context, req Request) (diag.List, error) {
	var err error
	// A panic in the evaluator must not take the editor's server down;
	// the next change checks again. A panic of compile's workers names
	// its cluster.
	if crash := fan.Catch("", func() { err = s.opts.Check(ctx, req) }); crash != nil {
		return nil, fmt.Errorf("internal error: %w", crash)
	}
	var dl diag.List
	var le *LoadError
	switch {
	case err == nil:
		return nil, nil
	case errors.As(err, &le):
		return le.Problems, le
	case errors.As(err, &dl):
		return dl, nil
	}
	return nil, err
}

func setOf(paths []string) map[string]bool {
	set := make(map[string]bool, len(paths))
	for _, p := range paths {
		set[p] = true
	}
	return set
}

// withFiles adds to scope the files that problems are in: where a load
// that failed says why.
func withFiles(scope map[string]bool, problems diag.List) map[string]bool {
	for _, d := range problems {
		if d.Pos.Filename != "" {
			scope[filepath.Clean(d.Pos.Filename)] = true
		}
	}
	return scope
}

// finish publishes a check's result, unless it is a check of the fleet
// that a change cancelled, and starts what must follow: the queued
// clusters, the whole fleet.
func (s *server) finish(r *result) error {
	m := r.m
	if r.quick {
		m.quick = false
	} else if r.ctx == m.fleetCtx {
		m.fleet, m.fleetCtx = nil, nil
	}
	if s.shutdown {
		return nil
	}
	var le *LoadError
	if errors.As(r.err, &le) {
		// Nothing was evaluated: the files it names and the changed ones
		// say why, the others keep what they showed.
		r.err = nil
		if !r.quick {
			r.scope = setOf(r.changed)
		}
		r.scope = withFiles(r.scope, le.Problems)
	}
	var err error
	if r.ctx == nil || r.ctx.Err() == nil {
		err = s.publish(r)
	} else {
		// Cancelled: the next check of the fleet covers its changes.
		for _, path := range r.changed {
			m.unchecked[path] = true
		}
	}
	s.startQuick(m)
	s.startFleet(m)
	return err
}

// assist answers a completion or hover request on its own goroutine.
func (s *server) assist(id json.RawMessage, method string, p textDocumentPositionParams) error {
	path, ok := pathOf(p.TextDocument.URI)
	d := s.docs[path]
	if !ok || d == nil || d.module == nil {
		return s.reply(id, nil)
	}
	q, pl, ok := query(d.module.root, path, d.text, p.Position, method == "textDocument/hover")
	if !ok {
		return s.reply(id, nil)
	}
	_, q.Overlay = s.snapshot(d.module)
	s.checks.Add(1)
	go func() {
		defer s.checks.Done()
		r := reply{id: id}
		// As in check: a panic fails this request, not the session.
		if crash := fan.Catch("", func() {
			if method == "textDocument/hover" {
				r.result, r.err = s.hover(q, pl, p.Position)
			} else {
				r.result, r.err = s.complete(q, pl, p.Position)
			}
		}); crash != nil {
			r.err = fmt.Errorf("internal error: %w", crash)
		}
		select {
		case s.replies <- r:
		case <-s.quit:
		}
	}()
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
	d = d.Scrubbed()
	msg := d.Message
	if d.Path != "" {
		msg = d.Path + ": " + msg
	}
	if d.Cluster != "" && filepath.Base(file) != d.Cluster+".cue" {
		msg = d.Cluster + ": " + msg
	}
	return msg
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

// stop ends the session's goroutines: pending debounces are dropped,
// checks of the fleet cancelled, and running checks are waited for, their
// results discarded.
func (s *server) stop() {
	s.stopTimers()
	for _, m := range s.modules {
		if m.fleet != nil {
			m.fleet()
		}
	}
	close(s.quit)
	s.checks.Wait()
}
