package parser_test

// The tests are an external package so that they can use bench's generator,
// which imports parser; the dot import keeps them readable, the use the Go
// FAQ names for dot imports.

import (
	"fmt"
	"github.com/flowlens/flowlens/bench"
	. "github.com/flowlens/flowlens/parser"
	"math/rand/v2"
	"net/netip"
	"strings"
	"testing"
)

// parseLines parses text (lines separated by \n) with format f.
func parseLines(t *testing.T, f *Format, text string) *Batch {
	t.Helper()
	b := NewBatch(f)
	NewParser().ParseBlock(b, []byte(text), 1)
	checkInvariants(t, b)
	return b
}

// checkInvariants asserts that every column has the batch's row count, that
// null counts match the bitmaps and string offsets are monotonic.
func checkInvariants(t *testing.T, b *Batch) {
	t.Helper()
	for j := range b.Columns {
		c := &b.Columns[j]
		if c.Len() != b.Len() {
			t.Fatalf("column %s has %d rows, batch %d", c.Field.Name, c.Len(), b.Len())
		}
		nulls := 0
		for i := 0; i < c.Len(); i++ {
			if c.IsNull(i) {
				nulls++
			}
		}
		if nulls != c.NullCount() {
			t.Fatalf("column %s: NullCount %d, bitmap says %d", c.Field.Name, c.NullCount(), nulls)
		}
		if c.Field.Kind == KindString {
			for i := 1; i < len(c.Offsets()); i++ {
				if c.Offsets()[i] < c.Offsets()[i-1] {
					t.Fatalf("column %s: offsets decrease at %d", c.Field.Name, i)
				}
			}
		}
	}
}

func rowText(b *Batch, i int) string { return string(b.AppendText(nil, i)) }

