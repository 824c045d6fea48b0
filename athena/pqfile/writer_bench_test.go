package pqfile_test

import (
	"io"
	"math/rand/v2"
	"runtime"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/flowlens/flowlens/athena/pqfile"
	"github.com/flowlens/flowlens/bench"
	"github.com/flowlens/flowlens/parser"
)

// BenchmarkWrite encodes parsed default-format records (as Arrow arrays) to
// Parquet with each codec: the cost of the output stage alone, in MB/s of the
// records' text and records/s.
func BenchmarkWrite(b *testing.B) {
	f := parser.DefaultFormat()
	lines := bench.NewGenerator(f, 1).Lines(200_000)
	text := strings.Join(lines, "\n")
	var recs []arrow.RecordBatch
	p := parser.NewParser()
	for i := 0; i < len(lines); i += 8192 {
		batch := parser.NewBatch(f)
		p.ParseBlock(batch, []byte(strings.Join(lines[i:min(i+8192, len(lines))], "\n")), 1)
		recs = append(recs, batch.NewRecordBatch(f.ArrowSchema()))
	}
	var cols []pqfile.Column
	for _, fld := range f.Fields {
		t := pqfile.String
		switch fld.Kind {
		case parser.KindInt32:
			t = pqfile.Int32
		case parser.KindInt64:
			t = pqfile.Int64
		}
		cols = append(cols, pqfile.Column{Name: fld.Column, Type: t})
	}
	const passes = 5
	for _, codec := range []pqfile.Codec{pqfile.None, pqfile.Snappy, pqfile.Zstd} {
		b.Run(string(codec), func(b *testing.B) {
			b.SetBytes(passes * int64(len(text)))
			b.ReportAllocs()
			var size int64
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			for b.Loop() {
				// A million rows: a row group, as a real file holds.
				w, _ := pqfile.NewWriter(io.Discard, cols, pqfile.Options{Codec: codec})
				for range passes {
					for _, rec := range recs {
						if err := w.Write(rec.Columns(), nil, int(rec.NumRows())); err != nil {
							b.Fatal(err)
						}
					}
				}
				if err := w.Close(); err != nil {
					b.Fatal(err)
				}
				size = w.Size()
			}
			runtime.ReadMemStats(&after)
			records := float64(passes * len(lines))
			b.ReportMetric(records*float64(b.N)/b.Elapsed().Seconds(), "records/s")
			b.ReportMetric(float64(after.Mallocs-before.Mallocs)/(records*float64(b.N)), "allocs/record")
			b.ReportMetric(float64(size)/records, "bytes/record")
		})
	}
}

// BenchmarkWriteAddresses encodes two columns of distinct addresses, as an
// internet-facing interface logs them (one in 200 NULL): PLAIN pages of
// text, the costliest columns of a flows file. MB/s are of the text.
func BenchmarkWriteAddresses(b *testing.B) {
	rng := rand.New(rand.NewPCG(9, 10))
	const rows = 1 << 20
	var arrays []arrow.Array
	text := 0
	for range 2 {
		bld := array.NewFixedSizeBinaryBuilder(memory.DefaultAllocator, parser.IPType)
		for range rows {
			if rng.IntN(200) == 0 {
				bld.AppendNull()
				continue
			}
			a := [16]byte{10: 0xff, 11: 0xff, 12: byte(rng.IntN(256)), 13: byte(rng.IntN(256)), 14: byte(rng.IntN(256)), 15: byte(rng.IntN(256))}
			if rng.IntN(2) == 0 {
				a[12] = 10
			}
			bld.Append(a[:])
			text += 12 // a dotted quad's average length, and its space
		}
		arrays = append(arrays, bld.NewArray())
	}
	cols := []pqfile.Column{{Name: "srcaddr", Type: pqfile.String}, {Name: "dstaddr", Type: pqfile.String}}
	b.SetBytes(int64(text))
	b.ReportAllocs()
	for b.Loop() {
		w, _ := pqfile.NewWriter(io.Discard, cols, pqfile.Options{Codec: pqfile.Zstd})
		for start := 0; start < rows; start += 8192 {
			part := []arrow.Array{array.NewSlice(arrays[0], int64(start), int64(start+8192)), array.NewSlice(arrays[1], int64(start), int64(start+8192))}
			if err := w.Write(part, nil, 8192); err != nil {
				b.Fatal(err)
			}
			part[0].Release()
			part[1].Release()
		}
		if err := w.Close(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(rows*float64(b.N)/b.Elapsed().Seconds(), "records/s")
}
