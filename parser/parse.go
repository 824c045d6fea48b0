package parser

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"math/bits"
	"unicode/utf8"
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
	// Starts, when set, keeps only the records whose start is within it
	// (or NULL); the others are counted in Stats.OutOfRange, not as invalid.
	Starts TimeRange
}

// TimeRange is the Unix seconds [From, To); the zero value is no range.
type TimeRange struct{ From, To int64 }

// Set reports whether r limits anything.
func (r TimeRange) Set() bool { return r != TimeRange{} }

// NewParser returns a Parser with the default limits.
func NewParser() *Parser {
	return &Parser{MaxLineBytes: DefaultMaxLineBytes, MaxErrorSamples: DefaultMaxErrorSamples}
}

// ParseBlock appends to b the records of the newline-separated lines in block,
// whose first line has number firstLine. Bad lines are skipped and counted in
// b.Stats. A final line without a newline is parsed too. It returns the
// number of lines consumed and the lines left: none, unless a header line
// naming other fields than b's format ends the block (b.OtherHeader says
// which line, b.NextFormat what it names), after which rest is of that
// format.
func (p *Parser) ParseBlock(b *Batch, block []byte, firstLine int64) (lines int64, rest []byte) {
	// A record takes at least two bytes a field (a value and a separator or
	// newline), which bounds the rows of the block without counting lines.
	b.reserve(len(block)/(2*len(b.Columns))+1, len(block))
	// Blocks of flow logs are nearly always ASCII: checked whole at once,
	// their text fields need no UTF-8 check each.
	checkText := !isASCII(block)
	line := firstLine
	for len(block) > 0 {
		var l []byte
		if nl := bytes.IndexByte(block, '\n'); nl >= 0 {
			l, block = block[:nl], block[nl+1:]
		} else {
			l, block = block, nil
		}
		p.parseLine(b, l, line, checkText)
		line++
		if b.OtherHeader != 0 {
			return line - firstLine, block
		}
	}
	return line - firstLine, nil
}

// ParseLine appends the record of one line (without its newline) to b, or
// counts it as blank, a repeated header or invalid.
func (p *Parser) ParseLine(b *Batch, l []byte, lineNo int64) {
	b.reserve(1, len(l))
	p.parseLine(b, l, lineNo, !isASCII(l))
}

