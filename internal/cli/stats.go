package cli

import (
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/fleetc/fleetc/internal/compile"
)

// stats records where a command spent its time, for --stats: the phases
// of the pipeline in the order they ran.
type stats struct {
	start  time.Time
	phases []phase
}

type phase struct {
	name string
	d    time.Duration
	note string
}

func newStats() *stats { return &stats{start: time.Now()} }

// add records that the phase name took since t0; on a nil stats it does
// nothing, so callers need not check whether --stats was given.
func (s *stats) add(name string, t0 time.Time, note string) {
	if s != nil {
		s.phases = append(s.phases, phase{name, time.Since(t0), note})
	}
}

// addFleet records the phases of a compile.Fleet: evaluate and render
// are summed over the workers, so they are shown with the wall time the
// two took together.
func (s *stats) addFleet(f compile.Stats, carried int, cache string) {
	if s == nil {
		return
	}
	per := func(d time.Duration, n int) string {
		if n == 0 {
			return "-"
		}
		return (d / time.Duration(n)).Round(time.Microsecond).String()
	}
	evaluated := f.Clusters - f.Cached
	from := fmt.Sprintf("%d of %d clusters from the %s", f.Cached, f.Clusters, cache)
	if carried > 0 {
		from = fmt.Sprintf("%d of %d clusters carried over from the last compile, %d of the other %d from the %s", carried, f.Clusters, f.Cached-carried, f.Clusters-carried, cache)
	}
	s.phases = append(s.phases,
		phase{"setup", f.Setup, "shared package, built once per worker that evaluates"},
		phase{"cache", f.Lookup, from},
		phase{"evaluate", f.Evaluate, fmt.Sprintf("%d clusters, %s each, summed over %d workers", evaluated, per(f.Evaluate, evaluated), f.Workers)},
		phase{"render", f.Step, fmt.Sprintf("%s per cluster, summed over workers", per(f.Step, evaluated))},
		phase{"clusters", f.Wall, "wall time of the four above"},
	)
}

// print writes the table to w.
func (s *stats) print(w io.Writer) {
	fmt.Fprintln(w, "fleetc: stats")
	for _, p := range s.phases {
		fmt.Fprintf(w, "  %-9s %9s  %s\n", p.name, seconds(p.d), p.note)
	}
	fmt.Fprintf(w, "  %-9s %9s\n", "total", seconds(time.Since(s.start)))
}

func seconds(d time.Duration) string { return fmt.Sprintf("%.3fs", d.Seconds()) }

// progress shows, on a terminal, how many clusters of how many are done,
// on one line that it rewrites and finally clears. Nothing shows for a
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
	if p == nil || !p.mu.TryLock() {
		return // another worker is drawing; the next update will show
	}
	defer p.mu.Unlock()
	now := p.now()
	if now.Sub(p.started) < p.delay || (p.shown && now.Sub(p.last) < p.every && done < total) {
		return
	}
	p.last, p.shown = now, true
	fmt.Fprintf(p.w, "\r\x1b[Kfleetc: %s %d/%d", p.what, done, total)
}

// clear removes the line, if one was drawn.
func (p *progress) clear() {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.shown {
		fmt.Fprint(p.w, "\r\x1b[K")
		p.shown = false
	}
}

// fn is update as a compile.Options.Progress, nil when there is no line.
func (p *progress) fn() func(int, int) {
	if p == nil {
		return nil
	}
	return p.update
}
