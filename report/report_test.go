package report_test

import (
	"bufio"
	"cmp"
	"encoding/json"
	"fmt"
	"html"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/parquet-go/parquet-go"

	"github.com/flowlens/flowlens/aggregate"
)

// The tests below recompute each figure from the tables with another
// Parquet reader (parquet-go, where the report uses arrow-go's pqarrow)
// and compare it with the data attributes of the chart's elements.

// readRows reads every row of the table's files into T, by column name.
func readRows[T any](t *testing.T, f fixtureOut, table string) []T {
	t.Helper()
	var rows []T
	for _, path := range files(t, f, table) {
		r, err := parquet.ReadFile[T](path)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		rows = append(rows, r...)
	}
	if len(rows) == 0 {
		t.Fatalf("table %s is empty", table)
	}
	return rows
}

// ranked is a key and its sum, as the horizontal bar charts show them.
type ranked struct {
	key   string
	value int64
}

// topOf returns the n heaviest keys of sums, ties by key.
func topOf(sums map[string]int64, n int) []ranked {
	var out []ranked
	for k, v := range sums {
		if v > 0 {
			out = append(out, ranked{k, v})
		}
	}
	slices.SortFunc(out, func(a, b ranked) int { return cmp.Or(cmp.Compare(b.value, a.value), strings.Compare(a.key, b.key)) })
	return out[:min(n, len(out))]
}

// checkBars compares the bars of a horizontal bar chart with want, in order.
func checkBars(t *testing.T, page, chart string, want []ranked) {
	t.Helper()
	bars := elements(chartSVG(t, page, chart), "bar")
	if len(bars) != len(want) {
		t.Fatalf("%s: %d bars, want %d", chart, len(bars), len(want))
	}
	for i, b := range bars {
		if b["data-key"] != want[i].key || b["data-value"] != strconv.FormatInt(want[i].value, 10) {
			t.Errorf("%s: bar %d is %s = %s, want %s = %d", chart, i, b["data-key"], b["data-value"], want[i].key, want[i].value)
		}
	}
}

func TestFindings(t *testing.T) {
	f := analysed(t)
	data, err := os.ReadFile(filepath.Join(f.dir, "findings.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	severities := map[string]int{}
	sc := bufio.NewScanner(strings.NewReader(string(data)))
	for sc.Scan() {
		var x struct{ ID, Severity string }
		if err := json.Unmarshal(sc.Bytes(), &x); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, x.ID)
		severities[x.Severity]++
	}
	if len(ids) < 5 {
		t.Fatalf("only %d findings in the fixture: detection changed?", len(ids))
	}
	rows := elements(f.html, "finding")
	if len(rows) != len(ids) {
		t.Fatalf("%d finding rows, findings.jsonl has %d lines", len(rows), len(ids))
	}
	for i, r := range rows {
		if r["id"] != "finding-"+ids[i] {
			t.Errorf("row %d is %s, want finding-%s", i, r["id"], ids[i])
		}
	}
	marks := elements(chartSVG(t, f.html, "findings-timeline"), "mark")
	got := map[string]int{}
	for _, m := range marks {
		got[m["data-severity"]]++
		if !slices.Contains(ids, m["data-id"]) {
			t.Errorf("mark of unknown finding %s", m["data-id"])
		}
	}
	if len(marks) != len(ids) || fmt.Sprint(got) != fmt.Sprint(severities) {
		t.Errorf("timeline marks by severity %v, findings.jsonl %v", got, severities)
	}
	for sev, n := range severities {
		card := fmt.Sprintf(`<div class="v">%d</div><div class="l">findings %s</div>`, n, sev)
		if !strings.Contains(f.html, card) {
			t.Errorf("no card %q", card)
		}
	}
}

func TestBytesOverTime(t *testing.T) {
	f := analysed(t)
	type row struct {
		WindowStart int64  `parquet:"window_start,optional"`
		Action      string `parquet:"action,optional"`
		Bytes       int64  `parquet:"bytes,optional"`
	}
	want := map[int64][2]int64{}
	for _, r := range readRows[row](t, f, aggregate.Conversations) {
		w := want[r.WindowStart]
		switch r.Action {
		case "ACCEPT":
			w[0] += r.Bytes
		case "REJECT":
			w[1] += r.Bytes
		}
		want[r.WindowStart] = w
	}
	bars := elements(chartSVG(t, f.html, "bytes-over-time"), "bar")
	if len(bars) != len(want) {
		t.Fatalf("%d bars, %d distinct windows", len(bars), len(want))
	}
	var rejected int64
	for _, b := range bars {
		start, _ := strconv.ParseInt(b["data-start"], 10, 64)
		w := want[start]
		if b["data-accept"] != strconv.FormatInt(w[0], 10) || b["data-reject"] != strconv.FormatInt(w[1], 10) {
			t.Errorf("window %d: bar accept %s reject %s, want %d %d", start, b["data-accept"], b["data-reject"], w[0], w[1])
		}
		rejected += w[1]
	}
	if rejected == 0 {
		t.Error("no rejected bytes in any window: the REJECT series is untested")
	}
}

func TestTopTalkers(t *testing.T) {
	f := analysed(t)
	type row struct {
		Addr          string `parquet:"addr,optional"`
		BytesSent     int64  `parquet:"bytes_sent,optional"`
		BytesReceived int64  `parquet:"bytes_received,optional"`
	}
	sums := map[string]int64{}
	for _, r := range readRows[row](t, f, aggregate.Talkers) {
		sums[r.Addr] += r.BytesSent + r.BytesReceived
	}
	want := topOf(sums, 15)
	checkBars(t, f.html, "top-talkers", want)
	t.Logf("top talker %s, %d bytes, of %d addresses", want[0].key, want[0].value, len(sums))
}

func TestRejectedPorts(t *testing.T) {
	f := analysed(t)
	type row struct {
		Dstport         int32 `parquet:"dstport,optional"`
		Protocol        int32 `parquet:"protocol,optional"`
		RecordsRejected int64 `parquet:"records_rejected,optional"`
	}
	names := map[int32]string{6: "tcp", 17: "udp", 1: "icmp", 58: "icmpv6"}
	sums := map[portProto]int64{}
	for _, r := range readRows[row](t, f, aggregate.Ports) {
		sums[portProto{r.Dstport, r.Protocol}] += r.RecordsRejected
	}
	// Ties break on the numbers, not the labels' text.
	var keys []portProto
	for k, v := range sums {
		if v > 0 {
			keys = append(keys, k)
		}
	}
	slices.SortFunc(keys, func(a, b portProto) int {
		return cmp.Or(cmp.Compare(sums[b], sums[a]), cmp.Compare(a.port, b.port), cmp.Compare(a.proto, b.proto))
	})
	var want []ranked
	for _, k := range keys[:min(15, len(keys))] {
		want = append(want, ranked{fmt.Sprintf("%d/%s", k.port, names[k.proto]), sums[k]})
	}
	checkBars(t, f.html, "rejected-ports", want)
}

type portProto struct{ port, proto int32 }

func TestAddressSpaces(t *testing.T) {
	f := analysed(t)
	type row struct {
		Srcaddr string `parquet:"srcaddr,optional"`
		Dstaddr string `parquet:"dstaddr,optional"`
		Bytes   int64  `parquet:"bytes,optional"`
	}
	private := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("172.16.0.0/12"),
		netip.MustParsePrefix("192.168.0.0/16"), netip.MustParsePrefix("fc00::/7")}
	side := func(s string) string {
		a := netip.MustParseAddr(s)
		for _, p := range private {
			if p.Contains(a) {
				return "internal"
			}
		}
		return "external"
	}
	want := map[string]int64{}
	for _, r := range readRows[row](t, f, aggregate.Conversations) {
		want[side(r.Srcaddr)+"→"+side(r.Dstaddr)] += r.Bytes
	}
	for _, dir := range []string{"internal→internal", "internal→external", "external→internal"} {
		if want[dir] == 0 {
			t.Errorf("no bytes %s in the fixture", dir)
		}
	}
	got := map[string]int64{}
	for _, b := range elements(chartSVG(t, f.html, "address-spaces"), "band") {
		got[b["data-from"]+"→"+b["data-to"]], _ = strconv.ParseInt(b["data-bytes"], 10, 64)
	}
	for dir, n := range want {
		if n > 0 && got[dir] != n {
			t.Errorf("%s: chart %d bytes, want %d", dir, got[dir], n)
		}
	}
	if len(got) != len(want) {
		t.Errorf("bands %v, want %v", got, want)
	}
}

