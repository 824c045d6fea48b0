package aggregate_test

// Regression tests for bugs a review found: merges of every form of
// Distinct, late rows with 1-second windows and negative starts, an explicit
// zero lateness, and a stress test of sums under concurrent flushes.

import (
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/flowlens/flowlens/aggregate"
)

var regSchema = arrow.NewSchema([]arrow.Field{
	{Name: "start", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
	{Name: "end", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
	{Name: "interface_id", Type: arrow.BinaryTypes.String, Nullable: true},
	{Name: "bytes", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
}, nil)

func regBatch(starts ...int64) arrow.RecordBatch {
	b := array.NewRecordBuilder(memory.DefaultAllocator, regSchema)
	defer b.Release()
	for _, s := range starts {
		b.Field(0).(*array.Int64Builder).Append(s)
		b.Field(1).(*array.Int64Builder).Append(s)
		b.Field(2).(*array.StringBuilder).Append("eni-1")
		b.Field(3).(*array.Int64Builder).Append(s) // bytes = start, to tell records apart
	}
	return b.NewRecordBatch()
}

type ifRow struct{ ws, records, bytes int64 }

func regAgg(cfg aggregate.Config) (*aggregate.Aggregator, *[]ifRow, *sync.Mutex) {
	var mu sync.Mutex
	rows := &[]ifRow{}
	cfg.Tables = []string{aggregate.Interfaces}
	agg := aggregate.New(cfg, nil, func(_ string, rec arrow.RecordBatch) error {
		defer rec.Release()
		mu.Lock()
		defer mu.Unlock()
		idx := func(n string) int { return rec.Schema().FieldIndices(n)[0] }
		for i := 0; i < int(rec.NumRows()); i++ {
			*rows = append(*rows, ifRow{rec.Column(idx("window_start")).(*array.Int64).Value(i),
				rec.Column(idx("records")).(*array.Int64).Value(i), rec.Column(idx("bytes_unknown_direction")).(*array.Int64).Value(i)})
		}
		return nil
	})
	return agg, rows, &mu
}

func add(t *testing.T, w *aggregate.Worker, starts ...int64) {
	rec := regBatch(starts...)
	defer rec.Release()
	if err := w.Add(rec, "r"); err != nil {
		t.Fatal(err)
	}
}

// With 1-second windows (accepted by the CLI), lateKey(ws)=ws+1 is a real
// window: a late record of window 1000 is merged into live window 1001.
func TestRegressionLateKeyCollision1s(t *testing.T) {
	agg, rows, _ := regAgg(aggregate.Config{Window: time.Second, Lateness: -1})
	w := agg.NewWorker()
	add(t, w, 1000)
	w.Flush()
	add(t, w, 2000)
	w.Flush()             // window 1000 emitted
	add(t, w, 1000, 1001) // one late record of 1000, one live record of 1001 (bytes 1001)
	w.Flush()
	w.Done()
	agg.Close()
	for _, r := range *rows {
		if r.ws == 1001 && r.bytes != 1001 {
			t.Errorf("window 1001 holds a record of window 1000: %+v (all rows %+v)", r, *rows)
		}
	}
}

// Late rows of a negative window start are emitted under the wrong window.
func TestRegressionLateNegativeWindow(t *testing.T) {
	agg, rows, _ := regAgg(aggregate.Config{Window: 300 * time.Second, Lateness: -1})
	w := agg.NewWorker()
	add(t, w, -200)
	w.Flush()
	add(t, w, 2000)
	w.Flush()
	add(t, w, -200) // late
	w.Done()
	agg.Close()
	for _, r := range *rows {
		if r.bytes == -200 && r.ws != -300 {
			t.Errorf("record of window -300 emitted under window %d: %+v", r.ws, *rows)
		}
	}
}

// Stress: many workers, random order, tiny lateness; additive sums per
// window must equal the input exactly (no loss, no double counting).
func TestRegressionStressSums(t *testing.T) {
	for iter := 0; iter < 20; iter++ {
		agg, rows, _ := regAgg(aggregate.Config{Window: 60 * time.Second, Lateness: 30 * time.Second})
		r := rand.New(rand.NewPCG(uint64(iter), 9))
		want := map[int64][2]int64{}
		var batches [][]int64
		for i := 0; i < 400; i++ {
			var b []int64
			base := 1_800_000_000 + int64(i)*20
			for j := 0; j < 5; j++ {
				s := base + r.Int64N(600) - 300
				b = append(b, s)
				ws := s - ((s%60)+60)%60
				v := want[ws]
				want[ws] = [2]int64{v[0] + 1, v[1] + s}
			}
			batches = append(batches, b)
		}
		var wg sync.WaitGroup
		const workers = 8
		for k := 0; k < workers; k++ {
			w := agg.NewWorker()
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := k; i < len(batches); i += workers {
					add(t, w, batches[i]...)
					if r := i % 3; r == 0 {
						w.Flush()
					}
				}
				if k%2 == 0 {
					w.Done()
				}
			}()
		}
		wg.Wait()
		if err := agg.Close(); err != nil {
			t.Fatal(err)
		}
		got := map[int64][2]int64{}
		for _, x := range *rows {
			v := got[x.ws]
			got[x.ws] = [2]int64{v[0] + x.records, v[1] + x.bytes}
		}
		for ws, v := range want {
			if got[ws] != v {
				t.Fatalf("iter %d window %d: got %v want %v", iter, ws, got[ws], v)
			}
		}
		if len(got) != len(want) {
			t.Fatalf("windows %d want %d", len(got), len(want))
		}
	}
}

// Lateness 0 (as passed by --lateness 0) silently becomes 15 minutes.
func TestRegressionLatenessZero(t *testing.T) {
	agg, rows, _ := regAgg(aggregate.Config{Lateness: -1})
	w := agg.NewWorker()
	add(t, w, 1000)
	w.Flush()
	add(t, w, 1600) // two windows later: with no lateness window 900 closes
	w.Flush()
	if len(*rows) == 0 {
		t.Errorf("no lateness (-1) kept window 900 open")
	}
	w.Done()
	agg.Close()
}

func TestRegressionDistinctForms(t *testing.T) {
	for _, th := range []int{1, 3, 4, 5, 10, 100} {
		for na := 0; na < 40; na += 3 {
			for nb := 0; nb < 40; nb += 5 {
				for overlap := 0; overlap <= min(na, nb); overlap += 2 {
					var a, b, all, ba aggregate.Distinct
					for i := 0; i < na; i++ {
						a.Add(uint64(i), th)
						all.Add(uint64(i), th)
					}
					for i := na - overlap; i < na-overlap+nb; i++ {
						b.Add(uint64(i), th)
						all.Add(uint64(i), th)
					}
					// b's copy, merged the other way
					for i := na - overlap; i < na-overlap+nb; i++ {
						ba.Add(uint64(i), th)
					}
					a2 := a
					a.Merge(&b, th)
					ba.Merge(&a2, th)
					if a.Count() != all.Count() || ba.Count() != all.Count() {
						t.Fatalf("th %d na %d nb %d ov %d: merged %d / %d, direct %d", th, na, nb, overlap, a.Count(), ba.Count(), all.Count())
					}
				}
			}
		}
	}
}
