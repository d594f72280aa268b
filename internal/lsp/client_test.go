package lsp_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/fleetc/fleetc/internal/lsp"
	"github.com/fleetc/fleetc/internal/testplatform"
)

// client is the editor's side of a session with a server running in the
// test, over pipes.
type client struct {
	t      testing.TB
	toSrv  *io.PipeWriter
	msgs   chan rpcMessage
	served chan error
	nextID int
	// pending are notifications read while waiting for a response.
	pending []rpcMessage
}

type rpcMessage struct {
	ID     json.RawMessage `json:"id"`
	Method string          `json:"method"`
	Params json.RawMessage `json:"params"`
	Result json.RawMessage `json:"result"`
	Error  *struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

type published struct {
	URI         string `json:"uri"`
	Version     *int   `json:"version"`
	Diagnostics []struct {
		Range struct {
			Start struct{ Line, Character int } `json:"start"`
			End   struct{ Line, Character int } `json:"end"`
		} `json:"range"`
		Severity int    `json:"severity"`
		Source   string `json:"source"`
		Message  string `json:"message"`
	} `json:"diagnostics"`
}

// startClient runs serve on a pair of pipes and returns the client end.
// The session ends with the test.
func startClient(t testing.TB, serve func(in io.Reader, out io.Writer) error) *client {
	t.Helper()
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	c := &client{t: t, toSrv: inW, msgs: make(chan rpcMessage, 100), served: make(chan error, 1)}
	go func() {
		err := serve(inR, outW)
		outW.Close()
		inR.Close()
		c.served <- err
	}()
	go func() {
		defer close(c.msgs)
		r := bufio.NewReader(outR)
		for {
			body, err := lsp.ReadMessage(r)
			if err == io.EOF {
				return
			}
			if err != nil {
				c.msgs <- rpcMessage{Method: "test/error", Params: json.RawMessage(strconv.Quote(err.Error()))}
				return
			}
			var m rpcMessage
			if err := json.Unmarshal(body, &m); err != nil {
				c.msgs <- rpcMessage{Method: "test/error", Params: json.RawMessage(strconv.Quote(err.Error()))}
				return
			}
			c.msgs <- m
		}
	}()
	t.Cleanup(func() {
		inW.Close()
		outR.Close()
		select {
		case <-c.served:
		case <-time.After(10 * time.Second):
			t.Error("the server did not stop")
		}
	})
	return c
}

func (c *client) send(v any) {
	c.t.Helper()
	body, err := json.Marshal(v)
	if err != nil {
		c.t.Fatal(err)
	}
	if _, err := fmt.Fprintf(c.toSrv, "Content-Length: %d\r\n\r\n%s", len(body), body); err != nil {
		c.t.Fatalf("send: %v", err)
	}
}

func (c *client) notify(method string, params any) {
	c.t.Helper()
	c.send(map[string]any{"jsonrpc": "2.0", "method": method, "params": params})
}

// call sends a request and waits for its response.
func (c *client) call(method string, params any) rpcMessage {
	c.t.Helper()
	c.nextID++
	id := c.nextID
	c.send(map[string]any{"jsonrpc": "2.0", "id": id, "method": method, "params": params})
	for {
		m := c.recv(10 * time.Second)
		if m.Method == "" && string(m.ID) == strconv.Itoa(id) {
			return m
		}
		c.pending = append(c.pending, m)
	}
}

// next returns the next message from the server, the pending ones
// first.
func (c *client) next(timeout time.Duration) rpcMessage {
	c.t.Helper()
	if len(c.pending) > 0 {
		m := c.pending[0]
		c.pending = c.pending[1:]
		return m
	}
	return c.recv(timeout)
}

// recv reads the next message from the connection.
func (c *client) recv(timeout time.Duration) rpcMessage {
	c.t.Helper()
	select {
	case m, ok := <-c.msgs:
		if !ok {
			c.t.Fatal("the server closed the connection")
		}
		if m.Method == "test/error" {
			c.t.Fatalf("reading from the server: %s", m.Params)
		}
		return m
	case <-time.After(timeout):
		c.t.Fatalf("no message from the server within %s", timeout)
	}
	panic("unreachable")
}

// diagnostics waits for diagnostics published for uri that satisfy ok.
func (c *client) diagnostics(uri string, ok func(published) bool) published {
	c.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		m := c.next(time.Until(deadline))
		if m.Method != "textDocument/publishDiagnostics" {
			continue
		}
		var p published
		if err := json.Unmarshal(m.Params, &p); err != nil {
			c.t.Fatal(err)
		}
		if p.URI == uri && ok(p) {
			return p
		}
	}
}

func (c *client) initialize() {
	c.t.Helper()
	if r := c.call("initialize", map[string]any{"processId": nil, "rootUri": nil, "capabilities": map[string]any{}}); r.Error != nil {
		c.t.Fatalf("initialize: %s", r.Error.Message)
	}
	c.notify("initialized", map[string]any{})
}

func (c *client) open(uri, text string) {
	c.t.Helper()
	c.notify("textDocument/didOpen", map[string]any{"textDocument": map[string]any{"uri": uri, "languageId": "cue", "version": 1, "text": text}})
}

func (c *client) change(uri string, version int, text string) {
	c.t.Helper()
	c.notify("textDocument/didChange", map[string]any{
		"textDocument":   map[string]any{"uri": uri, "version": version},
		"contentChanges": []any{map[string]any{"text": text}},
	})
}

// stop shuts the server down as an editor does and returns what Serve
// returned.
func (c *client) stop() error {
	c.t.Helper()
	if r := c.call("shutdown", nil); r.Error != nil {
		c.t.Fatalf("shutdown: %s", r.Error.Message)
	}
	c.notify("exit", nil)
	select {
	case err := <-c.served:
		c.served <- err // for the cleanup
		return err
	case <-time.After(10 * time.Second):
		c.t.Fatal("the server did not exit")
	}
	return nil
}

func fileURI(path string) string {
	return (&url.URL{Scheme: "file", Path: filepath.ToSlash(path)}).String()
}

// copyPlatform copies the reference platform (what `fleetc compile` reads)
// into dir.
func copyPlatform(t testing.TB, dir string) {
	t.Helper()
	if err := testplatform.Copy(dir); err != nil {
		t.Fatal(err)
	}
}
