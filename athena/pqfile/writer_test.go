package pqfile_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/netip"
	"runtime"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"github.com/flowlens/flowlens/athena/pqfile"
)

// cell is one expected value: nil for NULL, else int64 or string.
type cell any

// genArrays builds n rows of the four input kinds with NULLs, few and many
// distinct values, and returns them with the expected cells by column.
func genArrays(mem memory.Allocator, rng *rand.Rand, n int, distinct int) ([]arrow.Array, [][]cell) {
	i32 := array.NewInt32Builder(mem)
	i64 := array.NewInt64Builder(mem)
	str := array.NewStringBuilder(mem)
	ip := array.NewFixedSizeBinaryBuilder(mem, &arrow.FixedSizeBinaryType{ByteWidth: 16})
	want := make([][]cell, 4)
	for i := 0; i < n; i++ {
		if rng.IntN(10) == 0 {
			i32.AppendNull()
			want[0] = append(want[0], nil)
		} else {
			v := int32(rng.IntN(distinct)) - 5
			i32.Append(v)
			want[0] = append(want[0], int64(v))
		}
		v64 := rng.Int64N(int64(distinct)) * 1_000_003
		i64.Append(v64)
		want[1] = append(want[1], v64)
		if rng.IntN(7) == 0 {
			str.AppendNull()
			want[2] = append(want[2], nil)
		} else {
			s := fmt.Sprintf("eni-%06d", rng.IntN(distinct))
			str.Append(s)
			want[2] = append(want[2], s)
		}
		var a netip.Addr
		if rng.IntN(5) == 0 {
			a = netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 14: byte(rng.IntN(distinct) >> 8), 15: byte(rng.IntN(distinct))})
		} else {
			a = netip.AddrFrom4([4]byte{10, byte(rng.IntN(distinct) >> 8), byte(rng.IntN(distinct)), 1})
		}
		if rng.IntN(13) == 0 {
			ip.AppendNull()
			want[3] = append(want[3], nil)
		} else {
			b := a.As16()
			ip.Append(b[:])
			want[3] = append(want[3], a.Unmap().String())
		}
	}
	return []arrow.Array{i32.NewArray(), i64.NewArray(), str.NewArray(), ip.NewArray()}, want
}

var cols = []pqfile.Column{{Name: "small", Type: pqfile.Int32}, {Name: "big", Type: pqfile.Int64}, {Name: "eni", Type: pqfile.String}, {Name: "addr", Type: pqfile.String}}

// readBack reads a file with arrow-go's Parquet reader (an implementation
// independent of the writer) and returns its cells by column.
func readBack(t *testing.T, data []byte) ([][]cell, *file.Reader) {
	t.Helper()
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	pf, err := file.NewParquetReader(bytes.NewReader(data), file.WithReadProps(parquet.NewReaderProperties(mem)))
	if err != nil {
		t.Fatal(err)
	}
	fr, err := pqarrow.NewFileReader(pf, pqarrow.ArrowReadProperties{BatchSize: 1000}, mem)
	if err != nil {
		t.Fatal(err)
	}
	tbl, err := fr.ReadTable(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer tbl.Release()
	out := make([][]cell, tbl.NumCols())
	for j := 0; j < int(tbl.NumCols()); j++ {
		for _, chunk := range tbl.Column(j).Data().Chunks() {
			for i := 0; i < chunk.Len(); i++ {
				if chunk.IsNull(i) {
					out[j] = append(out[j], nil)
					continue
				}
				switch a := chunk.(type) {
				case *array.Int32:
					out[j] = append(out[j], int64(a.Value(i)))
				case *array.Int64:
					out[j] = append(out[j], a.Value(i))
				case *array.String:
					out[j] = append(out[j], a.Value(i))
				default:
					t.Fatalf("column %d read as %T", j, chunk)
				}
			}
		}
	}
	return out, pf
}

func compare(t *testing.T, got, want [][]cell) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d columns, want %d", len(got), len(want))
	}
	for j := range want {
		if len(got[j]) != len(want[j]) {
			t.Fatalf("column %d: %d rows, want %d", j, len(got[j]), len(want[j]))
		}
		for i := range want[j] {
			if got[j][i] != want[j][i] {
				t.Fatalf("column %d row %d: %v, want %v", j, i, got[j][i], want[j][i])
			}
		}
	}
}

