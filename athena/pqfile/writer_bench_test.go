package pqfile_test

import (
	"io"
	"runtime"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"

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
