package parser

import (
	"fmt"
	"strconv"

	"github.com/apache/arrow-go/v18/arrow/memory"
)

// Reason says why a line was rejected.
type Reason uint8

// The reasons a line is skipped. The zero value means no error.
const (
	ReasonNone Reason = iota
	ReasonTooFewFields
	ReasonTooManyFields
	ReasonNotANumber
	ReasonNegative
	ReasonOverflow
	ReasonOutOfRange
	ReasonBadIP
	ReasonLineTooLong
	ReasonBadTimestamp
	ReasonBadEvent
	ReasonBadUTF8
	ReasonRepeatedField
	numReasons
)

var reasonText = [numReasons]string{
	ReasonNone:          "ok",
	ReasonTooFewFields:  "too few fields",
	ReasonTooManyFields: "too many fields",
	ReasonNotANumber:    "not a number",
	ReasonNegative:      "negative number",
	ReasonOverflow:      "number overflows int64",
	ReasonOutOfRange:    "number out of range",
	ReasonBadIP:         "invalid IP address",
	ReasonLineTooLong:   "line too long",
	ReasonBadTimestamp:  "missing CloudWatch export timestamp",
	ReasonBadEvent:      "invalid CloudWatch log event",
	ReasonBadUTF8:       "text is not valid UTF-8",
	ReasonRepeatedField: "header line names a field twice",
}

// String returns a short human description of the reason.
func (r Reason) String() string {
	if r < numReasons {
		return reasonText[r]
	}
	return "reason " + strconv.Itoa(int(r))
}

// Reasons returns every rejection reason, for reports.
func Reasons() []Reason {
	out := make([]Reason, 0, numReasons-1)
	for r := ReasonNone + 1; r < numReasons; r++ {
		out = append(out, r)
	}
	return out
}

// LineError describes one rejected line.
type LineError struct {
	Line   int64  // 1-based line number in the decompressed input (event number for subscription payloads)
	Reason Reason // why it was rejected
	Field  string // the offending field's name, when one field is to blame
	Value  string // the offending value or the line, its middle cut to "..." past maxSampleValue bytes
}

const maxSampleValue = 80

// Error formats the rejection as "line N: field F: reason: "value"".
func (e LineError) Error() string {
	s := "line " + strconv.FormatInt(e.Line, 10) + ": "
	if e.Field != "" {
		s += "field " + e.Field + ": "
	}
	s += e.Reason.String()
	if e.Value != "" {
		s += fmt.Sprintf(": %q", e.Value)
	}
	return s
}

// Stats counts what happened to the lines of an input.
type Stats struct {
	Lines   int64 // lines seen, header and blank lines included
	Records int64 // records appended
	Invalid int64 // lines rejected
	Blank   int64 // empty lines skipped
	Headers int64 // header lines skipped (the first, and repeats)
	// OutOfRange counts valid records skipped for a start outside the
	// Parser's Starts.
	OutOfRange int64
	ByReason   [numReasons]int64 // rejected lines per reason
	Samples    []LineError       // the first rejected lines, bounded
}

// Add adds o's counts to s and keeps samples up to max in total.
func (s *Stats) Add(o *Stats, maxSamples int) {
	s.Lines += o.Lines
	s.Records += o.Records
	s.Invalid += o.Invalid
	s.Blank += o.Blank
	s.Headers += o.Headers
	s.OutOfRange += o.OutOfRange
	for i := range s.ByReason {
		s.ByReason[i] += o.ByReason[i]
	}
	for _, e := range o.Samples {
		if len(s.Samples) >= maxSamples {
			break
		}
		s.Samples = append(s.Samples, e)
	}
}

// Reset clears the counts and keeps the sample storage.
func (s *Stats) Reset() {
	samples := s.Samples[:0]
	*s = Stats{Samples: samples}
}

// Batch is a set of parsed records stored column by column, one Column per
// field of the format, plus the counts of the lines that produced it. A Batch
// is reused through Reset; its buffers keep their capacity.
type Batch struct {
	Format  *Format
	Columns []Column
	Stats   Stats
	// OtherHeader is the number of a line that is a header naming other
	// fields than Format's, which ended the batch, or 0. The records after
	// it are not of Format: reading them with it would put values in the
	// wrong columns. NextFormat is the format it names, the one to read
	// the rest of the block with.
	OtherHeader int64
	NextFormat  *Format

	rows    int
	start   int // the index of the start column, or -1
	mem     memory.Allocator
	release func(*Batch)
	arrow   *arrowRefs // the Arrow view while one is alive
}

