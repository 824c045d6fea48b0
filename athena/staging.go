package athena

import (
	"os"
	"path/filepath"
	"strings"
	"time"
)

// storeStagingGrace is how old a store run's staging directory must be
// before another run may take it for one left behind: its run locks it
// right after creating it.
const storeStagingGrace = time.Minute

// sweepStaging removes the staging directories in parent that runs which
// ended without cleaning up (killed, crashed) left, and returns a message
// for each. A run holds its staging directory's lock until it ends, so a
// directory whose lock can be taken is no live run's; one younger than
// grace is let be, as its run may not have locked it yet. Where flock is
// missing, only a caller holding its output's lock (OpenOutput) may sweep.
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
		if info, err := e.Info(); err != nil || time.Since(info.ModTime()) < grace {
			continue
		}
		path := filepath.Join(parent, e.Name())
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