// TestAWSDocumentationRecords decodes every record of flowlog-spec.md §2.5 and
// checks the exact value of every field: rendering the row back gives the
// original line, and typed accessors give the numbers and addresses.
func TestAWSDocumentationRecords(t *testing.T) {
	f := func(format string, lines ...string) *Batch {
		t.Helper()
		fm, err := ParseHeader([]byte(format))
		if err != nil {
			t.Fatal(err)
		}
		b := parseLines(t, fm, strings.Join(lines, "\n"))
		if b.Len() != len(lines) || b.Stats.Invalid != 0 {
			t.Fatalf("%d records, %d invalid (%v); want %d valid", b.Len(), b.Stats.Invalid, b.Stats.Samples, len(lines))
		}
		for i, l := range lines {
			if got := rowText(b, i); got != strings.Join(strings.Fields(l), " ") {
				t.Fatalf("row %d:\n got %s\nwant %s", i, got, l)
			}
		}
		return b
	}

	b := f("version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status",
		"2 123456789010 eni-1235b8ca123456789 172.31.16.139 172.31.16.21 20641 22 6 20 4249 1418530010 1418530070 ACCEPT OK",
		"2 123456789010 eni-1235b8ca123456789 172.31.9.69 172.31.9.12 49761 3389 6 20 4249 1418530010 1418530070 REJECT OK",
		"2 123456789010 eni-1235b8ca123456789 203.0.113.12 172.31.16.139 0 0 1 4 336 1432917027 1432917142 ACCEPT OK",
		"2 123456789010 eni-1235b8ca123456789 172.31.16.139 203.0.113.12 0 0 1 4 336 1432917094 1432917142 REJECT OK",
		"2 123456789010 eni-1235b8ca123456789 2001:db8:1234:a100:8d6e:3477:df66:f105 2001:db8:1234:a102:3304:8879:34cf:4071 34892 22 6 54 8855 1477913708 1477913820 ACCEPT OK",
		"2 123456789010 eni-1235b8ca123456789 - - - - - - - 1431280876 1431280934 - NODATA",
		"2 123456789010 eni-11111111aaaaaaaaa - - - - - - - 1431280876 1431280934 - SKIPDATA",
	)
	if got := b.Column(FieldSrcPort).Int32(0); got != 20641 {
		t.Errorf("srcport = %d", got)
	}
	if got := b.Column(FieldBytes).Int64(0); got != 4249 {
		t.Errorf("bytes = %d", got)
	}
	if got := b.Column(FieldEnd).Int64(3); got != 1432917142 {
		t.Errorf("end = %d", got)
	}
	if got, want := b.Column(FieldSrcAddr).IP(4), netip.MustParseAddr("2001:db8:1234:a100:8d6e:3477:df66:f105"); got != want {
		t.Errorf("IPv6 srcaddr = %v", got)
	}
	if got := b.Column(FieldSrcAddr).IP(0); got != netip.AddrFrom4([4]byte{172, 31, 16, 139}) {
		t.Errorf("IPv4 srcaddr = %v", got)
	}
	for _, id := range []FieldID{FieldSrcAddr, FieldDstAddr, FieldSrcPort, FieldDstPort, FieldProtocol, FieldPackets, FieldBytes, FieldAction} {
		if c := b.Column(id); c.NullCount() != 2 || !c.IsNull(5) || !c.IsNull(6) || c.IsNull(4) {
			t.Errorf("%s: NULLs %d, want rows 5 and 6", c.Field.Name, c.NullCount())
		}
	}
	if got := string(b.Column(FieldLogStatus).Bytes(6)); got != "SKIPDATA" {
		t.Errorf("log-status = %q", got)
	}

	b = f("version vpc-id subnet-id instance-id interface-id account-id type srcaddr dstaddr srcport dstport pkt-srcaddr pkt-dstaddr protocol bytes packets start end action tcp-flags log-status",
		"3 vpc-abcdefab012345678 subnet-aaaaaaaa012345678 i-01234567890123456 eni-1235b8ca123456789 123456789010 IPv4 52.213.180.42 10.0.0.62 43416 5001 52.213.180.42 10.0.0.62 6 568 8 1566848875 1566848933 ACCEPT 2 OK",
		"3 vpc-abcdefab012345678 subnet-aaaaaaaa012345678 i-01234567890123456 eni-1235b8ca123456789 123456789010 IPv4 10.0.0.62 52.213.180.42 5001 43416 10.0.0.62 52.213.180.42 6 376 7 1566848875 1566848933 ACCEPT 18 OK",
		"3 vpc-abcdefab012345678 subnet-aaaaaaaa012345678 i-01234567890123456 eni-1235b8ca123456789 123456789010 IPv4 52.213.180.42 10.0.0.62 43638 5001 52.213.180.42 10.0.0.62 6 1260 17 1566933133 1566933193 ACCEPT 3 OK",
		// The documentation prints this line with a double space; runs of spaces are tolerated.
		"3 vpc-abcdefab012345678 subnet-aaaaaaaa012345678 i-01234567890123456 eni-1235b8ca123456789 123456789010 IPv4 10.0.0.62 52.213.180.42 5001 43638  10.0.0.62 52.213.180.42 6 967 14 1566933133 1566933193 ACCEPT 19 OK",
	)
	if got := b.Column(FieldTCPFlags).Int32(3); got != 19 {
		t.Errorf("tcp-flags = %d", got)
	}
	if got := b.Column(FieldPackets).Int64(2); got != 17 {
		t.Errorf("packets = %d", got)
	}

	b = f("instance-id interface-id srcaddr dstaddr pkt-srcaddr pkt-dstaddr",
		"- eni-1235b8ca123456789 10.0.1.5 10.0.0.220 10.0.1.5 203.0.113.5",
		"- eni-1235b8ca123456789 10.0.0.220 203.0.113.5 10.0.0.220 203.0.113.5",
		"- eni-1235b8ca123456789 203.0.113.5 10.0.0.220 203.0.113.5 10.0.0.220",
		"- eni-1235b8ca123456789 10.0.0.220 10.0.1.5 203.0.113.5 10.0.1.5",
	)
	if b.Column(FieldVersion) != nil || b.Column(FieldInstanceID).NullCount() != 4 {
		t.Errorf("NAT format: version column present or instance-id not all NULL")
	}
	if got := b.Column(FieldPktSrcAddr).IP(3).String(); got != "203.0.113.5" {
		t.Errorf("pkt-srcaddr = %s", got)
	}

	f("version interface-id account-id vpc-id subnet-id instance-id srcaddr dstaddr srcport dstport protocol tcp-flags type pkt-srcaddr pkt-dstaddr action log-status",
		"3 eni-33333333333333333 123456789010 vpc-abcdefab012345678 subnet-22222222bbbbbbbbb i-01234567890123456 10.20.33.164 10.40.2.236 39812 80 6 3 IPv4 10.20.33.164 10.40.2.236 ACCEPT OK",
		"3 eni-11111111111111111 123456789010 vpc-abcdefab012345678 subnet-11111111aaaaaaaaa - 10.40.1.175 10.40.2.236 39812 80 6 3 IPv4 10.20.33.164 10.40.2.236 ACCEPT OK",
		"3 eni-22222222222222222 123456789010 vpc-abcdefab012345678 subnet-22222222bbbbbbbbb - 10.40.2.236 10.40.2.31 80 39812 6 19 IPv4 10.40.2.236 10.20.33.164 ACCEPT OK",
	)

	b = f("version srcaddr dstaddr srcport dstport protocol start end type packets bytes account-id vpc-id subnet-id instance-id interface-id region az-id sublocation-type sublocation-id action tcp-flags pkt-srcaddr pkt-dstaddr pkt-src-aws-service pkt-dst-aws-service traffic-path flow-direction log-status",
		"5 52.95.128.179 10.0.0.71 80 34210 6 1616729292 1616729349 IPv4 14 15044 123456789012 vpc-abcdefab012345678 subnet-aaaaaaaa012345678 i-0c50d5961bcb2d47b eni-1235b8ca123456789 ap-southeast-2 apse2-az3 - - ACCEPT 19 52.95.128.179 10.0.0.71 S3 - - ingress OK",
		"5 10.0.0.71 52.95.128.179 34210 80 6 1616729292 1616729349 IPv4 7 471 123456789012 vpc-abcdefab012345678 subnet-aaaaaaaa012345678 i-0c50d5961bcb2d47b eni-1235b8ca123456789 ap-southeast-2 apse2-az3 - - ACCEPT 3 10.0.0.71 52.95.128.179 - S3 8 egress OK",
	)
	if tp := b.Column(FieldTrafficPath); !tp.IsNull(0) || tp.Int32(1) != 8 {
		t.Errorf("traffic-path: null=%v value=%d", tp.IsNull(0), tp.Int32(1))
	}
	if got := string(b.Column(FieldPktDstAWSService).Bytes(1)); got != "S3" {
		t.Errorf("pkt-dst-aws-service = %q", got)
	}
}

