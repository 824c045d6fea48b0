package parser

import (
	"bytes"
	"math"
	"net/netip"
	"unsafe"
)

// Default limits of a Parser.
const (
	DefaultMaxLineBytes    = 64 << 10
	DefaultMaxErrorSamples = 16
)

// Parser turns blocks of text lines into records of a Batch. It knows nothing
// of files, compression or goroutines; a Parser holds only its settings, so
// one value may serve many goroutines, each with its own Batch.
type Parser struct {
	// MaxLineBytes rejects longer lines as ReasonLineTooLong.
	MaxLineBytes int
	// MaxErrorSamples bounds the LineError samples kept per batch.
	MaxErrorSamples int
	// StripTimestamp removes the leading ISO-8601 timestamp that CloudWatch
	// Logs exports put before each record.
	StripTimestamp bool
}

// NewParser returns a Parser with the default limits.
func NewParser() *Parser {
	return &Parser{MaxLineBytes: DefaultMaxLineBytes, MaxErrorSamples: DefaultMaxErrorSamples}
}

// ParseBlock appends to b the records of the newline-separated lines in block,
// whose first line has number firstLine. Bad lines are skipped and counted in
// b.Stats. A final line without a newline is parsed too. It returns the
// number of lines consumed.
func (p *Parser) ParseBlock(b *Batch, block []byte, firstLine int64) int64 {
	line := firstLine
	for len(block) > 0 {
		var l []byte
		if nl := bytes.IndexByte(block, '\n'); nl >= 0 {
			l, block = block[:nl], block[nl+1:]
		} else {
			l, block = block, nil
		}
		p.ParseLine(b, l, line)
		line++
	}
	return line - firstLine
}

// ParseLine appends the record of one line (without its newline) to b, or
// counts it as blank, a repeated header or invalid.
func (p *Parser) ParseLine(b *Batch, l []byte, lineNo int64) {
	b.Stats.Lines++
	if n := len(l); n > 0 && l[n-1] == '\r' {
		l = l[:n-1]
	}
	if isBlank(l) {
		b.Stats.Blank++
		return
	}
	if p.MaxLineBytes > 0 && len(l) > p.MaxLineBytes {
		b.reject(lineNo, ReasonLineTooLong, "", l, p.MaxErrorSamples)
		return
	}
	rec := l
	if p.StripTimestamp {
		var ok bool
		if rec, ok = cutExportTimestamp(l); !ok {
			b.reject(lineNo, ReasonBadTimestamp, "", l, p.MaxErrorSamples)
			return
		}
	}
	rows := b.rows
	r, col, tok := appendRecord(b.Columns, rec)
	if r == ReasonNone {
		b.rows = rows + 1
		b.Stats.Records++
		return
	}
	b.truncate(rows)
	if isHeaderRepeat(b.Format, rec) {
		b.Stats.Headers++
		return
	}
	field := ""
	if col >= 0 {
		field = b.Columns[col].Field.Name
	} else {
		tok = l
	}
	b.reject(lineNo, r, field, tok, p.MaxErrorSamples)
}

func isBlank(l []byte) bool {
	for _, c := range l {
		if c != ' ' && c != '\t' {
			return false
		}
	}
	return true
}

// appendRecord appends one space-separated record to cols. On failure it
// returns the reason, the index of the offending column (-1 for a field-count
// error) and the offending token; cols may then hold a partial row.
func appendRecord(cols []Column, l []byte) (Reason, int, []byte) {
	i, pos, n := 0, 0, len(l)
	for pos < n {
		if l[pos] == ' ' {
			pos++
			continue
		}
		end := bytes.IndexByte(l[pos:], ' ')
		if end < 0 {
			end = n
		} else {
			end += pos
		}
		if i == len(cols) {
			return ReasonTooManyFields, -1, nil
		}
		tok := l[pos:end]
		if r := cols[i].appendText(tok); r != ReasonNone {
			return r, i, tok
		}
		i++
		pos = end
	}
	if i < len(cols) {
		return ReasonTooFewFields, -1, nil
	}
	return ReasonNone, 0, nil
}

// appendText appends one non-empty token; "-" is NULL.
func (c *Column) appendText(tok []byte) Reason {
	if len(tok) == 1 && tok[0] == '-' {
		c.appendNull()
		return ReasonNone
	}
	switch c.Field.Kind {
	case KindInt32:
		v, r := parseUint(tok)
		if r != ReasonNone {
			return r
		}
		limit := int64(math.MaxInt32)
		if c.Field.Max != 0 {
			limit = c.Field.Max
		}
		if v > limit {
			return ReasonOutOfRange
		}
		c.i32 = append(c.i32, int32(v))
	case KindInt64:
		v, r := parseUint(tok)
		if r != ReasonNone {
			return r
		}
		c.i64 = append(c.i64, v)
	case KindIP:
		if a, ok := parseIPv4(tok); ok {
			c.ip = append(c.ip, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, a[0], a[1], a[2], a[3])
		} else if a16, ok := parseIPv6(tok); ok {
			c.ip = append(c.ip, a16[:]...)
		} else {
			return ReasonBadIP
		}
	default:
		c.data = append(c.data, tok...)
		c.offsets = append(c.offsets, int32(len(c.data)))
	}
	c.setValid(true)
	return ReasonNone
}

