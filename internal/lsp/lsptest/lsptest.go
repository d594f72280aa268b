// Package lsptest measures what a user of `fleetc lsp` waits for: it
// runs the language server in the process, as an editor would start it,
// opens a cluster file of a platform, edits it (breaking its env, then
// fixing it) while the server checks the fleet, and times each edit's
// diagnostics. cmd/fleetbench reports its figures next to compile's.
package lsptest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/fleetc/fleetc/internal/cli"
	"github.com/fleetc/fleetc/internal/lsp"
)

// Options say what to measure.
type Options struct {
	// Root is the module root of the platform; its first cluster file
	// (by name) is the one edited.
	Root string
	// Cache is the build cache directory (FLEETC_CACHE); empty for an
	// empty one that is removed afterwards.
	Cache string
	// Edits is how many edits to make, 4 if 0. Each comes as soon as the
	// edited file's diagnostics for the last one are published, plus
	// Pause, so that the check of the fleet is running when it comes.
	Edits int
	Pause time.Duration
	// Timeout bounds the wait for any one result; 10 minutes if 0.
	Timeout time.Duration
}

// Latencies are the times a user waits, from the change sent to the
// diagnostics published.
type Latencies struct {
	// Open is from opening the file to its first diagnostics (the
	// platform is loaded then).
	Open time.Duration
	// File are the edited file's diagnostics after each edit: the check
	// of the cluster alone, while the check of the fleet for the edit
	// before is running.
	File []time.Duration
	// Fleet is from the last edit to the fleet-wide result for it.
	Fleet time.Duration
}

// String says l in one line, in milliseconds.
func (l Latencies) String() string {
	ms := func(d time.Duration) string { return strconv.FormatInt(d.Milliseconds(), 10) }
	var file []string
	for _, d := range l.File {
		file = append(file, ms(d))
	}
	return fmt.Sprintf("open %s ms; edited file median %s ms, max %s ms (%s); fleet %s ms",
		ms(l.Open), ms(l.Median()), ms(l.Max()), strings.Join(file, " "), ms(l.Fleet))
}

// Max is the longest of l.File.
func (l Latencies) Max() time.Duration { return slices.Max(append([]time.Duration{0}, l.File...)) }

// Median is the median of l.File.
func (l Latencies) Median() time.Duration {
	if len(l.File) == 0 {
		return 0
	}
	s := slices.Sorted(slices.Values(l.File))
	return s[len(s)/2]
}

// envLine is the env line of a cluster file.
var envLine = regexp.MustCompile(`(?m)^(\s*env:\s*)"[^"]*"`)

// Measure runs `fleetc lsp` on the platform at o.Root and times it.
func Measure(o Options) (Latencies, error) {
	if o.Edits <= 0 {
		o.Edits = 4
	}
	if o.Timeout <= 0 {
		o.Timeout = 10 * time.Minute
	}
	if o.Cache == "" {
		dir, err := os.MkdirTemp("", "fleetc-lsp-cache")
		if err != nil {
			return Latencies{}, err
		}
		defer os.RemoveAll(dir)
		o.Cache = dir
	}
	path, good, err := firstCluster(o.Root)
	if err != nil {
		return Latencies{}, err
	}
	bad := envLine.ReplaceAll(good, []byte(`${1}"no-such-env"`))

	s := start(o.Root, o.Cache)
	defer s.close()
	uri := (&url.URL{Scheme: "file", Path: filepath.ToSlash(path)}).String()
	if err := s.call("initialize", map[string]any{"processId": nil, "rootUri": nil, "capabilities": map[string]any{}}, o.Timeout); err != nil {
		return Latencies{}, err
	}
	s.send(map[string]any{"jsonrpc": "2.0", "method": "initialized", "params": map[string]any{}})

	var l Latencies
	t0 := time.Now()
	s.send(map[string]any{"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": map[string]any{
		"textDocument": map[string]any{"uri": uri, "languageId": "cue", "version": 1, "text": string(good)}}})
	if _, err := s.published(uri, 1, 1, o.Timeout); err != nil {
		return l, err
	}
	l.Open = time.Since(t0)
	var last time.Time
	for i := range o.Edits {
		time.Sleep(o.Pause)
		v, text, want := i+2, bad, 1
		if i%2 == 1 {
			text, want = good, 0
		}
		last = time.Now()
		s.send(map[string]any{"jsonrpc": "2.0", "method": "textDocument/didChange", "params": map[string]any{
			"textDocument":   map[string]any{"uri": uri, "version": v},
			"contentChanges": []any{map[string]any{"text": string(text)}}}})
		n, err := s.published(uri, v, 1, o.Timeout)
		if err != nil {
			return l, err
		}
		if n != want {
			return l, fmt.Errorf("edit %d: %d diagnostics, want %d", i+1, n, want)
		}
		l.File = append(l.File, time.Since(last))
	}
	// The second publication of the last version is the fleet's.
	if _, err := s.published(uri, o.Edits+1, 2, o.Timeout); err != nil {
		return l, err
	}
	l.Fleet = time.Since(last)
	if err := s.call("shutdown", nil, o.Timeout); err != nil {
		return l, err
	}
	s.send(map[string]any{"jsonrpc": "2.0", "method": "exit"})
	return l, nil
}