// TestEveryFieldRoundTrips builds custom formats holding every registry field
// in random orders, generates records, parses them and renders them back.
func TestEveryFieldRoundTrips(t *testing.T) {
	all := Fields()
	rng := rand.New(rand.NewPCG(3, 4))
	for trial := 0; trial < 8; trial++ {
		rng.Shuffle(len(all), func(i, j int) { all[i], all[j] = all[j], all[i] })
		n := len(all)
		if trial > 0 {
			n = 1 + rng.IntN(len(all))
		}
		var names []string
		for _, fld := range all[:n] {
			names = append(names, "${"+fld.Name+"}")
		}
		fm, err := ParseLogFormat(strings.Join(names, " "))
		if err != nil {
			t.Fatal(err)
		}
		lines := bench.NewGenerator(fm, uint64(trial)).Lines(300)
		b := parseLines(t, fm, strings.Join(lines, "\n")+"\n")
		if b.Len() != len(lines) {
			t.Fatalf("trial %d: %d of %d records; samples %v", trial, b.Len(), len(lines), b.Stats.Samples)
		}
		for i, l := range lines {
			if got := rowText(b, i); got != l {
				t.Fatalf("trial %d row %d:\n got %s\nwant %s", trial, i, got, l)
			}
		}
	}
}

func TestRegistry(t *testing.T) {
	counts := map[int]int{}
	for _, fld := range Fields() {
		if fld.Version != 6 {
			counts[fld.Version]++
		}
		if fld.Column != strings.ReplaceAll(fld.Name, "-", "_") {
			t.Errorf("%s: column %s", fld.Name, fld.Column)
		}
	}
	// Cumulative VPC field counts from flowlog-spec.md §1.2: v2 14, ≤v5 29,
	// ≤v7 39, ≤v8 40, ≤v9 41, ≤v10 42, ≤v11 54.
	cum := 0
	want := map[int]int{2: 14, 5: 29, 7: 39, 8: 40, 9: 41, 10: 42, 11: 54}
	for v := 2; v <= 11; v++ {
		cum += counts[v]
		if w, ok := want[v]; ok && cum != w {
			t.Errorf("fields up to v%d: %d, want %d", v, cum, w)
		}
	}
	if got := len(TGWDefaultFormat().Fields); got != 36 {
		t.Errorf("TGW default has %d fields, want 36", got)
	}
	kinds := map[string]Kind{"version": KindInt32, "srcport": KindInt32, "dstport": KindInt32, "protocol": KindInt32,
		"tcp-flags": KindInt32, "traffic-path": KindInt32, "packets": KindInt64, "bytes": KindInt64, "start": KindInt64,
		"end": KindInt64, "packets-lost-ttl-expired": KindInt64, "srcaddr": KindIP, "pkt-dstaddr": KindIP,
		"account-id": KindString, "encryption-status": KindString, "resource-type": KindString}
	for name, k := range kinds {
		if fld, ok := LookupField(name); !ok || fld.Kind != k {
			t.Errorf("%s: kind %v, want %v", name, fld.Kind, k)
		}
	}
	for _, name := range []string{"log_status", "LOG-STATUS", "pkt_src_aws_service", "instance_tag_2"} {
		if _, ok := LookupField(name); !ok {
			t.Errorf("LookupField(%q) failed", name)
		}
	}
}

