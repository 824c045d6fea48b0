package athena

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

const (
	// stagingBeat is how often a run refreshes its staging lock file's
	// modification time.
	stagingBeat = 20 * time.Second
	// storeStagingGrace is how long a staging lock file must have gone
	// unrefreshed before another store run takes its directory for one a
	// killed run left: flock alone does not say so where locks are local
	// to a host (NFS mounted without lock), and a run locks its directory
	// only after creating it.
	storeStagingGrace = 2 * time.Minute
)

// stagingLock marks a staging directory as a live run's: an flock on a
// lock file inside it, whose modification time the run refreshes every
// stagingBeat.
type stagingLock struct {
	f    *os.File
	stop chan struct{}
	done sync.WaitGroup
}

// lockStaging locks dir for the calling run. It returns nil where the
// file system has no flock (the directory is then never swept).
func lockStaging(dir string) *stagingLock {
	f, err := lockDir(dir)
	if err != nil || f == nil {
		return nil
	}
	l := &stagingLock{f: f, stop: make(chan struct{})}
	l.done.Go(func() {
		tick := time.NewTicker(stagingBeat)
		defer tick.Stop()
		for {
			select {
			case <-l.stop:
				return
			case now := <-tick.C:
				os.Chtimes(f.Name(), now, now)
			}
		}
	})
	return l
}

// release stops the refreshes and removes and releases the lock; nil is a
// lock not taken.
func (l *stagingLock) release() {
	if l == nil {
		return
	}
	close(l.stop)
	l.done.Wait()
	closeLock(l.f)
}

// sweepStaging removes the staging directories in parent that runs which
// ended without cleaning up (killed, crashed) left, and returns a message
// for each. A run holds its staging directory's flock until it ends, so a
// directory whose lock can be taken is no live run's on this host; with
// grace, its lock file must also have gone unrefreshed that long, which
// covers runs on other hosts and runs that have not locked theirs yet, and
// a directory without one (an older flowlens's) is let be. Only OpenOutput,
// which holds its directory's lock, sweeps without grace; where flock is
// missing, that is the only sweep.
func sweepStaging(parent string, grace time.Duration) []string {
	entries, err := os.ReadDir(parent)
	if err != nil {
		return nil
	}
	var swept []string
	for _, e := range entries {
		if !e.IsDir() || !strings.HasPrefix(e.Name(), stagingPrefix) {
			continue
		}
		path := filepath.Join(parent, e.Name())
		if grace > 0 {
			info, err := os.Stat(filepath.Join(path, lockName))
			if err != nil || time.Since(info.ModTime()) < grace {
				continue
			}
		}
		lock, err := lockDir(path)
		if err != nil {
			continue // a live run's, or not ours to remove
		}
		err = os.RemoveAll(path)
		closeLock(lock)
		if err == nil {
			swept = append(swept, "removed the files staged by an interrupted run: "+strings.TrimPrefix(e.Name(), stagingPrefix))
		}
	}
	return swept
}
