//go:build !(darwin || dragonfly || freebsd || illumos || linux || netbsd || openbsd)

package output

import "os"

// lock is a no-op on systems where package syscall has no flock (Windows,
// Solaris, AIX, Plan 9, js, wasip1):
// fleetc does not serialise concurrent Writes there, and no lock file is
// created. Running two fleetc processes on one output directory at once is
// then unsafe, as it would be for any other generator.
func lock(r *os.Root, shown string) (unlock func() error, err error) {
	return func() error { return nil }, nil
}