func TestFormats(t *testing.T) {
	fm, err := ParseLogFormat("$${version} $${srcaddr}  ${dstaddr} ${log_status}")
	if err != nil || fm.Header() != "version srcaddr dstaddr log-status" || fm.Source != FromExplicit {
		t.Fatalf("Terraform format: %v %v", fm, err)
	}
	for _, bad := range []string{"", "version srcaddr", "${version} ${}", "${bad name}", "${version} ${version}"} {
		if _, err := ParseLogFormat(bad); err == nil {
			t.Errorf("ParseLogFormat(%q) accepted", bad)
		}
	}
	fm, err = ParseHeader([]byte("\ufeffversion srcaddr future-field dstaddr\r\n"))
	if err != nil || fm.Header() != "version srcaddr future-field dstaddr" {
		t.Fatalf("header with BOM and CRLF: %v %v", fm, err)
	}
	if unk := fm.Unknown(); len(unk) != 1 || unk[0] != "future-field" || fm.Fields[2].Column != "future_field" {
		t.Fatalf("unknown fields %v", unk)
	}
	// An unknown field is a string column and does not misalign the others.
	b := parseLines(t, fm, "2 10.0.0.1 some-value 10.0.0.2\n")
	if got := string(b.Columns[2].Bytes(0)); got != "some-value" || b.Column(FieldDstAddr).IP(0).String() != "10.0.0.2" {
		t.Fatalf("pass-through column = %q", got)
	}
	if _, err := ParseHeader([]byte("version srcaddr src_addr srcaddr")); err == nil || !strings.Contains(err.Error(), "duplicate") {
		t.Fatalf("duplicated header field: %v", err)
	}
	if _, err := ParseHeader([]byte("version log-status log_status")); err == nil {
		t.Fatal("log-status and log_status are the same field")
	}
	if v := DefaultFormat().Version(); v != 2 {
		t.Errorf("default version %d", v)
	}
}

