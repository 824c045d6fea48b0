package bench

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"runtime"
	"syscall"
	"time"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/flowlens/flowlens/aggregate"
	"github.com/flowlens/flowlens/archive"
	"github.com/flowlens/flowlens/athena"
	"github.com/flowlens/flowlens/athena/pqfile"
	"github.com/flowlens/flowlens/detect"
	"github.com/flowlens/flowlens/parser"
	"github.com/flowlens/flowlens/pipeline"
)

// Config describes a benchmark run.
type Config struct {
	Inputs      []archive.Source // the archive to measure
	SampleBytes int64            // text held in memory for the stage measurements (default 256 MiB)
	Codecs      []pqfile.Codec   // Parquet codecs to measure (default all)
	Jobs        []int            // input concurrency levels of the end-to-end sweep (default 1 and GOMAXPROCS)
	Procs       []int            // GOMAXPROCS values of the end-to-end sweep (default the current one)
	TempDir     string           // where end-to-end output goes (default os.TempDir)
}

// Stage is the measurement of one stage of the pipeline.
type Stage struct {
	Name          string  `json:"name"`
	Jobs          int     `json:"jobs,omitempty"`
	Procs         int     `json:"procs,omitempty"`
	Records       int64   `json:"records"`
	TextBytes     int64   `json:"text_bytes"`
	Seconds       float64 `json:"seconds"`
	MBPerSec      float64 `json:"mb_per_s"`
	RecordsPerSec float64 `json:"records_per_s"`
	AllocsPerRec  float64 `json:"allocs_per_record"`
	CPUSecPerGB   float64 `json:"cpu_s_per_gb"`
	PeakRSSMB     float64 `json:"peak_rss_mb"`
	OutputBytes   int64   `json:"output_bytes,omitempty"`
}

// Report is the result of a benchmark run.
type Report struct {
	Machine struct {
		GOOS       string `json:"goos"`
		GOARCH     string `json:"goarch"`
		CPUs       int    `json:"cpus"`
		GOMAXPROCS int    `json:"gomaxprocs"`
		GoVersion  string `json:"go_version"`
	} `json:"machine"`
	Inputs      int     `json:"inputs"`
	SampleBytes int64   `json:"sample_text_bytes"`
	Stages      []Stage `json:"stages"`
	// Share of one core's time per stage of the end-to-end path, from the
	// stage measurements: gunzip, parsing, Arrow, encoding, compression.
	TimeShare map[string]float64 `json:"time_share"`
}

// measure runs fn and fills a stage with its costs.
func measure(name string, fn func() (records, text, out int64, err error)) (Stage, error) {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	cpu0 := cpuSeconds()
	t0 := time.Now()
	records, text, out, err := fn()
	secs := time.Since(t0).Seconds()
	cpu := cpuSeconds() - cpu0
	runtime.ReadMemStats(&after)
	st := Stage{Name: name, Records: records, TextBytes: text, Seconds: secs, OutputBytes: out, PeakRSSMB: peakRSSMB()}
	if secs > 0 {
		st.MBPerSec = float64(text) / 1e6 / secs
		st.RecordsPerSec = float64(records) / secs
	}
	if records > 0 {
		st.AllocsPerRec = float64(after.Mallocs-before.Mallocs) / float64(records)
	}
	if text > 0 {
		st.CPUSecPerGB = cpu / (float64(text) / 1e9)
	}
	return st, err
}

func cpuSeconds() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}

func peakRSSMB() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return float64(ru.Maxrss) / 1024 // kilobytes on Linux
}

// sample is the measured slice of the archive, in memory.
type sample struct {
	gz      [][]byte // the stored objects that are gzip
	text    [][]byte // every object's text
	pool    map[string]*parser.Batch
	schemas map[*parser.Format]*arrow.Schema
}

