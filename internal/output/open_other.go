//go:build !unix

package output

import "os"

// openFlags: readRegular checks what it opened; there is no FIFO to block
// on here.
const openFlags = os.O_RDONLY