func TestSniffAndResolve(t *testing.T) {
	f := func(input string, kind InputKind, formatHeader string) {
		t.Helper()
		if got := Sniff([]byte(input)); got != kind {
			t.Fatalf("Sniff(%.40q) = %v, want %v", input, got, kind)
		}
		if kind == InputSubscription || kind == InputEmpty {
			return
		}
		fm, err := ResolveFormat(kind, []byte(strings.SplitN(input, "\n", 2)[0]), nil)
		if err != nil {
			t.Fatal(err)
		}
		if fm.Header() != formatHeader {
			t.Fatalf("format %s, want %s", fm.Header(), formatHeader)
		}
	}
	def := DefaultFormat().Header()
	tgw := TGWDefaultFormat().Header()
	f("", InputEmpty, "")
	f(" \n\n", InputEmpty, "")
	f("version account-id srcaddr\n2 1 10.0.0.1\n", InputS3Text, "version account-id srcaddr")
	f("\ufeffversion account_id srcaddr\r\n", InputS3Text, "version account-id srcaddr")
	f("2 123456789010 eni-1 10.0.0.1 10.0.0.2 1 2 6 1 1 1 2 ACCEPT OK\n", InputRecords, def)
	f("eni-0a1b vpc-1 subnet-2\n", InputRecords, def)
	f("6 TransitGateway 123456789010 tgw-1\n", InputRecords, tgw)
	f("6 TransitGatewayAttachment 123456789010 tgw-1\n", InputRecords, tgw)
	f("2019-08-09T18:00:00.000Z 2 123456789010 eni-1 - - - - - - - 1 2 - NODATA\n", InputCloudWatchExport, def)
	f("2019-08-09T18:00:00Z 6 TransitGateway 1\n", InputCloudWatchExport, tgw)
	f("  {\"messageType\":\"DATA_MESSAGE\"}", InputSubscription, "")

	explicit, _ := ParseLogFormat("${srcaddr} ${dstaddr}")
	if fm, _ := ResolveFormat(InputRecords, []byte("6 TransitGateway"), explicit); fm != explicit {
		t.Fatal("an explicit format must win over detection")
	}
	hdr, _ := ResolveFormat(InputS3Text, []byte("srcaddr"), explicit)
	if hdr.Source != FromHeader {
		t.Fatal("the header must win over an explicit format")
	}
}

