//go:build unix

// Command fleetbench measures fleetc against the cue CLI on generated
// fleets of the reference platform and prints tables: wall time, CPU time,
// peak memory and files written for each step; cold compiles against cue
// export in alternating pairs (fleetc, cue, fleetc, cue, …) with the
// median of their ratios, with the fleet on disk and on tmpfs, since this
// machine's speed drifts too much for unpaired runs to compare; what
// diff --base costs a reviewer, after a platform default changed in
// alternating pairs with a cold compile; and how long an editor waits for the
// language server's diagnostics (internal/lsp/lsptest), with an empty
// cache and a warm one. `make bench` runs it.
//
// Both tools compute the same values: fleetc compiles the generated
// platform, and `cue export ./clusters -e deploy` evaluates the very same
// package, whose shared file is a comprehension over all clusters.
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/fleetc/fleetc/internal/fleetgen"
	"github.com/fleetc/fleetc/internal/lsp/lsptest"
)

func main() {
	var (
		fleetc   = flag.String("fleetc", "bin/fleetc", "fleetc binary to measure")
		cue      = flag.String("cue", "cue", "cue binary to measure against")
		repo     = flag.String("repo", ".", "repository with the reference platform")
		sizes    = flag.String("sizes", "30,300,3000", "fleet sizes, comma-separated")
		seed     = flag.Uint64("seed", 1, "seed of the generated fleets")
		cueLimit = flag.Duration("cue-timeout", 20*time.Minute, "give up on cue export after this long")
		work     = flag.String("work", "", "directory for the fleets (default: a temporary one, removed afterwards)")
		rounds   = flag.Int("rounds", 3, "paired rounds of cold fleetc compile against cue export, on disk and on tmpfs")
		tmpfs    = flag.String("tmpfs", "/dev/shm", "a tmpfs directory for the same pairs with the output in memory (\"\" to skip)")
	)
	flag.Parse()
	cfg := config{fleetc: *fleetc, cue: *cue, repo: *repo, seed: *seed, cueLimit: *cueLimit, rounds: max(1, *rounds), tmpfs: *tmpfs}
	if err := run(cfg, *sizes, *work); err != nil {
		fmt.Fprintln(os.Stderr, "fleetbench:", err)
		os.Exit(1)
	}
}

// measurement is one step's cost.
type measurement struct {
	size    int
	step    string
	wall    time.Duration
	cpu     time.Duration
	peakRSS int64 // bytes
	written string
}

// config is what every fleet is measured with.
type config struct {
	fleetc, cue, repo string
	seed              uint64
	cueLimit          time.Duration
	rounds            int
	tmpfs             string
}

// pair is one round of the paired comparison: a cold fleetc compile and
// cue export of the same fleet, run one right after the other, so that
// the machine's drift over minutes cancels out in their ratio.
type pair struct {
	size        int
	where       string // "disk" or "tmpfs"
	fleetc, cue time.Duration
	fleetcCPU   time.Duration
	cueGaveUp   bool
}

// diffPair is one round of diff --base after a platform default changed
// against a cold compile of the same working tree, run one after the
// other.
type diffPair struct {
	size       int
	diff, cold time.Duration
}

func run(cfg config, sizesFlag, work string) error {
	var err error
	if cfg.fleetc, err = filepath.Abs(cfg.fleetc); err != nil {
		return err
	}
	if work == "" {
		if work, err = os.MkdirTemp("", "fleetbench"); err != nil {
			return err
		}
		defer os.RemoveAll(work)
	}
	var r results
	for _, s := range strings.Split(sizesFlag, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil {
			return fmt.Errorf("size %q: %w", s, err)
		}
		err = measureFleet(cfg, filepath.Join(work, fmt.Sprintf("fleet-%d", n)), n, &r)
		if err != nil {
			printTable(r)
			return err
		}
	}
	printTable(r)
	return nil
}

// results are everything measured, over all fleets.
type results struct {
	steps []measurement
	pairs []pair
	diffs []diffPair
	lsp   []editorWait
}

// editorWait is what an editor waits for from the language server on one
// fleet, with an empty or a warm cache.
type editorWait struct {
	size  int
	cache string
	lat   lsptest.Latencies
}

