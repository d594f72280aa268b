//go:build unix

package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/fleetc/fleetc/internal/fleetgen"
)

var (
	killClusters = flag.Int("kill.clusters", 200, "clusters in the fleet TestKillCompile compiles")
	killPoints   = flag.Int("kill.points", 20, "how many times TestKillCompile kills a compile")
)

// revisionCUE adds a platform default to every values file.
const revisionCUE = `package defs

defaults: revision: "1"

#Catalog: apps: [string]: values: platformRevision: defaults.revision
`

// The names fleetc keeps at the root of an output directory.
const (
	ledgerName = ".fleetc-ledger"
	lockName   = ".fleetc-lock"
	tmpPrefix  = ".fleetc-tmp-"
	// recordName is the record of the temporaries a compile creates,
	// made before the first of them: the next compile removes what it
	// names and nothing else.
	recordName = ".fleetc-temps"
)

// TestKillCompile kills `fleetc compile` with SIGKILL at many points while
// it rewrites every file of a large fleet and adds clusters, and checks after each kill that
// every file holds either its old or its new bytes, that nothing but
// fleetc's temporary and lock files lies beside them, that the record of
// temporaries names every temporary, that the ledger owns every file, that
// the user's files named like temporaries are untouched; and, every few
// kills, that the next compile restores exactly the tree a clean compile
// makes, with the user's files in it.
//
// The output lives on tmpfs where there is one: SIGKILL, unlike a power
// cut, keeps what the kernel has accepted, so syncing is beside the point
// here and tmpfs keeps the run short. Most kills land where things can go
// wrong, between the moment compile takes the lock and its exit.
//
// Each kill costs a whole evaluation of the fleet, so the test takes a
// minute or two: `go test` runs it only with FLEETC_CRASH_TEST=1 or a
// -kill.* flag set, as `make crash` (part of `make test`) does. It is
// compiled and vetted with everything else either way.
func TestKillCompile(t *testing.T) {
	// A build cache of its own, so that nothing depends on the user's.
	t.Setenv("FLEETC_CACHE", t.TempDir())
	if !flagSet("kill.points") && !flagSet("kill.clusters") && os.Getenv("FLEETC_CRASH_TEST") == "" {
		t.Skip("slow: run with FLEETC_CRASH_TEST=1 or -kill.points=N (make crash)")
	}
	start := time.Now()
	fleetc := lookFleetc(t)
	plat := t.TempDir()
	if err := fleetgen.Generate(repoRoot(), plat, *killClusters, 1); err != nil {
		t.Fatal(err)
	}
	// A platform default that every values file shows.
	revision := filepath.Join(plat, "defs", "revision.cue")
	if err := os.WriteFile(revision, []byte(revisionCUE), 0o644); err != nil {
		t.Fatal(err)
	}
	base := fastTempDir(t)
	out := filepath.Join(base, "deploy")

	// Old state, then a platform default changes under every cluster.
	mustCompile(t, fleetc, plat, out)
	old := readFiles(t, out)
	mine := lookalikes(old)
	writeFiles(t, out, merge(readAll(t, out), mine))
	oldTree := readAll(t, out)
	replaceIn(t, revision, `revision: "1"`, `revision: "2"`)
	replaceIn(t, filepath.Join(plat, "defs", "platform.cue"), `namespace: "argocd"`, `namespace: "argocd-hub"`)
	// And new clusters join, whose directories do not exist yet: compile
	// builds each under a temporary name and renames it into place.
	addClusters(t, plat, newClusters)
	want := filepath.Join(base, "want")
	mustCompile(t, fleetc, plat, want)
	neu := readFiles(t, want)
	changed := 0
	for p, data := range neu {
		if !bytes.Equal(old[p], data) {
			changed++
		}
	}
	t.Logf("fleet: %d clusters, %d files, %d of them change", *killClusters, len(neu), changed)
	if changed < len(neu)*9/10 {
		t.Fatalf("only %d of %d files change: the test would not show much", changed, len(neu))
	}

	// Calibrate: how long until compile takes the lock, and then until it
	// exits.
	writeFiles(t, out, oldTree)
	toLock, locked := timeRun(t, fleetc, plat, out)
	t.Logf("calibration: lock after %v, exit %v later", toLock.Round(time.Millisecond), locked.Round(time.Millisecond))

	states := map[string]int{}
	for i := range *killPoints {
		writeFiles(t, out, oldTree)
		// Two kills while compile evaluates; the rest spread over the
		// time it holds the lock, past the first part, where it only
		// reads, and up to a little after it exits.
		var before, after time.Duration
		const pre = 2
		if i < pre {
			before = toLock * time.Duration(i+1) / (pre + 1)
		} else {
			frac := 0.25 + 0.85*float64(i-pre)/float64(max(1, *killPoints-pre-1))
			after = time.Duration(frac * float64(locked))
		}
		exited := killAt(t, fleetc, plat, out, before, after)
		state := check(t, out, old, neu, mine)
		if exited {
			state = "finished"
		}
		states[state]++
		t.Logf("kill %2d (%v before the lock, %v after it): %s", i, before.Round(time.Millisecond), after.Round(time.Millisecond), state)
		if t.Failed() {
			return
		}
		if i%5 == 4 || i == *killPoints-1 {
			// The next compile repairs the tree.
			mustCompile(t, fleetc, plat, out)
			if diff := treeDiff(readAll(t, out), merge(readAll(t, want), mine)); diff != "" {
				t.Fatalf("after kill %d, the next compile did not restore the tree:\n%s", i, diff)
			}
		}
	}
	t.Logf("%d kills: %v; %v in all", *killPoints, states, time.Since(start).Round(time.Second))
	if states["mixed"]+states["staged"] == 0 {
		t.Errorf("no kill landed while compile was writing: the test showed nothing (states %v)", states)
	}
}

