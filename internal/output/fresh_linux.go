//go:build linux

package output

import (
	"errors"
	"io/fs"
	"os"
	"path"
	"sync/atomic"
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
// It is as confined as the handles: every directory is opened by one
// name relative to its parent's descriptor without following a symbolic
// link, and every file is created with O_EXCL and O_NOFOLLOW. The
// directory a file goes in is made but not opened where openat2 can
// create the file through it without following a symbolic link or
// leaving the parent (RESOLVE_BENEATH, RESOLVE_NO_SYMLINKS): a values
// file is alone in its directory, and opening and closing the directory
// were two of the seven system calls that made it.
type rawDirs struct {
	root  *os.File // the output root, opened through the writer's os.Root
	names []string // components of the current directory
	fds   []int    // fds[i] is the directory names[:i+1]; -1 when made but not opened
}

// noOpenat2 is set once openat2 turns out not to be there (Linux before
// 5.6, or a sandbox that filters it): every directory is opened then.
var noOpenat2 atomic.Bool

// testHookOpenat2, when set by a test, is what openat2 fails with.
var testHookOpenat2 func() error

// noSyscall reports whether openat2 failed for want of openat2: ENOSYS
// where the kernel lacks it, EPERM where a seccomp filter refuses it
// (older container runtimes' default profiles), EINVAL or E2BIG where the
// kernel does not know a flag. Opening the directory instead is always
// safe: a real error comes back from openat as well.
func noSyscall(err error) bool {
	return errors.Is(err, unix.ENOSYS) || errors.Is(err, unix.EPERM) || errors.Is(err, unix.EINVAL) || errors.Is(err, unix.E2BIG)
}

// createFresh writes f into the fresh tree at at (its path under the
// fresh directory's temporary name), making its directories.
func (w *writer) createFresh(cur *cursor, at string, f planned) (fs.FileInfo, error) {
	dir, leaf, err := cur.raw.dir(w, path.Dir(at), !noOpenat2.Load())
	if err != nil {
		return nil, w.fail("create directory", path.Dir(f.path), err)
	}
	return w.createAt(&cur.raw, dir, leaf, path.Base(at), f.path, f.data)
}

// dir returns a descriptor of dir (slash-separated, relative to the output
// root), making the directories that do not exist; an existing one must
// be a directory, not a symbolic link. With lazy, the last directory is
// made but not opened: then leaf is its name, and the descriptor its
// parent's.
func (d *rawDirs) dir(w *writer, dir string, lazy bool) (fd int, leaf string, err error) {
	if d.root == nil {
		root, err := w.r.Open(".")
		if err != nil {
			return -1, "", err
		}
		d.root = root
	}
	want, keep := components(dir, d.names)
	d.truncate(keep)
	for i := keep; i < len(want); i++ {
		parent, err := d.fd(i - 1)
		if err != nil {
			return -1, "", err
		}
		name := want[i]
		err = ignoringEINTR(func() error { return unix.Mkdirat(parent, name, uint32(w.dirMode.Perm())) })
		if errors.Is(err, unix.EEXIST) {
			var st unix.Stat_t
			if err = ignoringEINTR(func() error { return unix.Fstatat(parent, name, &st, unix.AT_SYMLINK_NOFOLLOW) }); err == nil && st.Mode&unix.S_IFMT != unix.S_IFDIR {
				return -1, "", &fs.PathError{Op: "mkdir", Path: name, Err: errors.New("exists and is not a directory")}
			}
		}
		if err != nil {
			return -1, "", &fs.PathError{Op: "mkdir", Path: name, Err: err}
		}
		d.names = append(d.names, name)
		d.fds = append(d.fds, -1)
	}
	last := len(want) - 1
	if lazy && last >= 0 && d.fds[last] == -1 {
		fd, err := d.fd(last - 1)
		return fd, want[last], err
	}
	fd, err = d.fd(last)
	return fd, "", err
}

// fd returns the descriptor of the directory names[:i+1], the root's for
// i < 0, opening it if it was made but not opened.
func (d *rawDirs) fd(i int) (int, error) {
	if i < 0 {
		if d.root == nil {
			return -1, errors.New("output root not open")
		}
		return int(d.root.Fd()), nil
	}
	if d.fds[i] != -1 {
		return d.fds[i], nil
	}
	parent, err := d.fd(i - 1)
	if err != nil {
		return -1, err
	}
	var fd int
	err = ignoringEINTR(func() (err error) {
		fd, err = unix.Openat(parent, d.names[i], unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		return err
	})
	if err != nil {
		return -1, &fs.PathError{Op: "open", Path: d.names[i], Err: err}
	}
	d.fds[i] = fd
	return fd, nil
}

// last returns the descriptor of the current directory, opening it if it
// was made but not opened.
func (d *rawDirs) last() (int, error) { return d.fd(len(d.fds) - 1) }

// truncate closes the descriptors below the first n components.
func (d *rawDirs) truncate(n int) {
	for i := len(d.fds) - 1; i >= n; i-- {
		if d.fds[i] != -1 {
			unix.Close(d.fds[i])
		}
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
// new file name in dir, or in its subdirectory leaf if leaf is not empty,
// with the final mode of rel, and returns what fstat shows of it; a file
// it could not finish is removed.
func (w *writer) createAt(d *rawDirs, dir int, leaf, name, rel string, data []byte) (fs.FileInfo, error) {
	const flags = unix.O_WRONLY | unix.O_CREAT | unix.O_EXCL | unix.O_NOFOLLOW | unix.O_CLOEXEC
	fd := -1
	var err error
	if leaf != "" {
		how := unix.OpenHow{Flags: flags, Mode: uint64(w.fileMode.Perm()), Resolve: unix.RESOLVE_BENEATH | unix.RESOLVE_NO_SYMLINKS | unix.RESOLVE_NO_MAGICLINKS}
		err = ignoringEINTR(func() (err error) {
			if testHookOpenat2 != nil {
				return testHookOpenat2()
			}
			fd, err = unix.Openat2(dir, leaf+"/"+name, &how)
			return err
		})
		if noSyscall(err) {
			// No openat2: open the directory, from now on always.
			noOpenat2.Store(true)
			if dir, err = d.last(); err != nil {
				return nil, w.fail("write", rel, err)
			}
			leaf = ""
		}
	}
	if leaf == "" {
		err = ignoringEINTR(func() (err error) {
			fd, err = unix.Openat(dir, name, flags, uint32(w.fileMode.Perm()))
			return err
		})
	}
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
		// Removed from the directory itself, opened without following a
		// symbolic link, as it was created.
		var rerr error
		if leaf != "" {
			dir, rerr = d.last()
		}
		if rerr == nil {
			rerr = ignoringEINTR(func() error { return unix.Unlinkat(dir, name, 0) })
		}
		if rerr != nil && !errors.Is(rerr, unix.ENOENT) {
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