func measureFleet(cfg config, dir string, n int, r *results) error {
	steps, pairs, err := measureSteps(cfg, dir, n)
	r.steps, r.pairs = append(r.steps, steps...), append(r.pairs, pairs...)
	if err != nil {
		return err
	}
	diffs, err := diffPairs(cfg, dir, n)
	r.diffs = append(r.diffs, diffs...)
	if err != nil {
		return err
	}
	// What an editor waits for: the language server on the same fleet,
	// first with an empty cache, then with the cache that session left.
	lspCache := dir + "-cache-lsp"
	if err := os.RemoveAll(lspCache); err != nil {
		return err
	}
	defer os.RemoveAll(lspCache)
	for _, name := range []string{"empty", "warm"} {
		l, err := lsptest.Measure(lsptest.Options{Root: dir, Cache: lspCache, Edits: 8, Pause: 200 * time.Millisecond, Timeout: 40 * time.Minute})
		if err != nil {
			return fmt.Errorf("lsp, %s cache: %w", name, err)
		}
		fmt.Fprintf(os.Stderr, "fleetbench: %d clusters, lsp, %s cache: %s\n", n, name, l)
		r.lsp = append(r.lsp, editorWait{size: n, cache: name, lat: l})
	}
	return nil
}

// measureSteps measures the steps of compile, diff and cue export on a
// fleet of n clusters generated in dir.
func measureSteps(cfg config, dir string, n int) ([]measurement, []pair, error) {
	fleetc := cfg.fleetc
	fmt.Fprintf(os.Stderr, "fleetbench: %d clusters in %s\n", n, dir)
	if err := os.RemoveAll(dir); err != nil {
		return nil, nil, err
	}
	if err := fleetgen.Generate(cfg.repo, dir, n, cfg.seed); err != nil {
		return nil, nil, err
	}
	if err := git(dir, "init", "-q"); err != nil {
		return nil, nil, err
	}
	var out []measurement
	// Everything set aside (wiped output trees, caches) goes here and is
	// removed with the leftovers of an earlier run at the start, rather
	// than right before a step that measures writing: a large removal
	// slows the creation of files down for minutes afterwards.
	trash := dir + "-trash"
	if err := os.RemoveAll(trash); err != nil {
		return nil, nil, err
	}
	if err := os.MkdirAll(trash, 0o755); err != nil {
		return nil, nil, err
	}
	aside := func(path string) error {
		return os.Rename(path, filepath.Join(trash, fmt.Sprintf("%d-%s", time.Now().UnixNano(), filepath.Base(path))))
	}

	// Cold compiles against cue export, in pairs: on this machine's disk,
	// then with the fleet on tmpfs, where writing the files costs no I/O.
	pairs, err := coldPairs(cfg, dir, n, "disk", aside)
	if err != nil {
		return out, pairs, err
	}
	if cfg.tmpfs != "" {
		mem := filepath.Join(cfg.tmpfs, fmt.Sprintf("fleetbench-%d-%d", os.Getpid(), n))
		if err := fleetgen.Generate(cfg.repo, mem, n, cfg.seed); err != nil {
			return out, pairs, err
		}
		ps, err := coldPairs(cfg, mem, n, "tmpfs", func(path string) error { return os.RemoveAll(path) })
		os.RemoveAll(mem)
		os.RemoveAll(mem + "-cache")
		pairs = append(pairs, ps...)
		if err != nil {
			return out, pairs, err
		}
	}

	// The cache every later step starts from, warmed by one more compile;
	// its output is committed with the sources, as a platform repository
	// commits it, so that diff --base meets tens of thousands of committed
	// files at the ref.
	cache := dir + "-cache"
	// stepWith measures fleetc with its cache at cacheDir; step with the
	// warm one.
	stepWith := func(cacheDir, name string, args ...string) error {
		m, err := measure(dir, 0, append(os.Environ(), "FLEETC_CACHE="+cacheDir), fleetc, args...)
		m.size, m.step = n, name
		out = append(out, m)
		return err
	}
	step := func(name string, args ...string) error { return stepWith(cache, name, args...) }
	if err := step(coldStep, "compile"); err != nil {
		return out, pairs, err
	}
	if err := git(dir, "add", "-A"); err != nil {
		return out, pairs, err
	}
	if err := git(dir, "commit", "-q", "-m", "fleet"); err != nil {
		return out, pairs, err
	}
	if err := step("fleetc compile, nothing changed", "compile"); err != nil {
		return out, pairs, err
	}
	if err := step(diffSameStep, "diff", "--base", "HEAD", "--format", "json"); err != nil {
		return out, pairs, err
	}
	if err := replaceRE(filepath.Join(dir, "clusters", "c00000-dev.cue"), `region: "[a-z0-9]+"`, `region: "zzz9"`); err != nil {
		return out, pairs, err
	}
	if err := step("fleetc compile, one cluster changed", "compile"); err != nil {
		return out, pairs, err
	}
	if err := replaceIn(filepath.Join(dir, "defs", "platform.cue"), `configmapReload:          "v0.11.0"`, `configmapReload:          "v0.11.1"`); err != nil {
		return out, pairs, err
	}
	// What a reviewer waits for on a pull request that changes a
	// platform default: every cluster of the working tree is evaluated
	// again, the base comes from the cache.
	if err := step(diffDefaultStep, "diff", "--base", "HEAD", "--format", "json"); err != nil {
		return out, pairs, err
	}
	if err := step("fleetc compile, platform default changed", "compile"); err != nil {
		return out, pairs, err
	}

	// A fresh CI runner: the output is checked out, and the cache is
	// empty. Nothing is written, but every file is compared.
	fresh := dir + "-cache-fresh"
	if err := os.RemoveAll(fresh); err != nil {
		return out, pairs, err
	}
	if err := stepWith(fresh, "fleetc compile, empty cache, output in place", "compile"); err != nil {
		return out, pairs, err
	}

	// The floor of a cold compile: every file is written, but nothing is
	// evaluated, since the cache holds every cluster (as in CI that wipes
	// the output before it compiles). No cold compile can take less.
	if err := aside(filepath.Join(dir, "deploy")); err != nil {
		return out, pairs, err
	}
	return out, pairs, stepWith(fresh, floorStep, "compile")
}

