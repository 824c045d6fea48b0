package parser_test

// The tests are an external package so that they can use bench's generator,
// which imports parser; the dot import keeps them readable, the use the Go
// FAQ names for dot imports.

import (
	"bytes"
	. "github.com/flowlens/flowlens/parser"
	"testing"
)

// FuzzParseLine feeds arbitrary lines to the parser in the default and the
// v5 formats. It must never panic, must keep the columns consistent, and a
// record it accepts must round-trip: rendered back and parsed again, it gives
// the same record.
func FuzzParseLine(f *testing.F) {
	for _, s := range []string{
		"2 123456789010 eni-1235b8ca123456789 172.31.16.139 172.31.16.21 20641 22 6 20 4249 1418530010 1418530070 ACCEPT OK",
		"2 123456789010 eni-1235b8ca123456789 - - - - - - - 1431280876 1431280934 - NODATA",
		"2 123456789010 eni-1 2001:db8::1 ::ffff:1.2.3.4 1 2 58 1 1 1 1 REJECT OK",
		"2 1 e 1.2.3.4 5.6.7.8 65535 0 255 9223372036854775807 0 0 0 A B\r",
		"5 52.95.128.179 10.0.0.71 80 34210 6 1616729292 1616729349 IPv4 14 15044 123456789012 vpc-abcdefab012345678 subnet-aaaaaaaa012345678 i-0c50d5961bcb2d47b eni-1235b8ca123456789 ap-southeast-2 apse2-az3 - - ACCEPT 19 52.95.128.179 10.0.0.71 S3 - - ingress OK",
		"  2  1 e 1.2.3.4 5.6.7.8 1 2 3 4 5 6 7 A B  ",
		"2 1 e 1.2.3.04 5.6.7.8 1 2 3 4 5 6 7 A B",
		"2 1 e 1.2.3.4 5.6.7.8 1 2 3 4 99999999999999999999 6 7 A B",
	} {
		f.Add([]byte(s))
	}
	v5, err := ParseLogFormat(v5Format)
	if err != nil {
		f.Fatal(err)
	}
	formats := []*Format{DefaultFormat(), v5}
	p := NewParser()
	f.Fuzz(func(t *testing.T, line []byte) {
		line = bytes.ReplaceAll(line, []byte{'\n'}, []byte{' '})
		for _, fm := range formats {
			b := NewBatch(fm)
			p.ParseLine(b, line, 1)
			checkInvariants(t, b)
			if got := b.Stats.Records + b.Stats.Invalid + b.Stats.Blank + b.Stats.Headers; got != 1 || b.Stats.Lines != 1 {
				t.Fatalf("line counted %d times: %+v", got, b.Stats)
			}
			if b.Len() == 0 {
				continue
			}
			text := b.AppendText(nil, 0)
			again := NewBatch(fm)
			p.ParseLine(again, text, 1)
			if again.Len() != 1 {
				t.Fatalf("rendered record %q did not parse again: %v", text, again.Stats.Samples)
			}
			if got := again.AppendText(nil, 0); !bytes.Equal(got, text) {
				t.Fatalf("round trip changed the record:\n%q\n%q", text, got)
			}
		}
	})
}
