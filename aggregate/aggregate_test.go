package aggregate_test

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/flowlens/flowlens/aggregate"
	"github.com/flowlens/flowlens/bench"
	"github.com/flowlens/flowlens/parser"
)

// input is one parsed batch with the region of its "file".
type input struct {
	batch  *parser.Batch
	region string
}

// corpus parses generated records of several formats (the default, the v5
// and v11 customs with packet addresses, Transit Gateway), NULLs, NODATA,
// IPv6, over two hours, in batches of 500.
func corpus(t testing.TB) []input {
	t.Helper()
	var out []input
	p := parser.NewParser()
	formats := []string{parser.DefaultLogFormat, bench.V5LogFormat, bench.V11LogFormat, parser.TGWDefaultLogFormat}
	for hour := 0; hour < 6; hour++ {
		for i, format := range formats {
			f, _ := parser.ParseLogFormat(format)
			g := bench.NewGenerator(f, uint64(hour*10+i))
			g.Start, g.Span = 1793491200+int64(hour)*900, 900
			region := []string{"us-east-1", "eu-west-1", ""}[(hour+i)%3]
			for k := 0; k < 2; k++ {
				b := parser.NewBatch(f)
				p.ParseBlock(b, []byte(strings.Join(g.Lines(500), "\n")), 1)
				if b.Stats.Invalid != 0 {
					t.Fatal(b.Stats.Samples)
				}
				out = append(out, input{b, region})
			}
		}
	}
	return out
}

