package output

import (
	"io/fs"
	"syscall"
)

// ctime is when the file's inode last changed (see ctime_linux.go).
func ctime(fi fs.FileInfo) int64 {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return st.Ctimespec.Nano()
	}
	return 0
}