// NewBatch returns an empty batch for format f whose buffers come from Go's
// heap.
func NewBatch(f *Format) *Batch { return NewBatchWithAllocator(f, memory.DefaultAllocator) }

// NewBatchWithAllocator returns an empty batch for format f whose buffers
// come from mem; Free gives them back.
func NewBatchWithAllocator(f *Format, mem memory.Allocator) *Batch {
	b := &Batch{Format: f, Columns: make([]Column, len(f.Fields)), start: f.Index(FieldStart), mem: mem}
	for i, fld := range f.Fields {
		b.Columns[i] = newColumn(fld, mem)
	}
	return b
}

// Free returns the batch's buffers to its allocator; the batch must not be
// used afterwards.
func (b *Batch) Free() {
	for i := range b.Columns {
		b.Columns[i].free()
	}
	b.rows = 0
}

// Len returns the number of records.
func (b *Batch) Len() int { return b.rows }

// Reset empties the batch, keeping its buffers and its format.
func (b *Batch) Reset() {
	for i := range b.Columns {
		b.Columns[i].reset()
	}
	b.rows = 0
	b.OtherHeader, b.NextFormat = 0, nil
	b.Stats.Reset()
}

// Column returns the column of field id, or nil when the format lacks it.
func (b *Batch) Column(id FieldID) *Column {
	if i := b.Format.Index(id); i >= 0 {
		return &b.Columns[i]
	}
	return nil
}

// SetRelease installs the function Release calls, typically one that returns
// the batch to a pool.
func (b *Batch) SetRelease(fn func(*Batch)) { b.release = fn }

// Release hands the batch back to its owner (see SetRelease). The caller must
// not use the batch afterwards.
func (b *Batch) Release() {
	if b.release != nil {
		b.release(b)
	}
}

func (b *Batch) truncate(rows int) {
	for i := range b.Columns {
		b.Columns[i].truncate(rows)
	}
}

func (b *Batch) reject(line int64, r Reason, field string, value []byte, maxSamples int) {
	b.Stats.Reject(line, r, field, value, maxSamples)
}

// Reject counts one rejected line (not in Lines: the caller counts lines) and keeps it as a sample while fewer than
// maxSamples are kept. Only a kept sample allocates (a copy of value).
func (s *Stats) Reject(line int64, r Reason, field string, value []byte, maxSamples int) {
	s.Invalid++
	s.ByReason[r]++
	if len(s.Samples) >= maxSamples {
		return
	}
	v := string(value)
	if len(value) > maxSampleValue {
		// Both ends: a line's extra or missing fields are at its end.
		const keep = (maxSampleValue - 3) / 2
		v = string(value[:keep]) + "..." + string(value[len(value)-keep:])
	}
	s.Samples = append(s.Samples, LineError{Line: line, Reason: r, Field: field, Value: v})
}

// AppendText appends row i as a flow-log record in the batch's format: fields
// separated by one space, "-" for NULL, numbers in decimal, IP addresses in
// RFC 5952 form. A record parsed from single-spaced text in canonical form
// comes back byte for byte.
func (b *Batch) AppendText(dst []byte, i int) []byte {
	for j := range b.Columns {
		if j > 0 {
			dst = append(dst, ' ')
		}
		dst = b.Columns[j].AppendText(dst, i)
	}
	return dst
}

// AppendText appends the text of row i ("-" for NULL).
func (c *Column) AppendText(dst []byte, i int) []byte {
	if c.IsNull(i) {
		return append(dst, '-')
	}
	switch c.Field.Kind {
	case KindInt32:
		return strconv.AppendInt(dst, int64(c.i32[i]), 10)
	case KindInt64:
		return strconv.AppendInt(dst, c.i64[i], 10)
	case KindIP:
		return c.IP(i).AppendTo(dst)
	default:
		return append(dst, c.Bytes(i)...)
	}
}

// reserve makes room in every column for rows more records whose string
// values total at most dataBytes bytes, so that parsing never reallocates.
func (b *Batch) reserve(rows, dataBytes int) {
	for i := range b.Columns {
		b.Columns[i].reserve(rows, dataBytes)
	}
}