// record returns b's records as an Arrow record batch, the schema made once
// per format as the pipeline does.
func (s *sample) record(b *parser.Batch) arrow.RecordBatch {
	if s.schemas == nil {
		s.schemas = map[*parser.Format]*arrow.Schema{}
	}
	schema := s.schemas[b.Format]
	if schema == nil {
		schema = b.Format.ArrowSchema()
		s.schemas[b.Format] = schema
	}
	b.SetRelease(func(*parser.Batch) {})
	return b.NewRecordBatch(schema)
}

func loadSample(ctx context.Context, srcs []archive.Source, limit int64) (*sample, error) {
	s := &sample{}
	var total int64
	for _, src := range srcs {
		if total >= limit {
			break
		}
		rc, err := src.Open(ctx)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", src.Name, err)
		}
		raw, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", src.Name, err)
		}
		text := raw
		if len(raw) > 2 && raw[0] == 0x1f && raw[1] == 0x8b {
			zr, err := archive.Gunzip(bytes.NewReader(raw))
			if err != nil {
				return nil, fmt.Errorf("%s: %w", src.Name, err)
			}
			text, err = io.ReadAll(zr)
			zr.Close()
			if err != nil {
				return nil, fmt.Errorf("%s: %w", src.Name, err)
			}
			s.gz = append(s.gz, raw)
		}
		s.text = append(s.text, text)
		total += int64(len(text))
	}
	return s, nil
}

// batch returns the sample's reusable batch for format f, as the archive's
// pool would.
func (s *sample) batch(f *parser.Format) *parser.Batch {
	key := f.String()
	if s.pool == nil {
		s.pool = map[string]*parser.Batch{}
	}
	b := s.pool[key]
	if b == nil {
		b = parser.NewBatch(f)
		s.pool[key] = b
	}
	b.Format = f
	return b
}

// batches parses the sample's texts and calls fn for every batch.
func (s *sample) batches(fn func(*parser.Batch) error) (records, text int64, err error) {
	p := parser.NewParser()
	for _, t := range s.text {
		text += int64(len(t))
		first := bytes.IndexByte(t, '\n')
		if first < 0 {
			continue
		}
		kind := parser.Sniff(t)
		f, err := parser.ResolveFormat(kind, t[:first], nil)
		if err != nil || kind == parser.InputSubscription {
			continue
		}
		body := t
		if kind == parser.InputS3Text {
			body = t[first+1:]
		}
		p.StripTimestamp = kind == parser.InputCloudWatchExport
		b := s.batch(f)
		for len(body) > 0 {
			cut := min(len(body), 1<<20)
			if nl := bytes.LastIndexByte(body[:cut], '\n'); nl >= 0 && cut < len(body) {
				cut = nl + 1
			}
			b.Reset()
			p.ParseBlock(b, body[:cut], 1)
			records += int64(b.Len())
			if err := fn(b); err != nil {
				return records, text, err
			}
			body = body[cut:]
		}
	}
	return records, text, nil
}

