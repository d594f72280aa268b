package cli

import (
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/fleetc/fleetc/internal/build"
)

// printStats writes the phases of a build to w, for --stats; label
// names the build when a command runs more than one (diff --base).
func printStats(w io.Writer, label string, s *build.Stats) {
	fmt.Fprintf(w, "fleetc: stats%s\n", label)
	for _, p := range s.Phases {
		fmt.Fprintf(w, "  %-9s %9s  %s\n", p.Name, seconds(p.D), p.Note)
	}
	fmt.Fprintf(w, "  %-9s %9s\n", "total", seconds(s.Took()))
}

func seconds(d time.Duration) string { return fmt.Sprintf("%.3fs", d.Seconds()) }

// progress shows, on a terminal, how many clusters of how many are done,
// on one line that it rewrites and clears when the last is done (the
// build reports that one however the compile ends). Nothing shows for a
// compile that ends within the first delay, so short runs stay quiet.
type progress struct {
	w     io.Writer
	what  string
	delay time.Duration // before the first line
	every time.Duration // between lines
	now   func() time.Time

	mu      sync.Mutex
	started time.Time
	last    time.Time
	shown   bool
	// finished is set once the last cluster is done.
	finished bool
}

// newProgress returns a progress line for io, or nil when its stderr is
// not a terminal or the environment says it is a CI job or a dumb
// terminal: progress lines would only clutter a log.
func newProgress(io IO, what string) *progress {
	if !io.StderrTerminal || io.Getenv == nil {
		return nil
	}
	if ci := io.Getenv("CI"); ci != "" && ci != "false" && ci != "0" {
		return nil
	}
	if io.Getenv("TERM") == "dumb" {
		return nil
	}
	return &progress{w: io.Stderr, what: what, delay: 500 * time.Millisecond, every: 100 * time.Millisecond, now: time.Now, started: time.Now()}
}

// update is called by workers as clusters finish.
func (p *progress) update(done, total int) {
	if p == nil {
		return
	}
	if done >= total {
		// The last cluster: the line goes, and stays gone whatever a
		// slower worker's update would still draw.
		p.mu.Lock()
		defer p.mu.Unlock()
		if p.shown {
			fmt.Fprint(p.w, "\r\x1b[K")
			p.shown = false
		}
		p.finished = true
		return
	}
	if !p.mu.TryLock() {
		return // another worker is drawing; the next update will show
	}
	defer p.mu.Unlock()
	now := p.now()
	if p.finished || now.Sub(p.started) < p.delay || (p.shown && now.Sub(p.last) < p.every) {
		return
	}
	p.last, p.shown = now, true
	fmt.Fprintf(p.w, "\r\x1b[Kfleetc: %s %d/%d", p.what, done, total)
}

// fn is update as a compile.Options.Progress, nil when there is no line.
func (p *progress) fn() func(int, int) {
	if p == nil {
		return nil
	}
	return p.update
}
