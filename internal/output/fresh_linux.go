//go:build linux

package output

import (
	"errors"
	"io/fs"
	"os"
	"path"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// rawDirs keeps descriptors of the directories of fresh trees, as cursor
// keeps handles, for createFresh. A cold compile creates every file of
// the output this way: tens of thousands of them, most in a directory of
// their own. Through os.Root and os.File each costs twice the system
// calls it needs (the runtime's poller registration, its descriptor
// flags, a second fstat) and a handle for the garbage collector to
// finalize; on tmpfs that was a third of the write step.
//
// It is as confined as the handles: every path is one name relative to a
// directory opened without following a symbolic link, and every file is
// created with O_EXCL and O_NOFOLLOW.
type rawDirs struct {
	root  *os.File // the output root, opened through the writer's os.Root
	names []string // components of the current directory
	fds   []int    // fds[i] is the directory names[:i+1]
}

// createFresh writes f into the fresh tree at at (its path under the
// fresh directory's temporary name), making its directories.
func (w *writer) createFresh(cur *cursor, at string, f planned) (fs.FileInfo, error) {
	dir, err := cur.raw.dir(w, path.Dir(at))
	if err != nil {
		return nil, w.fail("create directory", path.Dir(f.path), err)
	}
	return w.createAt(dir, path.Base(at), f.path, f.data)
}

// dir returns a descriptor of dir (slash-separated, relative to the output
// root), making the directories that do not exist; an existing one must
// be a directory, not a symbolic link.
func (d *rawDirs) dir(w *writer, dir string) (int, error) {
	if d.root == nil {
		root, err := w.r.Open(".")
		if err != nil {
			return -1, err
		}
		d.root = root
	}
	want, keep := components(dir, d.names)
	d.truncate(keep)
	for i := keep; i < len(want); i++ {
		parent := int(d.root.Fd())
		if i > 0 {
			parent = d.fds[i-1]
		}
		name := want[i]
		err := ignoringEINTR(func() error { return unix.Mkdirat(parent, name, uint32(w.dirMode.Perm())) })
		if errors.Is(err, unix.EEXIST) {
			var st unix.Stat_t
			if err = ignoringEINTR(func() error { return unix.Fstatat(parent, name, &st, unix.AT_SYMLINK_NOFOLLOW) }); err == nil && st.Mode&unix.S_IFMT != unix.S_IFDIR {
				return -1, &fs.PathError{Op: "mkdir", Path: name, Err: errors.New("exists and is not a directory")}
			}
		}
		if err != nil {
			return -1, &fs.PathError{Op: "mkdir", Path: name, Err: err}
		}
		var fd int
		err = ignoringEINTR(func() (err error) {
			fd, err = unix.Openat(parent, name, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
			return err
		})
		if err != nil {
			return -1, &fs.PathError{Op: "open", Path: name, Err: err}
		}
		d.names = append(d.names, name)
		d.fds = append(d.fds, fd)
	}
	if len(want) == 0 {
		return int(d.root.Fd()), nil
	}
	return d.fds[len(want)-1], nil
}

// truncate closes the descriptors below the first n components.
func (d *rawDirs) truncate(n int) {
	for i := len(d.fds) - 1; i >= n; i-- {
		unix.Close(d.fds[i])
	}
	d.names, d.fds = d.names[:n], d.fds[:n]
}

// close closes every descriptor.
func (d *rawDirs) close() {
	d.truncate(0)
	if d.root != nil {
		d.root.Close()
		d.root = nil
	}
}

// createAt is create for a directory descriptor: it writes data to the
// new file name in dir, with the final mode of rel, and returns what
// fstat shows of it; a file it could not finish is removed.
func (w *writer) createAt(dir int, name, rel string, data []byte) (fs.FileInfo, error) {
	var fd int
	err := ignoringEINTR(func() (err error) {
		fd, err = unix.Openat(dir, name, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, uint32(w.fileMode.Perm()))
		return err
	})
	if err != nil {
		return nil, w.fail("write", rel, err)
	}
	err = writeAll(fd, data)
	if err == nil && testHookStage != nil {
		err = testHookStage(rel)
	}
	info := &rawInfo{name: name}
	fstat := func() error { return ignoringEINTR(func() error { return syscall.Fstat(fd, &info.st) }) }
	if err == nil {
		err = fstat()
	}
	if err == nil && fs.FileMode(info.st.Mode).Perm() != w.fileMode.Perm() {
		// The umask took bits the mode must have.
		if err = ignoringEINTR(func() error { return unix.Fchmod(fd, uint32(w.fileMode.Perm())) }); err == nil {
			err = fstat()
		}
	}
	if cerr := unix.Close(fd); err == nil {
		err = cerr
	}
	if err != nil {
		if rerr := ignoringEINTR(func() error { return unix.Unlinkat(dir, name, 0) }); rerr != nil && !errors.Is(rerr, unix.ENOENT) {
			w.tempsLeft.Store(true)
		}
		return nil, w.fail("write", rel, err)
	}
	return info, nil
}

// writeAll writes data to fd, all of it.
func writeAll(fd int, data []byte) error {
	for len(data) > 0 {
		n, err := unix.Write(fd, data)
		switch {
		case errors.Is(err, unix.EINTR):
			continue
		case err != nil:
			return err
		case n == 0:
			return unix.EIO
		}
		data = data[n:]
	}
	return nil
}

func ignoringEINTR(f func() error) error {
	for {
		if err := f(); !errors.Is(err, unix.EINTR) {
			return err
		}
	}
}

// rawInfo is what fstat showed of a regular file createAt made; Sys is
// the *syscall.Stat_t, as for os.File.Stat, which stamps read.
type rawInfo struct {
	name string
	st   syscall.Stat_t
}

func (i *rawInfo) Name() string       { return i.name }
func (i *rawInfo) Size() int64        { return i.st.Size }
func (i *rawInfo) Mode() fs.FileMode  { return fs.FileMode(i.st.Mode).Perm() } // a regular file, created without setuid, setgid or sticky bits
func (i *rawInfo) ModTime() time.Time { return time.Unix(i.st.Mtim.Unix()) }
func (i *rawInfo) IsDir() bool        { return false }
func (i *rawInfo) Sys() any           { return &i.st }