// TestBadLines checks each class of bad input with exact counts, and that a
// rejected line leaves no trace in the columns.
func TestBadLines(t *testing.T) {
	good := "2 123456789010 eni-1 10.0.0.1 10.0.0.2 443 22 6 10 840 1418530010 1418530070 ACCEPT OK"
	f := func(line string, reason Reason, field string) {
		t.Helper()
		b := parseLines(t, DefaultFormat(), good+"\n"+line+"\n"+good)
		if b.Len() != 2 || b.Stats.Invalid != 1 || b.Stats.ByReason[reason] != 1 {
			t.Fatalf("%q: %d records, %d invalid, by reason %v; want reason %v", line, b.Len(), b.Stats.Invalid, b.Stats.ByReason, reason)
		}
		s := b.Stats.Samples[0]
		if s.Line != 2 || s.Reason != reason || s.Field != field {
			t.Fatalf("%q: sample %+v, want line 2 field %q", line, s, field)
		}
		if rowText(b, 1) != good {
			t.Fatalf("%q: the next record was damaged: %s", line, rowText(b, 1))
		}
	}
	f("2 123456789010 eni-1 10.0.0.1 10.0.0.2 443 22 6 10 840 1418530010 ACCEPT OK", ReasonTooFewFields, "")
	f("2 123456789010 eni-1 - - - - - - - 1418530010 1418530070 -", ReasonTooFewFields, "")
	f(good+" extra", ReasonTooManyFields, "")
	f("2 123456789010 eni-1 10.0.0.1 10.0.0.2 443 65536 6 10 840 1418530010 1418530070 ACCEPT OK", ReasonOutOfRange, "dstport")
	f("2 123456789010 eni-1 10.0.0.1 10.0.0.2 443 22 256 10 840 1418530010 1418530070 ACCEPT OK", ReasonOutOfRange, "protocol")
	f("2147483648 123456789010 eni-1 10.0.0.1 10.0.0.2 443 22 6 10 840 1418530010 1418530070 ACCEPT OK", ReasonOutOfRange, "version")
	f("2 123456789010 eni-1 10.0.0.1 10.0.0.2 443 22 6 -10 840 1418530010 1418530070 ACCEPT OK", ReasonNegative, "packets")
	f("2 123456789010 eni-1 10.0.0.1 10.0.0.2 443 22 6 10 9223372036854775808 1418530010 1418530070 ACCEPT OK", ReasonOverflow, "bytes")
	f("2 123456789010 eni-1 10.0.0.1 10.0.0.2 443 22 6 10 18446744073709551626 1418530010 1418530070 ACCEPT OK", ReasonOverflow, "bytes")
	f("2 123456789010 eni-1 10.0.0.1 10.0.0.2 443 22 6 10 84x 1418530010 1418530070 ACCEPT OK", ReasonNotANumber, "bytes")
	f("2 123456789010 eni-1 10.0.0.1 10.0.0.2 443 22 6 10 840 +1418530010 1418530070 ACCEPT OK", ReasonNotANumber, "start")
	f("2 123456789010 eni-1 10.0.0.256 10.0.0.2 443 22 6 10 840 1418530010 1418530070 ACCEPT OK", ReasonBadIP, "srcaddr")
	f("2 123456789010 eni-1 10.0.0.1 10.0.2 443 22 6 10 840 1418530010 1418530070 ACCEPT OK", ReasonBadIP, "dstaddr")
	f("2 123456789010 eni-1 010.0.0.1 10.0.0.2 443 22 6 10 840 1418530010 1418530070 ACCEPT OK", ReasonBadIP, "srcaddr")
	f("2 123456789010 eni-1 fe80::1%eth0 10.0.0.2 443 22 6 10 840 1418530010 1418530070 ACCEPT OK", ReasonBadIP, "srcaddr")
	f("2 123456789010 eni-1 2001:db8::g 10.0.0.2 443 22 6 10 840 1418530010 1418530070 ACCEPT OK", ReasonBadIP, "srcaddr")
	f("2 123456789010 eni-1 host.example 10.0.0.2 443 22 6 10 840 1418530010 1418530070 ACCEPT OK", ReasonBadIP, "srcaddr")
	f(good+strings.Repeat(" x", DefaultMaxLineBytes), ReasonLineTooLong, "")
	f("2 123456789010 eni-\xff 10.0.0.1 10.0.0.2 443 22 6 10 840 1418530010 1418530070 ACCEPT OK", ReasonBadUTF8, "interface-id")
	f("2 123456789010 eni-1 10.0.0.1 10.0.0.2 443 22 6 10 840 1418530010 1418530070 ACCEPT O\xc3", ReasonBadUTF8, "log-status")

	// Valid UTF-8 beyond ASCII is text like any other.
	b := parseLines(t, DefaultFormat(), good+"\n2 123456789010 eni-é 10.0.0.1 10.0.0.2 443 22 6 10 840 1418530010 1418530070 ACCEPT OK")
	if b.Len() != 2 || b.Stats.Invalid != 0 || rowText(b, 1) != strings.Replace(good, "eni-1", "eni-é", 1) {
		t.Fatalf("UTF-8 text: %d records, %d invalid", b.Len(), b.Stats.Invalid)
	}

	// The maximum values are valid.
	b = parseLines(t, DefaultFormat(), "2 1 eni-1 255.255.255.255 0.0.0.0 65535 0 255 9223372036854775807 0 0 0 ACCEPT OK")
	if b.Len() != 1 || b.Column(FieldPackets).Int64(0) != 9223372036854775807 || b.Column(FieldSrcPort).Int32(0) != 65535 {
		t.Fatalf("maximum values: %d records %v", b.Len(), b.Stats.Samples)
	}
}

