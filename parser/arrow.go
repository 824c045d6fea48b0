package parser

import (
	"sync"
	"sync/atomic"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// IPType is the Arrow type of IP address columns: 16 bytes, IPv4 stored
// IPv4-mapped. Fields of this type carry the metadata KindMetadataKey: "ip".
var IPType = &arrow.FixedSizeBinaryType{ByteWidth: 16}

// KindMetadataKey is the Arrow field metadata key naming a flowlens field kind.
const KindMetadataKey = "flowlens.kind"

// ArrowType returns the Arrow type of a field kind.
func (k Kind) ArrowType() arrow.DataType {
	switch k {
	case KindInt32:
		return arrow.PrimitiveTypes.Int32
	case KindInt64:
		return arrow.PrimitiveTypes.Int64
	case KindIP:
		return IPType
	default:
		return arrow.BinaryTypes.String
	}
}

// ArrowField returns the Arrow field of f: its column name, its kind's type,
// nullable, with the kind in the metadata.
func (f Field) ArrowField() arrow.Field {
	return arrow.Field{
		Name:     f.Column,
		Type:     f.Kind.ArrowType(),
		Nullable: true,
		Metadata: arrow.NewMetadata([]string{KindMetadataKey}, []string{f.Kind.String()}),
	}
}

// ArrowSchema returns the schema of the record batches of format f: one
// nullable field per format field, in order.
//
// The schema is made once per format and shared.
func (f *Format) ArrowSchema() *arrow.Schema {
	if s, ok := schemas.Load(f); ok {
		return s.(*arrow.Schema)
	}
	fields := make([]arrow.Field, len(f.Fields))
	for i, fld := range f.Fields {
		fields[i] = fld.ArrowField()
	}
	s, _ := schemas.LoadOrStore(f, arrow.NewSchema(fields, nil))
	return s.(*arrow.Schema)
}

// schemas caches ArrowSchema by format; formats are shared (ParseHeader,
// DefaultFormat), so it holds a few entries.
var schemas sync.Map

// arrowRefs counts the Arrow buffers alive over a batch's memory and
// releases the batch when the last goes. It is the memory.Allocator of those
// buffers: Arrow calls Free when a buffer's reference count drops to zero.
type arrowRefs struct {
	batch *Batch
	live  atomic.Int64
}

// Allocate is never called: the buffers are views of the batch.
func (r *arrowRefs) Allocate(int) []byte {
	panic("BUG: parser Arrow buffers are views and never allocate")
}

// Reallocate is never called: the buffers are views of the batch.
func (r *arrowRefs) Reallocate(int, []byte) []byte {
	panic("BUG: parser Arrow buffers are views and never allocate")
}

// Free counts a released buffer; the last one releases the batch.
func (r *arrowRefs) Free([]byte) {
	if r.live.Add(-1) == 0 {
		b := r.batch
		b.arrow = nil
		b.Release()
	}
}

func (r *arrowRefs) buffer(data []byte) *memory.Buffer {
	r.live.Add(1)
	return memory.NewBufferWithAllocator(data, r)
}

// NewRecordBatch returns the batch's records as an Arrow record batch of
// schema schema (normally Format.ArrowSchema) whose arrays share the batch's
// buffers: nothing is copied. Ownership of the batch passes to the Arrow
// data: the batch is released (see SetRelease) once the record batch and
// every array or buffer retained from it have been released, and must not be
// touched before. Call it at most once per fill of the batch.
func (b *Batch) NewRecordBatch(schema *arrow.Schema) arrow.RecordBatch {
	if b.arrow != nil {
		panic("BUG: NewRecordBatch called twice on one batch")
	}
	refs := &arrowRefs{batch: b}
	b.arrow = refs
	refs.live.Add(1) // held until every array is built, so no early release
	n := b.rows
	cols := make([]arrow.Array, len(b.Columns))
	for i := range b.Columns {
		c := &b.Columns[i]
		var valid *memory.Buffer
		if c.nulls > 0 {
			valid = refs.buffer(c.valid[:(n+7)/8])
		}
		var bufs []*memory.Buffer
		switch c.Field.Kind {
		case KindInt32:
			bufs = []*memory.Buffer{valid, refs.buffer(asBytes(c.i32[:n]))}
		case KindInt64:
			bufs = []*memory.Buffer{valid, refs.buffer(asBytes(c.i64[:n]))}
		case KindIP:
			bufs = []*memory.Buffer{valid, refs.buffer(c.ip[:16*n])}
		default:
			bufs = []*memory.Buffer{valid, refs.buffer(asBytes(c.offsets[:n+1])), refs.buffer(c.data[:c.offsets[n]])}
		}
		data := array.NewData(c.Field.Kind.ArrowType(), n, bufs, nil, c.nulls, 0)
		for _, buf := range bufs {
			if buf != nil {
				buf.Release() // the array data holds them now
			}
		}
		cols[i] = array.MakeFromData(data)
		data.Release()
	}
	rec := array.NewRecordBatch(schema, cols, int64(n))
	for _, col := range cols {
		col.Release()
	}
	refs.Free(nil) // drop the construction hold
	return rec
}