// Run measures every stage: gunzip alone (the ceiling), parsing, parsing
// into Arrow record batches, aggregation, Parquet encoding per codec (from
// Arrow, without and with compression), and the whole pass from the stored
// files over the sweep of input concurrency (conversion only, and with
// aggregation).
func Run(ctx context.Context, cfg Config) (*Report, error) {
	if cfg.SampleBytes <= 0 {
		cfg.SampleBytes = 256 << 20
	}
	if len(cfg.Codecs) == 0 {
		cfg.Codecs = []pqfile.Codec{pqfile.None, pqfile.Snappy, pqfile.Zstd, pqfile.Gzip}
	}
	if len(cfg.Jobs) == 0 {
		cfg.Jobs = []int{1}
		if n := runtime.GOMAXPROCS(0); n > 1 {
			cfg.Jobs = append(cfg.Jobs, n)
		}
	}
	r := &Report{Inputs: len(cfg.Inputs), TimeShare: map[string]float64{}}
	r.Machine.GOOS, r.Machine.GOARCH, r.Machine.CPUs = runtime.GOOS, runtime.GOARCH, runtime.NumCPU()
	r.Machine.GOMAXPROCS, r.Machine.GoVersion = runtime.GOMAXPROCS(0), runtime.Version()
	s, err := loadSample(ctx, cfg.Inputs, cfg.SampleBytes)
	if err != nil {
		return nil, err
	}
	for _, t := range s.text {
		r.SampleBytes += int64(len(t))
	}
	add := func(st Stage, err error) error {
		r.Stages = append(r.Stages, st)
		return err
	}
	if len(s.gz) > 0 {
		buf := make([]byte, 1<<20)
		if err := add(measure("gunzip", func() (int64, int64, int64, error) {
			var text int64
			for _, z := range s.gz {
				zr, err := archive.Gunzip(bytes.NewReader(z))
				if err != nil {
					return 0, text, 0, err
				}
				for {
					n, err := zr.Read(buf)
					text += int64(n)
					if err == io.EOF {
						zr.Close()
						break
					}
					if err != nil {
						return 0, text, 0, err
					}
				}
			}
			return 0, text, 0, nil
		})); err != nil {
			return r, err
		}
	}
	if err := add(measure("parse", func() (int64, int64, int64, error) {
		n, text, err := s.batches(func(*parser.Batch) error { return nil })
		return n, text, 0, err
	})); err != nil {
		return r, err
	}
	if err := add(measure("parse+arrow", func() (int64, int64, int64, error) {
		n, text, err := s.batches(func(b *parser.Batch) error {
			s.record(b).Release()
			return nil
		})
		return n, text, 0, err
	})); err != nil {
		return r, err
	}
	// aggregateAll aggregates every table, handing the conversations to
	// conv when it is set.
	aggregateAll := func(conv func(arrow.RecordBatch) error) (int64, int64, error) {
		agg := aggregate.New(aggregate.Config{}, nil, func(table string, rec arrow.RecordBatch) error {
			defer rec.Release()
			if conv != nil && table == aggregate.Conversations {
				return conv(rec)
			}
			return nil
		})
		w := agg.NewWorker()
		n, text, err := s.batches(func(b *parser.Batch) error {
			rec := s.record(b)
			defer rec.Release()
			return w.Add(rec, "")
		})
		if err == nil {
			err = agg.Close()
		}
		return n, text, err
	}
	if err := add(measure("parse+aggregate", func() (int64, int64, int64, error) {
		n, text, err := aggregateAll(nil)
		return n, text, 0, err
	})); err != nil {
		return r, err
	}
	if err := add(measure("parse+aggregate+detect", func() (int64, int64, int64, error) {
		det, err := detect.New(detect.Config{})
		if err != nil {
			return 0, 0, 0, err
		}
		n, text, err := aggregateAll(det.Add)
		det.Findings()
		return n, text, 0, err
	})); err != nil {
		return r, err
	}
	encode := func(codec pqfile.Codec) func() (int64, int64, int64, error) {
		return func() (int64, int64, int64, error) {
			var out countingWriter
			var w *pqfile.Writer
			var cols map[string]bool
			n, text, err := s.batches(func(b *parser.Batch) error {
				rec := s.record(b)
				defer rec.Release()
				if w == nil {
					var err error
					if w, err = pqfile.NewWriter(&out, nil, pqfile.Options{Codec: codec}); err != nil {
						return err
					}
					cols = map[string]bool{}
				}
				for _, f := range rec.Schema().Fields() {
					if !cols[f.Name] && !w.Frozen() {
						typ, _ := athena.ColumnType(f.Type)
						if err := w.AddColumn(pqfile.Column{Name: f.Name, Type: typ}); err != nil {
							return err
						}
						cols[f.Name] = true
					}
				}
				return writeRecord(w, rec)
			})
			if err == nil && w != nil {
				err = w.Close()
			}
			return n, text, out.n, err
		}
	}
	// A first, unmeasured pass warms the encoders' buffers and pools, so that
	// the first codec measured is not charged for them.
	if _, _, _, err := encode(cfg.Codecs[0])(); err != nil {
		return r, err
	}
	for _, codec := range cfg.Codecs {
		if err := add(measure("parse+parquet-"+string(codec), encode(codec))); err != nil {
			return r, err
		}
	}
	if len(cfg.Procs) == 0 {
		cfg.Procs = []int{runtime.GOMAXPROCS(0)}
	}
	for _, procs := range cfg.Procs {
		for _, jobs := range cfg.Jobs {
			for _, agg := range []bool{false, true} {
				st, err := endToEnd(ctx, cfg, procs, jobs, agg)
				if err := add(st, err); err != nil {
					return r, err
				}
			}
		}
	}
	r.TimeShare = timeShare(r.Stages)
	return r, nil
}