// TestTolerated covers what real files contain that is not an error: runs of
// spaces, trailing spaces and CR, blank lines, repeated header lines.
func TestTolerated(t *testing.T) {
	text := "2 1 eni-1  10.0.0.1 10.0.0.2 443 22 6 10 840 1 2 ACCEPT OK  \r\n" +
		"\n   \n" +
		"version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status\n" +
		"2 1 eni-1 10.0.0.1 10.0.0.2 443 22 6 10 840 1 2 ACCEPT OK"
	b := parseLines(t, DefaultFormat(), text)
	if b.Len() != 2 || b.Stats.Invalid != 0 || b.Stats.Blank != 2 || b.Stats.Headers != 1 || b.Stats.Lines != 5 {
		t.Fatalf("stats %+v, records %d", b.Stats, b.Len())
	}
	if rowText(b, 0) != rowText(b, 1) {
		t.Fatalf("rows differ: %s / %s", rowText(b, 0), rowText(b, 1))
	}
}

func TestCloudWatchExportLines(t *testing.T) {
	p := NewParser()
	p.StripTimestamp = true
	b := NewBatch(DefaultFormat())
	p.ParseBlock(b, []byte("2019-08-09T18:00:00.000Z 2 1 eni-1 10.0.0.1 10.0.0.2 443 22 6 10 840 1 2 ACCEPT OK\n"+
		"2 1 eni-1 10.0.0.1 10.0.0.2 443 22 6 10 840 1 2 ACCEPT OK\n"+
		"2019-08-09T18:00:00Z 2 1 eni-1 - - - - - - - 1 2 - NODATA\n"), 1)
	if b.Len() != 2 || b.Stats.ByReason[ReasonBadTimestamp] != 1 || b.Stats.Samples[0].Line != 2 {
		t.Fatalf("records %d, stats %+v", b.Len(), b.Stats)
	}
}

// TestIPv6Forms stores every RFC 4291/5952 text form exactly.
func TestIPv6Forms(t *testing.T) {
	fm, _ := ParseLogFormat("${srcaddr}")
	forms := []string{"::", "::1", "2001:db8::1", "2001:DB8::1", "2001:0db8:0000:0000:0000:0000:0000:0001",
		"2001:db8:0:0:1:0:0:1", "fe80::a:b:c:d", "::ffff:1.2.3.4", "64:ff9b::192.0.2.33", "ff02::2",
		"2001:db8:1234:a100:8d6e:3477:df66:f105", "1:2:3:4:5:6:7:8"}
	b := parseLines(t, fm, strings.Join(forms, "\n"))
	if b.Len() != len(forms) {
		t.Fatalf("%d of %d parsed: %v", b.Len(), len(forms), b.Stats.Samples)
	}
	c := b.Column(FieldSrcAddr)
	for i, s := range forms {
		want := netip.MustParseAddr(s).As16()
		if got := [16]byte(c.IPBytes()[16*i : 16*i+16]); got != want {
			t.Errorf("%s: stored %x, want %x", s, got, want)
		}
	}
	if got := c.IP(2).String(); got != "2001:db8::1" {
		t.Errorf("canonical form %s", got)
	}
	// IPv4 is stored IPv4-mapped: the same 16 bytes as ::ffff:a.b.c.d.
	b = parseLines(t, fm, "192.0.2.1")
	if got := [16]byte(b.Column(FieldSrcAddr).IPBytes()); got != netip.MustParseAddr("::ffff:192.0.2.1").As16() {
		t.Errorf("IPv4 layout %x", got)
	}
}

// TestZeroAllocs asserts that parsing allocates nothing per record in steady
// state, for valid records, NULLs, IPv6 and rejected lines alike.
func TestZeroAllocs(t *testing.T) {
	for _, format := range []string{DefaultLogFormat, v5Format, TGWDefaultLogFormat} {
		fm, _ := ParseLogFormat(format)
		lines := bench.NewGenerator(fm, 5).Lines(2000)
		lines = append(lines, "not a record", strings.Repeat("9 ", len(fm.Fields)))
		block := []byte(strings.Join(lines, "\n"))
		p := NewParser()
		p.MaxErrorSamples = 0
		b := NewBatch(fm)
		p.ParseBlock(b, block, 1)
		allocs := testing.AllocsPerRun(20, func() {
			b.Reset()
			p.ParseBlock(b, block, 1)
		})
		if allocs != 0 {
			t.Errorf("%d fields: %.1f allocations per block of %d records", len(fm.Fields), allocs, b.Len())
		}
		if b.Len() != 2000 || b.Stats.Invalid != 2 {
			t.Errorf("%d records, %d invalid", b.Len(), b.Stats.Invalid)
		}
	}
}

