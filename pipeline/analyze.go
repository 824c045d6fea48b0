// Package pipeline runs flowlens's pass over the inputs: it reads and parses
// them (archive, parser), turns every batch into an Arrow record batch and
// feeds the output tables (athena), then commits. It exists so that the
// command stays flags and wiring, and so that tests and benchmarks run the
// very pass users run.
package pipeline

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/flowlens/flowlens/aggregate"
	"github.com/flowlens/flowlens/archive"
	"github.com/flowlens/flowlens/athena"
	"github.com/flowlens/flowlens/detect"
	"github.com/flowlens/flowlens/parser"
	"github.com/flowlens/flowlens/report"
)

// Config describes one analysis run.
type Config struct {
	Inputs []archive.Source
	Read   archive.Options // how inputs are read
	OutDir string          // where tables go; "" only counts
	// Store, if set, is where tables go instead of OutDir: committed file
	// by file (S3).
	Store athena.Store
	// Shard names this run's share of a sharded job (athena.ShardLabel):
	// its files join the same tables, its manifest and findings file are
	// its own, and a rerun replaces only its own files.
	Shard    string
	Location string              // the S3 location for the DDL (default a placeholder)
	Table    athena.TableOptions // codec, row-group and file sizes
	Tool     string              // "flowlens <version>", recorded in files and manifest
	RunID    string              // default a new one
	// Aggregate, if set, computes the traffic tables (aggregate package)
	// and writes them under OutDir/aggregates/<table>/.
	Aggregate *aggregate.Config
	// Detect, if set, runs the detectors (detect package) over the
	// conversations and writes the findings to OutDir/findings.jsonl and
	// OutDir/findings/.
	Detect *detect.Config
	// SkipFlows leaves the flows table out of the output; SkipAggregates
	// the aggregate tables (Aggregate then only sets how detection's
	// conversations are computed).
	SkipFlows, SkipAggregates bool
	// Report writes report.html beside the output once committed (report
	// package): from the output directory (every shard's manifest), or for
	// an output in a Store, from the files staged for it. A shard written
	// to a Store sees only its own files and writes none.
	Report bool
}

// Result is what a run did.
type Result struct {
	RunID  string
	Inputs []archive.Result
	// LateRecords counts records that reached the aggregates after their
	// window had closed (emitted as extra rows).
	LateRecords int64
	Findings    []detect.Finding // highest severity first
	Warnings    []string         // what went wrong without failing the run
	DetectStats detect.Stats
	Totals      archive.Totals
	Manifest    *athena.Manifest // nil without OutDir
	Report      string           // where the report was written, when it was
	Elapsed     time.Duration
}

