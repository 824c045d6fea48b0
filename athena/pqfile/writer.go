// Package pqfile writes Parquet files column by column from Arrow arrays,
// within the subset of Parquet that Athena reads (athena-compat.md): flat
// OPTIONAL columns of INT32, INT64 and UTF-8 BYTE_ARRAY; data pages of
// version 1; PLAIN and RLE_DICTIONARY encodings with RLE levels; ZSTD,
// SNAPPY or GZIP pages; min, max and null-count statistics.
//
// It is built on parquet-go's format, thrift, rle and codec packages rather
// than on its row writer: the row writer boxes values row by row, and its
// measured zstd throughput (about 0.8 M rows/s, perf-style.md §3) is slower
// than DuckDB's whole text-to-Parquet conversion, while flow-log columns are
// already columnar and mostly low-cardinality, so a dictionary encoder over
// Arrow buffers does far less work.
package pqfile

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sort"
	"sync/atomic"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/parquet-go/parquet-go/compress"
	"github.com/parquet-go/parquet-go/compress/gzip"
	"github.com/parquet-go/parquet-go/compress/snappy"
	"github.com/parquet-go/parquet-go/compress/uncompressed"
	"github.com/parquet-go/parquet-go/deprecated"
	"github.com/parquet-go/parquet-go/encoding/thrift"
	"github.com/parquet-go/parquet-go/format"
	"golang.org/x/sync/errgroup"
)

// Type is the physical type of a column.
type Type uint8

// The column types: INT32, INT64, DOUBLE and BYTE_ARRAY with the STRING
// annotation.
const (
	Int32 Type = iota
	Int64
	String
	Float64
)

// String returns the Athena type of the column type.
func (t Type) String() string {
	switch t {
	case Int32:
		return "int"
	case Int64:
		return "bigint"
	case Float64:
		return "double"
	default:
		return "string"
	}
}

// Column describes one column of a file.
type Column struct {
	Name string
	Type Type
}

// Codec names a page compression codec.
type Codec string

// The codecs Athena reads.
const (
	Zstd   Codec = "zstd"
	Snappy Codec = "snappy"
	Gzip   Codec = "gzip"
	None   Codec = "none"
)

// ParseCodec checks a codec name.
func ParseCodec(s string) (Codec, error) {
	switch c := Codec(s); c {
	case Zstd, Snappy, Gzip, None:
		return c, nil
	}
	return "", fmt.Errorf("unknown compression %q (want zstd, snappy, gzip or none)", s)
}

// The codecs are shared by every writer: each pools its encoders, whose
// state (zstd's history above all) is costly to build.
var codecs = map[Codec]compress.Codec{
	Zstd:   newZstdCodec(),
	Snappy: new(snappy.Codec),
	Gzip:   &gzip.Codec{Level: gzip.DefaultCompression},
	None:   new(uncompressed.Codec),
}

func (c Codec) codec() compress.Codec { return codecs[c] }

// Options tune a Writer. Zero values take the defaults.
type Options struct {
	Codec              Codec             // default zstd
	PageBytes          int               // uncompressed size at which a page is cut (default 1 MiB)
	DictionaryMaxBytes int               // a larger dictionary falls back to PLAIN (default 1 MiB)
	CreatedBy          string            // the created_by field
	Metadata           map[string]string // key-value metadata of the file
	// Parallelism is how many goroutines encode the columns of one Write
	// (default 1): columns are independent, so a file being written by one
	// goroutine can still use several cores.
	Parallelism int
}

// ErrSchemaFrozen is returned by AddColumn once a row group has been written.
var ErrSchemaFrozen = errors.New("pqfile: columns cannot be added after the first row group")

// Writer writes one Parquet file. Rows are buffered, encoded and compressed
// page by page, into the current row group, which FlushRowGroup writes out.
// A Writer is not safe for concurrent use.
type Writer struct {
	w      io.Writer
	pos    int64
	opts   Options
	codec  compress.Codec
	cols   []*column
	byName map[string]int
	rows   int // rows in the current row group
	total  int64
	groups []format.RowGroup
	frozen bool
	closed bool
	// order is the order in which parallel Writes take the columns, by
	// cost, the time each took in the last one.
	order []int
	cost  []time.Duration
}