// run aggregates the inputs with the given workers (inputs dealt out in
// turn, each worker flushing after every flushEvery inputs) and returns
// every emitted row as text, by table.
func run(t testing.TB, inputs []input, workers, flushEvery int, cfg aggregate.Config) (map[string][]string, *aggregate.Aggregator) {
	t.Helper()
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	var mu sync.Mutex
	rows := map[string][]string{}
	agg := aggregate.New(cfg, mem, func(table string, rec arrow.RecordBatch) error {
		defer rec.Release()
		mu.Lock()
		defer mu.Unlock()
		rows[table] = append(rows[table], render(rec)...)
		return nil
	})
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		worker := agg.NewWorker()
		go func() {
			defer wg.Done()
			for i := w; i < len(inputs); i += workers {
				rec := inputs[i].batch.NewRecordBatch(inputs[i].batch.Format.ArrowSchema())
				if err := worker.Add(rec, inputs[i].region); err != nil {
					t.Error(err)
				}
				rec.Release()
				if (i/workers)%flushEvery == 0 {
					worker.Flush()
				}
			}
			if err := worker.Done(); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if err := agg.Close(); err != nil {
		t.Fatal(err)
	}
	mem.AssertSize(t, 0)
	return rows, agg
}

func render(rec arrow.RecordBatch) []string {
	out := make([]string, rec.NumRows())
	for i := range out {
		var sb strings.Builder
		for j, col := range rec.Columns() {
			sb.WriteString(rec.Schema().Field(j).Name + "=")
			switch {
			case col.IsNull(i):
				sb.WriteString("∅")
			default:
				switch a := col.(type) {
				case *array.Int64:
					fmt.Fprint(&sb, a.Value(i))
				case *array.Int32:
					fmt.Fprint(&sb, a.Value(i))
				case *array.Float64:
					fmt.Fprintf(&sb, "%.6f", a.Value(i))
				case *array.String:
					sb.WriteString(a.Value(i))
				case *array.FixedSizeBinary:
					sb.WriteString(netip.AddrFrom16([16]byte(a.Value(i))).Unmap().String())
				}
			}
			sb.WriteByte(' ')
		}
		out[i] = sb.String()
	}
	return out
}

// reference aggregates the same inputs the obvious way, row by row, from
// the parser's columns.
func reference(inputs []input, window int64) map[string][]string {
	type acc struct {
		n                     [12]int64
		first, last           int64
		flags                 int64 // OR of tcp_flags, -1 when none
		peers, ports, sources map[string]bool
	}
	tables := map[string]map[string]*acc{}
	get := func(table, key string) *acc {
		if tables[table] == nil {
			tables[table] = map[string]*acc{}
		}
		a := tables[table][key]
		if a == nil {
			a = &acc{first: 1 << 62, last: -1 << 62, flags: -1, peers: map[string]bool{}, ports: map[string]bool{}, sources: map[string]bool{}}
			tables[table][key] = a
		}
		return a
	}
	for _, in := range inputs {
		b := in.batch
		str := func(id parser.FieldID, i int) string {
			if c := b.Column(id); c != nil && !c.IsNull(i) {
				return string(c.Bytes(i))
			}
			return "∅"
		}
		num := func(id parser.FieldID, i int) (int64, bool) {
			c := b.Column(id)
			if c == nil || c.IsNull(i) {
				return 0, false
			}
			if c.Field.Kind == parser.KindInt32 {
				return int64(c.Int32(i)), true
			}
			return c.Int64(i), true
		}
		ipOf := func(id parser.FieldID, i int) string {
			if c := b.Column(id); c != nil && !c.IsNull(i) {
				return c.IP(i).String()
			}
			return "∅"
		}
		for i := 0; i < b.Len(); i++ {
			start, okS := num(parser.FieldStart, i)
			end, okE := num(parser.FieldEnd, i)
			if !okS && !okE {
				continue
			}
			if !okS {
				start = end
			}
			if !okE {
				end = start
			}
			ws := start - ((start%window)+window)%window
			win := fmt.Sprintf("window_start=%d window_end=%d ", ws, ws+window)
			region := str(parser.FieldRegion, i)
			if region == "∅" && in.region != "" {
				region = in.region
			}
			region = "region=" + region + " "
			bytes, _ := num(parser.FieldBytes, i)
			packets, _ := num(parser.FieldPackets, i)
			action := str(parser.FieldAction, i)
			acct, iface := str(parser.FieldAccountID, i), str(parser.FieldInterfaceID, i)
			if iface != "∅" {
				a := get(aggregate.Interfaces, win+region+"account_id="+acct+" interface_id="+iface+" ")
				switch str(parser.FieldFlowDirection, i) {
				case "ingress":
					a.n[0] += bytes
				case "egress":
					a.n[1] += bytes
				default:
					a.n[2] += bytes
				}
				a.n[3]++
				switch action {
				case "ACCEPT":
					a.n[4]++
				case "REJECT":
					a.n[5]++
				case "∅":
					a.n[6]++
				}
				switch str(parser.FieldLogStatus, i) {
				case "OK":
					a.n[7]++
				case "NODATA":
					a.n[8]++
				case "SKIPDATA":
					a.n[9]++
				}
			}
			ifSrc, ifDst := ipOf(parser.FieldSrcAddr, i), ipOf(parser.FieldDstAddr, i)
			src, dst := ifSrc, ifDst
			if p := ipOf(parser.FieldPktSrcAddr, i); p != "∅" {
				src = p
			}
			if p := ipOf(parser.FieldPktDstAddr, i); p != "∅" {
				dst = p
			}
			if src == "∅" || dst == "∅" {
				continue
			}
			if ifSrc == src {
				ifSrc = "∅"
			}
			if ifDst == dst {
				ifDst = "∅"
			}
			port, proto := "∅", "∅"
			if v, ok := num(parser.FieldDstPort, i); ok {
				port = fmt.Sprint(v)
			}
			if v, ok := num(parser.FieldProtocol, i); ok {
				proto = fmt.Sprint(v)
			}
			c := get(aggregate.Conversations, fmt.Sprintf("%saccount_id=%s interface_id=%s srcaddr=%s dstaddr=%s dstport=%s protocol=%s action=%s interface_srcaddr=%s interface_dstaddr=%s ",
				win+region, acct, iface, src, dst, port, proto, action, ifSrc, ifDst))
			c.n[0]++
			c.n[1] += packets
			c.n[2] += bytes
			c.first, c.last = min(c.first, start), max(c.last, end)
			if f, ok := num(parser.FieldTCPFlags, i); ok {
				c.flags = max(c.flags, 0) | f
			}
			s, d := get(aggregate.Talkers, win+region+"addr="+src+" "), get(aggregate.Talkers, win+region+"addr="+dst+" ")
			s.n[0] += bytes
			s.n[1] += packets
			d.n[2] += bytes
			d.n[3] += packets
			s.peers[dst], d.peers[src] = true, true
			both := []*acc{s, d}
			if src == dst {
				both = both[:1]
			}
			for _, t := range both {
				t.n[6]++
				if action == "ACCEPT" {
					t.n[7]++
				} else if action == "REJECT" {
					t.n[8]++
				}
			}
			if port != "∅" {
				s.ports[port+"/"+proto] = true
				p := get(aggregate.Ports, win+region+"dstport="+port+" protocol="+proto+" ")
				p.n[0]++
				p.n[1] += bytes
				if action == "REJECT" {
					p.n[2]++
				}
				p.sources[src] = true
			}
		}
	}
	out := map[string][]string{}
	for table, rows := range tables {
		for key, a := range rows {
			var v string
			switch table {
			case aggregate.Conversations:
				flags := "∅"
				if a.flags >= 0 {
					flags = fmt.Sprint(a.flags)
				}
				v = fmt.Sprintf("records=%d packets=%d bytes=%d first_start=%d last_end=%d tcp_flags=%s ", a.n[0], a.n[1], a.n[2], a.first, a.last, flags)
			case aggregate.Talkers:
				v = fmt.Sprintf("bytes_sent=%d packets_sent=%d bytes_received=%d packets_received=%d distinct_peers=%d distinct_dst_ports=%d records=%d records_accepted=%d records_rejected=%d ",
					a.n[0], a.n[1], a.n[2], a.n[3], len(a.peers), len(a.ports), a.n[6], a.n[7], a.n[8])
			case aggregate.Ports:
				v = fmt.Sprintf("records=%d bytes=%d distinct_sources=%d records_rejected=%d rejected_share=%.6f ", a.n[0], a.n[1], len(a.sources), a.n[2], float64(a.n[2])/float64(a.n[0]))
			case aggregate.Interfaces:
				v = fmt.Sprintf("bytes_in=%d bytes_out=%d bytes_unknown_direction=%d records=%d records_accepted=%d records_rejected=%d records_no_action=%d records_ok=%d records_nodata=%d records_skipdata=%d ",
					a.n[0], a.n[1], a.n[2], a.n[3], a.n[4], a.n[5], a.n[6], a.n[7], a.n[8], a.n[9])
			}
			out[table] = append(out[table], key+v)
		}
	}
	return out
}

func sorted(s []string) []string {
	s = append([]string(nil), s...)
	sort.Strings(s)
	return s
}

// TestAgainstReference: every table equals the brute-force reference
// exactly (distinct counts too, below the sketch threshold), with 1 and 4
// workers and with the inputs in two orders; the 1-worker and 4-worker
// outputs are identical, row for row and in emission order per table.
func TestAgainstReference(t *testing.T) {
	inputs := corpus(t)
	want := reference(inputs, 300)
	cfg := aggregate.Config{Lateness: 24 * time.Hour, ExactDistinct: 1 << 20}
	got1, _ := run(t, inputs, 1, 7, cfg)
	shuffled := append([]input(nil), inputs...)
	rand.New(rand.NewPCG(1, 2)).Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
	got4, _ := run(t, shuffled, 4, 3, cfg)
	for _, table := range aggregate.Tables {
		w, g := sorted(want[table]), got1[table]
		if len(w) == 0 {
			t.Fatalf("%s: the reference has no rows", table)
		}
		if strings.Join(sorted(g), "\n") != strings.Join(w, "\n") {
			for i := range w {
				if i >= len(g) || sorted(g)[i] != w[i] {
					t.Fatalf("%s: %d rows, want %d; first difference:\n got %v\nwant %s", table, len(g), len(w), sorted(g)[min(i, len(g)-1)], w[i])
				}
			}
			t.Fatalf("%s: %d rows, want %d", table, len(g), len(w))
		}
		if strings.Join(got4[table], "\n") != strings.Join(g, "\n") {
			t.Fatalf("%s: 4 workers on shuffled input emitted different rows or order", table)
		}
	}
}

// TestLateRecords: with a short lateness, records that arrive after their
// window closed are emitted as extra rows; summed by key, every additive
// measure still equals the reference.
func TestLateRecords(t *testing.T) {
	inputs := corpus(t)
	// The last hour first, then the rest: the early windows of the first
	// hours arrive late.
	order := append(append([]input(nil), inputs[len(inputs)*7/8:]...), inputs[:len(inputs)*7/8]...)
	// One worker flushing after every input: whether two workers' flushes
	// interleave is timing, and lateness must not depend on it here.
	got, agg := run(t, order, 1, 1, aggregate.Config{Lateness: time.Minute, ExactDistinct: 1 << 20})
	if agg.LateRecords() == 0 {
		t.Fatal("no late records")
	}
	want := reference(inputs, 300)
	fold := func(rows []string) map[string]int64 {
		sums := map[string]int64{}
		for _, r := range rows {
			var key []string
			var vals []string
			for _, kv := range strings.Fields(r) {
				k, v, _ := strings.Cut(kv, "=")
				switch k {
				case "window_start", "window_end", "region", "account_id", "interface_id", "srcaddr", "dstaddr", "dstport",
					"protocol", "action", "interface_srcaddr", "interface_dstaddr", "addr":
					key = append(key, k+"="+v)
				case "distinct_peers", "distinct_dst_ports", "distinct_sources", "rejected_share", "first_start", "last_end", "tcp_flags":
				default:
					vals = append(vals, kv)
				}
			}
			for _, kv := range vals {
				k, v, _ := strings.Cut(kv, "=")
				var n int64
				fmt.Sscan(v, &n)
				sums[strings.Join(key, " ")+" "+k] += n
			}
		}
		return sums
	}
	for _, table := range aggregate.Tables {
		g, w := fold(got[table]), fold(want[table])
		if fmt.Sprint(g) != fmt.Sprint(w) {
			t.Fatalf("%s: sums by key differ (%d and %d keys)", table, len(g), len(w))
		}
	}
}

// TestBoundedWindows: fed in time order, the aggregator keeps only the
// windows within the lateness of the latest record open.
func TestBoundedWindows(t *testing.T) {
	inputs := corpus(t)
	open := 0
	agg := aggregate.New(aggregate.Config{}, nil, func(_ string, rec arrow.RecordBatch) error {
		rec.Release()
		return nil
	})
	w := agg.NewWorker()
	for _, in := range inputs {
		rec := in.batch.NewRecordBatch(in.batch.Format.ArrowSchema())
		w.Add(rec, in.region)
		rec.Release()
		w.Flush()
		open = max(open, agg.OpenWindows())
	}
	w.Done()
	agg.Close()
	// Each slice of the corpus spans 25 minutes of starts (15 minutes and
	// 10-minute aggregation windows); with the default 15 minutes of lateness no more
	// than about 10 windows can be open, whatever the length of the input.
	if open > 10 || agg.LateRecords() > 0 {
		t.Fatalf("%d windows open at once, %d late records", open, agg.LateRecords())
	}
}

func TestDistinctSketch(t *testing.T) {
	var a, b, all aggregate.Distinct
	for i := uint64(0); i < 200_000; i++ {
		h := i * 0x9e3779b97f4a7c15
		all.Add(h, 1000)
		if i%2 == 0 {
			a.Add(h, 1000)
		} else {
			b.Add(h, 1000)
		}
	}
	a.Merge(&b, 1000)
	if a.Count() != all.Count() || a.Exact() {
		t.Fatalf("merged %d, direct %d", a.Count(), all.Count())
	}
	if c := float64(all.Count()); c < 200_000*0.96 || c > 200_000*1.04 {
		t.Fatalf("estimate %v for 200,000", c)
	}
	var small aggregate.Distinct
	for i := uint64(0); i < 500; i++ {
		small.Add(i, 1000)
		small.Add(i, 1000)
	}
	if small.Count() != 500 || !small.Exact() {
		t.Fatalf("exact count %d", small.Count())
	}
}

// TestSumsSaturate: sums that would overflow int64 stay at its maximum in
// every table, rather than wrapping negative (the parser takes any byte
// count up to the maximum).
func TestSumsSaturate(t *testing.T) {
	f, _ := parser.ParseLogFormat(parser.DefaultLogFormat)
	b := parser.NewBatch(f)
	parser.NewParser().ParseBlock(b, []byte(
		"2 123456789012 eni-1 10.0.0.1 10.0.0.2 40000 443 6 9223372036854775807 9223372036854775807 1793491200 1793491210 ACCEPT OK\n"+
			"2 123456789012 eni-1 10.0.0.1 10.0.0.2 40000 443 6 7 100 1793491220 1793491230 ACCEPT OK\n"), 1)
	if b.Len() != 2 {
		t.Fatalf("%d records: %v", b.Len(), b.Stats.Samples)
	}
	rows, _ := run(t, []input{{b, "us-east-1"}}, 1, 1, aggregate.Config{})
	checked := 0
	for table, rs := range rows {
		for _, r := range rs {
			for _, f := range strings.Fields(r) {
				name, v, _ := strings.Cut(f, "=")
				if !strings.Contains(name, "bytes") && !strings.Contains(name, "packets") || v == "∅" || v == "0" {
					continue
				}
				checked++
				if v != "9223372036854775807" {
					t.Errorf("%s: %s = %s, want 9223372036854775807", table, name, v)
				}
			}
		}
	}
	if checked < 6 { // conversations bytes, packets; talkers sent and received; ports; interfaces
		t.Errorf("%d sums checked: %v", checked, rows)
	}
}

// TestSlicedBatches: batches handed over as slices of larger ones (their
// string offsets not starting at zero) aggregate as the whole batches do.
func TestSlicedBatches(t *testing.T) {
	inputs := corpus(t)
	want := reference(inputs, 300)
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	rows := map[string][]string{}
	agg := aggregate.New(aggregate.Config{Lateness: 24 * time.Hour, ExactDistinct: 1 << 20}, mem, func(table string, rec arrow.RecordBatch) error {
		defer rec.Release()
		rows[table] = append(rows[table], render(rec)...)
		return nil
	})
	worker := agg.NewWorker()
	for _, in := range inputs {
		rec := in.batch.NewRecordBatch(in.batch.Format.ArrowSchema())
		n := rec.NumRows()
		for _, part := range []arrow.RecordBatch{rec.NewSlice(0, 123), rec.NewSlice(123, n)} {
			if err := worker.Add(part, in.region); err != nil {
				t.Fatal(err)
			}
			part.Release()
		}
		rec.Release()
	}
	if err := worker.Done(); err != nil {
		t.Fatal(err)
	}
	if err := agg.Close(); err != nil {
		t.Fatal(err)
	}
	mem.AssertSize(t, 0)
	for _, table := range aggregate.Tables {
		if g, w := strings.Join(sorted(rows[table]), "\n"), strings.Join(sorted(want[table]), "\n"); g != w {
			t.Fatalf("%s: %d rows differ from the reference's %d", table, len(rows[table]), len(want[table]))
		}
	}
}