// diffPairs runs cfg.rounds pairs of diff --base HEAD after a platform
// default changed and a cold compile of the same working tree (an empty
// cache of its own, the output outside the fleet), alternating, on the
// fleet measureSteps left in dir: its cache holds HEAD's clusters. Each
// round changes the default to a value no compile has seen, so that the
// diff evaluates every cluster of the working tree again, as on a pull
// request, while the base comes from the cache.
func diffPairs(cfg config, dir string, n int) ([]diffPair, error) {
	var pairs []diffPair
	cache := dir + "-cache"
	for i := range cfg.rounds {
		platform := filepath.Join(dir, "defs", "platform.cue")
		if err := replaceRE(platform, `configmapReload: +"v0\.11\.[0-9]+"`, fmt.Sprintf(`configmapReload:          "v0.11.%d"`, 10+i)); err != nil {
			return pairs, err
		}
		coldCache, coldOut := fmt.Sprintf("%s-cache-diffcold-%d", dir, i), fmt.Sprintf("%s-out-diffcold-%d", dir, i)
		for _, p := range []string{coldCache, coldOut} {
			if err := os.RemoveAll(p); err != nil {
				return pairs, err
			}
		}
		c, err := measure(dir, 0, append(os.Environ(), "FLEETC_CACHE="+coldCache), cfg.fleetc, "compile", "--out", coldOut)
		if err != nil {
			return pairs, err
		}
		d, err := measure(dir, 0, append(os.Environ(), "FLEETC_CACHE="+cache), cfg.fleetc, "diff", "--base", "HEAD", "--format", "json")
		if err != nil {
			return pairs, err
		}
		pairs = append(pairs, diffPair{size: n, diff: d.wall, cold: c.wall})
		fmt.Fprintf(os.Stderr, "fleetbench: %d clusters, diff --base after a default changed, round %d: diff %s, cold compile %s\n", n, i+1, round(d.wall), round(c.wall))
	}
	return pairs, nil
}

