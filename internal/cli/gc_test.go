package cli

import (
	"runtime/debug"
	"testing"
)

// TestTuneGC: a command that runs to completion collects at gcPercent
// unless GOGC says otherwise; the language server keeps the default.
func TestTuneGC(t *testing.T) {
	orig := debug.SetGCPercent(100)
	origLimit := debug.SetMemoryLimit(-1)
	defer func() {
		debug.SetGCPercent(orig)
		debug.SetMemoryLimit(origLimit)
	}()
	current := func() int {
		p := debug.SetGCPercent(-1)
		debug.SetGCPercent(p)
		return p
	}
	t.Setenv("GOGC", "")
	tuneGC([]string{"lsp"})
	if got := current(); got != 100 {
		t.Errorf("lsp: GC percent %d, want Go's 100", got)
	}
	tuneGC([]string{"compile"})
	if got := current(); got != gcPercent {
		t.Errorf("compile: GC percent %d, want %d", got, gcPercent)
	}
	debug.SetGCPercent(100)
	t.Setenv("GOGC", "100")
	tuneGC([]string{"compile"})
	if got := current(); got != 100 {
		t.Errorf("compile with GOGC set: GC percent %d, want the environment's", got)
	}
}