// endToEnd measures the whole pass with procs threads and jobs inputs at
// once, writing zstd Parquet to a temporary directory, with or without the
// aggregate tables.
func endToEnd(ctx context.Context, cfg Config, procs, jobs int, aggregated bool) (Stage, error) {
	dir, err := os.MkdirTemp(cfg.TempDir, "flowlens-bench-")
	if err != nil {
		return Stage{}, err
	}
	defer os.RemoveAll(dir)
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
	name := "end-to-end-zstd"
	var agg *aggregate.Config
	var det *detect.Config
	if aggregated {
		name, agg, det = name+"+aggregates+detect", &aggregate.Config{}, &detect.Config{}
	}
	st, err := measure(name, func() (int64, int64, int64, error) {
		res, err := pipeline.Analyze(ctx, pipeline.Config{Inputs: cfg.Inputs, Read: archive.Options{Jobs: jobs}, OutDir: dir, Aggregate: agg, Detect: det})
		if err != nil {
			return 0, 0, 0, err
		}
		return res.Totals.Stats.Records, res.Totals.TextBytes, res.Manifest.Totals.OutputBytes, nil
	})
	st.Jobs, st.Procs = jobs, procs
	return st, err
}

// writeRecord writes every row of rec, columns matched by name.
func writeRecord(w *pqfile.Writer, rec arrow.RecordBatch) error {
	cols := w.Columns()
	arrays := make([]arrow.Array, len(cols))
	for j, c := range cols {
		if idx := rec.Schema().FieldIndices(c.Name); len(idx) > 0 {
			arrays[j] = rec.Column(idx[0])
		}
	}
	return w.Write(arrays, nil, int(rec.NumRows()))
}

type countingWriter struct{ n int64 }

func (c *countingWriter) Write(p []byte) (int, error) {
	c.n += int64(len(p))
	return len(p), nil
}

// timeShare splits one core's time on the whole path between its parts,
// from the stage measurements: each part's cost per byte of text is the
// difference between the stages with and without it.
func timeShare(stages []Stage) map[string]float64 {
	perByte := map[string]float64{}
	for _, s := range stages {
		if s.TextBytes > 0 && s.Jobs == 0 {
			perByte[s.Name] = s.Seconds / float64(s.TextBytes)
		}
	}
	parts := map[string]float64{
		"gunzip":      perByte["gunzip"],
		"parsing":     perByte["parse"],
		"arrow":       perByte["parse+arrow"] - perByte["parse"],
		"aggregation": perByte["parse+aggregate"] - perByte["parse+arrow"],
		"detection":   perByte["parse+aggregate+detect"] - perByte["parse+aggregate"],
		"encoding":    perByte["parse+parquet-none"] - perByte["parse+arrow"],
		"compression": perByte["parse+parquet-zstd"] - perByte["parse+parquet-none"],
	}
	var total float64
	for k, v := range parts {
		if v < 0 {
			parts[k] = 0
			v = 0
		}
		total += v
	}
	if total > 0 {
		for k := range parts {
			parts[k] /= total
		}
	}
	return parts
}
