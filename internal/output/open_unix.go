//go:build unix

package output

import (
	"os"
	"syscall"
)

// openFlags open a bookkeeping file without following a symbolic link
// and without blocking on a FIFO, so that readRegular can refuse either.
const openFlags = os.O_RDONLY | syscall.O_NOFOLLOW | syscall.O_NONBLOCK
