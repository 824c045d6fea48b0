package main

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync/atomic"
	"time"

	"github.com/flowlens/flowlens/archive"
)

// progress reports a long run: a live line on a terminal, a log line every
// interval otherwise. Runs shorter than one interval print nothing.
type progress struct {
	total   int
	done    atomic.Int64
	records atomic.Int64
	text    atomic.Int64
	began   time.Time
	stop    chan struct{}
	stopped chan struct{}
}

// startProgress starts reporting on w for a run of total inputs: a live
// line when w is a terminal and liveOK, structured log lines otherwise. Its
// OnDone and OnBatch go in archive.Options.
func startProgress(w io.Writer, log *slog.Logger, total int, liveOK bool) *progress {
	p := &progress{total: total, began: time.Now(), stop: make(chan struct{}), stopped: make(chan struct{})}
	live := liveOK && isTerminal(w)
	interval := 10 * time.Second
	if live {
		interval = time.Second
	}
	go func() {
		defer close(p.stopped)
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-p.stop:
				if live && time.Since(p.began) >= interval {
					fmt.Fprint(w, "\r\033[K")
				}
				return
			case <-t.C:
				done, recs, text := p.done.Load(), p.records.Load(), p.text.Load()
				secs := time.Since(p.began).Seconds()
				eta := "?"
				if done > 0 {
					left := secs * float64(int64(p.total)-done) / float64(done)
					eta = time.Duration(left * float64(time.Second)).Round(time.Second).String()
				}
				if live {
					fmt.Fprintf(w, "\r\033[K%d/%d inputs (%.0f MB of text), %d records, %.0f records/s, ETA %s",
						done, p.total, float64(text)/1e6, recs, float64(recs)/secs, eta)
				} else {
					log.Info("progress", "inputs_done", done, "inputs", p.total, "records", recs,
						"text_mb", float64(text)/1e6, "records_per_s", int64(float64(recs)/secs), "eta", eta)
				}
			}
		}
	}()
	return p
}

// OnDone counts a finished input.
func (p *progress) OnDone(r *archive.Result) {
	p.done.Add(1)
	p.text.Add(r.TextBytes)
}

// OnBatch counts records as they are parsed.
func (p *progress) OnBatch(records int) { p.records.Add(int64(records)) }

// Stop ends the reports and clears a live line.
func (p *progress) Stop() {
	close(p.stop)
	<-p.stopped
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