// parseLine is ParseLine once room for the line is reserved; checkText
// says whether the line may hold bytes outside ASCII.
func (p *Parser) parseLine(b *Batch, l []byte, lineNo int64, checkText bool) {
	b.Stats.Lines++
	for n := len(l); n > 0 && (l[n-1] == '\r' || l[n-1] == ' '); n-- {
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
	if rows&7 == 0 && len(b.Columns[0].valid) == rows>>3 {
		for i := range b.Columns {
			b.Columns[i].valid = append(b.Columns[i].valid, 0xff)
		}
	}
	r, col, tok := appendRecord(b.Columns, rec, rows, checkText)
	if r == ReasonNone {
		if p.Starts.Set() && !p.startWithin(b, rows) {
			b.truncate(rows)
			b.Stats.OutOfRange++
			return
		}
		b.rows = rows + 1
		b.Stats.Records++
		return
	}
	b.truncate(rows)
	if isHeaderRepeat(b.Format, rec) {
		b.Stats.Headers++
		return
	}
	if tokens, ok := headerTokens(rec); ok && tokens >= 3 {
		// The first header spelled otherwise (tabs, a byte-order mark,
		// underscores) is a repeat; another field list ends the block,
		// whose rest is read with it.
		f, err := ParseHeader(rec)
		switch {
		case err == nil:
			b.Stats.Headers++
			if f.String() != b.Format.String() {
				b.OtherHeader, b.NextFormat = lineNo, f
			}
			return
		case errors.Is(err, ErrDuplicateField):
			b.reject(lineNo, ReasonRepeatedField, "", l, p.MaxErrorSamples)
			return
		}
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

// appendRecord appends one record, fields separated by runs of spaces, to
// cols as row number row. On failure it returns the reason, the index of the
// offending column (-1 for a field-count error) and the offending token; cols
// may then hold a partial row. Each field is scanned once: the kind's parser
// finds the end of its own token. Text fields are checked to be UTF-8 when
// checkText is set (else l is known to be ASCII).
func appendRecord(cols []Column, l []byte, row int, checkText bool) (Reason, int, []byte) {
	pos, n := 0, len(l)
	for i := range cols {
		for pos < n && l[pos] == ' ' {
			pos++
		}
		if pos >= n {
			return ReasonTooFewFields, -1, nil
		}
		c := &cols[i]
		if l[pos] == '-' && (pos+1 == n || l[pos+1] == ' ') {
			c.appendNull(row)
			pos++
			continue
		}
		var end int
		var r Reason
		switch c.Field.Kind {
		case KindInt32:
			var v int64
			v, end, r = scanUint(l, pos)
			if r == ReasonNone {
				if v > c.Field.limit() {
					r = ReasonOutOfRange
				} else {
					c.i32 = append(c.i32, int32(v))
				}
			}
		case KindInt64:
			var v int64
			v, end, r = scanUint(l, pos)
			if r == ReasonNone {
				c.i64 = append(c.i64, v)
			}
		case KindIP:
			end, r = c.appendIP(l, pos)
		default:
			end = tokenEnd(l, pos)
			// Parquet's STRING columns must hold UTF-8: readers that
			// check (DuckDB) reject a whole file for one bad value.
			if tok := l[pos:end]; !checkText || isASCII(tok) || utf8.Valid(tok) {
				c.data = append(c.data, tok...)
				c.offsets = append(c.offsets, int32(len(c.data)))
			} else {
				r = ReasonBadUTF8
			}
		}
		if r != ReasonNone {
			// A misaligned record shows up as a bad value first: name the
			// real cause.
			if k := countTokens(l); k != len(cols) {
				return fieldCountReason(k, len(cols)), -1, nil
			}
			return r, i, l[pos:tokenEnd(l, pos)]
		}
		pos = end
	}
	for pos < n && l[pos] == ' ' {
		pos++
	}
	if pos < n {
		return ReasonTooManyFields, -1, nil
	}
	return ReasonNone, 0, nil
}

// countTokens counts the space-separated tokens of l.
func countTokens(l []byte) int {
	k := 0
	for pos := 0; pos < len(l); {
		if l[pos] == ' ' {
			pos++
			continue
		}
		k++
		pos = tokenEnd(l, pos)
	}
	return k
}

func fieldCountReason(got, want int) Reason {
	if got < want {
		return ReasonTooFewFields
	}
	return ReasonTooManyFields
}

// limit returns the largest valid value of an int32 field.
func (f *Field) limit() int64 {
	if f.Max != 0 {
		return f.Max
	}
	return math.MaxInt32
}

// isASCII reports whether b is all ASCII, 32 bytes at a step. Lines of flow
// logs nearly always are; utf8.Valid on each text field cost a sixth of the
// parser's time on formats of many text fields.
func isASCII(b []byte) bool {
	n := len(b)
	if n < 8 {
		var or byte
		for _, c := range b {
			or |= c
		}
		return or < 0x80
	}
	var a, c, d, e uint64
	i := 0
	for ; i+32 <= n; i += 32 {
		w := b[i : i+32 : i+32]
		a |= binary.LittleEndian.Uint64(w)
		c |= binary.LittleEndian.Uint64(w[8:])
		d |= binary.LittleEndian.Uint64(w[16:])
		e |= binary.LittleEndian.Uint64(w[24:])
	}
	for ; i+8 <= n; i += 8 {
		a |= binary.LittleEndian.Uint64(b[i:])
	}
	a |= binary.LittleEndian.Uint64(b[n-8:]) // the tail, overlapping
	return (a|c|d|e)&highBits == 0
}

// tokenEnd returns the index of the space that ends the token at pos, or
// len(l). Tokens are short: 8 bytes at a time beats IndexByte's call.
func tokenEnd(l []byte, pos int) int {
	for ; pos+8 <= len(l); pos += 8 {
		if spaces := zeroBytes(binary.LittleEndian.Uint64(l[pos:]) ^ 0x2020202020202020); spaces != 0 {
			return pos + bits.TrailingZeros64(spaces)>>3
		}
	}
	if i := bytes.IndexByte(l[pos:], ' '); i >= 0 {
		return pos + i
	}
	return len(l)
}

// scanUint parses the non-negative decimal integer at l[pos:] up to the next
// space, rejecting values that overflow int64 rather than wrapping or
// clamping them. It returns the value and the end of the token. A number
// of up to 15 digits followed by a space, with 16 bytes to read, is read 8
// bytes at a time; the first 18 digits of others, which cannot overflow, go
// through a loop without the check.
func scanUint(l []byte, pos int) (int64, int, Reason) {
	if pos+16 <= len(l) {
		x := binary.LittleEndian.Uint64(l[pos:]) ^ asciiZeros
		k := leadingDigits(x)
		if k < 8 {
			if k > 0 && l[pos+k] == ' ' {
				return int64(eightDigits(x << (64 - 8*k))), pos + k, ReasonNone
			}
		} else {
			y := binary.LittleEndian.Uint64(l[pos+8:]) ^ asciiZeros
			if k := leadingDigits(y); k < 8 && l[pos+8+k] == ' ' {
				v := int64(eightDigits(x)) * powersOf10[k]
				if k > 0 {
					v += int64(eightDigits(y << (64 - 8*k)))
				}
				return v, pos + 8 + k, ReasonNone
			}
		}
	}
	var v int64
	i := pos
	for lim := min(len(l), pos+18); i < lim; i++ {
		d := l[i] - '0'
		if d > 9 {
			if l[i] == ' ' {
				break
			}
			end := tokenEnd(l, i)
			return 0, end, badNumber(l[pos:end])
		}
		v = v*10 + int64(d)
	}
	for ; i < len(l) && l[i] != ' '; i++ { // 19 digits and more
		d := l[i] - '0'
		if d > 9 {
			end := tokenEnd(l, i)
			return 0, end, badNumber(l[pos:end])
		}
		if v > (math.MaxInt64-int64(d))/10 {
			return 0, tokenEnd(l, i), ReasonOverflow
		}
		v = v*10 + int64(d)
	}
	if i == pos {
		return 0, i, ReasonNotANumber
	}
	return v, i, ReasonNone
}

// The words that 8-byte scans use: each byte's high bit, and eight '0's.
const (
	highBits   = 0x8080808080808080
	asciiZeros = 0x3030303030303030
)

// leadingDigits returns how many of x's bytes, from the lowest, are digits,
// x being 8 bytes of text XORed with asciiZeros (digits became 0-9).
func leadingDigits(x uint64) int {
	notDigit := ((x&^highBits + 0x7676767676767676) | x) & highBits
	return bits.TrailingZeros64(notDigit) >> 3
}

// eightDigits returns the number of the 8 digit values in x's bytes, the
// most significant in the lowest byte.
func eightDigits(x uint64) uint64 {
	x = x*10 + x>>8 // pairs
	return ((x&0x000000FF000000FF)*(100+1000000<<32) + (x>>16&0x000000FF000000FF)*(1+10000<<32)) >> 32
}

var powersOf10 = [8]int64{1, 10, 100, 1000, 10000, 100000, 1000000, 10000000}

// zeroBytes sets the high bit of each of x's bytes that is zero, and no
// other bit.
func zeroBytes(x uint64) uint64 {
	return ^((x&^highBits + ^uint64(highBits)&^highBits) | x) & highBits
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

// appendIP parses the address at l[pos:] up to the next space and appends it
// as 16 bytes: a dotted quad on the fast path, IPv4-mapped; anything else
// through the IPv6 parser.
func (c *Column) appendIP(l []byte, pos int) (int, Reason) {
	if a, end, ok := scanIPv4(l, pos); ok {
		n := len(c.ip)
		c.ip = c.ip[:n+16] // reserved
		// IPv4-mapped: ten zero bytes, 0xffff, then the four octets.
		binary.LittleEndian.PutUint64(c.ip[n:], 0)
		binary.LittleEndian.PutUint64(c.ip[n+8:], 0xffff<<16|uint64(binary.LittleEndian.Uint32(a[:]))<<32)
		return end, ReasonNone
	}
	end := tokenEnd(l, pos)
	a16, ok := parseIPv6(l[pos:end])
	if !ok {
		return end, ReasonBadIP
	}
	c.ip = append(c.ip, a16[:]...)
	return end, ReasonNone
}

// scanIPv4 parses a dotted quad at l[pos:] ending at a space or the end of l.
// Leading zeros are rejected, as netip does, since some tools read them as
// octal. The four octets are read by an unrolled loop: no per-byte state.
func scanIPv4(l []byte, pos int) (a [4]byte, end int, ok bool) {
	i := pos
	for part := 0; part < 4; part++ {
		if part > 0 {
			if i >= len(l) || l[i] != '.' {
				return a, 0, false
			}
			i++
		}
		if i >= len(l) {
			return a, 0, false
		}
		v := uint(l[i]) - '0'
		if v > 9 {
			return a, 0, false
		}
		i++
		if i < len(l) {
			if d := uint(l[i]) - '0'; d <= 9 {
				if v == 0 {
					return a, 0, false
				}
				v = v*10 + d
				i++
				if i < len(l) {
					if d := uint(l[i]) - '0'; d <= 9 {
						v = v*10 + d
						i++
						if v > 255 {
							return a, 0, false
						}
					}
				}
			}
		}
		a[part] = byte(v)
	}
	if i < len(l) && l[i] != ' ' {
		return a, 0, false
	}
	return a, i, true
}

// parseIPv6 parses any RFC 4291 text form (including "::" and an embedded
// IPv4 tail); zones are rejected. It follows netip.ParseAddr, which it
// replaces for IPv6 (TestIPv6 compares the two): hex digits are read
// through a table, where netip branches three ways on each digit, which
// random groups mispredict (30 ns an AWS-shaped address, netip 44).
func parseIPv6(tok []byte) ([16]byte, bool) {
	var ip [16]byte
	ellipsis := -1 // where "::" is in ip
	i := 0
	if len(tok) >= 2 && tok[0] == ':' && tok[1] == ':' {
		ellipsis, i = 0, 2
		if i == len(tok) {
			return ip, true
		}
	}
	j := 0 // bytes of ip filled
	for j < 16 {
		off := i
		acc := uint32(0)
		for ; i < len(tok); i++ {
			v := hexValue[tok[i]]
			if v > 15 {
				break
			}
			acc = acc<<4 | uint32(v)
		}
		if n := i - off; n == 0 || n > 4 {
			return ip, false
		}
		if i < len(tok) && tok[i] == '.' { // an IPv4 tail, in the last 4 bytes
			if ellipsis < 0 && j != 12 || j+4 > 16 {
				return ip, false
			}
			a, end, ok := scanIPv4(tok, off)
			if !ok || end != len(tok) {
				return ip, false
			}
			copy(ip[j:], a[:])
			i, j = end, j+4
			break
		}
		ip[j], ip[j+1] = byte(acc>>8), byte(acc)
		j += 2
		if i == len(tok) {
			break
		}
		if tok[i] != ':' || i+1 == len(tok) {
			return ip, false
		}
		i++
		if tok[i] == ':' {
			if ellipsis >= 0 {
				return ip, false
			}
			ellipsis = j
			i++
			if i == len(tok) {
				break
			}
		}
	}
	if i != len(tok) {
		return ip, false
	}
	if ellipsis < 0 {
		return ip, j == 16
	}
	if j == 16 { // "::" stands for at least one group
		return ip, false
	}
	n := 16 - j
	copy(ip[ellipsis+n:], ip[ellipsis:j])
	clear(ip[ellipsis : ellipsis+n])
	return ip, true
}

// hexValue is each byte's value as a hex digit, 0xff when it is none.
var hexValue = func() (t [256]uint8) {
	for c := range t {
		switch {
		case c >= '0' && c <= '9':
			t[c] = uint8(c - '0')
		case c >= 'a' && c <= 'f':
			t[c] = uint8(c - 'a' + 10)
		case c >= 'A' && c <= 'F':
			t[c] = uint8(c - 'A' + 10)
		default:
			t[c] = 0xff
		}
	}
	return t
}()

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

// startWithin reports whether the start of row, just appended, is NULL or
// within p.Starts.
func (p *Parser) startWithin(b *Batch, row int) bool {
	if b.start < 0 {
		return true
	}
	c := &b.Columns[b.start]
	if c.IsNull(row) {
		return true
	}
	v := c.i64[len(c.i64)-1]
	return v >= p.Starts.From && v < p.Starts.To
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
