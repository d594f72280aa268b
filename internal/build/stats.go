package build

import (
	"fmt"
	"time"

	"github.com/fleetc/fleetc/internal/compile"
)

// Stats say where a build spent its time, for --stats: the phases in the
// order they ran, and what the compile step found in the cache.
type Stats struct {
	start, last time.Time // when the build began, and its last phase ended
	Phases      []Phase
	// Clusters is how many clusters were compiled, Cached how many of
	// them came from the cache; Shortcut says that nothing was compiled
	// because the inputs were those of the last write (Unchanged).
	Clusters, Cached int
	Shortcut         bool
}

// Phase is one step of a build.
type Phase struct {
	Name string
	D    time.Duration
	Note string
}

// Total is the time since the build began.
func (s *Stats) Total() time.Duration { return time.Since(s.start) }

// Took is the time from the start of the build to the end of its last
// phase: a build that waits for another (diff's two sides) took no
// longer for it.
func (s *Stats) Took() time.Duration {
	if s.last.IsZero() {
		return s.Total()
	}
	return s.last.Sub(s.start)
}

// add records that the phase name took since t0.
func (s *Stats) add(name string, t0 time.Time, note string) {
	s.last = time.Now()
	s.Phases = append(s.Phases, Phase{name, s.last.Sub(t0), note})
}

// alone says how many clusters took their apps from another cluster's
// evaluation of #deploy, and how many apps were evaluated alone for them.
func alone(f compile.Stats) string {
	if f.Chosen == 0 {
		return ""
	}
	return fmt.Sprintf("; %d with the apps of a cluster evaluated before, %d apps evaluated alone", f.Chosen, f.Alone)
}

// addFleet records the phases of a compile.Fleet: evaluate and render are
// summed over the workers, so they are shown with the wall time the two
// took together.
func (s *Stats) addFleet(f compile.Stats, cache string, shared int64) {
	per := func(d time.Duration, n int) string {
		if n == 0 {
			return "-"
		}
		return (d / time.Duration(n)).Round(time.Microsecond).String()
	}
	s.Clusters, s.Cached = f.Clusters, f.Cached
	s.last = time.Now()
	evaluated := f.Clusters - f.Cached
	s.Phases = append(s.Phases,
		Phase{"setup", f.Setup, "shared package, built once per worker that evaluates"},
		Phase{"cache", f.Lookup, fmt.Sprintf("%d of %d clusters from the %s", f.Cached, f.Clusters, cache)},
		Phase{"evaluate", f.Evaluate, fmt.Sprintf("%d clusters, %s each, summed over %d workers%s", evaluated, per(f.Evaluate, evaluated), f.Workers, alone(f))},
		Phase{"render", f.Step, fmt.Sprintf("%s per cluster, summed over workers; %d values files shared with another cluster", per(f.Step, evaluated), shared)},
		Phase{"clusters", f.Wall, "wall time of the four above"},
	)
}