// NewWriter starts a Parquet file on w with the given columns. More columns
// may be added until the first row group is written.
func NewWriter(w io.Writer, cols []Column, opts Options) (*Writer, error) {
	if opts.Codec == "" {
		opts.Codec = Zstd
	}
	if opts.PageBytes <= 0 {
		opts.PageBytes = 1 << 20
	}
	if opts.DictionaryMaxBytes <= 0 {
		opts.DictionaryMaxBytes = 1 << 20
	}
	pw := &Writer{w: w, opts: opts, codec: opts.Codec.codec(), byName: map[string]int{}}
	for _, c := range cols {
		if err := pw.AddColumn(c); err != nil {
			return nil, err
		}
	}
	if err := pw.write([]byte("PAR1")); err != nil {
		return nil, err
	}
	return pw, nil
}

// AddColumn adds a column; the rows already buffered are NULL in it.
func (w *Writer) AddColumn(c Column) error {
	if w.frozen {
		return ErrSchemaFrozen
	}
	if _, dup := w.byName[c.Name]; dup {
		return fmt.Errorf("pqfile: duplicate column %q", c.Name)
	}
	col := newColumn(c, w)
	col.appendNulls(w.rows)
	w.byName[c.Name] = len(w.cols)
	w.cols = append(w.cols, col)
	return nil
}

// Columns returns the file's columns in order.
func (w *Writer) Columns() []Column {
	out := make([]Column, len(w.cols))
	for i, c := range w.cols {
		out[i] = c.spec
	}
	return out
}

// Index returns the position of the named column, or -1.
func (w *Writer) Index(name string) int {
	if i, ok := w.byName[name]; ok {
		return i
	}
	return -1
}

// SortColumns puts the columns in the order of less, while they are not
// frozen; afterwards it does nothing.
func (w *Writer) SortColumns(less func(a, b string) bool) {
	if w.frozen {
		return
	}
	sort.SliceStable(w.cols, func(i, j int) bool { return less(w.cols[i].spec.Name, w.cols[j].spec.Name) })
	for i, c := range w.cols {
		w.byName[c.spec.Name] = i
	}
}

// Frozen reports whether the columns are fixed (a row group was written).
func (w *Writer) Frozen() bool { return w.frozen }

// Write appends rows: arrays[i] holds the values of column i, or is nil for a
// column that is NULL in these rows. sel lists the rows of the arrays to
// take, in order; nil takes them all (n rows). Int32 columns take Int32
// arrays, Int64 columns Int64 arrays, Float64 columns Float64 arrays (always
// PLAIN encoded), String columns String arrays or
// 16-byte FixedSizeBinary arrays of IP addresses, which are written as text.
func (w *Writer) Write(arrays []arrow.Array, sel []int32, n int) error {
	if w.closed {
		return errors.New("pqfile: write after close")
	}
	if len(arrays) != len(w.cols) {
		return fmt.Errorf("pqfile: %d arrays for %d columns", len(arrays), len(w.cols))
	}
	rows := n
	if sel != nil {
		n = len(sel)
	}
	// Check every array first: a failed Write appends nothing, so the
	// columns never disagree on their row count.
	for i, c := range w.cols {
		if arrays[i] == nil {
			continue
		}
		if err := c.accepts(arrays[i]); err != nil {
			return fmt.Errorf("column %s: %w", c.spec.Name, err)
		}
		if arrays[i].Len() < rows {
			return fmt.Errorf("column %s: %d values for %d rows", c.spec.Name, arrays[i].Len(), rows)
		}
		for _, r := range sel {
			if int(r) < 0 || int(r) >= arrays[i].Len() {
				return fmt.Errorf("column %s: selected row %d of %d", c.spec.Name, r, arrays[i].Len())
			}
		}
	}
	appendColumn := func(i int) error {
		c := w.cols[i]
		if arrays[i] == nil {
			c.appendNulls(n)
			return nil
		}
		if err := c.appendArray(arrays[i], sel, n); err != nil {
			return fmt.Errorf("column %s: %w", c.spec.Name, err)
		}
		return nil
	}
	workers := min(w.opts.Parallelism, len(w.cols))
	if workers <= 1 || n < parallelRows {
		for i := range w.cols {
			if err := appendColumn(i); err != nil {
				return err
			}
		}
	} else {
		// Each goroutine takes the costliest column left, by the time the
		// columns took in the last Write: a column that compresses a page
		// takes milliseconds where others take microseconds, and columns
		// dealt out in turn left the other goroutines idle behind it.
		if len(w.order) != len(w.cols) {
			w.order = make([]int, len(w.cols))
			w.cost = make([]time.Duration, len(w.cols))
			for i := range w.order {
				w.order[i] = i
			}
		}
		var next atomic.Int32
		var g errgroup.Group
		for range workers {
			g.Go(func() error {
				for {
					k := int(next.Add(1)) - 1
					if k >= len(w.order) {
						return nil
					}
					i := w.order[k]
					t := time.Now()
					if err := appendColumn(i); err != nil {
						return err
					}
					w.cost[i] = time.Since(t)
				}
			})
		}
		if err := g.Wait(); err != nil {
			return err
		}
		sort.Slice(w.order, func(a, b int) bool { return w.cost[w.order[a]] > w.cost[w.order[b]] })
	}
	w.rows += n
	return nil
}

