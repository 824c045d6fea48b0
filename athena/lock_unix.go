//go:build unix && !solaris && !aix

package athena

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// lockDir takes the output directory's lock: an exclusive flock on its
// hidden lock file, which is released when the file is closed (or the
// process ends, however it ends) and removed by closeLock. A lock taken on
// a file another run removed meanwhile is not the lock: it is taken again
// on the file now there.
func lockDir(dir string) (*os.File, error) { return lockFile(filepath.Join(dir, lockName)) }

// lockFile takes an exclusive flock on the file at path, creating it.
func lockFile(path string) (*os.File, error) {
	for {
		f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
		if err != nil {
			return nil, fmt.Errorf("cannot create the output's lock file: %w", err)
		}
		if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
			f.Close()
			if errors.Is(err, syscall.EWOULDBLOCK) {
				return nil, fmt.Errorf("%w (%s is locked)", ErrOutputBusy, path)
			}
			return nil, fmt.Errorf("cannot lock %s: %w", path, err)
		}
		held, err1 := f.Stat()
		now, err2 := os.Stat(path)
		if err1 == nil && err2 == nil && os.SameFile(held, now) {
			return f, nil
		}
		f.Close()
	}
}

// closeLock removes the lock file and releases the lock.
func closeLock(f *os.File) {
	if f != nil {
		os.Remove(f.Name())
		f.Close()
	}
}

// locking says that lockDir locks: a run can tell a live run's staging
// directory from one left behind.
const locking = true
