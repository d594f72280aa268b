// Command fleetbench measures fleetc against the cue CLI on generated
// fleets of the reference platform and prints one table: wall time, CPU
// time, peak memory and files written for each step. `make bench` runs it.
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
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/fleetc/fleetc/internal/fleetgen"
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
	)
	flag.Parse()
	if err := run(*fleetc, *cue, *repo, *sizes, *seed, *cueLimit, *work); err != nil {
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
	note    string
}

func run(fleetc, cue, repo, sizesFlag string, seed uint64, cueLimit time.Duration, work string) error {
	fleetc, err := filepath.Abs(fleetc)
	if err != nil {
		return err
	}
	if work == "" {
		if work, err = os.MkdirTemp("", "fleetbench"); err != nil {
			return err
		}
		defer os.RemoveAll(work)
	}
	var all []measurement
	for _, s := range strings.Split(sizesFlag, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil {
			return fmt.Errorf("size %q: %w", s, err)
		}
		ms, err := measureFleet(fleetc, cue, repo, filepath.Join(work, fmt.Sprintf("fleet-%d", n)), n, seed, cueLimit)
		all = append(all, ms...)
		if err != nil {
			printTable(all)
			return err
		}
	}
	printTable(all)
	return nil
}

func measureFleet(fleetc, cue, repo, dir string, n int, seed uint64, cueLimit time.Duration) ([]measurement, error) {
	fmt.Fprintf(os.Stderr, "fleetbench: %d clusters in %s\n", n, dir)
	if err := fleetgen.Generate(repo, dir, n, seed); err != nil {
		return nil, err
	}
	if err := git(dir, "init", "-q"); err != nil {
		return nil, err
	}
	if err := git(dir, "add", "-A"); err != nil {
		return nil, err
	}
	if err := git(dir, "commit", "-q", "-m", "fleet"); err != nil {
		return nil, err
	}
	var out []measurement
	// fleetc's build cache, empty for the cold compile; the cue CLI has
	// nothing of the kind to warm.
	cache := dir + "-cache"
	if err := os.RemoveAll(cache); err != nil {
		return nil, err
	}
	// The output an earlier run with the same -work set aside, removed
	// with its other leftovers rather than right before the step that
	// measures writing: a large removal slows the creation of files down
	// for minutes afterwards.
	wiped := dir + "-wiped"
	if err := os.RemoveAll(wiped); err != nil {
		return nil, err
	}
	env := append(os.Environ(), "FLEETC_CACHE="+cache)
	step := func(name string, args ...string) error {
		m, err := measure(dir, 0, env, fleetc, args...)
		m.size, m.step = n, name
		out = append(out, m)
		return err
	}
	if err := step(coldStep, "compile"); err != nil {
		return out, err
	}
	if err := step("fleetc compile, nothing changed", "compile"); err != nil {
		return out, err
	}
	if err := replaceRE(filepath.Join(dir, "clusters", "c00000-dev.cue"), `region: "[a-z0-9]+"`, `region: "zzz9"`); err != nil {
		return out, err
	}
	if err := step("fleetc compile, one cluster changed", "compile"); err != nil {
		return out, err
	}
	if err := replaceIn(filepath.Join(dir, "defs", "platform.cue"), `configmapReload:          "v0.11.0"`, `configmapReload:          "v0.11.1"`); err != nil {
		return out, err
	}
	if err := step("fleetc compile, platform default changed", "compile"); err != nil {
		return out, err
	}
	m, _ := measure(dir, 0, env, fleetc, "diff", "--base", "HEAD", "--format", "json")
	m.size, m.step, m.written = n, "fleetc diff --base HEAD (both changes)", "-"
	out = append(out, m)

	// A fresh CI runner: the output is checked out, and the cache is
	// empty. Nothing is written, but every file is compared. Last of the
	// compiles, so that the steps before keep the timing they always had
	// (how many stamps are old enough to be trusted depends on it).
	fresh := dir + "-cache-fresh"
	if err := os.RemoveAll(fresh); err != nil {
		return out, err
	}
	m, err := measure(dir, 0, append(os.Environ(), "FLEETC_CACHE="+fresh), fleetc, "compile")
	m.size, m.step = n, "fleetc compile, empty cache, output in place"
	out = append(out, m)
	if err != nil {
		return out, err
	}

	// The floor of a cold compile: every file is written, but nothing is
	// evaluated, since the cache holds every cluster (as in CI that wipes
	// the output before it compiles). No cold compile can take less.
	if err := os.Rename(filepath.Join(dir, "deploy"), wiped); err != nil {
		return out, err
	}
	m, err = measure(dir, 0, append(os.Environ(), "FLEETC_CACHE="+fresh), fleetc, "compile")
	m.size, m.step = n, floorStep
	out = append(out, m)
	if err != nil {
		return out, err
	}

	m, err = measure(dir, cueLimit, nil, cue, "export", "./clusters", "-e", "deploy", "--out", "json")
	m.size, m.step, m.written = n, cueStep, "-"
	if errors.Is(err, context.DeadlineExceeded) {
		m.note = fmt.Sprintf("gave up after %s", cueLimit)
		err = nil
	}
	out = append(out, m)
	return out, err
}

// The steps the summary below the table compares.
const (
	coldStep  = "fleetc compile, cold"
	floorStep = "fleetc compile, cache warm, output wiped"
	cueStep   = "cue export ./clusters -e deploy"
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
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok && cmd.ProcessState != nil {
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

func printTable(ms []measurement) {
	fmt.Printf("fleetbench on %s/%s, %d CPUs, %s\n\n", runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), cpuModel())
	w := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(w, "clusters\tstep\twall\tCPU\tpeak RSS\tfiles written\t")
	for _, m := range ms {
		note := m.written
		if m.note != "" {
			note = m.note
		}
		fmt.Fprintf(w, "%d\t%s\t%s\t%s\t%s\t%s\t\n", m.size, m.step, round(m.wall), round(m.cpu), mib(m.peakRSS), note)
	}
	w.Flush()
	// The headline figure: cold compile against cue export, per size,
	// and the most a cold compile could gain on this machine: the time it
	// takes to write the files with nothing to evaluate.
	find := func(size int, step string) (measurement, bool) {
		for _, m := range ms {
			if m.size == size && m.step == step && m.wall > 0 && m.note == "" {
				return m, true
			}
		}
		return measurement{}, false
	}
	for _, m := range ms {
		if m.step != cueStep || m.note != "" {
			continue
		}
		if c, ok := find(m.size, coldStep); ok {
			fmt.Printf("\n%d clusters: cue export takes %.1fx the wall time of a cold fleetc compile, and %.1fx its peak memory",
				m.size, m.wall.Seconds()/c.wall.Seconds(), float64(m.peakRSS)/float64(max(c.peakRSS, 1)))
		}
		if f, ok := find(m.size, floorStep); ok {
			fmt.Printf("\n%d clusters: cue export takes %.1fx the %s that writing the files alone takes (cache warm, output wiped), the most a cold compile can gain here",
				m.size, m.wall.Seconds()/f.wall.Seconds(), round(f.wall))
		}
	}
	fmt.Println()
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