// parseUint parses a non-negative decimal integer without sign, rejecting
// values that overflow int64 rather than wrapping or clamping them.
func parseUint(tok []byte) (int64, Reason) {
	if len(tok) == 0 {
		return 0, ReasonNotANumber
	}
	if len(tok) <= 18 { // 18 digits cannot overflow int64: no check in the loop
		var v int64
		for _, c := range tok {
			d := c - '0'
			if d > 9 {
				return 0, badNumber(tok)
			}
			v = v*10 + int64(d)
		}
		return v, ReasonNone
	}
	var v int64
	for _, c := range tok {
		d := c - '0'
		if d > 9 {
			return 0, badNumber(tok)
		}
		if v > (math.MaxInt64-int64(d))/10 {
			return 0, ReasonOverflow
		}
		v = v*10 + int64(d)
	}
	return v, ReasonNone
}

// badNumber classifies a token that is not a non-negative integer.
func badNumber(tok []byte) Reason {
	if len(tok) > 1 && tok[0] == '-' {
		for _, c := range tok[1:] {
			if c-'0' > 9 {
				return ReasonNotANumber
			}
		}
		return ReasonNegative
	}
	return ReasonNotANumber
}

// parseIPv4 parses a dotted quad. Leading zeros are rejected, as netip does,
// since they are read as octal by some tools.
func parseIPv4(tok []byte) (a [4]byte, ok bool) {
	if len(tok) < 7 || len(tok) > 15 {
		return a, false
	}
	part, octet, digits := 0, 0, 0
	for _, c := range tok {
		if c == '.' {
			if digits == 0 || part == 3 {
				return a, false
			}
			a[part] = byte(octet)
			part, octet, digits = part+1, 0, 0
			continue
		}
		d := int(c) - '0'
		if d < 0 || d > 9 || (digits == 1 && octet == 0) {
			return a, false
		}
		octet = octet*10 + d
		digits++
		if octet > 255 {
			return a, false
		}
	}
	if part != 3 || digits == 0 {
		return a, false
	}
	a[3] = byte(octet)
	return a, true
}

// parseIPv6 parses any RFC 4291 text form (including "::" and an embedded
// IPv4 tail); zones are rejected. It does not allocate on success.
func parseIPv6(tok []byte) ([16]byte, bool) {
	if bytes.IndexByte(tok, ':') < 0 {
		return [16]byte{}, false
	}
	// The string view lives only during the call; ParseAddr keeps no reference
	// to it on success.
	addr, err := netip.ParseAddr(unsafe.String(unsafe.SliceData(tok), len(tok)))
	if err != nil || addr.Zone() != "" {
		return [16]byte{}, false
	}
	return addr.As16(), true
}

// cutExportTimestamp removes the "2019-08-09T18:00:00.000Z " prefix of a
// CloudWatch Logs export line.
func cutExportTimestamp(l []byte) ([]byte, bool) {
	n := exportTimestampLen(l)
	if n == 0 {
		return nil, false
	}
	return l[n:], true
}

// exportTimestampLen returns the length of a leading ISO-8601 UTC timestamp
// and the spaces after it ("YYYY-MM-DDTHH:MM:SS[.fff]Z "), or 0.
func exportTimestampLen(l []byte) int {
	const pattern = "dddd-dd-ddTdd:dd:dd"
	if len(l) < len(pattern)+2 {
		return 0
	}
	for i := 0; i < len(pattern); i++ {
		c := l[i]
		if pattern[i] == 'd' {
			if c-'0' > 9 {
				return 0
			}
		} else if c != pattern[i] {
			return 0
		}
	}
	i := len(pattern)
	if l[i] == '.' {
		i++
		for i < len(l) && l[i]-'0' <= 9 {
			i++
		}
	}
	if i >= len(l) || l[i] != 'Z' {
		return 0
	}
	i++
	if i >= len(l) || l[i] != ' ' {
		return 0
	}
	for i < len(l) && l[i] == ' ' {
		i++
	}
	return i
}

// isHeaderRepeat reports whether l is a header line of format f, as found
// where files were concatenated. It does not allocate.
func isHeaderRepeat(f *Format, l []byte) bool {
	i, pos := 0, 0
	for pos < len(l) {
		if l[pos] == ' ' {
			pos++
			continue
		}
		end := bytes.IndexByte(l[pos:], ' ')
		if end < 0 {
			end = len(l)
		} else {
			end += pos
		}
		if i >= len(f.Fields) || !sameFieldName(l[pos:end], f.Fields[i].Name) {
			return false
		}
		i++
		pos = end
	}
	return i == len(f.Fields)
}

// sameFieldName compares a header token with a canonical (lowercase,
// hyphenated) field name, accepting underscores and upper case in tok.
func sameFieldName(tok []byte, name string) bool {
	if len(tok) != len(name) {
		return false
	}
	for i, c := range tok {
		if c == '_' {
			c = '-'
		} else if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != name[i] {
			return false
		}
	}
	return true
}