// Analyze runs the pass. Inputs that fail are recorded in the result (and
// the manifest) while the others complete; the records an input yielded
// before failing are kept. An error means the run itself failed (output not
// writable, cancelled) and nothing was committed.
func Analyze(ctx context.Context, cfg Config) (*Result, error) {
	began := time.Now()
	res := &Result{RunID: cfg.RunID}
	if res.RunID == "" {
		res.RunID = athena.NewRunID()
	}
	var out *athena.Output
	var flows *athena.Table
	aggTables := map[string]*athena.Table{}
	store := cfg.Store
	if store == nil && cfg.OutDir != "" && cfg.Shard != "" {
		store = athena.LocalStore(cfg.OutDir)
	}
	if store != nil || cfg.OutDir != "" {
		var err error
		if store != nil {
			out, err = athena.OpenStoreOutput(store, res.RunID, cfg.Shard)
			if err == nil {
				if err = out.CheckWritable(ctx); err == nil {
					if err = out.TakeLease(ctx); err == nil {
						if err = checkMixing(ctx, store, cfg.Shard); err == nil {
							err = out.CheckOwned(ctx, tableDirs()...)
						}
					}
				}
				if err != nil {
					out.Abort()
				}
			}
		} else {
			out, err = athena.OpenOutput(cfg.OutDir, res.RunID, outputPaths()...)
		}
		if err != nil {
			return nil, err
		}
		// Whatever way the run ends, its staging and lock go with it (after a
		// commit there is nothing left for this to do).
		defer out.Abort()
		out.KeepLock() // until the report beside the output is written
		res.Warnings = append(res.Warnings, out.Recovered()...)
		opts := cfg.Table
		opts.CreatedBy = cfg.Tool
		if !cfg.SkipFlows {
			flows = athena.NewFlowsTable(out, opts)
		}
		if cfg.Aggregate != nil && !cfg.SkipAggregates {
			for _, name := range aggregate.Tables {
				if slices.Contains(cfg.Aggregate.Tables, name) || len(cfg.Aggregate.Tables) == 0 {
					t := athena.NewAggregateTable(out, name, opts)
					if err := t.Declare(aggregate.Schemas[name]); err != nil {
						return nil, err
					}
					aggTables[name] = t
				}
			}
		}
	}
	var det *detect.Detector
	if cfg.Detect != nil {
		var err error
		if det, err = detect.New(*cfg.Detect); err != nil {
			return nil, err
		}
	}
	var agg *aggregate.Aggregator
	var aggCfg aggregate.Config
	if len(aggTables) > 0 || det != nil {
		// Detection reads the conversations: computed even when not written.
		if cfg.Aggregate != nil {
			aggCfg = *cfg.Aggregate
		}
		if det != nil && len(aggCfg.Tables) > 0 && !slices.Contains(aggCfg.Tables, aggregate.Conversations) {
			aggCfg.Tables = append(slices.Clone(aggCfg.Tables), aggregate.Conversations)
		}
		if len(aggTables) == 0 {
			aggCfg.Tables = []string{aggregate.Conversations}
		}
		agg = aggregate.New(aggCfg, nil, aggregateWriter(aggTables, det))
	}
	keys := make([]archive.KeyInfo, len(cfg.Inputs))
	for i, src := range cfg.Inputs {
		keys[i] = archive.ParseKey(src.Name)
	}
	inputs, order := cfg.Inputs, identity(len(cfg.Inputs))
	var hold *holder
	if agg != nil {
		// Aggregation closes windows behind the inputs' time: read them in
		// the order of their time (from their keys), and hold the windows of
		// every input not yet finished open.
		order = byTime(keys)
		inputs = make([]archive.Source, len(order))
		for i, o := range order {
			inputs[i] = cfg.Inputs[o]
		}
		hold = newHolder(keys, order, aggCfg.Window, aggCfg.Lateness)
		if err := agg.HoldFrom(hold.from()); err != nil {
			return nil, err
		}
	}
	var workers *workerPool
	if agg != nil {
		workers = &workerPool{agg: agg}
	}
	sinks := make([]*inputSink, len(inputs))
	for i := range inputs {
		k := keys[order[i]]
		s := &inputSink{flows: flows, workers: workers, region: k.Region, part: athena.FlowPartitioner{DefaultRegion: k.Region},
			input: i, hold: hold, agg: agg}
		if !k.Time.IsZero() {
			s.part.DefaultDate = k.Time.UTC().Format("2006-01-02")
		}
		sinks[i] = s
	}
	read := cfg.Read
	userDone := read.OnDone
	var sinkErr error
	var errOnce sync.Once
	read.OnDone = func(r *archive.Result) {
		var err error
		if hold != nil {
			if t, moved := hold.finish(r.Input); moved {
				err = agg.HoldFrom(t)
			}
		}
		if err != nil {
			errOnce.Do(func() { sinkErr = err })
		}
		if userDone != nil {
			shown := *r
			shown.Input = order[r.Input] // the caller's index
			userDone(&shown)
		}
	}
	results, err := archive.Run(ctx, inputs, read, func(i int, b *parser.Batch) error {
		return sinks[i].write(b)
	})
	// Back to the caller's order and indexes.
	res.Inputs = make([]archive.Result, len(results))
	for i, r := range results {
		r.Input = order[i]
		res.Inputs[order[i]] = r
	}
	results = res.Inputs
	res.Totals = archive.Sum(results, 20)
	if err == nil {
		err = sinkErr
	}
	if err == nil {
		err = ctx.Err()
	}
	if agg != nil && err == nil {
		err = agg.Close()
		res.LateRecords = agg.LateRecords()
	}
	if det != nil && err == nil {
		res.Findings, res.DetectStats = det.Findings(), det.Stats()
	}
	if out == nil {
		res.Elapsed = time.Since(began)
		return res, err
	}
	var tables []*athena.Table
	if flows != nil {
		tables = append(tables, flows)
	}
	for _, name := range aggregate.Tables {
		if t := aggTables[name]; t != nil {
			tables = append(tables, t)
		}
	}
	var files []athena.FileManifest
	if det != nil && err == nil {
		var t *athena.Table
		t, files, err = writeFindings(out, cfg, res.Findings)
		tables = append(tables, t)
	}
	var manifests []athena.TableManifest
	for _, t := range tables {
		tm, cerr := t.Close()
		if err == nil {
			err = cerr
		}
		manifests = append(manifests, tm)
	}
	if err != nil {
		if aerr := out.Abort(); aerr != nil {
			err = errors.Join(err, aerr)
		}
		return res, err
	}
	res.Manifest = manifest(cfg, res, began, manifests)
	res.Manifest.Files = files
	res.Warnings = append(res.Warnings, unreachableRows(res.Manifest, began)...)
	res.Manifest.Columns = map[string][]athena.DDLColumn{}
	location := cfg.Location
	if location == "" {
		location = athena.LocationPlaceholder
	}
	for _, t := range tables {
		if t == flows {
			res.Manifest.Columns[t.Options().Name] = athena.FlowsDDLColumns(t.Columns())
		} else {
			res.Manifest.Columns[t.Options().Name] = athena.DDLColumns(t.Columns(), "region")
		}
	}
	ddls := athena.ManifestDDL(res.Manifest)
	if cfg.Shard != "" {
		// Each shard writes athena.sql, the last one to finish winning: it
		// declares every table and column any shard may write, and every
		// date, not this shard's alone.
		all, err := TablesDDL()
		if err != nil {
			return res, errors.Join(err, out.Abort())
		}
		ddls = widen(all, ddls)
	}
	// The report of an output in a Store is made from the staged files.
	var page []byte
	var renderErr error
	if cfg.Report && cfg.Store != nil && cfg.Shard == "" {
		page, renderErr = report.Render(out.Staged(), cfg.Store.Location(), res.Manifest)
	}
	if err := out.Commit(ctx, res.Manifest, athena.DDL(location, ddls)); err != nil {
		var ce *athena.CleanupError
		if !errors.As(err, &ce) {
			return res, errors.Join(fmt.Errorf("cannot commit the output: %w", err), out.Abort())
		}
		// Committed: the report follows, under the lease still held
		// (the deferred Abort gives it up).
		res.Warnings = append(res.Warnings, ce.Error())
	}
	// The report is derived from the committed output, so it is written
	// after the commit; failing to write it fails nothing.
	if cfg.Report {
		var rerr error
		if res.Report, rerr = writeReport(ctx, cfg, out, page, renderErr); rerr != nil {
			res.Warnings = append(res.Warnings, "cannot write the report: "+rerr.Error())
		}
	}
	res.Elapsed = time.Since(began)
	return res, nil
}