// newClusters is how many clusters join the fleet in TestKillCompile's
// new state.
const newClusters = 20

// serverField is the server of a generated cluster file.
var serverField = regexp.MustCompile(`server: "[^"]*"`)

// addClusters copies the first n cluster files of the generated fleet in
// plat as new clusters, named with "n" where the originals have "c", each
// with a server of its own: two clusters may not share one.
func addClusters(t *testing.T, plat string, n int) {
	t.Helper()
	dir := filepath.Join(plat, "clusters")
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	added := 0
	for _, e := range entries {
		name := e.Name()
		if added == n || !strings.HasPrefix(name, "c") || !strings.HasSuffix(name, ".cue") {
			continue
		}
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		cluster := strings.TrimSuffix(name, ".cue")
		renamed := "n" + cluster[1:]
		data = bytes.ReplaceAll(data, []byte(cluster), []byte(renamed))
		server := serverField.Find(data)
		if server == nil {
			t.Fatalf("%s: no server to give the new cluster one of its own", name)
		}
		data = bytes.Replace(data, server, fmt.Appendf(nil, "server: %q", "https://"+renamed+".k8s.corp.local:6443"), 1)
		if err := os.WriteFile(filepath.Join(dir, renamed+".cue"), data, 0o644); err != nil {
			t.Fatal(err)
		}
		added++
	}
	if added < n {
		t.Fatalf("only %d cluster files to copy, want %d", added, n)
	}
}

// lookalikes are files of the user's named like fleetc's temporaries,
// files and in directories, at the root and below, among the files of
// old: a compile, killed or not, must leave them as they are.
func lookalikes(old map[string][]byte) map[string][]byte {
	var cluster string // a directory of values files that every compile rewrites
	for p := range old {
		if strings.HasPrefix(p, "cluster/") && (cluster == "" || p < cluster) {
			cluster = p
		}
	}
	mine := map[string][]byte{}
	for _, dir := range []string{"", "argocd/clusters/", filepath.ToSlash(filepath.Dir(cluster)) + "/"} {
		for _, name := range []string{tmpPrefix + "x", tmpPrefix + "ZZZZZZZZZZZZZZZZZZZZZZZZZZ-1", ".fleetc-staging", ".fleetc-x.tmp"} {
			mine[dir+name] = []byte("the user's " + dir + name + "\n")
			mine[dir+name+"-dir/notes"] = []byte("the user's notes\n")
		}
	}
	return mine
}

