package aggregate_test

import (
	"fmt"
	"runtime"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/flowlens/flowlens/aggregate"
	"github.com/flowlens/flowlens/bench"
	"github.com/flowlens/flowlens/parser"
)

// defaultBatches parses n generated default-format records spread over
// minutes of time, in batches of 8,192, as Arrow record batches.
func defaultBatches(b *testing.B, n int, minutes int64) ([]arrow.RecordBatch, int64) {
	f := parser.DefaultFormat()
	g := bench.NewGenerator(f, 1)
	var recs []arrow.RecordBatch
	var text int64
	p := parser.NewParser()
	for done := 0; done < n; done += 8192 {
		g.Start = 1793491200 + int64(done)*minutes*60/int64(n)
		g.Span = 60
		lines := strings.Join(g.Lines(min(8192, n-done)), "\n")
		text += int64(len(lines))
		batch := parser.NewBatch(f)
		p.ParseBlock(batch, []byte(lines), 1)
		recs = append(recs, batch.NewRecordBatch(f.ArrowSchema()))
	}
	return recs, text
}

func benchAggregate(b *testing.B, tables []string) {
	recs, text := defaultBatches(b, 500_000, 60)
	b.SetBytes(text)
	b.ReportAllocs()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for b.Loop() {
		agg := aggregate.New(aggregate.Config{Tables: tables}, nil, func(_ string, rec arrow.RecordBatch) error {
			rec.Release()
			return nil
		})
		w := agg.NewWorker()
		for _, rec := range recs {
			if err := w.Add(rec, "us-east-1"); err != nil {
				b.Fatal(err)
			}
		}
		if err := agg.Close(); err != nil {
			b.Fatal(err)
		}
	}
	runtime.ReadMemStats(&after)
	b.ReportMetric(float64(500_000*b.N)/b.Elapsed().Seconds(), "records/s")
	b.ReportMetric(float64(after.Mallocs-before.Mallocs)/float64(500_000*b.N), "allocs/record")
}

// BenchmarkConversations measures the conversations table alone on the
// default format: records/s per core (run with -cpu 1).
func BenchmarkConversations(b *testing.B) { benchAggregate(b, []string{aggregate.Conversations}) }

// BenchmarkAllTables measures the four tables together.
func BenchmarkAllTables(b *testing.B) { benchAggregate(b, nil) }

// BenchmarkMemoryFlat feeds 1 and 10 hours of time-ordered records (the
// same rate per hour) and reports the peak live heap: it stays flat, since
// windows are closed behind the watermark whatever the input's length.
func BenchmarkMemoryFlat(b *testing.B) {
	for _, hours := range []int{1, 10} {
		b.Run(fmt.Sprintf("hours=%d", hours), func(b *testing.B) {
			f := parser.DefaultFormat()
			p := parser.NewParser()
			var peak uint64
			for b.Loop() {
				agg := aggregate.New(aggregate.Config{}, nil, func(_ string, rec arrow.RecordBatch) error { rec.Release(); return nil })
				g := bench.NewGenerator(f, 1)
				batch := parser.NewBatch(f)
				for minute := 0; minute < hours*60; minute++ {
					w := agg.NewWorker()
					g.Start, g.Span = 1793491200+int64(minute)*60, 60
					batch.Reset()
					p.ParseBlock(batch, []byte(strings.Join(g.Lines(4000), "\n")), 1)
					batch.SetRelease(func(*parser.Batch) {})
					rec := batch.NewRecordBatch(f.ArrowSchema())
					if err := w.Add(rec, "us-east-1"); err != nil {
						b.Fatal(err)
					}
					rec.Release()
					w.Done()
					if minute%10 == 9 {
						runtime.GC()
						var ms runtime.MemStats
						runtime.ReadMemStats(&ms)
						peak = max(peak, ms.HeapInuse)
					}
				}
				agg.Close()
			}
			b.ReportMetric(float64(peak)/1e6, "peak-heap-MB")
		})
	}
}
