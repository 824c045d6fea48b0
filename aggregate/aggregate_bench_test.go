package aggregate_test

import (
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