// parallelRows is the smallest Write worth spreading over goroutines.
const parallelRows = 1024

// BufferedRows returns the rows of the current row group.
func (w *Writer) BufferedRows() int { return w.rows }

// Rows returns the rows written or buffered so far.
func (w *Writer) Rows() int64 { return w.total + int64(w.rows) }

// Size returns the bytes written to the output so far plus the compressed
// size of the current row group: a close estimate of the file's size.
func (w *Writer) Size() int64 {
	n := w.pos
	for _, c := range w.cols {
		n += int64(c.chunk.n) + c.pendingBytes()
	}
	return n
}

// FlushRowGroup writes the buffered rows as one row group. It freezes the
// columns.
func (w *Writer) FlushRowGroup() error {
	if w.rows == 0 {
		return nil
	}
	w.frozen = true
	rg := format.RowGroup{NumRows: int64(w.rows), FileOffset: w.pos, Ordinal: int16(len(w.groups))}
	for _, c := range w.cols {
		cc, err := c.flush(w.pos)
		if err != nil {
			return fmt.Errorf("column %s: %w", c.spec.Name, err)
		}
		if err := w.write(c.dictPage); err != nil {
			return err
		}
		if err := c.chunk.writeTo(w.write); err != nil {
			return err
		}
		rg.Columns = append(rg.Columns, cc)
		rg.TotalByteSize += cc.MetaData.TotalUncompressedSize
		rg.TotalCompressedSize += cc.MetaData.TotalCompressedSize
		c.release()
		c.resetChunk()
	}
	w.groups = append(w.groups, rg)
	w.total += int64(w.rows)
	w.rows = 0
	return nil
}

// Close flushes the last row group and writes the footer. It does not close
// the underlying writer.
func (w *Writer) Close() error {
	if w.closed {
		return nil
	}
	if err := w.FlushRowGroup(); err != nil {
		return err
	}
	w.closed = true
	w.frozen = true
	meta := format.FileMetaData{
		Version:   1,
		NumRows:   w.total,
		RowGroups: w.groups,
		CreatedBy: w.opts.CreatedBy,
	}
	meta.Schema = append(meta.Schema, format.SchemaElement{Name: "schema", NumChildren: thrift.New(int32(len(w.cols)))})
	for _, c := range w.cols {
		meta.Schema = append(meta.Schema, c.schemaElement())
		meta.ColumnOrders = append(meta.ColumnOrders, format.ColumnOrder{Value: &format.TypeDefinedOrder{}})
	}
	keys := make([]string, 0, len(w.opts.Metadata))
	for k := range w.opts.Metadata {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		meta.KeyValueMetadata = append(meta.KeyValueMetadata, format.KeyValue{Key: k, Value: w.opts.Metadata[k]})
	}
	footer, err := thrift.Marshal(new(thrift.CompactProtocol), &meta)
	if err != nil {
		return fmt.Errorf("pqfile: cannot encode footer: %w", err)
	}
	var tail [8]byte
	binary.LittleEndian.PutUint32(tail[:4], uint32(len(footer)))
	copy(tail[4:], "PAR1")
	if err := w.write(footer); err != nil {
		return err
	}
	return w.write(tail[:])
}

func (w *Writer) write(b []byte) error {
	n, err := w.w.Write(b)
	w.pos += int64(n)
	if err != nil {
		return fmt.Errorf("pqfile: cannot write: %w", err)
	}
	return nil
}

// scratch holds the buffers a column reuses while cutting pages.
type scratch struct {
	levels                bytes.Buffer
	page, rle, compressed []byte
}

func (c *column) schemaElement() format.SchemaElement {
	e := format.SchemaElement{Name: c.spec.Name, RepetitionType: thrift.New(format.Optional)}
	switch c.spec.Type {
	case Int32:
		e.Type = thrift.New(format.Int32)
	case Int64:
		e.Type = thrift.New(format.Int64)
	case Float64:
		e.Type = thrift.New(format.Double)
	default:
		e.Type = thrift.New(format.ByteArray)
		e.ConvertedType = thrift.New(deprecated.UTF8)
		e.LogicalType = format.LogicalType{Value: &format.StringType{}}
	}
	return e
}