// writeReport writes the report of the committed output and returns where:
// made from the output directory, or for an output in a Store, the page
// made from the staged files (none for a shard, which sees only its own).
// When it cannot, it removes the previous run's report, which would
// describe another output.
func writeReport(ctx context.Context, cfg Config, out *athena.Output, page []byte, renderErr error) (string, error) {
	err := renderErr
	switch {
	case cfg.Store == nil:
		var path string
		if path, err = report.Write(cfg.OutDir); err == nil {
			return path, nil
		}
	case cfg.Shard != "":
		return "", nil
	case err == nil:
		if err = out.PutDerived(ctx, report.Name, page); err == nil {
			return strings.TrimSuffix(cfg.Store.Location(), "/") + "/" + report.Name, nil
		}
	}
	return "", errors.Join(err, out.RemoveDerived(ctx, report.Name))
}

func identity(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i
	}
	return out
}

// byTime returns the indexes of the inputs in the order of the times in
// their keys (inputs without one first), keeping the order of equal times.
func byTime(keys []archive.KeyInfo) []int {
	order := identity(len(keys))
	slices.SortStableFunc(order, func(a, b int) int { return keys[a].Time.Compare(keys[b].Time) })
	return order
}

// holder tracks how far the unfinished inputs (read in time order) may
// still reach back: the aggregator must keep their windows open. An input
// not yet read from may reach back to its key time less a margin (a window
// and the lateness), or anywhere when its key has no time; one being read
// also no further than its latest record start less that margin (records
// within an input are in time order up to the lateness). So one long input
// without a time in its name holds a few windows at a time, not all of them.
type holder struct {
	mu       sync.Mutex
	times    []int64 // key times (Unix seconds) of the sorted inputs; 0 when unknown
	reached  []int64 // the latest record start read from each input; 0 before any
	done     []bool
	next     int // the first input not finished
	upTo     int // inputs from here on have not been read from
	margin   int64
	lastFrom int64
}

