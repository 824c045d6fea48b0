package athena

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/flowlens/flowlens/athena/pqfile"
)

// TableOptions describe an output table. Zero values take the defaults.
type TableOptions struct {
	Name          string   // the table's name, as in the DDL
	Dir           string   // its directory relative to the output, with '/'
	PartitionKeys []string // Hive partition keys, outermost first
	// ColumnLess orders the columns of a file; nil keeps the arrival order.
	ColumnLess func(a, b string) bool

	Codec           pqfile.Codec // default zstd
	RowGroupRows    int          // rows per row group (default 1,000,000)
	TargetFileBytes int64        // a file is finished once it reaches this size (default 128 MiB)
	MaxOpenFiles    int          // files open at once; the least recently used is finished beyond (default 32)
	// BufferedRows bounds the rows held in memory across the table's open
	// files (default twice RowGroupRows): beyond it, the idle file holding
	// the most writes them out as a row group early, so memory does not
	// grow with the number of partitions a run touches.
	BufferedRows int
	// WritersPerPartition bounds the files of one partition written at once
	// (default 1: one file per partition compacts best and compresses best;
	// each file's columns are encoded by EncodeParallelism goroutines).
	WritersPerPartition int
	// EncodeParallelism is how many goroutines encode the columns of one
	// file (default GOMAXPROCS).
	EncodeParallelism int
	CreatedBy         string
}

func (o TableOptions) withDefaults() TableOptions {
	if o.Codec == "" {
		o.Codec = pqfile.Zstd
	}
	if o.RowGroupRows <= 0 {
		o.RowGroupRows = 1_000_000
	}
	if o.TargetFileBytes <= 0 {
		o.TargetFileBytes = 128 << 20
	}
	if o.BufferedRows <= 0 {
		o.BufferedRows = 2 * o.RowGroupRows
	}
	if o.MaxOpenFiles <= 0 {
		o.MaxOpenFiles = 32
	}
	if o.WritersPerPartition <= 0 {
		o.WritersPerPartition = 1
	}
	if o.EncodeParallelism <= 0 {
		o.EncodeParallelism = runtime.GOMAXPROCS(0)
	}
	return o
}

// Table writes one partitioned table of an Output. Rows are appended to a
// file per partition (several when several goroutines write the same
// partition at once) until it reaches the target size, so that many small
// inputs make few large files. Write is safe for concurrent use.
type Table struct {
	out  *Output
	opts TableOptions

	mu      sync.Mutex
	parts   map[string]*partition
	open    int
	seq     int
	clock   int64
	columns []pqfile.Column // the union of every column written
	colIdx  map[string]int
	done    []FileManifest
	err     error
	// buffered is the sum of the open files' buffered rows.
	buffered atomic.Int64
}

type partition struct {
	dir   string // relative, with '/'
	files []*tableFile
}

// tableFile is a Parquet file being written.
type tableFile struct {
	mu      sync.Mutex
	part    *partition
	rel     string
	f       *os.File
	bw      *bufio.Writer
	sum     hash.Hash
	w       *pqfile.Writer
	lastUse int64
	closed  bool
	// buffered is the rows of w counted in the table's buffered total
	// (kept with the file's lock, or t.mu when the file is finished).
	buffered int64
}

// NewTable starts a table in out.
func NewTable(out *Output, opts TableOptions) *Table {
	return &Table{out: out, opts: opts.withDefaults(), parts: map[string]*partition{}, colIdx: map[string]int{}}
}

// Options returns the table's options.
func (t *Table) Options() TableOptions { return t.opts }

// Columns returns the union of the columns written, in column order.
func (t *Table) Columns() []pqfile.Column {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := append([]pqfile.Column(nil), t.columns...)
	if t.opts.ColumnLess != nil {
		sort.SliceStable(out, func(i, j int) bool { return t.opts.ColumnLess(out[i].Name, out[j].Name) })
	}
	return out
}

// ColumnType returns the file column type of an Arrow type.
func ColumnType(dt arrow.DataType) (pqfile.Type, error) {
	switch dt.ID() {
	case arrow.INT32:
		return pqfile.Int32, nil
	case arrow.INT64:
		return pqfile.Int64, nil
	case arrow.FLOAT64:
		return pqfile.Float64, nil
	case arrow.STRING, arrow.FIXED_SIZE_BINARY:
		return pqfile.String, nil
	}
	return 0, fmt.Errorf("no Parquet column type for Arrow %v", dt)
}

// Write appends rows sel of rec (all rows when sel is nil) to the partition
// whose key values are values (one per partition key, already sanitised).
func (t *Table) Write(values []string, rec arrow.RecordBatch, sel []int32) error {
	f, err := t.file(values, rec.Schema())
	if err != nil {
		return err
	}
	err = t.writeTo(f, rec, sel)
	// f may be a new file now (writeTo replaced it in place): its count
	// starts at zero, the old one's was taken off when it was finished.
	now := int64(f.w.BufferedRows())
	t.buffered.Add(now - f.buffered)
	f.buffered = now
	f.mu.Unlock()
	if err == nil && t.buffered.Load() > int64(t.opts.BufferedRows) {
		err = t.flushLargest()
	}
	if err != nil {
		t.fail(err)
		return err
	}
	return nil
}