func merge(a, b map[string][]byte) map[string][]byte {
	m := map[string][]byte{}
	for _, x := range []map[string][]byte{a, b} {
		for p, data := range x {
			m[p] = data
		}
	}
	return m
}

// temps is the record of temporaries as the test reads it: the prefix of
// their names and the directories they are in; complete is false for a
// record cut short, which names none.
type temps struct {
	prefix   string
	dirs     map[string]bool
	complete bool
}

func (r temps) names(rel string) bool {
	dir, name := path.Split(rel)
	dir = strings.TrimSuffix(dir, "/")
	if dir == "" {
		dir = "."
	}
	return r.complete && r.dirs[dir] && strings.HasPrefix(name, r.prefix)
}

func parseTemps(data []byte) temps {
	r := temps{dirs: map[string]bool{}}
	for _, line := range strings.Split(string(data), "\n") {
		switch k, v, _ := strings.Cut(line, " "); {
		case k == "token":
			r.prefix = tmpPrefix + v + "-"
		case k == "dir":
			r.dirs[v] = true
		case line == "end":
			r.complete = r.prefix != ""
		}
	}
	return r
}

// check looks at the tree a killed compile left and says what state it
// was in: "old" (nothing changed yet), "staged" (temporary files written,
// nothing replaced), "mixed" (some files replaced), or "new".
func check(t *testing.T, out string, old, neu, mine map[string][]byte) string {
	t.Helper()
	ledger := map[string]string{}
	var nOld, nNew, nTemp int
	var added []string // files that only the new state has, in place
	var record temps
	if data, err := os.ReadFile(filepath.Join(out, recordName)); err == nil {
		record = parseTemps(data)
	}
	err := filepath.WalkDir(out, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(out, path)
		rel = filepath.ToSlash(rel)
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		switch {
		case mine[rel] != nil:
			if !bytes.Equal(data, mine[rel]) {
				t.Errorf("%s: a file of the user's changed", rel)
			}
		case strings.HasPrefix(rel, tmpPrefix) || strings.Contains(rel, "/"+tmpPrefix):
			// A temporary file, or a file in a new directory that is
			// still under its temporary name: the record names it, so
			// that the next compile removes it.
			nTemp++
			temp := rel
			for p := rel; p != "."; p = filepath.ToSlash(filepath.Dir(p)) {
				if strings.HasPrefix(filepath.Base(p), tmpPrefix) {
					temp = p
				}
			}
			if !record.names(temp) {
				t.Errorf("%s: a temporary file that no record names: the next compile would never remove it", rel)
			}
		case rel == recordName:
		case rel == lockName:
		case rel == ledgerName:
			for _, line := range strings.Split(string(data), "\n") {
				if sum, p, ok := strings.Cut(line, "  "); ok && !strings.HasPrefix(line, "#") {
					ledger[p] = sum
				}
			}
		case bytes.Equal(data, neu[rel]) && neu[rel] != nil:
			nNew++
			if old[rel] == nil {
				added = append(added, rel)
			}
		case bytes.Equal(data, old[rel]) && old[rel] != nil:
			nOld++
		default:
			t.Errorf("%s: neither its old nor its new content (%d bytes)", rel, len(data))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for p := range mine {
		if _, err := os.Lstat(filepath.Join(out, p)); err != nil {
			t.Errorf("%s: a file of the user's is gone: %v", p, err)
		}
	}
	// The ledger owns every file fleetc wrote, with the sum of its old or
	// new content: the next compile may overwrite or prune any of them.
	for p := range old {
		if _, err := os.Lstat(filepath.Join(out, p)); err != nil {
			t.Errorf("%s: gone: %v", p, err)
			continue
		}
		if s := ledger[p]; s != sum(old[p]) && s != sum(neu[p]) {
			t.Errorf("%s: not owned by the ledger (sum %q)", p, s)
		}
	}
	for _, p := range added {
		if ledger[p] != sum(neu[p]) {
			t.Errorf("%s: a new file the ledger does not own (sum %q)", p, ledger[p])
		}
	}
	switch {
	case nNew == 0 && nTemp == 0:
		return "old"
	case nNew == 0:
		return "staged"
	case nOld > 0 || nTemp > 0:
		return "mixed"
	}
	return "new"
}

// killAt starts compile and kills it with SIGKILL before after it
// started, or, when before is zero, after after it took the lock. It
// reports whether compile had exited by itself.
func killAt(t *testing.T, fleetc, plat, out string, before, after time.Duration) (exited bool) {
	t.Helper()
	cmd := exec.Command(fleetc, "compile", "--out", out)
	cmd.Dir = plat
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	if before > 0 {
		time.Sleep(before)
	} else if !waitLock(out, done) {
		return true
	} else {
		time.Sleep(after)
	}
	cmd.Process.Signal(syscall.SIGKILL)
	err := <-done
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return false
		}
	}
	if err != nil {
		t.Fatalf("compile failed by itself: %v", err)
	}
	return true
}