func TestReasonsHaveText(t *testing.T) {
	for _, r := range Reasons() {
		if s := r.String(); s == "" || strings.HasPrefix(s, "reason ") {
			t.Errorf("reason %d has no text", r)
		}
	}
	e := LineError{Line: 7, Reason: ReasonBadIP, Field: "srcaddr", Value: "x"}
	if got := e.Error(); got != `line 7: field srcaddr: invalid IP address: "x"` {
		t.Errorf("Error() = %s", got)
	}
	_ = fmt.Sprint(e)
}

// TestHeaderInside: a line inside a file that is the first header spelled
// otherwise (tabs, a byte-order mark, underscores, upper case) is skipped as
// a repeat; a header naming other fields ends the block at its line and
// gives its format; an invalid line of one or two field-like words is an
// invalid line.
func TestHeaderInside(t *testing.T) {
	good := "2 123456789010 eni-1 10.0.0.1 10.0.0.2 443 22 6 10 840 1418530010 1418530070 ACCEPT OK"
	header := DefaultFormat().Header()
	for _, c := range []struct {
		line           string
		records, other int64
		invalid        int64
	}{
		{strings.ReplaceAll(header, " ", "\t"), 2, 0, 0},
		{"\ufeff" + header, 2, 0, 0},
		{strings.ToUpper(strings.ReplaceAll(header, "-", "_")), 2, 0, 0},
		{"version srcaddr dstaddr", 1, 2, 0},
		{"type IPv4", 2, 0, 1},
		{"version srcaddr dstaddr srcaddr", 2, 0, 1},
	} {
		b := parseLines(t, DefaultFormat(), good+"\n"+c.line+"\n"+good)
		if int64(b.Len()) != c.records || b.OtherHeader != c.other || b.Stats.Invalid != c.invalid {
			t.Errorf("%q: %d records, other header at %d, %d invalid; want %d, %d, %d", c.line, b.Len(), b.OtherHeader, b.Stats.Invalid, c.records, c.other, c.invalid)
		}
		if next := b.NextFormat; (next != nil) != (c.other != 0) || next != nil && next.Header() != c.line {
			t.Errorf("%q: next format %v", c.line, next)
		}
	}
	// A header naming a field twice says so.
	b := parseLines(t, DefaultFormat(), good+"\nversion srcaddr dstaddr srcaddr\n"+good)
	if b.Stats.ByReason[ReasonRepeatedField] != 1 || b.Stats.Samples[0].Line != 2 {
		t.Errorf("repeated field: %v, samples %+v", b.Stats.ByReason, b.Stats.Samples)
	}
}

// TestNonASCIIFound: a block is checked for bytes outside ASCII 32 bytes
// at a time and then by its tail; a bad byte is found wherever it falls.
func TestNonASCIIFound(t *testing.T) {
	for pad := range 70 {
		line := "2 1 eni-" + strings.Repeat("a", pad) + "\xff 10.0.0.1 10.0.0.2 443 22 6 10 840 1418530010 1418530070 ACCEPT OK"
		for _, text := range []string{line, line + "\n", line[:len(line)-3]} {
			b := parseLines(t, DefaultFormat(), text)
			if b.Stats.Invalid != 1 || b.Stats.ByReason[ReasonBadUTF8]+b.Stats.ByReason[ReasonTooFewFields] != 1 {
				t.Fatalf("%q: %d invalid, by reason %v", text, b.Stats.Invalid, b.Stats.ByReason)
			}
		}
	}
}