// flushLargest writes out the buffered rows of the idle open file holding
// the most, as a row group.
func (t *Table) flushLargest() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	var victim *tableFile
	for _, p := range t.parts {
		for _, f := range p.files {
			if victim != nil && f.w.BufferedRows() <= victim.w.BufferedRows() || !f.mu.TryLock() {
				continue
			}
			if victim != nil {
				victim.mu.Unlock()
			}
			victim = f
		}
	}
	if victim == nil {
		return nil
	}
	defer victim.mu.Unlock()
	if victim.w.BufferedRows() == 0 {
		return nil
	}
	if err := t.completeColumnsLocked(victim); err != nil {
		return err
	}
	if err := victim.w.FlushRowGroup(); err != nil {
		return fmt.Errorf("cannot write %s: %w", victim.rel, err)
	}
	t.buffered.Add(-victim.buffered)
	victim.buffered = 0
	return nil
}

func (t *Table) fail(err error) {
	t.mu.Lock()
	if t.err == nil {
		t.err = err
	}
	t.mu.Unlock()
}

// file returns a locked open file of the partition, registering the schema's
// columns in the table's union.
func (t *Table) file(values []string, schema *arrow.Schema) (*tableFile, error) {
	t.mu.Lock()
	if t.err != nil {
		t.mu.Unlock()
		return nil, t.err
	}
	if err := t.addColumnsLocked(schema); err != nil {
		t.mu.Unlock()
		return nil, err
	}
	key := strings.Join(values, "\x00")
	p := t.parts[key]
	if p == nil {
		var segs []string
		for i, k := range t.opts.PartitionKeys {
			segs = append(segs, k+"="+values[i])
		}
		p = &partition{dir: path.Join(append([]string{t.opts.Dir}, segs...)...)}
		t.parts[key] = p
	}
	t.clock++
	for _, f := range p.files {
		if f.mu.TryLock() {
			f.lastUse = t.clock
			t.mu.Unlock()
			return f, nil
		}
	}
	if len(p.files) < t.opts.WritersPerPartition {
		f, err := t.newFile(p)
		if err != nil {
			t.mu.Unlock()
			return nil, err
		}
		f.mu.Lock()
		f.lastUse = t.clock
		t.mu.Unlock()
		return f, nil
	}
	f := p.files[0]
	t.mu.Unlock()
	f.mu.Lock()
	if f.closed { // finished while we waited: try again
		f.mu.Unlock()
		return t.file(values, schema)
	}
	return f, nil
}

// Declare adds the columns of schema to the table, so that its DDL declares
// them even when no row is written.
func (t *Table) Declare(schema *arrow.Schema) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.addColumnsLocked(schema)
}

// addColumnsLocked adds the columns of schema the table does not have yet
// (t.mu held).
func (t *Table) addColumnsLocked(schema *arrow.Schema) error {
	for _, fld := range schema.Fields() {
		if _, ok := t.colIdx[fld.Name]; ok {
			continue
		}
		typ, err := ColumnType(fld.Type)
		if err != nil {
			return fmt.Errorf("column %s: %w", fld.Name, err)
		}
		t.colIdx[fld.Name] = len(t.columns)
		t.columns = append(t.columns, pqfile.Column{Name: fld.Name, Type: typ})
	}
	return nil
}

// newFile creates a file in partition p, finishing the least recently used
// idle file when too many are open. t.mu is held.
func (t *Table) newFile(p *partition) (*tableFile, error) {
	for t.open >= t.opts.MaxOpenFiles {
		if !t.evictLocked() {
			break // every open file is busy: exceed the limit briefly
		}
	}
	t.seq++
	rel := fmt.Sprintf("%s/part-%s-%05d.%s.parquet", p.dir, t.out.RunID, t.seq, t.opts.Codec)
	full := t.out.path(rel)
	if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
		return nil, fmt.Errorf("cannot create %s: %w", filepath.Dir(full), err)
	}
	osf, err := os.Create(full)
	if err != nil {
		return nil, fmt.Errorf("cannot create output file: %w", err)
	}
	f := &tableFile{part: p, rel: rel, f: osf, sum: sha256.New()}
	f.bw = bufio.NewWriterSize(io.MultiWriter(osf, f.sum), 128<<10) // chunks are written whole: the buffer gathers page headers and footers
	cols := append([]pqfile.Column(nil), t.columns...)
	f.w, err = pqfile.NewWriter(f.bw, cols, pqfile.Options{Codec: t.opts.Codec, CreatedBy: t.opts.CreatedBy, Parallelism: t.opts.EncodeParallelism})
	if err != nil {
		osf.Close()
		return nil, err
	}
	p.files = append(p.files, f)
	t.open++
	return f, nil
}

