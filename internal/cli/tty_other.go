//go:build !linux && !darwin && !freebsd && !netbsd && !openbsd

package cli

// isTerminal reports whether fd is a terminal; here it never is, and
// fleetc shows no progress.
func isTerminal(uintptr) bool { return false }
