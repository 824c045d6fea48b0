package parser_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/flowlens/flowlens/bench"
	. "github.com/flowlens/flowlens/parser"
)

// TestRecordBatchSharesBuffers: the Arrow view holds exactly the parsed
// values and NULLs, points at the batch's own memory, and hands the batch
// back only when the last array is released; the allocator then gets every
// byte back.
func TestRecordBatchSharesBuffers(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	f, _ := ParseLogFormat(v5Format)
	lines := bench.NewGenerator(f, 9).Lines(5000)
	b := NewBatchWithAllocator(f, mem)
	released := 0
	b.SetRelease(func(*Batch) { released++ })
	NewParser().ParseBlock(b, []byte(strings.Join(lines, "\n")), 1)
	if b.Len() != 5000 {
		t.Fatalf("%d records", b.Len())
	}
	rec := b.NewRecordBatch(f.ArrowSchema())
	if rec.NumRows() != 5000 || int(rec.NumCols()) != len(f.Fields) {
		t.Fatalf("record %dx%d", rec.NumRows(), rec.NumCols())
	}
	for j, fld := range f.Fields {
		c := &b.Columns[j]
		col := rec.Column(j)
		if col.NullN() != c.NullCount() || rec.Schema().Field(j).Name != fld.Column {
			t.Fatalf("%s: %d nulls, want %d", fld.Name, col.NullN(), c.NullCount())
		}
		for i := 0; i < b.Len(); i++ {
			if col.IsNull(i) != c.IsNull(i) {
				t.Fatalf("%s row %d: null mismatch", fld.Name, i)
			}
			if c.IsNull(i) {
				continue
			}
			var ok bool
			switch a := col.(type) {
			case *array.Int32:
				ok = a.Value(i) == c.Int32(i)
			case *array.Int64:
				ok = a.Value(i) == c.Int64(i)
			case *array.String:
				ok = a.Value(i) == string(c.Bytes(i))
			case *array.FixedSizeBinary:
				ok = bytes.Equal(a.Value(i), c.IPBytes()[16*i:16*i+16])
			}
			if !ok {
				t.Fatalf("%s row %d differs", fld.Name, i)
			}
		}
	}
	// Zero copy: the Int64 values are the column's own memory.
	bytesCol := rec.Column(f.Index(FieldBytes)).(*array.Int64)
	if &bytesCol.Int64Values()[0] != &b.Column(FieldBytes).Int64Values()[0] {
		t.Fatal("bytes column was copied")
	}
	kept := rec.Column(1)
	kept.Retain()
	rec.Release()
	if released != 0 {
		t.Fatal("batch released while an array is still retained")
	}
	kept.Release()
	if released != 1 {
		t.Fatalf("batch released %d times after the last array went", released)
	}
	b.Free()
}

func TestArrowSchema(t *testing.T) {
	f, _ := ParseLogFormat("${version} ${srcaddr} ${bytes} ${log-status} ${future-thing}")
	s := f.ArrowSchema()
	want := []struct {
		name string
		typ  arrow.DataType
	}{{"version", arrow.PrimitiveTypes.Int32}, {"srcaddr", IPType}, {"bytes", arrow.PrimitiveTypes.Int64},
		{"log_status", arrow.BinaryTypes.String}, {"future_thing", arrow.BinaryTypes.String}}
	for i, w := range want {
		fld := s.Field(i)
		if fld.Name != w.name || !arrow.TypeEqual(fld.Type, w.typ) || !fld.Nullable {
			t.Errorf("field %d: %v", i, fld)
		}
	}
	if k, _ := s.Field(1).Metadata.GetValue(KindMetadataKey); k != "ip" {
		t.Errorf("srcaddr kind metadata %q", k)
	}
}