// evictLocked finishes the least recently used idle file. t.mu is held.
func (t *Table) evictLocked() bool {
	var victim *tableFile
	for _, p := range t.parts {
		for _, f := range p.files {
			if victim == nil || f.lastUse < victim.lastUse {
				if f.mu.TryLock() {
					if victim != nil {
						victim.mu.Unlock()
					}
					victim = f
				}
			}
		}
	}
	if victim == nil {
		return false
	}
	err := t.finishLocked(victim)
	victim.mu.Unlock()
	if err != nil && t.err == nil {
		t.err = err
	}
	return true
}

// writeTo appends rows to f, whose lock is held.
func (t *Table) writeTo(f *tableFile, rec arrow.RecordBatch, sel []int32) error {
	schema := rec.Schema()
	for _, fld := range schema.Fields() {
		if f.w.Index(fld.Name) >= 0 {
			continue
		}
		typ, _ := ColumnType(fld.Type)
		if err := f.w.AddColumn(pqfile.Column{Name: fld.Name, Type: typ}); err == pqfile.ErrSchemaFrozen {
			// A column new to a file whose schema is fixed: finish the
			// file and continue in a new one, which has every column.
			if err := t.replace(f); err != nil {
				return err
			}
			return t.writeTo(f, rec, sel)
		} else if err != nil {
			return err
		}
	}
	cols := f.w.Columns()
	arrays := make([]arrow.Array, len(cols))
	for j, c := range cols {
		if idx := schema.FieldIndices(c.Name); len(idx) > 0 {
			arrays[j] = rec.Column(idx[0])
		}
	}
	if err := f.w.Write(arrays, sel, int(rec.NumRows())); err != nil {
		return fmt.Errorf("cannot write %s: %w", f.rel, err)
	}
	if f.w.BufferedRows() >= t.opts.RowGroupRows {
		t.mu.Lock()
		err := t.completeColumnsLocked(f)
		t.mu.Unlock()
		if err != nil {
			return err
		}
		if err := f.w.FlushRowGroup(); err != nil {
			return fmt.Errorf("cannot write %s: %w", f.rel, err)
		}
		if f.w.Size() >= t.opts.TargetFileBytes {
			return t.replace(f)
		}
	}
	return nil
}

// replace finishes f and reopens it as a new file of the same partition, in
// place (f stays locked by the caller).
func (t *Table) replace(f *tableFile) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if err := t.finishLocked(f); err != nil {
		return err
	}
	nf, err := t.newFile(f.part)
	if err != nil {
		return err
	}
	// Swap the new file's state into f, so the caller's lock covers it.
	p := f.part
	p.files = p.files[:len(p.files)-1] // newFile appended nf
	f.rel, f.f, f.bw, f.sum, f.w, f.closed = nf.rel, nf.f, nf.bw, nf.sum, nf.w, false
	p.files = append(p.files, f)
	return nil
}

// finishLocked writes f's footer, closes it and records it. t.mu and f.mu
// are held.
func (t *Table) finishLocked(f *tableFile) error {
	if f.closed {
		return nil
	}
	f.closed = true
	t.open--
	t.buffered.Add(-f.buffered)
	f.buffered = 0
	p := f.part
	for i, g := range p.files {
		if g == f {
			p.files = append(p.files[:i], p.files[i+1:]...)
			break
		}
	}
	err := t.completeColumnsLocked(f)
	if err == nil {
		err = f.w.Close()
	}
	if err == nil {
		err = f.bw.Flush()
	}
	if err == nil {
		err = f.f.Sync()
	}
	if cerr := f.f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("cannot finish %s: %w", f.rel, err)
	}
	if f.w.Rows() == 0 {
		return os.Remove(t.out.path(f.rel))
	}
	t.done = append(t.done, FileManifest{
		Table:  t.opts.Name,
		Path:   f.rel,
		Rows:   f.w.Rows(),
		Bytes:  f.w.Size(),
		SHA256: hex.EncodeToString(f.sum.Sum(nil)),
	})
	return nil
}

// completeColumnsLocked gives f, while its columns are not yet fixed, every
// column of the table (NULL where its rows have none) in column order, so
// that files share the table's union schema. t.mu and f.mu are held.
func (t *Table) completeColumnsLocked(f *tableFile) error {
	if f.w.Frozen() {
		return nil
	}
	for _, c := range t.columns {
		if f.w.Index(c.Name) < 0 {
			if err := f.w.AddColumn(c); err != nil {
				return err
			}
		}
	}
	if t.opts.ColumnLess != nil {
		f.w.SortColumns(t.opts.ColumnLess)
	}
	return nil
}

// Close finishes every open file and returns the table's manifest entry.
// It must not run concurrently with Write.
func (t *Table) Close() (TableManifest, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, p := range t.parts {
		for len(p.files) > 0 {
			f := p.files[0]
			f.mu.Lock()
			err := t.finishLocked(f)
			f.mu.Unlock()
			if err != nil && t.err == nil {
				t.err = err
			}
		}
	}
	tm := TableManifest{Name: t.opts.Name, Dir: t.opts.Dir, Files: append([]FileManifest(nil), t.done...)}
	sort.Slice(tm.Files, func(i, j int) bool { return tm.Files[i].Path < tm.Files[j].Path })
	for _, f := range tm.Files {
		tm.Rows += f.Rows
		tm.Bytes += f.Bytes
	}
	return tm, t.err
}