// coldPairs runs cfg.rounds pairs of a cold fleetc compile (an empty cache
// and no output) and cue export in dir. aside takes away what a round
// leaves (its output and cache) before the next.
func coldPairs(cfg config, dir string, n int, where string, aside func(string) error) ([]pair, error) {
	var pairs []pair
	for i := range cfg.rounds {
		cache := fmt.Sprintf("%s-cache-cold-%d", dir, i)
		if err := os.RemoveAll(cache); err != nil {
			return pairs, err
		}
		f, err := measure(dir, 0, append(os.Environ(), "FLEETC_CACHE="+cache), cfg.fleetc, "compile")
		if err != nil {
			return pairs, err
		}
		c, err := measure(dir, cfg.cueLimit, nil, cfg.cue, "export", "./clusters", "-e", "deploy", "--out", "json")
		gaveUp := errors.Is(err, context.DeadlineExceeded)
		if err != nil && !gaveUp {
			return pairs, err
		}
		pairs = append(pairs, pair{size: n, where: where, fleetc: f.wall, fleetcCPU: f.cpu, cue: c.wall, cueGaveUp: gaveUp})
		fmt.Fprintf(os.Stderr, "fleetbench: %d clusters, %s, round %d: fleetc %s, cue export %s\n", n, where, i+1, round(f.wall), round(c.wall))
		for _, p := range []string{filepath.Join(dir, "deploy"), cache} {
			if err := aside(p); err != nil && !os.IsNotExist(err) {
				return pairs, err
			}
		}
	}
	return pairs, nil
}

// The steps the summary below the table compares.
const (
	coldStep        = "fleetc compile, cold"
	floorStep       = "fleetc compile, cache warm, output wiped"
	diffSameStep    = "fleetc diff --base HEAD, nothing changed"
	diffDefaultStep = "fleetc diff --base HEAD, platform default changed"
)

var writtenRE = regexp.MustCompile(`: (\d+) written`)

// measure runs a command in dir and returns its wall time, CPU time and
// peak memory from the kernel's accounting of the child.
func measure(dir string, limit time.Duration, env []string, name string, args ...string) (measurement, error) {
	ctx := context.Background()
	if limit > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, limit)
		defer cancel()
	}
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.Env = env // nil: the environment of fleetbench
	var stderr bytes.Buffer
	cmd.Stdout = nil
	cmd.Stderr = &stderr
	start := time.Now()
	err := cmd.Run()
	m := measurement{wall: time.Since(start)}
	// ProcessState is nil when the command did not start (no such binary).
	if cmd.ProcessState == nil {
		return m, fmt.Errorf("%s: %v", name, err)
	}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		m.cpu = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
		m.peakRSS = ru.Maxrss * 1024
	}
	if sm := writtenRE.FindStringSubmatch(stderr.String()); sm != nil {
		m.written = sm[1]
	}
	if ctx.Err() != nil {
		return m, ctx.Err()
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) && strings.Contains(strings.Join(args, " "), "diff") && ee.ExitCode() == 1 {
		return m, nil // diff found changes, as it should
	}
	if err != nil {
		return m, fmt.Errorf("%s %s: %v\n%s", filepath.Base(name), strings.Join(args, " "), err, lastLines(stderr.String(), 10))
	}
	return m, nil
}