// firstCluster is the first cluster file of the platform by name, and
// its text.
func firstCluster(root string) (string, []byte, error) {
	names, err := filepath.Glob(filepath.Join(root, "clusters", "*.cue"))
	if err != nil {
		return "", nil, err
	}
	slices.Sort(names)
	for _, name := range names {
		src, err := os.ReadFile(name)
		if err != nil {
			return "", nil, err
		}
		if envLine.Match(src) && !bytes.Contains(src, []byte("\nimport")) {
			return name, src, nil
		}
	}
	return "", nil, fmt.Errorf("no cluster file with an env line in %s/clusters", root)
}

// session is the editor's end of a server running in the process.
type session struct {
	toSrv  *io.PipeWriter
	msgs   chan message
	served chan int
	// seen counts the publications of each (uri, version).
	seen   map[string]int
	counts map[string]int
	nextID int
	// logs are the server's log messages, for an error that times out.
	logs []string
}

type message struct {
	ID     json.RawMessage `json:"id"`
	Method string          `json:"method"`
	Params json.RawMessage `json:"params"`
}

func start(root, cache string) *session {
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	s := &session{toSrv: inW, msgs: make(chan message, 1000), served: make(chan int, 1), seen: map[string]int{}, counts: map[string]int{}}
	go func() {
		env := func(k string) string {
			if k == "FLEETC_CACHE" {
				return cache
			}
			return ""
		}
		code := cli.Run([]string{"lsp"}, cli.IO{Stdin: inR, Stdout: outW, Stderr: io.Discard, Getenv: env, Cwd: root})
		outW.Close()
		inR.Close()
		s.served <- code
	}()
	go func() {
		defer close(s.msgs)
		r := bufio.NewReader(outR)
		for {
			body, err := lsp.ReadMessage(r)
			if err != nil {
				return
			}
			var m message
			if json.Unmarshal(body, &m) == nil {
				s.msgs <- m
			}
		}
	}()
	return s
}

func (s *session) send(v any) {
	body, _ := json.Marshal(v)
	fmt.Fprintf(s.toSrv, "Content-Length: %d\r\n\r\n%s", len(body), body)
}

func (s *session) close() {
	s.toSrv.Close()
	select {
	case <-s.served:
	case <-time.After(time.Minute):
	}
}

// next returns the next message, or an error after timeout.
func (s *session) next(timeout time.Duration) (message, error) {
	select {
	case m, ok := <-s.msgs:
		if !ok {
			return message{}, errors.New("the server closed the connection")
		}
		if m.Method == "window/logMessage" {
			var p struct{ Message string }
			if json.Unmarshal(m.Params, &p) == nil {
				s.logs = append(s.logs, p.Message)
			}
		}
		if m.Method == "textDocument/publishDiagnostics" {
			var p struct {
				URI         string            `json:"uri"`
				Version     *int              `json:"version"`
				Diagnostics []json.RawMessage `json:"diagnostics"`
			}
			if json.Unmarshal(m.Params, &p) == nil && p.Version != nil {
				k := p.URI + "@" + strconv.Itoa(*p.Version)
				s.seen[k]++
				s.counts[k] = len(p.Diagnostics)
			}
		}
		return m, nil
	case <-time.After(timeout):
		return message{}, fmt.Errorf("nothing from the server within %s (its log: %q)", timeout, s.logs)
	}
}

// call sends a request and waits for its response.
func (s *session) call(method string, params any, timeout time.Duration) error {
	s.nextID++
	id := strconv.Itoa(s.nextID)
	s.send(map[string]any{"jsonrpc": "2.0", "id": s.nextID, "method": method, "params": params})
	deadline := time.Now().Add(timeout)
	for {
		m, err := s.next(time.Until(deadline))
		if err != nil {
			return fmt.Errorf("%s: %w", method, err)
		}
		if m.Method == "" && string(m.ID) == id {
			return nil
		}
	}
}

// published waits for the n-th publication of uri's diagnostics at
// version and returns how many there were.
func (s *session) published(uri string, version, n int, timeout time.Duration) (int, error) {
	k := uri + "@" + strconv.Itoa(version)
	deadline := time.Now().Add(timeout)
	for s.seen[k] < n {
		if _, err := s.next(time.Until(deadline)); err != nil {
			return 0, fmt.Errorf("diagnostics of version %d: %w", version, err)
		}
	}
	return s.counts[k], nil
}
