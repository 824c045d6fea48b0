package pqfile

import (
	"bytes"
	"context"
	"math/rand/v2"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
)

// TestMatchingVerdict: with zstd, a column whose dictionary indices repeat
// (a cycle of values) keeps zstd's match search, one of random values has
// its literals Huffman-coded alone, a column of small pages (long runs) is never
// tried; pqarrow reads every value back.
func TestMatchingVerdict(t *testing.T) {
	const rows = 300_000
	rng := rand.New(rand.NewPCG(3, 4))
	cycle := make([]int64, 5000)
	for i := range cycle {
		cycle[i] = rng.Int64N(1 << 40)
	}
	mem := memory.NewGoAllocator()
	bc, br, bs := array.NewInt64Builder(mem), array.NewInt64Builder(mem), array.NewInt64Builder(mem)
	var want [3][]int64
	for i := range rows {
		c, r, s := cycle[i%len(cycle)], rng.Int64N(60_000), int64(i/100_000)
		bc.Append(c)
		br.Append(r)
		bs.Append(s)
		want[0], want[1], want[2] = append(want[0], c), append(want[1], r), append(want[2], s)
	}
	arrays := []arrow.Array{bc.NewArray(), br.NewArray(), bs.NewArray()}
	var buf bytes.Buffer
	w, err := NewWriter(&buf, []Column{{Name: "cycle", Type: Int64}, {Name: "random", Type: Int64}, {Name: "small", Type: Int64}}, Options{Codec: Zstd})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(arrays, nil, rows); err != nil {
		t.Fatal(err)
	}
	verdicts := []matching{w.cols[0].matching, w.cols[1].matching, w.cols[2].matching}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if verdicts[0] != matchingOn || verdicts[1] != matchingOff || verdicts[2] != matchingUntried {
		t.Fatalf("verdicts %v, want on, off, untried", verdicts)
	}
	pf, err := file.NewParquetReader(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	fr, err := pqarrow.NewFileReader(pf, pqarrow.ArrowReadProperties{}, mem)
	if err != nil {
		t.Fatal(err)
	}
	tbl, err := fr.ReadTable(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer tbl.Release()
	for j := range want {
		i := 0
		for _, ch := range tbl.Column(j).Data().Chunks() {
			for _, v := range ch.(*array.Int64).Int64Values() {
				if v != want[j][i] {
					t.Fatalf("column %d row %d: %d, want %d", j, i, v, want[j][i])
				}
				i++
			}
		}
		if i != rows {
			t.Fatalf("column %d: %d rows, want %d", j, i, rows)
		}
	}
}
