package athena

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// A run into a store holds a lease on its output (its shard's, in a
// sharded job) from before it reads its inputs until it ends, so that two
// runs never write one location at once: their commits would delete each
// other's files, or leave both runs' files for Athena to count twice. A
// local store locks a file (flock); S3 has no locks, so the lease is a
// hidden object the run puts, reads back after a pause (of two runs that
// both found none, the later put wins and the other sees it) and refreshes
// while it runs. A lease not refreshed for leaseStale belongs to a run
// that was killed, and is taken over.
const (
	leaseName    = "_run-in-progress.json"
	leaseRefresh = 30 * time.Second
	leaseStale   = 2 * time.Minute
	// DefaultLeaseSettle is how long an S3 run waits between putting its
	// lease and reading it back.
	DefaultLeaseSettle = 2 * time.Second
)

// leaseRecord is a lease's content.
type leaseRecord struct {
	RunID     string    `json:"run_id"`
	Host      string    `json:"host"`
	PID       int       `json:"pid"`
	Refreshed time.Time `json:"refreshed"`
}

// runLease is a lease held: stop ends its refreshes and gives it up.
type runLease struct {
	stop func()
}

func (l *runLease) release() {
	if l != nil {
		l.stop()
	}
}

// TakeLease takes the output's lease for the run, or fails naming the run
// that holds it. Outputs in a directory are locked when opened. Abort
// gives the lease up.
func (o *Output) TakeLease(ctx context.Context) error {
	if o.store == nil || o.lease != nil {
		return nil
	}
	if ls, ok := o.store.(LocalStore); ok {
		f, err := lockFile(filepath.Join(string(ls), "."+o.ShardName(leaseName)+".lock"))
		if err != nil {
			return fmt.Errorf("%s: %w", ls, err)
		}
		o.lease = &runLease{stop: func() { closeLock(f) }}
		return nil
	}
	name := o.ShardName(leaseName)
	host, _ := os.Hostname()
	mine := leaseRecord{RunID: o.RunID, Host: host, PID: os.Getpid()}
	held := func(ctx context.Context) (*leaseRecord, error) {
		data, err := o.store.Read(ctx, name)
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		var l leaseRecord
		if json.Unmarshal(data, &l) != nil {
			return nil, nil // not a lease: ours replaces it
		}
		return &l, nil
	}
	busy := func(l *leaseRecord) error {
		return fmt.Errorf("%w: run %s (host %s, pid %d) holds %s, refreshed %s ago; a lease not refreshed for %s is taken over",
			ErrOutputBusy, l.RunID, l.Host, l.PID, locate(o.store, name), time.Since(l.Refreshed).Round(time.Second), leaseStale)
	}
	l, err := held(ctx)
	if err != nil {
		return err
	}
	if l != nil && l.RunID != o.RunID && time.Since(l.Refreshed) < leaseStale {
		return busy(l)
	}
	put := func(ctx context.Context) error {
		mine.Refreshed = time.Now().UTC()
		data, err := json.Marshal(mine)
		if err != nil {
			return err
		}
		return putTemp(ctx, o.store, name, data)
	}
	if err := put(ctx); err != nil {
		return err
	}
	settle := DefaultLeaseSettle
	if s, ok := o.store.(interface{ leaseSettle() time.Duration }); ok {
		settle = s.leaseSettle()
	}
	select {
	case <-time.After(settle):
	case <-ctx.Done():
		return ctx.Err()
	}
	if l, err = held(ctx); err != nil {
		return err
	}
	if l == nil || l.RunID != o.RunID {
		if l == nil {
			l = &leaseRecord{RunID: "unknown", Refreshed: time.Now()}
		}
		return busy(l)
	}
	refresh, cancel := context.WithCancel(context.WithoutCancel(ctx))
	var wg sync.WaitGroup
	wg.Go(func() {
		tick := time.NewTicker(leaseRefresh)
		defer tick.Stop()
		for {
			select {
			case <-refresh.Done():
				return
			case <-tick.C:
				put(refresh) // a refresh missed is retried at the next tick
			}
		}
	})
	o.lease = &runLease{stop: func() {
		cancel()
		wg.Wait()
		quiet, done := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer done()
		if l, err := held(quiet); err == nil && l != nil && l.RunID == o.RunID {
			o.store.Delete(quiet, []string{name})
		}
	}}
	return nil
}

// putTemp puts data as rel through a temporary file (the staging directory
// may be gone: a lease is refreshed until the run ends).
func putTemp(ctx context.Context, st Store, rel string, data []byte) error {
	f, err := os.CreateTemp("", ".flowlens-lease-*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	_, err = f.Write(data)
	if err = errors.Join(err, f.Close()); err != nil {
		return err
	}
	return st.Put(ctx, rel, f.Name())
}
