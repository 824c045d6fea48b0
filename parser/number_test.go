package parser_test

import (
	"math/rand/v2"
	"net/netip"
	"strconv"
	"strings"
	"testing"

	. "github.com/flowlens/flowlens/parser"
)

// TestNumbers parses random tokens in integer fields, near a line's start
// (read 8 bytes at a time) and at its end (read byte by byte), and checks
// each against strconv: a token is a value exactly when it is digits that
// fit an int64, and then it is that value.
func TestNumbers(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	const alphabet = "0123456789012345678901234567890123456789-.ax "
	token := func() string {
		n := 1 + rng.IntN(21)
		var b strings.Builder
		for range n {
			if rng.IntN(8) == 0 {
				b.WriteByte(alphabet[rng.IntN(len(alphabet)-1)])
			} else {
				b.WriteByte('0' + byte(rng.IntN(10)))
			}
		}
		return strings.Trim(b.String(), " ")
	}
	p := NewParser()
	f := DefaultFormat()
	for i := 0; i < 20000; i++ {
		tok := token()
		if tok == "" || tok == "-" || strings.Contains(tok, " ") {
			continue
		}
		fields := strings.Fields("2 123456789012 eni-1 1.2.3.4 5.6.7.8 1 2 6 1 1 1 1 ACCEPT OK")
		at := []int{8, 9, 11}[i%3] // packets, bytes, end
		fields[at] = tok
		line := strings.Join(fields, " ")
		b := NewBatch(f)
		p.ParseLine(b, []byte(line), 1)
		v, err := strconv.ParseInt(tok, 10, 64)
		valid := err == nil && v >= 0 && tok[0] != '+' && tok[0] != '-'
		if !valid {
			if b.Len() != 0 {
				t.Fatalf("%q accepted: %q", tok, b.AppendText(nil, 0))
			}
			continue
		}
		if b.Len() != 1 {
			t.Fatalf("%q rejected: %v", tok, b.Stats.Samples)
		}
		if got := strings.Fields(string(b.AppendText(nil, 0)))[at]; got != strconv.FormatInt(v, 10) {
			t.Fatalf("%q read as %s, want %d", tok, got, v)
		}
	}
}

// TestIPv4 parses random tokens of digits and dots as addresses, in mid-line
// and at a line's end, and checks each against netip: a token is an
// address exactly when netip reads it as IPv4, and then it is that
// address.
func TestIPv4(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	token := func() string {
		var b strings.Builder
		parts := 3 + rng.IntN(3)
		for k := range parts {
			if k > 0 {
				b.WriteByte('.')
			}
			switch rng.IntN(12) {
			case 0: // empty
			case 1:
				b.WriteString("0" + strconv.Itoa(rng.IntN(30)))
			case 2:
				b.WriteString(strconv.Itoa(250 + rng.IntN(800)))
			case 3:
				b.WriteString(strconv.Itoa(rng.IntN(10)) + "x")
			default:
				b.WriteString(strconv.Itoa(rng.IntN(256)))
			}
		}
		return b.String()
	}
	p := NewParser()
	for i := 0; i < 30000; i++ {
		tok := token()
		a, err := netip.ParseAddr(tok)
		ok := addressTrial(t, p, tok, 3+i%2, a, err == nil && a.Is4())
		// At the end of a line, fewer than 16 bytes on, it is read byte by
		// byte: the same verdict.
		b := NewBatch(tailFormat)
		p.ParseLine(b, []byte("2 "+tok), 1)
		if b.Len() != 1 && ok || b.Len() != 0 && !ok {
			t.Fatalf("%q at a line's end: %d records, want valid %v", tok, b.Len(), ok)
		}
		if ok {
			if got := strings.Fields(string(b.AppendText(nil, 0)))[1]; got != a.String() {
				t.Fatalf("%q at a line's end read as %s", tok, got)
			}
		}
	}
}

var tailFormat, _ = ParseLogFormat("${version} ${srcaddr}")

var trialFormat = DefaultFormat()

// addressTrial parses a default-format line whose field at (srcaddr or
// dstaddr) is tok, and checks it against want, netip's reading of tok: the
// line is accepted exactly when ok, and then the field reads as want. It
// returns ok.
func addressTrial(t *testing.T, p *Parser, tok string, at int, want netip.Addr, ok bool) bool {
	t.Helper()
	fields := strings.Fields("2 123456789012 eni-1 1.2.3.4 5.6.7.8 1 2 6 1 1 1 1 ACCEPT OK")
	fields[at] = tok
	b := NewBatch(trialFormat)
	p.ParseLine(b, []byte(strings.Join(fields, " ")), 1)
	if !ok {
		if b.Len() != 0 {
			t.Fatalf("%q accepted: %q", tok, b.AppendText(nil, 0))
		}
		return false
	}
	if b.Len() != 1 {
		t.Fatalf("%q rejected: %v", tok, b.Stats.Samples)
	}
	if got := strings.Fields(string(b.AppendText(nil, 0)))[at]; got != want.Unmap().String() {
		t.Fatalf("%q read as %s, want %s", tok, got, want.Unmap())
	}
	return true
}

// TestIPv6 parses random tokens of hex groups, colons and "::", some with
// an IPv4 tail or a stray character, as addresses and checks each against
// netip: a token is an address exactly when netip reads it as IPv6
// without a zone, and then it is that address.
func TestIPv6(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	const hex = "0123456789abcdefABCDEF"
	token := func() string {
		var b strings.Builder
		groups := 1 + rng.IntN(9)
		for k := range groups {
			if k > 0 || rng.IntN(8) == 0 {
				b.WriteByte(':')
				if rng.IntN(6) == 0 {
					b.WriteByte(':')
				}
			}
			n := rng.IntN(6)
			if rng.IntN(3) > 0 {
				n = 1 + rng.IntN(4)
			}
			for range n {
				b.WriteByte(hex[rng.IntN(len(hex))])
			}
		}
		switch rng.IntN(10) {
		case 0:
			b.WriteString(":" + strconv.Itoa(rng.IntN(300)) + "." + strconv.Itoa(rng.IntN(256)) + ".0." + strconv.Itoa(rng.IntN(256)))
		case 1:
			b.WriteString("::")
		case 2:
			b.WriteByte(":%.g"[rng.IntN(4)])
		}
		return b.String()
	}
	p := NewParser()
	accepted := 0
	for i := 0; i < 60000; i++ {
		tok := token()
		a, err := netip.ParseAddr(tok)
		if addressTrial(t, p, tok, 3+i%2, a, err == nil && a.Is6() && a.Zone() == "") {
			accepted++
		}
	}
	if accepted < 5000 {
		t.Fatalf("only %d of the tokens were addresses: the test tries too few", accepted)
	}
}
