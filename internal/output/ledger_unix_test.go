//go:build unix

package output

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestLedgerNotRegular: a FIFO or a symbolic link to an endless file in
// place of the ledger is refused at once, by Write with stamps (which
// reads the ledger early, without the lock) and by ReadLedger (diff,
// compile --check); neither waits on it.
func TestLedgerNotRegular(t *testing.T) {
	fl := files("a/x.yaml", "x: 1\n")
	for name, replace := range map[string]func(string) error{
		"fifo":              func(p string) error { return syscall.Mkfifo(p, 0o644) },
		"link to /dev/zero": func(p string) error { return os.Symlink("/dev/zero", p) },
	} {
		t.Run(name, func(t *testing.T) {
			root := t.TempDir()
			first := mustWrite(t, root, Plan{Files: fl})
			ledger := filepath.Join(root, LedgerName)
			if err := os.Remove(ledger); err != nil {
				t.Fatal(err)
			}
			if err := replace(ledger); err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 2)
			go func() { _, err := Write(root, Plan{Files: fl, Known: first.Stamps}); done <- err }()
			go func() { _, err := ReadLedger(root); done <- err }()
			for range 2 {
				select {
				case err := <-done:
					if err == nil || !strings.Contains(err.Error(), "not a regular file") {
						t.Errorf("got %v, want a refusal of a ledger that is not a regular file", err)
					}
				case <-time.After(10 * time.Second):
					t.Fatal("still reading the ledger after 10 s")
				}
			}
		})
	}
}