// newHolder tracks the inputs of the given keys read in order.
func newHolder(keys []archive.KeyInfo, order []int, window, lateness time.Duration) *holder {
	h := &holder{times: make([]int64, len(order)), reached: make([]int64, len(order)), done: make([]bool, len(order))}
	for i, o := range order {
		if t := keys[o].Time; !t.IsZero() {
			h.times[i] = t.Unix()
		}
	}
	h.margin = int64((max(window, 5*time.Minute) + max(lateness, 15*time.Minute)) / time.Second)
	h.lastFrom = h.from()
	return h
}

// bound returns how far back unfinished input i may still reach.
func (h *holder) bound(i int) int64 {
	b := int64(math.MinInt64 / 2) // no time known: anywhere
	if h.times[i] != 0 {
		b = h.times[i] - h.margin
	}
	if h.reached[i] != 0 {
		b = max(b, h.reached[i]-h.margin)
	}
	return b
}

// from returns the time from which windows must stay open: the earliest
// bound of the inputs read from and not finished, and of the first input
// not read from yet (the later ones have later key times).
func (h *holder) from() int64 {
	t := int64(math.MaxInt64)
	for i := h.next; i < len(h.times) && i <= h.upTo; i++ {
		if !h.done[i] {
			t = min(t, h.bound(i))
		}
	}
	return t
}

// read notes that input i has records up to start time latest, and returns
// the new hold and whether it moved.
func (h *holder) read(i int, latest int64) (int64, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if latest <= h.reached[i] {
		return 0, false
	}
	h.reached[i] = latest
	h.upTo = max(h.upTo, i+1)
	return h.moved()
}

// finish marks input i finished and returns the new hold and whether it
// moved.
func (h *holder) finish(i int) (int64, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.done[i] = true
	for h.next < len(h.done) && h.done[h.next] {
		h.next++
	}
	return h.moved()
}

// moved returns the hold and whether it changed since the last call.
func (h *holder) moved() (int64, bool) {
	// An input finished without being read from does not stand for the
	// later ones: the first not yet read from is past it.
	for h.upTo < len(h.done) && h.done[h.upTo] {
		h.upTo++
	}
	t := h.from()
	if t == h.lastFrom {
		return t, false
	}
	h.lastFrom = t
	return t, true
}

// aggregateWriter writes the aggregator's output to the tables, each row in
// the partition of its region and the date of its window, and hands the
// conversations to the detector.
func aggregateWriter(tables map[string]*athena.Table, det *detect.Detector) aggregate.Emit {
	part := &athena.FlowPartitioner{TimeColumns: []string{"window_start"}}
	return func(table string, rec arrow.RecordBatch) error {
		defer rec.Release()
		if det != nil && table == aggregate.Conversations {
			if err := det.Add(rec); err != nil {
				return err
			}
		}
		t := tables[table]
		if t == nil {
			return nil
		}
		for _, g := range part.Split(rec) {
			if err := t.Write(g.Values, rec, g.Rows); err != nil {
				return err
			}
		}
		return nil
	}
}

// FindingsTable and FindingsFile are where findings are written (a shard
// of a job writes findings.<shard>.jsonl).
const (
	FindingsTable = "findings"
	FindingsFile  = "findings.jsonl"
)