// waitLock polls until compile has taken its lock, or reports false if it
// exited first.
func waitLock(out string, done chan error) bool {
	for {
		if _, err := os.Lstat(filepath.Join(out, lockName)); err == nil {
			return true
		}
		select {
		case err := <-done:
			done <- err
			return false
		default:
			time.Sleep(50 * time.Microsecond)
		}
	}
}

// timeRun runs compile and measures how long it takes to lock the output,
// and how long it then takes to finish.
func timeRun(t *testing.T, fleetc, plat, out string) (toLock, locked time.Duration) {
	t.Helper()
	cmd := exec.Command(fleetc, "compile", "--out", out)
	cmd.Dir = plat
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	start := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	if !waitLock(out, done) {
		t.Fatalf("compile finished before it could be seen holding the lock: %s", stderr.String())
	}
	toLock = time.Since(start)
	if err := <-done; err != nil {
		t.Fatalf("compile: %v\n%s", err, stderr.String())
	}
	return toLock, time.Since(start) - toLock
}

// TestLockedByAnotherCompile stops a compile while it holds the lock on
// its output directory and runs a second one there: the second fails at
// once, exit 1, saying why, and changes nothing; the first then finishes.
func TestLockedByAnotherCompile(t *testing.T) {
	// A build cache of its own, so that nothing depends on the user's.
	t.Setenv("FLEETC_CACHE", t.TempDir())
	fleetc := lookFleetc(t)
	plat := t.TempDir()
	if err := fleetgen.Generate(repoRoot(), plat, 12, 2); err != nil {
		t.Fatal(err)
	}
	want := filepath.Join(t.TempDir(), "want")
	mustCompile(t, fleetc, plat, want)

	for attempt := 0; ; attempt++ {
		out := filepath.Join(t.TempDir(), "deploy")
		first := exec.Command(fleetc, "compile", "--out", out)
		first.Dir = plat
		if err := first.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- first.Wait() }()
		held := waitLock(out, done)
		if held {
			first.Process.Signal(syscall.SIGSTOP)
			// The signal is delivered asynchronously: snapshot the tree
			// only once the process has really stopped writing.
			held = waitStopped(first.Process.Pid) && lockHeld(t, filepath.Join(out, lockName))
		}
		if !held {
			// Seen too late, or stopped before it locked: again.
			first.Process.Signal(syscall.SIGCONT)
			if err := <-done; err != nil {
				t.Fatal(err)
			}
			if attempt == 20 {
				t.Fatal("could not catch a compile holding its lock")
			}
			continue
		}
		before := readAll(t, out)
		second := exec.Command(fleetc, "compile", "--out", out)
		second.Dir = plat
		var stderr bytes.Buffer
		second.Stderr = &stderr
		err := second.Run()
		after := readAll(t, out)
		first.Process.Signal(syscall.SIGCONT)
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 1 {
			t.Errorf("second compile: %v, want exit status 1", err)
		}
		if want := fmt.Sprintf("fleetc: lock %s: another fleetc is writing this directory; try again when it has finished\n", filepath.Join(out, lockName)); stderr.String() != want {
			t.Errorf("second compile said:\n%s\nwant:\n%s", stderr.String(), want)
		}
		if diff := treeDiff(after, before); diff != "" {
			t.Errorf("the second compile changed the tree:\n%s", diff)
		}
		if err := <-done; err != nil {
			t.Fatalf("first compile: %v", err)
		}
		if diff := treeDiff(readAll(t, out), readAll(t, want)); diff != "" {
			t.Errorf("the first compile did not finish its work:\n%s", diff)
		}
		return
	}
}

