//go:build darwin || dragonfly || freebsd || illumos || linux || netbsd || openbsd

package output

import (
	"errors"
	"io/fs"
	"os"
	"syscall"
)

// lock takes an exclusive, non-blocking flock on the lock file at the root
// of r; shown is how to name that file in messages. It returns a function
// that removes the lock file and releases the lock. fleetc never writes
// into its lock file: one that holds anything is the user's, is locked
// where it is, and stays.
//
// The lock file is removed while the lock is held, so a process that
// opened it just before may then lock an unlinked file. To keep mutual
// exclusion, lock checks after locking that the file it locked is still
// the one at the path, and starts over if not.
func lock(r *os.Root, shown string) (unlock func() error, err error) {
	for attempt := 0; ; attempt++ {
		f, err := r.OpenFile(lockName, os.O_RDWR|os.O_CREATE|syscall.O_NOFOLLOW|syscall.O_CLOEXEC, 0o644)
		if err != nil {
			return nil, opError("lock", shown, err)
		}
		if err := flock(f); err != nil {
			f.Close()
			if errors.Is(err, syscall.EWOULDBLOCK) || errors.Is(err, syscall.EAGAIN) {
				return nil, &LockedError{Path: shown}
			}
			return nil, opError("lock", shown, err)
		}
		held, err := f.Stat()
		if err != nil {
			f.Close()
			return nil, opError("lock", shown, err)
		}
		now, err := r.Lstat(lockName)
		if err == nil && os.SameFile(held, now) {
			return func() error {
				var err error
				if fi, serr := f.Stat(); serr != nil || fi.Size() == 0 {
					err = r.Remove(lockName)
				}
				f.Close() // releases the lock
				if err != nil && !errors.Is(err, fs.ErrNotExist) {
					return opError("unlock", shown, err)
				}
				return nil
			}, nil
		}
		f.Close()
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, opError("lock", shown, err)
		}
		if attempt == 100 {
			// Other processes keep taking and dropping the lock.
			return nil, &LockedError{Path: shown}
		}
	}
}

// flock locks f exclusively without waiting.
func flock(f *os.File) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var ferr error
	err = rc.Control(func(fd uintptr) {
		for {
			ferr = syscall.Flock(int(fd), syscall.LOCK_EX|syscall.LOCK_NB)
			if ferr != syscall.EINTR {
				return
			}
		}
	})
	if err != nil {
		return err
	}
	return ferr
}