// unreachableRows warns of rows the tables' date projection (from the
// first date to NOW) does not reach: those of records without a start time
// a date can be made of (NULL, or past the year 9999), in date=unknown
// partitions, and those dated after the run.
func unreachableRows(m *athena.Manifest, now time.Time) []string {
	today := now.UTC().Format("2006-01-02")
	var warnings []string
	for _, t := range m.Tables {
		var unknown, future int64
		latest := ""
		for _, f := range t.Files {
			date := athena.PartitionValue(f.Path, "date")
			switch {
			case date == athena.Unknown:
				unknown += f.Rows
			case date > today:
				future += f.Rows
				latest = max(latest, date)
			}
		}
		if unknown > 0 {
			warnings = append(warnings, fmt.Sprintf("%s: %d rows have no start time a date can be made of (NULL, or past the year 9999) and are in date=%s partitions, which the table's date projection does not reach",
				t.Name, unknown, athena.Unknown))
		}
		if future > 0 {
			warnings = append(warnings, fmt.Sprintf("%s: %d rows are dated after today (up to %s); the table's date projection reaches them only from then on", t.Name, future, latest))
		}
	}
	return warnings
}

// outputPaths are the table directories and files a run may write, which
// its commit replaces.
func outputPaths() []string { return append(tableDirs(), FindingsFile) }

// tableDirs returns the folders of every table a run may write.
func tableDirs() []string {
	dirs := []string{athena.FlowsTable, FindingsTable}
	for _, name := range aggregate.Tables {
		dirs = append(dirs, athena.AggregateDir(name))
	}
	return dirs
}

// writeFindings writes the findings table (partitioned by region and the
// date first seen) and findings.jsonl.
func writeFindings(out *athena.Output, cfg Config, fs []detect.Finding) (*athena.Table, []athena.FileManifest, error) {
	opts := cfg.Table
	opts.CreatedBy = cfg.Tool
	opts.Name, opts.Dir = FindingsTable, FindingsTable
	opts.PartitionKeys = []string{"region", "date"}
	t := athena.NewTable(out, opts)
	if err := t.Declare(detect.FindingsSchema); err != nil {
		return t, nil, err
	}
	rec := detect.Record(fs, nil)
	defer rec.Release()
	part := &athena.FlowPartitioner{TimeColumns: []string{"first_seen"}}
	for _, g := range part.Split(rec) {
		if err := t.Write(g.Values, rec, g.Rows); err != nil {
			return t, nil, err
		}
	}
	f, err := out.WriteFile(out.ShardName(FindingsFile), detect.JSONLines(fs))
	if err != nil {
		return t, nil, err
	}
	return t, []athena.FileManifest{f}, nil
}

// inputSink turns one input's batches into Arrow record batches and writes
// them to their partitions. It is called from one goroutine at a time.
type inputSink struct {
	flows   *athena.Table
	workers *workerPool // nil without aggregation
	region  string      // the input's region, from its key
	part    athena.FlowPartitioner
	format  *parser.Format
	schema  *arrow.Schema
	starts  int // the index of the start column in schema, or -1

	input int // the input's index in the order read, for hold
	hold  *holder
	agg   *aggregate.Aggregator
}

func (s *inputSink) write(b *parser.Batch) error {
	if s.flows == nil && s.workers == nil || b.Len() == 0 {
		b.Release()
		return nil
	}
	if b.Format != s.format {
		s.format, s.schema, s.starts = b.Format, b.Format.ArrowSchema(), -1
		if i := s.schema.FieldIndices("start"); len(i) > 0 {
			s.starts = i[0]
		}
	}
	rec := b.NewRecordBatch(s.schema)
	defer rec.Release()
	if s.flows != nil {
		for _, g := range s.part.Split(rec) {
			if err := s.flows.Write(g.Values, rec, g.Rows); err != nil {
				return err
			}
		}
	}
	if s.workers != nil {
		w := s.workers.get()
		err := errors.Join(w.Add(rec, s.region), s.workers.put(w))
		if err == nil && s.starts >= 0 {
			// The worker holds the batch's windows now: the input's own
			// hold may move past them.
			if t, moved := s.hold.read(s.input, latestStart(rec.Column(s.starts))); moved {
				err = s.agg.HoldFrom(t)
			}
		}
		return err
	}
	return nil
}

// latestStart returns the latest non-NULL value of a start column, or 0.
func latestStart(col arrow.Array) int64 {
	starts, ok := col.(*array.Int64)
	if !ok {
		return 0
	}
	var latest int64
	for i, v := range starts.Int64Values() {
		if v > latest && starts.IsValid(i) {
			latest = v
		}
	}
	return latest
}