// waitStopped waits until the process pid is stopped by a signal, as
// /proc says (state T), and reports whether it got there within 5 s.
// Without /proc (not Linux) it can only give the signal a moment.
func waitStopped(pid int) bool {
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		time.Sleep(200 * time.Millisecond)
		return true
	}
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			return false
		}
		// The state follows the command name, which is in parentheses.
		if i := bytes.LastIndexByte(data, ')'); i >= 0 && i+2 < len(data) && data[i+2] == 'T' {
			return true
		}
		time.Sleep(time.Millisecond)
	}
	return false
}

// lockHeld reports whether another process holds the flock on name.
func lockHeld(t *testing.T, name string) bool {
	f, err := os.Open(name)
	if err != nil {
		return false
	}
	defer f.Close()
	err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
	if err == nil {
		syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		return false
	}
	return errors.Is(err, syscall.EWOULDBLOCK)
}

func lookFleetc(t *testing.T) string {
	t.Helper()
	// testscript.Main puts this test binary on PATH as fleetc.
	path, err := exec.LookPath("fleetc")
	if err != nil {
		t.Fatal(err)
	}
	return path
}

func mustCompile(t *testing.T, fleetc, plat, out string) {
	t.Helper()
	cmd := exec.Command(fleetc, "compile", "--out", out)
	cmd.Dir = plat
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("compile: %v\n%s", err, msg)
	}
}

// fastTempDir is a temporary directory on tmpfs if there is one.
func fastTempDir(t *testing.T) string {
	t.Helper()
	if fi, err := os.Stat("/dev/shm"); err == nil && fi.IsDir() {
		if dir, err := os.MkdirTemp("/dev/shm", "fleetc-kill-"); err == nil {
			t.Cleanup(func() { os.RemoveAll(dir) })
			return dir
		}
	}
	return t.TempDir()
}

func replaceIn(t *testing.T, name, old, new string) {
	t.Helper()
	data, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(data, []byte(old)) {
		t.Fatalf("%s has no %s to change", name, old)
	}
	if err := os.WriteFile(name, bytes.ReplaceAll(data, []byte(old), []byte(new)), 0o644); err != nil {
		t.Fatal(err)
	}
}

// readFiles returns the files fleetc owns under root, without the ledger.
func readFiles(t *testing.T, root string) map[string][]byte {
	files := readAll(t, root)
	delete(files, ledgerName)
	return files
}

// readAll returns every file under root, by slash path.
func readAll(t *testing.T, root string) map[string][]byte {
	t.Helper()
	files := map[string][]byte{}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(path)
		rel, _ := filepath.Rel(root, path)
		files[filepath.ToSlash(rel)] = data
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// writeFiles makes root hold exactly files.
func writeFiles(t *testing.T, root string, files map[string][]byte) {
	t.Helper()
	if err := os.RemoveAll(root); err != nil {
		t.Fatal(err)
	}
	for p, data := range files {
		name := filepath.Join(root, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(name, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func treeDiff(got, want map[string][]byte) string {
	var lines []string
	for p, data := range want {
		if g, ok := got[p]; !ok {
			lines = append(lines, "missing: "+p)
		} else if !bytes.Equal(g, data) {
			lines = append(lines, "differs: "+p)
		}
	}
	for p := range got {
		if _, ok := want[p]; !ok {
			lines = append(lines, "unexpected: "+p)
		}
	}
	if len(lines) > 10 {
		lines = append(lines[:10], fmt.Sprintf("and %d more", len(lines)-10))
	}
	return strings.Join(lines, "\n")
}

func sum(data []byte) string {
	h := sha256.Sum256(data)
	return hex.EncodeToString(h[:])
}

func flagSet(name string) bool {
	set := false
	flag.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

func repoRoot() string {
	_, self, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(self), "..", "..")
}