func TestDataQuality(t *testing.T) {
	f := analysed(t)
	var failed []string
	for _, in := range f.manifest.Inputs {
		if in.Error != "" {
			failed = append(failed, in.Path+": "+in.Error)
		}
	}
	if len(failed) != 1 || !strings.Contains(failed[0], truncatedFile) {
		t.Fatalf("failed inputs %v, want the truncated one", failed)
	}
	var rows []string
	for _, r := range regexpRows(f.html, "failed") {
		rows = append(rows, r[0]+": "+r[1])
	}
	if fmt.Sprint(rows) != fmt.Sprint(failed) {
		t.Errorf("failed inputs listed %v, manifest %v", rows, failed)
	}
	// The switch of format inside the gaps file is the one warning.
	warned := regexpRows(f.html, "warned")
	if len(warned) != 1 || !strings.HasSuffix(warned[0][0], gapsFile) || !strings.HasPrefix(warned[0][1], "line 5: a header naming other fields") {
		t.Errorf("input warnings %v, want the gaps file's switch of format at line 5", warned)
	}
	invalid := regexpRows(f.html, "invalid")
	if len(invalid) != 1 || !strings.HasSuffix(invalid[0][0], gapsFile) || invalid[0][2] != "1" {
		t.Errorf("inputs with invalid lines %v, want %s with 1", invalid, gapsFile)
	}
	type row struct {
		InterfaceID     string `parquet:"interface_id,optional"`
		RecordsNodata   int64  `parquet:"records_nodata,optional"`
		RecordsSkipdata int64  `parquet:"records_skipdata,optional"`
	}
	sums := map[string]int64{}
	for _, r := range readRows[row](t, f, aggregate.Interfaces) {
		sums[r.InterfaceID] += r.RecordsNodata + r.RecordsSkipdata
	}
	if sums[nodataIface] != 3 || sums[skipdataIface] != 2 {
		t.Fatalf("interfaces table: %s %d, %s %d; want 3 and 2", nodataIface, sums[nodataIface], skipdataIface, sums[skipdataIface])
	}
	checkBars(t, f.html, "interface-gaps", topOf(sums, 20))
}

// regexpRows returns the cells' text of the table rows of a class.
func regexpRows(page, class string) [][]string {
	var out [][]string
	rows := regexp.MustCompile(`(?s)<tr class="`+class+`">(.*?)</tr>`).FindAllStringSubmatch(page, -1)
	for _, r := range rows {
		var cells []string
		for _, c := range regexp.MustCompile(`(?s)<td[^>]*>(.*?)</td>`).FindAllStringSubmatch(r[1], -1) {
			cells = append(cells, html.UnescapeString(c[1]))
		}
		out = append(out, cells)
	}
	return out
}
