// Package aggregate summarises flow records into traffic tables per time
// window, in the same pass that converts them: conversations, talkers,
// ports and interfaces. It takes arrow.RecordBatch values (the parser's
// flows, any format) and yields arrow.RecordBatch values, one per table and
// closed window.
//
// Workers (one per goroutine) keep partial states; Flush merges them into
// the shared windows, and windows are closed, emitted and forgotten once the
// input's time watermark (the latest end seen, less the allowed lateness)
// has passed them and no worker still holds data for them. Results do not
// depend on the number of workers or the order of the inputs: partial
// states merge associatively and rows are emitted sorted by key. Distinct
// counts are exact up to a threshold, then HyperLogLog sketches.
package aggregate

import (
	"math"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// Config tunes an Aggregator. Zero values take the defaults.
type Config struct {
	// Window is the length of the aggregation windows, aligned to UTC
	// (default 5 minutes, the period of AWS's flow-log files).
	Window time.Duration
	// Lateness is how far behind the latest start time seen a record may
	// still arrive and land in its window (0: the default, 15 minutes: AWS
	// delivers flow logs about 10 minutes late, best effort, and a record
	// starts up to 5 minutes before the file window it is delivered in
	// ends; negative: none).
	Lateness time.Duration
	// ExactDistinct is the number of distinct values counted exactly before
	// a sketch takes over (default 1,024).
	ExactDistinct int
	// Tables lists the tables to compute (default all of Tables).
	Tables []string
}

func (c Config) withDefaults() Config {
	if c.Window <= 0 {
		c.Window = 5 * time.Minute
	}
	switch {
	case c.Lateness == 0:
		c.Lateness = 15 * time.Minute
	case c.Lateness < 0: // an explicit zero
		c.Lateness = 0
	}
	if c.ExactDistinct <= 0 {
		c.ExactDistinct = 1024
	}
	if len(c.Tables) == 0 {
		c.Tables = Tables
	}
	return c
}

// which are the tables computed, as flags.
type which struct{ conv, talkers, ports, ifaces bool }

func (c Config) which() which {
	var w which
	for _, t := range c.Tables {
		switch t {
		case Conversations:
			w.conv = true
		case Talkers:
			w.talkers = true
		case Ports:
			w.ports = true
		case Interfaces:
			w.ifaces = true
		}
	}
	return w
}

// Emit receives the rows of one table for one closed window; it must
// release rec.
type Emit func(table string, rec arrow.RecordBatch) error

// Aggregator holds the merged windows and emits closed ones.
type Aggregator struct {
	cfg    Config
	tables which
	mem    memory.Allocator
	emit   Emit

	mu       sync.Mutex
	windows  map[int64]*state // by window start (Unix seconds)
	emitted  map[int64]bool   // the windows whose rows have been written
	lateRows map[int64]*state // rows for written windows, by window, to write at the next advance
	held     int64            // windows ending after this stay open (HoldFrom)
	maxStart int64            // the latest record start flushed
	workers  map[*Worker]struct{}
	strings  interner
	ranks    []uint32 // the interned strings' ranks in text order (see rankStrings)
	late     int64    // records that arrived for a closed window
	err      error
}

// New returns an aggregator that calls emit for every table of every window
// it closes.
func New(cfg Config, mem memory.Allocator, emit Emit) *Aggregator {
	if mem == nil {
		mem = memory.DefaultAllocator
	}
	cfg = cfg.withDefaults()
	return &Aggregator{cfg: cfg, tables: cfg.which(), mem: mem, emit: emit, windows: map[int64]*state{},
		workers: map[*Worker]struct{}{}, emitted: map[int64]bool{}, lateRows: map[int64]*state{}, held: math.MaxInt64}
}

// LateRecords returns how many records arrived after the rows of their
// window had been written; they are emitted as extra rows for that window
// (sums over the rows of a key stay exact; distinct counts do not add up).
// Records for a window that was never written yet, however old, are not
// late: the window is simply written at the next flush.
func (a *Aggregator) LateRecords() int64 {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.late
}

// NewWorker returns a worker for one goroutine.
func (a *Aggregator) NewWorker() *Worker {
	w := &Worker{a: a, windows: map[int64]*state{}, ids: map[string]uint32{}}
	w.recent = new([recentStrings]struct {
		s  string
		id uint32
	})
	w.pending.Store(math.MaxInt64)
	w.known = knownIDs{accept: w.intern("ACCEPT"), reject: w.intern("REJECT"), ingress: w.intern("ingress"),
		egress: w.intern("egress"), ok: w.intern("OK"), nodata: w.intern("NODATA"), skipdata: w.intern("SKIPDATA")}
	a.mu.Lock()
	a.workers[w] = struct{}{}
	a.mu.Unlock()
	return w
}

// Worker aggregates record batches of one goroutine into partial states.
type Worker struct {
	a       *Aggregator
	windows map[int64]*state
	ids     map[string]uint32 // this worker's cache of the shared interner
	names   []string          // the strings of the ids it holds, by id
	recent  *[recentStrings]struct {
		s  string
		id uint32
	} // a direct-mapped cache in front of ids: interface ids change from record to record
	hint  stateSize // the largest windows it filled, to size the next
	known knownIDs
	last  [numSlots]struct {
		s  string
		id uint32
	}
	maxStart int64
	rows     int
	// pending is the earliest window the worker holds unflushed data for
	// (math.MaxInt64 when none); other goroutines read it to know which
	// windows may not close yet, so it is atomic.
	pending atomic.Int64
}

// flushEvery bounds a worker's partial state: it flushes by itself after
// this many records.
const flushEvery = 1 << 20

// Add aggregates the records of batch; region is the region of records whose
// own region field is absent or NULL (from the input's key; "" for none).
func (w *Worker) Add(batch arrow.RecordBatch, region string) error {
	cols := bindColumns(batch)
	if !w.a.tables.ifaces { // only the interfaces table reads them
		cols.status, cols.direc = strCol{}, strCol{}
	}
	n := int(batch.NumRows())
	win := int64(w.a.cfg.Window / time.Second)
	defRegion := w.intern(region)
	var r rec
	for i := 0; i < n; i++ {
		if !cols.row(i, w, defRegion, &r) {
			continue
		}
		ws := floorDiv(r.start, win) * win
		st := w.windows[ws]
		if st == nil {
			for _, o := range w.windows { // a new window is about as large as the others
				w.hint.atLeast(o)
			}
			st = newState(w.hint)
			w.windows[ws] = st
			if ws < w.pending.Load() {
				w.pending.Store(ws) // only this goroutine stores while it holds data
			}
		}
		st.add(&r, w.a.cfg.ExactDistinct, w.a.tables)
		w.maxStart = max(w.maxStart, r.start)
	}
	w.rows += n
	if w.rows >= flushEvery {
		return w.Flush()
	}
	return nil
}

// Rows returns the number of records added since the last flush.
func (w *Worker) Rows() int { return w.rows }

// Flush merges the worker's partial states into the aggregator and closes
// the windows the watermark has passed.
func (w *Worker) Flush() error {
	a := w.a
	a.mu.Lock()
	defer a.mu.Unlock()
	for ws, st := range w.windows {
		w.hint.atLeast(st)
		target := a.windows
		if a.emitted[ws] {
			a.late += st.records
			target = a.lateRows
		}
		if g := target[ws]; g != nil {
			g.merge(st, a.cfg.ExactDistinct)
		} else {
			target[ws] = st
		}
	}
	clear(w.windows)
	w.pending.Store(math.MaxInt64)
	a.maxStart = max(a.maxStart, w.maxStart)
	w.rows = 0
	return a.advanceLocked()
}

// Done flushes the worker and retires it.
func (w *Worker) Done() error {
	err := w.Flush()
	w.a.mu.Lock()
	delete(w.a.workers, w)
	w.a.mu.Unlock()
	return err
}

// advanceLocked closes the windows that end before the watermark and for
// which no worker holds partial data, and emits the late rows merged since
// the last call (so that late data does not pile up either).
func (a *Aggregator) advanceLocked() error {
	win := int64(a.cfg.Window / time.Second)
	watermark := a.maxStart - int64(a.cfg.Lateness/time.Second)
	limit := floorDiv(watermark, win)*win - win // the last window wholly before the watermark
	for w := range a.workers {
		if p := w.pending.Load(); p != math.MaxInt64 {
			limit = min(limit, p-win)
		}
	}
	limit = min(limit, a.held-win)
	if err := a.emitAllLocked(a.lateRows, nil); err != nil {
		return err
	}
	return a.emitAllLocked(a.windows, func(ws int64) bool { return ws <= limit })
}

// emitAllLocked emits, in window order, the states of m that ready accepts
// (all when nil), forgets them and records their windows as written.
func (a *Aggregator) emitAllLocked(m map[int64]*state, ready func(int64) bool) error {
	var list []int64
	for ws := range m {
		if ready == nil || ready(ws) {
			list = append(list, ws)
		}
	}
	slices.Sort(list)
	for _, ws := range list {
		if err := a.emitLocked(ws, m[ws]); err != nil {
			return err
		}
		delete(m, ws)
		a.emitted[ws] = true
	}
	return a.err
}

// HoldFrom keeps the windows that may still receive records of inputs not
// yet read open: no window ending after t (Unix seconds) is closed until
// HoldFrom is called with a later time. math.MaxInt64 releases the hold.
// A reader of time-ordered inputs calls it with the time of the earliest
// input not yet finished, so that an input still downloading does not find
// its windows closed by faster ones.
func (a *Aggregator) HoldFrom(t int64) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.held = t
	return a.advanceLocked()
}

