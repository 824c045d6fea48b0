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
	"sync/atomic"
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

// runLease is a lease held.
type runLease interface {
	// check fails when another run holds the lease now (before a commit).
	check(ctx context.Context) error
	// release ends the lease's refreshes and gives it up.
	release()
}

// fileLease is a local store's lease: an flock, which no other run can
// take while it is held.
type fileLease struct{ f *os.File }

func (fileLease) check(context.Context) error { return nil }
func (l fileLease) release()                  { closeLock(l.f) }

// TakeLease takes the output's lease for the run, or fails naming the run
// that holds it. Outputs in a directory are locked when opened. Abort
// gives the lease up. Ages are judged on the clocks of the hosts, which
// must agree within a minute or so (NTP).
func (o *Output) TakeLease(ctx context.Context) error {
	if o.store == nil || o.lease != nil {
		return nil
	}
	if ls, ok := o.store.(LocalStore); ok {
		f, err := lockFile(filepath.Join(string(ls), "."+o.ShardName(leaseName)+".lock"))
		if err != nil {
			return fmt.Errorf("%s: %w", ls, err)
		}
		o.lease = fileLease{f}
		return nil
	}
	host, _ := os.Hostname()
	l := &s3Lease{o: o, name: o.ShardName(leaseName), mine: leaseRecord{RunID: o.RunID, Host: host, PID: os.Getpid()}}
	if err := l.take(ctx); err != nil {
		return err
	}
	o.lease = l
	return nil
}

// checkLease fails when another run has taken the output's lease (this
// run's refreshes failed for minutes, or two runs put theirs at once and
// this one's was overwritten): committing would mix the two runs' files.
func (o *Output) checkLease(ctx context.Context) error {
	if o.lease == nil {
		return nil
	}
	return o.lease.check(ctx)
}

// s3Lease is a lease object in a store without locks.
type s3Lease struct {
	o      *Output
	name   string
	mine   leaseRecord
	lost   atomic.Pointer[leaseRecord] // the run that took the lease over
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// held returns the lease in the store: nil when there is none (or an
// object that is not a lease, which a put replaces).
func (l *s3Lease) held(ctx context.Context) (*leaseRecord, error) {
	data, err := l.o.store.Read(ctx, l.name)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var r leaseRecord
	if json.Unmarshal(data, &r) != nil {
		return nil, nil
	}
	return &r, nil
}

func (l *s3Lease) busy(r *leaseRecord) error {
	return fmt.Errorf("%w: run %s (host %s, pid %d) holds %s, refreshed %s ago; a lease not refreshed for %s is taken over",
		ErrOutputBusy, r.RunID, r.Host, r.PID, locate(l.o.store, l.name), time.Since(r.Refreshed).Round(time.Second), leaseStale)
}

func (l *s3Lease) put(ctx context.Context) error {
	l.mine.Refreshed = time.Now().UTC()
	data, err := json.Marshal(l.mine)
	if err != nil {
		return err
	}
	return putTemp(ctx, l.o.store, l.name, data)
}

// take puts the lease unless another run's is fresh, and reads it back
// after the settle pause; on failure it leaves no lease of its own.
func (l *s3Lease) take(ctx context.Context) (err error) {
	r, err := l.held(ctx)
	if err != nil {
		return err
	}
	if r != nil && r.RunID != l.mine.RunID && time.Since(r.Refreshed) < leaseStale {
		return l.busy(r)
	}
	if err := l.put(ctx); err != nil {
		return err
	}
	defer func() {
		if err != nil {
			l.giveUp(ctx)
		}
	}()
	settle := DefaultLeaseSettle
	if s, ok := l.o.store.(interface{ leaseSettle() time.Duration }); ok {
		settle = s.leaseSettle()
	}
	select {
	case <-time.After(settle):
	case <-ctx.Done():
		return ctx.Err()
	}
	if r, err = l.held(ctx); err != nil {
		return err
	}
	if r == nil || r.RunID != l.mine.RunID {
		if r == nil {
			r = &leaseRecord{RunID: "unknown", Refreshed: time.Now()}
		}
		return l.busy(r)
	}
	refresh, cancel := context.WithCancel(context.WithoutCancel(ctx))
	l.cancel = cancel
	l.wg.Go(func() {
		tick := time.NewTicker(leaseRefresh)
		defer tick.Stop()
		for {
			select {
			case <-refresh.Done():
				return
			case <-tick.C:
			}
			// Read first: a lease another run holds now is not put back.
			r, err := l.held(refresh)
			switch {
			case err != nil: // retried at the next tick
			case r != nil && r.RunID != l.mine.RunID:
				l.lost.Store(r)
				return
			default:
				l.put(refresh)
			}
		}
	})
	return nil
}

// check fails when the lease is another run's now.
func (l *s3Lease) check(ctx context.Context) error {
	if r := l.lost.Load(); r != nil {
		return l.busy(r)
	}
	r, err := l.held(ctx)
	if err != nil {
		return err
	}
	if r != nil && r.RunID != l.mine.RunID {
		l.lost.Store(r)
		return l.busy(r)
	}
	return nil
}

// release stops the refreshes and deletes the lease if it is still ours.
func (l *s3Lease) release() {
	if l.cancel != nil {
		l.cancel()
		l.wg.Wait()
	}
	l.giveUp(context.Background())
}

// giveUp deletes the lease if it is this run's.
func (l *s3Lease) giveUp(ctx context.Context) {
	quiet, done := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer done()
	if r, err := l.held(quiet); err == nil && r != nil && r.RunID == l.mine.RunID {
		l.o.store.Delete(quiet, []string{l.name})
	}
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