func printTable(r results) {
	ms, pairs := r.steps, r.pairs
	fmt.Printf("fleetbench on %s/%s, %d CPUs, %s\n\n", runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), cpuModel())
	w := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(w, "clusters\tstep\twall\tCPU\tpeak RSS\tfiles written\t")
	for _, m := range ms {
		fmt.Fprintf(w, "%d\t%s\t%s\t%s\t%s\t%s\t\n", m.size, m.step, round(m.wall), round(m.cpu), mib(m.peakRSS), m.written)
	}
	w.Flush()

	// Cold compile against cue export: the median of the paired ratios,
	// on disk and on tmpfs.
	if len(pairs) > 0 {
		fmt.Println()
		w = tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(w, "clusters\toutput on\tcold fleetc compile (median)\tcue export (median)\tfleetc / cue export, median of rounds\trounds\ttarget\t")
		type key struct {
			size  int
			where string
		}
		var keys []key
		byKey := map[key][]pair{}
		for _, p := range pairs {
			k := key{p.size, p.where}
			if _, ok := byKey[k]; !ok {
				keys = append(keys, k)
			}
			byKey[k] = append(byKey[k], p)
		}
		for _, k := range keys {
			ps := byKey[k]
			var f, c, r []float64
			for _, p := range ps {
				if p.cueGaveUp {
					continue
				}
				f, c, r = append(f, p.fleetc.Seconds()), append(c, p.cue.Seconds()), append(r, p.fleetc.Seconds()/p.cue.Seconds())
			}
			target := "≤ 0.8"
			if k.where == "tmpfs" {
				target = "≤ 0.5"
			}
			if len(r) == 0 {
				fmt.Fprintf(w, "%d\t%s\t-\tgave up\t-\t%d\t%s\t\n", k.size, k.where, len(ps), target)
				continue
			}
			fmt.Fprintf(w, "%d\t%s\t%.2fs\t%.2fs\t%.2f (%s)\t%d\t%s\t\n", k.size, k.where, median(f), median(c), median(r), ratios(r), len(r), target)
		}
		w.Flush()
	}

	// What an editor waits for.
	if len(r.lsp) > 0 {
		fmt.Println()
		w = tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(w, "clusters\tfleetc lsp, cache\topen\tedited file, median\tedited file, max\tfleet-wide\ttarget (edited file)\t")
		for _, e := range r.lsp {
			l := e.lat
			fmt.Fprintf(w, "%d\t%s\t%s\t%s\t%s\t%s\t≤ 200ms, never > 500ms\t\n", e.size, e.cache, round(l.Open), round(l.Median()), round(l.Max()), round(l.Fleet))
		}
		w.Flush()
	}

	// What a reviewer waits for: diff --base against the cold compile.
	find := func(size int, step string) (measurement, bool) {
		for _, m := range ms {
			if m.size == size && m.step == step && m.wall > 0 {
				return m, true
			}
		}
		return measurement{}, false
	}
	sizes := []int{}
	for _, m := range ms {
		if !slices.Contains(sizes, m.size) {
			sizes = append(sizes, m.size)
		}
	}
	for _, n := range sizes {
		if d, ok := find(n, diffSameStep); ok {
			fmt.Printf("\n%d clusters: diff --base with nothing changed takes %s (target ≤ 2s)", n, round(d.wall))
		}
		d, ok1 := find(n, diffDefaultStep)
		c, ok2 := find(n, coldStep)
		var rs []float64
		for _, p := range r.diffs {
			if p.size == n {
				rs = append(rs, p.diff.Seconds()/p.cold.Seconds())
			}
		}
		switch {
		case len(rs) > 0:
			fmt.Printf("\n%d clusters: diff --base after a platform default changed takes %.2fx a cold compile, median of %d alternating rounds (%s) (target ≤ 1.2x)", n, median(rs), len(rs), ratios(rs))
		case ok1 && ok2:
			fmt.Printf("\n%d clusters: diff --base after a platform default changed takes %.2fx a cold compile (target ≤ 1.2x)", n, d.wall.Seconds()/c.wall.Seconds())
		}
		if f, ok := find(n, floorStep); ok && ok2 {
			fmt.Printf("\n%d clusters: writing every file with nothing to evaluate takes %s, %.0f%% of a cold compile", n, round(f.wall), 100*f.wall.Seconds()/c.wall.Seconds())
		}
	}
	fmt.Println()
}

func median(xs []float64) float64 {
	s := slices.Sorted(slices.Values(xs))
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func ratios(xs []float64) string {
	parts := make([]string, len(xs))
	for i, x := range xs {
		parts[i] = fmt.Sprintf("%.2f", x)
	}
	return strings.Join(parts, " ")
}

func round(d time.Duration) string {
	if d < time.Second {
		return d.Round(time.Millisecond).String()
	}
	return d.Round(10 * time.Millisecond).String()
}

func mib(b int64) string { return fmt.Sprintf("%d MiB", b>>20) }

func cpuModel() string {
	data, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return "unknown CPU"
	}
	for _, line := range strings.Split(string(data), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown CPU"
}

func git(dir string, args ...string) error {
	cmd := exec.Command("git", append([]string{"-c", "user.name=fleetbench", "-c", "user.email=fleetbench@invalid", "-c", "commit.gpgsign=false"}, args...)...)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return nil
}

func replaceRE(path, expr, repl string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	re := regexp.MustCompile(expr)
	if !re.Match(data) {
		return fmt.Errorf("%s: no match for %s", path, expr)
	}
	return os.WriteFile(path, re.ReplaceAll(data, []byte(repl)), 0o644)
}

func replaceIn(path, old, new string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if !bytes.Contains(data, []byte(old)) {
		return fmt.Errorf("%s: %q not found", path, old)
	}
	return os.WriteFile(path, bytes.Replace(data, []byte(old), []byte(new), 1), 0o644)
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