// Close flushes every worker and emits every remaining window, then the
// remaining late rows.
func (a *Aggregator) Close() error {
	a.mu.Lock()
	workers := make([]*Worker, 0, len(a.workers))
	for w := range a.workers {
		workers = append(workers, w)
	}
	a.mu.Unlock()
	for _, w := range workers {
		if err := w.Done(); err != nil {
			return err
		}
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if err := a.emitAllLocked(a.windows, nil); err != nil {
		return err
	}
	return a.emitAllLocked(a.lateRows, nil)
}

// interner gives strings (accounts, interfaces, regions, actions) small ids
// shared by all workers, so that keys compare as integers.
type interner struct {
	ids  map[string]uint32
	strs []string
}

// intern returns the id of s; s may be a view into a reused buffer.
func (w *Worker) intern(s string) uint32 {
	if s == "" {
		return 0
	}
	if id, ok := w.ids[s]; ok {
		return id
	}
	a := w.a
	a.mu.Lock()
	if a.strings.ids == nil {
		a.strings.ids = map[string]uint32{}
		a.strings.strs = []string{""}
	}
	id, ok := a.strings.ids[s]
	if !ok {
		c := string(append([]byte(nil), s...))
		id = uint32(len(a.strings.strs))
		a.strings.ids[c] = id
		a.strings.strs = append(a.strings.strs, c)
	}
	a.mu.Unlock()
	c := string(append([]byte(nil), s...))
	w.ids[c] = id
	for int(id) >= len(w.names) {
		w.names = append(w.names, "")
	}
	w.names[id] = c
	return id
}

// str returns the string of id (0 is NULL); a.mu is held.
func (a *Aggregator) str(id uint32) string { return a.strings.strs[id] }

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && a < 0 {
		q--
	}
	return q
}

// OpenWindows returns the number of windows held: merged and not yet closed.
func (a *Aggregator) OpenWindows() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.windows)
}
