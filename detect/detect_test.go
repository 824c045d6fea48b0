package detect_test

import (
	"encoding/json"
	"fmt"
	"math"
	"net/netip"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/flowlens/flowlens/aggregate"
	"github.com/flowlens/flowlens/detect"
)

// conv is one conversation row to build a test batch from.
type conv struct {
	ws                       int64
	src, dst                 string
	dport, proto, flags      int32 // flags -1 for NULL
	action                   string
	records, packets, bytess int64
}

// batch builds a conversations batch.
func batch(t *testing.T, rows []conv) arrow.RecordBatch {
	t.Helper()
	b := array.NewRecordBuilder(memory.DefaultAllocator, aggregate.ConversationsSchema)
	defer b.Release()
	ip := func(col int, s string) {
		a := netip.MustParseAddr(s).As16()
		b.Field(col).(*array.FixedSizeBinaryBuilder).Append(a[:])
	}
	for _, r := range rows {
		b.Field(0).(*array.Int64Builder).Append(r.ws)
		b.Field(1).(*array.Int64Builder).Append(r.ws + 300)
		b.Field(2).(*array.StringBuilder).Append("eu-west-1")
		b.Field(3).(*array.StringBuilder).Append("123456789012")
		b.Field(4).(*array.StringBuilder).Append("eni-1")
		ip(5, r.src)
		ip(6, r.dst)
		b.Field(7).(*array.Int32Builder).Append(r.dport)
		b.Field(8).(*array.Int32Builder).Append(r.proto)
		b.Field(9).(*array.StringBuilder).Append(r.action)
		b.Field(10).AppendNull()
		b.Field(11).AppendNull()
		for i, v := range []int64{r.records, r.packets, r.bytess, r.ws + 1, r.ws + 299} {
			b.Field(12 + i).(*array.Int64Builder).Append(v)
		}
		if r.flags < 0 {
			b.Field(17).AppendNull()
		} else {
			b.Field(17).(*array.Int32Builder).Append(r.flags)
		}
	}
	return b.NewRecordBatch()
}

func detectRows(t *testing.T, cfg detect.Config, windows ...[]conv) ([]detect.Finding, detect.Stats) {
	t.Helper()
	d, err := detect.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, rows := range windows {
		rec := batch(t, rows)
		if err := d.Add(rec); err != nil {
			t.Fatal(err)
		}
		rec.Release()
	}
	return d.Findings(), d.Stats()
}

// TestRepliesAreNotScans: a server answering one client's many ephemeral
// ports is no scanner, whether the format has tcp_flags (the answers carry
// ACK) or not (they go to ephemeral ports); the client's SYN-only probes
// are.
func TestRepliesAreNotScans(t *testing.T) {
	for _, flags := range []int32{0x12, 0x14, -1} {
		var rows []conv
		for p := range int32(40) {
			rows = append(rows, conv{ws: 0, src: "10.0.0.1", dst: "10.0.0.2", dport: 40000 + p, proto: 6, flags: flags, action: "ACCEPT", records: 1, packets: 1, bytess: 40})
		}
		fs, _ := detectRows(t, detect.Config{}, rows)
		if len(fs) != 0 {
			t.Errorf("flags %d: replies reported: %+v", flags, fs[0])
		}
	}
	var probes []conv
	for p := range int32(40) {
		probes = append(probes, conv{ws: 0, src: "fd00::1", dst: "fd00::2", dport: 100 + p, proto: 6, flags: 0x02, action: "ACCEPT", records: 1, packets: 1, bytess: 44})
	}
	fs, _ := detectRows(t, detect.Config{}, probes)
	if len(fs) != 1 || fs[0].Kind != detect.KindPortScan || fs[0].Source != "fd00::1" || fs[0].Targets[0] != "fd00::2" ||
		fs[0].Records != 40 || fs[0].Evidence[0].Value != 40 || fs[0].Severity != detect.High {
		t.Fatalf("IPv6 probes: %+v", fs)
	}
}

// TestScannerStateIsBounded: a source sweeping 300,000 hosts in one window
// keeps MaxTargets hosts individually and counts the rest in a sketch.
func TestScannerStateIsBounded(t *testing.T) {
	const hosts = 300_000
	rows := make([]conv, hosts)
	for i := range rows {
		rows[i] = conv{ws: 600, src: "198.51.100.7", dst: fmt.Sprintf("10.%d.%d.%d", i>>16, i>>8&255, i&255),
			dport: 23, proto: 6, flags: -1, action: "REJECT", records: 1, packets: 1, bytess: 44}
	}
	fs, st := detectRows(t, detect.Config{MaxTargets: 1000}, rows)
	if st.Untracked != hosts-1000 || st.Conversations != hosts || st.Windows != 1 {
		t.Fatalf("stats %+v", st)
	}
	var sweep *detect.Finding
	for i := range fs {
		if fs[i].Kind == detect.KindSweep {
			sweep = &fs[i]
		}
	}
	if sweep == nil || sweep.Records != hosts || math.Abs(sweep.Evidence[0].Value-hosts)/hosts > 0.05 {
		t.Fatalf("sweep %+v", sweep)
	}
}

// TestFindingsStable: ids and contents do not depend on the order
// conversations arrive in.
func TestFindingsStable(t *testing.T) {
	var rows []conv
	for p := range int32(30) {
		rows = append(rows, conv{ws: 0, src: "203.0.113.9", dst: "10.0.0.5", dport: 1 + p, proto: 6, flags: -1, action: "REJECT", records: 2, packets: 2, bytess: 88})
		rows = append(rows, conv{ws: 0, src: "203.0.113.9", dst: fmt.Sprintf("10.0.1.%d", p), dport: 22, proto: 6, flags: -1, action: "REJECT", records: 1, packets: 1, bytess: 44})
	}
	reversed := make([]conv, len(rows))
	for i, r := range rows {
		reversed[len(rows)-1-i] = r
	}
	a, _ := detectRows(t, detect.Config{}, rows)
	b, _ := detectRows(t, detect.Config{}, reversed)
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	if string(ja) != string(jb) || len(a) != 3 { // port scan, sweep, sensitive rejects; no storm (92 rejected records < 200)
		t.Fatalf("%d findings:\n%s\n%s", len(a), ja, jb)
	}
}