// workerPool lends aggregation workers batch by batch: at most as many
// exist as batches are aggregated at once (the CPU limit), and each gathers
// many inputs' records before it merges them, rather than one small input's
// (merging costs about as much as adding). A worker's unmerged windows stay
// open, as its pending data holds them; Close merges what is left.
type workerPool struct {
	mu   sync.Mutex
	agg  *aggregate.Aggregator
	free []*aggregate.Worker
}

// poolFlushRows is how many records a pooled worker gathers before it
// merges: its partial state stays within some tens of MB.
const poolFlushRows = 1 << 18

func (p *workerPool) get() *aggregate.Worker {
	p.mu.Lock()
	defer p.mu.Unlock()
	if n := len(p.free); n > 0 {
		w := p.free[n-1]
		p.free = p.free[:n-1]
		return w
	}
	return p.agg.NewWorker()
}

func (p *workerPool) put(w *aggregate.Worker) error {
	var err error
	if w.Rows() >= poolFlushRows {
		err = w.Flush()
	}
	p.mu.Lock()
	p.free = append(p.free, w)
	p.mu.Unlock()
	return err
}

func manifest(cfg Config, res *Result, began time.Time, tables []athena.TableManifest) *athena.Manifest {
	m := &athena.Manifest{
		Version:  1,
		RunID:    res.RunID,
		Tool:     cfg.Tool,
		Started:  began.UTC().Format(time.RFC3339Nano),
		Finished: time.Now().UTC().Format(time.RFC3339Nano),
		Tables:   tables,
	}
	m.Extra = map[string]any{}
	if cfg.Aggregate != nil {
		m.Extra["late_records"] = res.LateRecords
	}
	if cfg.Detect != nil && len(cfg.Detect.Internal) > 0 {
		var cidrs []string
		for _, p := range cfg.Detect.Internal {
			cidrs = append(cidrs, p.String())
		}
		m.Extra[athena.ExtraInternalCIDRs] = cidrs
	}
	if len(m.Extra) == 0 {
		m.Extra = nil
	}
	for i := range res.Inputs {
		r := &res.Inputs[i]
		in := athena.InputManifest{
			Path: r.Source, Kind: r.Kind.String(), Records: r.Stats.Records, InvalidLines: r.Stats.Invalid,
			OutOfRange: r.Stats.OutOfRange, TextBytes: r.TextBytes, StoredBytes: r.StoredBytes, Warnings: r.Warnings,
		}
		if r.Format != nil {
			in.Format = r.Format.String()
		}
		if r.Err != nil {
			in.Error = r.Err.Error()
		}
		m.Inputs = append(m.Inputs, in)
	}
	t := res.Totals
	m.Totals = athena.ManifestTotals{
		Inputs: t.Inputs, FailedInputs: t.Failed, Records: t.Stats.Records, InvalidLines: t.Stats.Invalid,
		OutOfRange: t.Stats.OutOfRange, TextBytes: t.TextBytes,
	}
	for _, tm := range tables {
		m.Totals.OutputFiles += len(tm.Files)
		m.Totals.OutputBytes += tm.Bytes
	}
	return m
}

// checkMixing refuses a store that holds an output this run would count
// records twice with: an unsharded run's beside a shard, the shards of a
// job split into another number, or any shard's beside an unsharded run
// (athena.OtherOutput). Local unsharded runs check their directory when it
// is opened.
func checkMixing(ctx context.Context, store athena.Store, shard string) error {
	names, err := store.List(ctx, athena.OutputFilesPrefix)
	if err != nil {
		return err
	}
	other := athena.OtherOutput(names, shard)
	switch {
	case other == "":
		return nil
	case shard == "":
		return fmt.Errorf("%s holds the output of a sharded job (%s): an unsharded run needs a location of its own", store.Location(), other)
	case !strings.Contains(other, ".shard-"):
		return fmt.Errorf("%s holds the output of an unsharded run (%s): the shards of a job need a location of their own", store.Location(), other)
	}
	return fmt.Errorf("%s holds the shards of a job split another way (%s), and this run is %s: a job's shards must agree on their count, and a job split differently needs a location of its own", store.Location(), other, shard)
}
