package detect_test

import (
	"context"
	"sync"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/flowlens/flowlens/aggregate"
	"github.com/flowlens/flowlens/archive"
	"github.com/flowlens/flowlens/bench"
	"github.com/flowlens/flowlens/detect"
	"github.com/flowlens/flowlens/parser"
)

// conversations of the labelled corpus, computed once.
var corpusConvs struct {
	once    sync.Once
	recs    []arrow.RecordBatch
	records int64 // flow records behind them
	text    int64
	err     error
}

func loadConversations(b *testing.B) ([]arrow.RecordBatch, int64, int64) {
	c := &corpusConvs
	c.once.Do(func() {
		dir := b.TempDir()
		if _, c.err = bench.GenerateCorpus(bench.CorpusConfig{Dir: dir, Seed: 7}); c.err != nil {
			return
		}
		srcs, err := archive.Expand([]string{dir + "/AWSLogs"})
		if c.err = err; err != nil {
			return
		}
		agg := aggregate.New(aggregate.Config{Tables: []string{aggregate.Conversations}}, nil, func(_ string, rec arrow.RecordBatch) error {
			c.recs = append(c.recs, rec)
			return nil
		})
		w := agg.NewWorker()
		results, err := archive.Run(context.Background(), srcs, archive.Options{Jobs: 1}, func(_ int, batch *parser.Batch) error {
			rec := batch.NewRecordBatch(batch.Format.ArrowSchema())
			defer rec.Release()
			return w.Add(rec, "")
		})
		if c.err = err; err == nil {
			c.err = agg.Close()
		}
		t := archive.Sum(results, 0)
		c.records, c.text = t.Stats.Records, t.TextBytes
	})
	if c.err != nil {
		b.Fatal(c.err)
	}
	return c.recs, c.records, c.text
}

// BenchmarkDetect measures every detector over the conversations of the
// labelled corpus (439,000 flow records, six hours). The cost is reported
// per flow record behind the conversations, the unit of the pipeline's
// other stages; SetBytes is the corpus's text, so MB/s compare too.
func BenchmarkDetect(b *testing.B) {
	recs, records, text := loadConversations(b)
	b.SetBytes(text)
	b.ReportAllocs()
	for b.Loop() {
		d, err := detect.New(detect.Config{})
		if err != nil {
			b.Fatal(err)
		}
		for _, rec := range recs {
			if err := d.Add(rec); err != nil {
				b.Fatal(err)
			}
		}
		if len(d.Findings()) == 0 {
			b.Fatal("no findings")
		}
	}
	b.ReportMetric(float64(records)*float64(b.N)/b.Elapsed().Seconds(), "records/s")
	b.ReportMetric(0, "ns/op")
}
