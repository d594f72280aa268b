package cli

import (
	"strings"
	"testing"
	"time"
)

// TestProgress: nothing shows before the first delay, then at most one
// line per interval; the last cluster wipes the line, and nothing draws
// it again.
func TestProgress(t *testing.T) {
	var out strings.Builder
	now := time.Unix(0, 0)
	p := &progress{w: &out, what: "compiling clusters", delay: 500 * time.Millisecond, every: 100 * time.Millisecond, now: func() time.Time { return now }, started: now}
	step := func(d time.Duration, done int) {
		now = now.Add(d)
		p.update(done, 10)
	}
	step(100*time.Millisecond, 1) // before the delay
	step(500*time.Millisecond, 2) // shown
	step(10*time.Millisecond, 3)  // too soon
	step(100*time.Millisecond, 4) // shown
	step(time.Millisecond, 10)    // the last one wipes the line
	step(time.Second, 9)          // a slower worker's: too late
	want := "\r\x1b[Kfleetc: compiling clusters 2/10" +
		"\r\x1b[Kfleetc: compiling clusters 4/10" +
		"\r\x1b[K"
	if got := out.String(); got != want {
		t.Errorf("got %q\nwant %q", got, want)
	}
}

// TestProgressOnlyOnTerminals: no progress line for a pipe, a CI job or a
// dumb terminal.
func TestProgressOnlyOnTerminals(t *testing.T) {
	for _, tc := range []struct {
		tty  bool
		env  map[string]string
		want bool
	}{
		{tty: true, want: true},
		{tty: false, want: false},
		{tty: true, env: map[string]string{"CI": "true"}, want: false},
		{tty: true, env: map[string]string{"CI": "false"}, want: true},
		{tty: true, env: map[string]string{"TERM": "dumb"}, want: false},
	} {
		io := IO{StderrTerminal: tc.tty, Getenv: func(k string) string { return tc.env[k] }}
		if got := newProgress(io, "x") != nil; got != tc.want {
			t.Errorf("terminal %v, env %v: progress %v, want %v", tc.tty, tc.env, got, tc.want)
		}
	}
}
