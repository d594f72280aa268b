//go:build !unix

package output

import "io/fs"

// inode is 0 where FileInfo has none: stamps then rest on size and
// modification time.
func inode(fs.FileInfo) uint64 { return 0 }
