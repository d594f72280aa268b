package output

import (
	"io/fs"
	"syscall"
)

// ctime is when the file's inode last changed, in nanoseconds: a write,
// a rename, a chmod, a touch. Unlike the modification time no one can
// set it back, so a file edited by hand with its old mtime restored
// (touch -d) does not keep its stamp.
func ctime(fi fs.FileInfo) int64 {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return st.Ctim.Nano()
	}
	return 0
}