// writeAndReadBack writes arrays as one batch of a file of cols, checks
// that pqarrow reads want back from it, and returns the writer (closed)
// and the file's reader.
func writeAndReadBack(t *testing.T, cols []pqfile.Column, opts pqfile.Options, arrays []arrow.Array, want [][]cell) (*pqfile.Writer, *file.Reader) {
	t.Helper()
	var buf bytes.Buffer
	w, err := pqfile.NewWriter(&buf, cols, opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(arrays, nil, arrays[0].Len()); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	got, pf := readBack(t, buf.Bytes())
	compare(t, got, want)
	return w, pf
}

// TestRoundTrip writes batches with NULLs, selections, row groups, dictionary
// fallback and every codec, and reads them back with pqarrow.
func TestRoundTrip(t *testing.T) {
	for k, tc := range []struct {
		codec    pqfile.Codec
		distinct int
		dictMax  int
		pageRows int
		later    int // distinct values after the first batch, when not 0
	}{
		{pqfile.Zstd, 50, 0, 0, 0},
		{pqfile.Snappy, 50, 0, 0, 0},
		{pqfile.Gzip, 1000, 0, 0, 0},
		{pqfile.None, 100000, 0, 0, 0},
		{pqfile.Zstd, 100000, 4096, 0, 0},   // dictionaries overflow in the first page: PLAIN chunks
		{pqfile.Zstd, 20, 4096, 50, 100000}, // dictionaries overflow after pages used them
		{pqfile.Zstd, 300, 0, 1000, 0},      // many small pages
	} {
		t.Run(fmt.Sprintf("%s-%d-%d-%d-%d", tc.codec, tc.distinct, tc.dictMax, tc.pageRows, tc.later), func(t *testing.T) {
			mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
			defer mem.AssertSize(t, 0)
			rng := rand.New(rand.NewPCG(1, uint64(tc.distinct)))
			var buf bytes.Buffer
			// Every other case encodes its columns on three goroutines.
			w, err := pqfile.NewWriter(&buf, cols, pqfile.Options{Codec: tc.codec, DictionaryMaxBytes: tc.dictMax, PageBytes: tc.pageRows * 4, Parallelism: 1 + 2*(k%2)})
			if err != nil {
				t.Fatal(err)
			}
			want := make([][]cell, len(cols))
			for batch := 0; batch < 6; batch++ {
				distinct := tc.distinct
				if batch > 0 && tc.later > 0 {
					distinct = tc.later
				}
				arrays, cells := genArrays(mem, rng, 7000, distinct)
				var sel []int32
				if batch%2 == 1 { // every third row, as partition routing does
					for i := 0; i < 7000; i += 3 {
						sel = append(sel, int32(i))
					}
				}
				if err := w.Write(arrays, sel, 7000); err != nil {
					t.Fatal(err)
				}
				for j := range cols {
					if sel == nil {
						want[j] = append(want[j], cells[j]...)
					} else {
						for _, r := range sel {
							want[j] = append(want[j], cells[j][r])
						}
					}
				}
				for _, a := range arrays {
					a.Release()
				}
				if batch == 2 {
					if err := w.FlushRowGroup(); err != nil {
						t.Fatal(err)
					}
				}
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			got, pf := readBack(t, buf.Bytes())
			compare(t, got, want)
			if pf.NumRowGroups() != 2 || w.Rows() != int64(len(want[0])) {
				t.Errorf("%d row groups, %d rows", pf.NumRowGroups(), w.Rows())
			}
			if int64(buf.Len()) != w.Size() {
				t.Errorf("Size() %d, file %d bytes", w.Size(), buf.Len())
			}
			// A column whose dictionary overflowed before any page used it
			// has none; one whose pages used it keeps it for them; the row
			// groups after an overflow start PLAIN.
			if tc.dictMax > 0 {
				big := pf.MetaData().RowGroup(0).Schema.ColumnIndexByName("big")
				cc, err := pf.MetaData().RowGroup(0).ColumnChunk(big)
				if err != nil {
					t.Fatal(err)
				}
				if want := tc.later > 0; cc.HasDictionaryPage() != want {
					t.Errorf("column big: dictionary page %v, want %v", cc.HasDictionaryPage(), want)
				}
				// The next row group does not try a dictionary again.
				if cc, err = pf.MetaData().RowGroup(1).ColumnChunk(big); err != nil || cc.HasDictionaryPage() {
					t.Errorf("column big, second row group: dictionary page (%v)", err)
				}
			}
		})
	}
}

// TestTypesAndStatistics checks the physical and logical types, the codec,
// the encodings and the statistics that Athena relies on.
func TestTypesAndStatistics(t *testing.T) {
	mem := memory.NewGoAllocator()
	var buf bytes.Buffer
	w, _ := pqfile.NewWriter(&buf, cols, pqfile.Options{Codec: pqfile.Zstd, CreatedBy: "flowlens test", Metadata: map[string]string{"k": "v"}})
	arrays, cells := genArrays(mem, rand.New(rand.NewPCG(2, 2)), 5000, 40)
	if err := w.Write(arrays, nil, 5000); err != nil {
		t.Fatal(err)
	}
	w.Close()
	_, pf := readBack(t, buf.Bytes())
	schema := pf.MetaData().Schema
	wantPhys := []parquet.Type{parquet.Types.Int32, parquet.Types.Int64, parquet.Types.ByteArray, parquet.Types.ByteArray}
	for j := range cols {
		c := schema.Column(j)
		if c.Name() != cols[j].Name || c.PhysicalType() != wantPhys[j] || c.MaxDefinitionLevel() != 1 || c.MaxRepetitionLevel() != 0 {
			t.Errorf("column %s: %v def %d", c.Name(), c.PhysicalType(), c.MaxDefinitionLevel())
		}
		isString := c.LogicalType().String() == "String"
		if isString != (cols[j].Type == pqfile.String) {
			t.Errorf("column %s: logical type %v", c.Name(), c.LogicalType())
		}
	}
	rg := pf.MetaData().RowGroup(0)
	for j := range cols {
		cc, err := rg.ColumnChunk(j)
		if err != nil {
			t.Fatal(err)
		}
		if cc.Compression().String() != "ZSTD" {
			t.Errorf("column %d codec %v", j, cc.Compression())
		}
		st, err := cc.Statistics()
		if err != nil || st == nil || !st.HasMinMax() {
			t.Fatalf("column %d: no statistics (%v)", j, err)
		}
		var nulls int64
		var minI, maxI int64
		var minS, maxS string
		first := true
		for _, v := range cells[j] {
			if v == nil {
				nulls++
				continue
			}
			switch x := v.(type) {
			case int64:
				if first || x < minI {
					minI = x
				}
				if first || x > maxI {
					maxI = x
				}
			case string:
				if first || x < minS {
					minS = x
				}
				if first || x > maxS {
					maxS = x
				}
			}
			first = false
		}
		if st.NullCount() != nulls {
			t.Errorf("column %d: null count %d, want %d", j, st.NullCount(), nulls)
		}
		var gotMin, gotMax, wantMin, wantMax string
		switch s := st.(type) {
		case interface{ Min() int32 }:
			gotMin, wantMin = fmt.Sprint(s.Min()), fmt.Sprint(minI)
			gotMax, wantMax = fmt.Sprint(st.(interface{ Max() int32 }).Max()), fmt.Sprint(maxI)
		case interface{ Min() int64 }:
			gotMin, wantMin = fmt.Sprint(s.Min()), fmt.Sprint(minI)
			gotMax, wantMax = fmt.Sprint(st.(interface{ Max() int64 }).Max()), fmt.Sprint(maxI)
		case interface{ Min() parquet.ByteArray }:
			gotMin, wantMin = string(s.Min()), minS
			gotMax, wantMax = string(st.(interface{ Max() parquet.ByteArray }).Max()), maxS
		}
		if gotMin != wantMin || gotMax != wantMax {
			t.Errorf("column %d: min/max %s/%s, want %s/%s", j, gotMin, gotMax, wantMin, wantMax)
		}
	}
	if v := pf.MetaData().KeyValueMetadata().FindValue("k"); v == nil || *v != "v" {
		t.Error("key-value metadata lost")
	}
}

// TestAddColumnAndNullColumns: a column added after rows were buffered is
// NULL for them; a nil array writes NULLs; columns freeze at the first row
// group.
func TestAddColumnAndNullColumns(t *testing.T) {
	mem := memory.NewGoAllocator()
	var buf bytes.Buffer
	w, _ := pqfile.NewWriter(&buf, cols[:2], pqfile.Options{})
	arrays, cells := genArrays(mem, rand.New(rand.NewPCG(3, 3)), 100, 10)
	if err := w.Write(arrays[:2], nil, 100); err != nil {
		t.Fatal(err)
	}
	if err := w.AddColumn(cols[2]); err != nil {
		t.Fatal(err)
	}
	if err := w.Write([]arrow.Array{nil, arrays[1], arrays[2]}, nil, 100); err != nil {
		t.Fatal(err)
	}
	w.FlushRowGroup()
	if err := w.AddColumn(cols[3]); err != pqfile.ErrSchemaFrozen {
		t.Fatalf("AddColumn after a row group: %v", err)
	}
	w.Close()
	got, _ := readBack(t, buf.Bytes())
	nulls := make([]cell, 100)
	want := [][]cell{append(append([]cell{}, cells[0]...), nulls...), append(append([]cell{}, cells[1]...), cells[1]...), append(append([]cell{}, nulls...), cells[2]...)}
	compare(t, got, want)
}

// TestFailedWriteAppendsNothing: a Write rejected for a wrong type or a
// short array leaves every column as it was, so the file stays readable.
func TestFailedWriteAppendsNothing(t *testing.T) {
	mem := memory.NewGoAllocator()
	var buf bytes.Buffer
	w, _ := pqfile.NewWriter(&buf, cols, pqfile.Options{})
	arrays, cells := genArrays(mem, rand.New(rand.NewPCG(5, 5)), 50, 10)
	if err := w.Write(arrays, nil, 50); err != nil {
		t.Fatal(err)
	}
	if err := w.Write([]arrow.Array{arrays[0], arrays[1], arrays[0], arrays[3]}, nil, 50); err == nil {
		t.Fatal("an int32 array was taken for a string column")
	}
	if err := w.Write(arrays, []int32{1, 70}, 0); err == nil {
		t.Fatal("a selection past the arrays was taken")
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	got, _ := readBack(t, buf.Bytes())
	compare(t, got, cells)
}

// TestFloat64Column: doubles (aggregate shares) round-trip with NULLs and
// are DOUBLE with statistics.
func TestFloat64Column(t *testing.T) {
	mem := memory.NewGoAllocator()
	b := array.NewFloat64Builder(mem)
	var want []cell
	for i := 0; i < 3000; i++ {
		if i%11 == 0 {
			b.AppendNull()
			want = append(want, nil)
			continue
		}
		v := float64(i%97) / 96
		b.Append(v)
		want = append(want, v)
	}
	arr := b.NewArray()
	var buf bytes.Buffer
	w, _ := pqfile.NewWriter(&buf, []pqfile.Column{{Name: "share", Type: pqfile.Float64}}, pqfile.Options{})
	if err := w.Write([]arrow.Array{arr}, nil, 3000); err != nil {
		t.Fatal(err)
	}
	w.Close()
	pf, err := file.NewParquetReader(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	fr, _ := pqarrow.NewFileReader(pf, pqarrow.ArrowReadProperties{}, mem)
	tbl, err := fr.ReadTable(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer tbl.Release()
	var got []cell
	for _, ch := range tbl.Column(0).Data().Chunks() {
		a := ch.(*array.Float64)
		for i := 0; i < a.Len(); i++ {
			if a.IsNull(i) {
				got = append(got, nil)
			} else {
				got = append(got, a.Value(i))
			}
		}
	}
	compare(t, [][]cell{got}, [][]cell{want})
	if pf.MetaData().Schema.Column(0).PhysicalType() != parquet.Types.Double {
		t.Error("not DOUBLE")
	}
}

// TestUniformPages mixes writes of NULL columns (nil arrays), arrays without
// NULLs, with NULLs and all NULL, small pages and dictionary fallback, and
// checks every value read back: pages that stay all NULL or all values are
// described by one RLE run, mixed ones by their levels.
func TestUniformPages(t *testing.T) {
	mem := memory.NewGoAllocator()
	rng := rand.New(rand.NewPCG(9, 9))
	for trial := 0; trial < 30; trial++ {
		var buf bytes.Buffer
		w, _ := pqfile.NewWriter(&buf, cols, pqfile.Options{PageBytes: 64 + rng.IntN(4000), DictionaryMaxBytes: 16 + rng.IntN(2000)})
		want := make([][]cell, len(cols))
		for batch := 0; batch < 12; batch++ {
			n := 1 + rng.IntN(900)
			arrays, cells := genArrays(mem, rng, n, 1+rng.IntN(500))
			for j := range cols {
				switch rng.IntN(3) {
				case 0: // the column is absent from this input: all NULL
					arrays[j] = nil
					for i := 0; i < n; i++ {
						want[j] = append(want[j], nil)
					}
				default:
					want[j] = append(want[j], cells[j]...)
				}
			}
			if err := w.Write(arrays, nil, n); err != nil {
				t.Fatal(err)
			}
			if rng.IntN(5) == 0 {
				w.FlushRowGroup()
			}
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		got, _ := readBack(t, buf.Bytes())
		compare(t, got, want)
	}
}

// TestIdleWritersHoldLittle: a writer between row groups keeps almost no
// memory, so a run holding a file open per table, region and day (most of
// them idle) does not grow with the number of days. Before, each kept its
// page, dictionary and chunk buffers at their largest: megabytes.
func TestIdleWritersHoldLittle(t *testing.T) {
	// One P: the shared compressors are pooled per P, and a pool missed on
	// another would count a new one against the writers.
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	mem := memory.NewGoAllocator()
	arrays, _ := genArrays(mem, rand.New(rand.NewPCG(4, 4)), 100_000, 5000)
	heap := func() uint64 {
		var ms runtime.MemStats
		runtime.GC() // twice: buffers given back to the pools are freed by the second
		runtime.GC()
		runtime.ReadMemStats(&ms)
		return ms.HeapAlloc
	}
	const files = 8
	var writers []*pqfile.Writer
	var before uint64
	for i := range files + 1 {
		if i == 1 { // the first has made the shared compressors
			writers, before = nil, heap()
		}
		w, err := pqfile.NewWriter(io.Discard, cols, pqfile.Options{})
		if err != nil {
			t.Fatal(err)
		}
		for range 3 {
			if err := w.Write(arrays, nil, 100_000); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.FlushRowGroup(); err != nil {
			t.Fatal(err)
		}
		writers = append(writers, w)
	}
	held := int64(heap()-before) / files
	if held > 64<<10 {
		t.Errorf("an idle writer holds %d KiB after a row group of 300,000 rows", held>>10)
	}
	runtime.KeepAlive(writers)
}

// TestIndexWidths: dictionary indices are packed at the next whole byte
// when that compresses smaller (many distinct values in the row group but
// few at a time, as the times of near-sorted records) and at the least
// width otherwise (random indices); indices of three random values, which zstd's match finder
// cannot shorten, still have their literals Huffman-coded. The values read
// back exactly either way.
func TestIndexWidths(t *testing.T) {
	mem := memory.NewGoAllocator()
	rng := rand.New(rand.NewPCG(5, 5))
	const n = 300_000
	start, iface, acct := array.NewInt64Builder(mem), array.NewInt64Builder(mem), array.NewInt32Builder(mem)
	want := make([][]cell, 3)
	for i := range n {
		s := 1_795_000_000 + int64(i/30) - rng.Int64N(60) // 10,000 seconds, 30 records a second
		f := rng.Int64N(2000)
		a := int32(rng.IntN(3))
		start.Append(s)
		iface.Append(f)
		acct.Append(a)
		want[0], want[1], want[2] = append(want[0], s), append(want[1], f), append(want[2], int64(a))
	}
	arrays := []arrow.Array{start.NewArray(), iface.NewArray(), acct.NewArray()}
	var buf bytes.Buffer
	w, err := pqfile.NewWriter(&buf, []pqfile.Column{{Name: "start", Type: pqfile.Int64}, {Name: "iface", Type: pqfile.Int64}, {Name: "acct", Type: pqfile.Int32}}, pqfile.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(arrays, nil, n); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	got, pf := readBack(t, buf.Bytes())
	compare(t, got, want)

	rg := pf.RowGroup(0)
	for col, wantWidth := range []byte{16, 11, 2} { // 10,059 distinct times; 2,000 interfaces; 3 accounts
		pr, err := rg.GetColumnPageReader(col)
		if err != nil {
			t.Fatal(err)
		}
		pages := 0
		for pr.Next() {
			page, ok := pr.Page().(*file.DataPageV1)
			if !ok {
				continue // the dictionary page
			}
			pages++
			data := page.Data()
			levels := binary.LittleEndian.Uint32(data)
			if width := data[4+levels]; page.Encoding().String() != "RLE_DICTIONARY" || width != wantWidth {
				t.Errorf("column %d: page %s, indices %d bits wide, want RLE_DICTIONARY, %d", col, page.Encoding(), width, wantWidth)
			}
		}
		if pr.Err() != nil || pages == 0 {
			t.Fatalf("column %d: %d pages, %v", col, pages, pr.Err())
		}
	}
	cc, err := pf.MetaData().RowGroup(0).ColumnChunk(2)
	if err != nil {
		t.Fatal(err)
	}
	// 2 bits a value, of 3 values: log2(3)/2 of it is their information.
	if ratio := float64(cc.TotalCompressedSize()) / float64(cc.TotalUncompressedSize()); ratio > 0.85 {
		t.Errorf("three-value indices compressed to %.2f of their size, want at most 0.85", ratio)
	}
}

// TestInt64Dictionaries writes int64 values that keep the dense index on
// (times of a day, growing its window down and up), turn it off midway (a
// far value, then values new and old on both sides), and values near the
// int64 limits, over several row groups, and reads each back.
func TestInt64Dictionaries(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	day := func() int64 { return 1_795_500_000 + rng.Int64N(86400) }
	patterns := map[string]func(i int) int64{
		"times of a day": func(int) int64 { return day() },
		"falling times":  func(i int) int64 { return 1_795_500_000 - int64(i) },
		"far midway": func(i int) int64 {
			switch {
			case i < 3000:
				return day()
			case i%5 == 0:
				return rng.Int64N(1 << 40)
			case i%5 == 1:
				return day() - 400_000 // just out of the window
			}
			return day()
		},
		"limits": func(int) int64 {
			return []int64{math.MinInt64, math.MaxInt64, -1 << 62, 1 << 62, -1<<62 - 1, 1<<62 + 1, 0, -1, 5}[rng.IntN(9)]
		},
		"small counts": func(int) int64 { return rng.Int64N(3000) },
		"counts, rare outliers": func(int) int64 { // the window frozen, the outliers hashed
			if rng.IntN(500) == 0 {
				return rng.Int64N(1 << 40)
			}
			return rng.Int64N(5000)
		},
		"opposite ends": func(i int) int64 { // the dense index's bounds, both sides
			return []int64{-1 << 62, 1 << 62, -1<<62 + 2000, 1<<61 - 5, -1 << 61, 1 << 61}[i%6]
		},
	}
	for name, value := range patterns {
		t.Run(name, func(t *testing.T) {
			// The same values written whole (the run loops) and row by row
			// (a selection of every row) make the same file.
			var want []cell
			var buf, byRows bytes.Buffer
			cols := []pqfile.Column{{Name: "v", Type: pqfile.Int64}}
			w, _ := pqfile.NewWriter(&buf, cols, pqfile.Options{PageBytes: 8 << 10})
			w2, _ := pqfile.NewWriter(&byRows, cols, pqfile.Options{PageBytes: 8 << 10})
			every := make([]int32, 20000)
			for i := range every {
				every[i] = int32(i)
			}
			for g := range 3 {
				b := array.NewInt64Builder(memory.DefaultAllocator)
				for i := range 20000 {
					v := value(g*20000 + i)
					b.Append(v)
					want = append(want, v)
				}
				arr := b.NewArray()
				if err := w.Write([]arrow.Array{arr}, nil, arr.Len()); err != nil {
					t.Fatal(err)
				}
				if err := w2.Write([]arrow.Array{arr}, every, arr.Len()); err != nil {
					t.Fatal(err)
				}
				if err := w.FlushRowGroup(); err != nil {
					t.Fatal(err)
				}
				if err := w2.FlushRowGroup(); err != nil {
					t.Fatal(err)
				}
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			if err := w2.Close(); err != nil {
				t.Fatal(err)
			}
			got, _ := readBack(t, buf.Bytes())
			compare(t, got, [][]cell{want})
			if !bytes.Equal(buf.Bytes(), byRows.Bytes()) {
				t.Errorf("written whole and row by row, the files differ (%d and %d bytes)", buf.Len(), byRows.Len())
			}
		})
	}
}

// TestDictionaryGivenUpEarly writes string columns whose first 16 Ki
// values are distinct: long ones, whose dictionary would outgrow 1 MiB at
// that rate, are written PLAIN from the start (even though here they
// repeat later); short ones keep their dictionary. Both read back exactly.
func TestDictionaryGivenUpEarly(t *testing.T) {
	for _, tc := range []struct {
		name     string
		format   string
		wantDict bool
	}{
		{"addresses", "203.%d.%d.17", false},
		{"short", "%x%x", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := array.NewStringBuilder(memory.DefaultAllocator)
			var want []cell
			for i := range 100_000 {
				k := i % 20_000 // 20,000 distinct, all within the first 16 Ki rows and more
				s := fmt.Sprintf(tc.format, k/256, k%256)
				b.Append(s)
				want = append(want, s)
			}
			arr := b.NewArray()
			_, pf := writeAndReadBack(t, []pqfile.Column{{Name: "s", Type: pqfile.String}}, pqfile.Options{}, []arrow.Array{arr}, [][]cell{want})
			cc, err := pf.MetaData().RowGroup(0).ColumnChunk(0)
			if err != nil {
				t.Fatal(err)
			}
			if cc.HasDictionaryPage() != tc.wantDict {
				t.Errorf("dictionary page: %v, want %v", cc.HasDictionaryPage(), tc.wantDict)
			}
		})
	}
}

// TestSlicedArrays writes arrays that are slices of larger ones (their
// offsets not starting at zero), with and without a dictionary, as any
// Arrow producer may hand them over.
func TestSlicedArrays(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	rng := rand.New(rand.NewPCG(5, 6))
	for _, distinct := range []int{20, 1 << 20} {
		arrays, want := genArrays(mem, rng, 3000, distinct)
		const from, to = 1234, 2900
		var sliced []arrow.Array
		for _, a := range arrays {
			sliced = append(sliced, array.NewSlice(a, from, to))
			a.Release()
		}
		for j := range want {
			want[j] = want[j][from:to]
		}
		var buf bytes.Buffer
		w, _ := pqfile.NewWriter(&buf, cols, pqfile.Options{})
		if err := w.Write(sliced, nil, to-from); err != nil {
			t.Fatal(err)
		}
		if err := w.Write(sliced, []int32{to - from - 1, 0, 7}, to-from); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		for j := range want {
			want[j] = append(want[j], want[j][to-from-1], want[j][0], want[j][7])
		}
		got, _ := readBack(t, buf.Bytes())
		compare(t, got, want)
		for _, a := range sliced {
			a.Release()
		}
	}
}

// TestManySmallInt32s writes every value 0-65535 of an int32 column twice,
// after large ones, so that the dictionary holds over 65,535 entries and
// the late small values' indices outgrow the table that maps small values
// to indices: each value reads back.
func TestManySmallInt32s(t *testing.T) {
	b := array.NewInt32Builder(memory.NewGoAllocator())
	var want []cell
	for i := range 300 {
		v := int32(1<<20 + i)
		b.Append(v)
		want = append(want, int64(v))
	}
	for range 2 {
		for v := range int32(1 << 16) {
			b.Append(v)
			want = append(want, int64(v))
		}
	}
	arr := b.NewArray()
	defer arr.Release()
	_, pf := writeAndReadBack(t, []pqfile.Column{{Name: "port", Type: pqfile.Int32}}, pqfile.Options{Codec: pqfile.Zstd}, []arrow.Array{arr}, [][]cell{want})
	if cc, err := pf.MetaData().RowGroup(0).ColumnChunk(0); err != nil || !cc.HasDictionaryPage() {
		t.Fatalf("the column is not dictionary encoded (%v): the test misses its case", err)
	}
}

// TestMatchingVerdict: with zstd, a column whose dictionary indices repeat
// (a cycle of values) keeps zstd's match search, one of random values has
// its literals Huffman-coded alone, a column of small pages (long runs) is
// never tried; pqarrow reads every value back.
func TestMatchingVerdict(t *testing.T) {
	const rows = 300_000
	rng := rand.New(rand.NewPCG(3, 4))
	cycle := make([]int64, 5000)
	for i := range cycle {
		cycle[i] = rng.Int64N(1 << 40)
	}
	mem := memory.NewGoAllocator()
	var arrays []arrow.Array
	want := make([][]cell, 3)
	for j, value := range []func(i int) int64{
		func(i int) int64 { return cycle[i%len(cycle)] },
		func(int) int64 { return rng.Int64N(60_000) },
		func(i int) int64 { return int64(i / 100_000) },
	} {
		b := array.NewInt64Builder(mem)
		for i := range rows {
			v := value(i)
			b.Append(v)
			want[j] = append(want[j], v)
		}
		arrays = append(arrays, b.NewArray())
	}
	cols := []pqfile.Column{{Name: "cycle", Type: pqfile.Int64}, {Name: "random", Type: pqfile.Int64}, {Name: "runs", Type: pqfile.Int64}}
	w, _ := writeAndReadBack(t, cols, pqfile.Options{Codec: pqfile.Zstd}, arrays, want)
	for i, verdict := range []string{"on", "off", "untried"} {
		if got := pqfile.ColumnMatching(w, i); got != verdict {
			t.Errorf("column %s: matching %s, want %s", cols[i].Name, got, verdict)
		}
	}
}

// TestRunsMatchRowByRow: rows written without a selection go through the
// run loops (appendValid), rows written with one, row by row; the same rows
// either way make the same file, byte for byte, whatever the NULLs, the
// page cuts and the dictionaries overflowing in the middle of a run. The
// arrays are slices, so that their offsets count.
func TestRunsMatchRowByRow(t *testing.T) {
	mem := memory.NewGoAllocator()
	rng := rand.New(rand.NewPCG(5, 11))
	for trial := range 40 {
		opts := pqfile.Options{PageBytes: 64 + rng.IntN(8000), DictionaryMaxBytes: 16 + rng.IntN(4000)}
		var runs, rows bytes.Buffer
		byRuns, _ := pqfile.NewWriter(&runs, cols, opts)
		byRows, _ := pqfile.NewWriter(&rows, cols, opts)
		for batch := range 8 {
			n := 1 + rng.IntN(9000)
			arrays, _ := genArrays(mem, rng, n+10, 1+rng.IntN(3000))
			for j, a := range arrays {
				arrays[j] = array.NewSlice(a, 3, int64(n+3))
				a.Release()
			}
			if trial%4 == 0 && batch%2 == 1 { // no NULLs: each chunk is one run
				arrays = validRows(mem, arrays)
				n = arrays[0].Len()
			}
			identity := make([]int32, n)
			for i := range identity {
				identity[i] = int32(i)
			}
			if err := byRuns.Write(arrays, nil, n); err != nil {
				t.Fatal(err)
			}
			if err := byRows.Write(arrays, identity, n); err != nil {
				t.Fatal(err)
			}
			for _, a := range arrays {
				a.Release()
			}
			if rng.IntN(4) == 0 {
				byRuns.FlushRowGroup()
				byRows.FlushRowGroup()
			}
		}
		if err := byRuns.Close(); err != nil {
			t.Fatal(err)
		}
		if err := byRows.Close(); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(runs.Bytes(), rows.Bytes()) {
			t.Fatalf("trial %d (%+v): the files differ (%d and %d bytes)", trial, opts, runs.Len(), rows.Len())
		}
	}
}

// validRows returns the rows of arrays in which no column is NULL, as new
// arrays, and releases arrays.
func validRows(mem memory.Allocator, arrays []arrow.Array) []arrow.Array {
	out := make([]arrow.Array, len(arrays))
	for j, a := range arrays {
		b := array.NewBuilder(mem, a.DataType())
		for i := range a.Len() {
			valid := true
			for _, other := range arrays {
				valid = valid && other.IsValid(i)
			}
			if !valid {
				continue
			}
			switch a := a.(type) {
			case *array.Int32:
				b.(*array.Int32Builder).Append(a.Value(i))
			case *array.Int64:
				b.(*array.Int64Builder).Append(a.Value(i))
			case *array.String:
				b.(*array.StringBuilder).Append(a.Value(i))
			case *array.FixedSizeBinary:
				b.(*array.FixedSizeBinaryBuilder).Append(a.Value(i))
			}
		}
		out[j] = b.NewArray()
		b.Release()
	}
	for _, a := range arrays {
		a.Release()
	}
	return out
}
