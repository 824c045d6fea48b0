package parser

import (
	"net/netip"
)

// Column holds the values of one field for the records of a Batch, in Arrow's
// memory layout so that a later stage can wrap the buffers without copying:
// a validity bitmap (bit i set when row i is not NULL, least significant bit
// first) plus, by kind, int32 or int64 values, int32 string offsets (len n+1)
// and bytes, or 16-byte IP addresses. NULL rows hold zero values.
type Column struct {
	Field Field

	valid []byte
	nulls int

	i32     []int32
	i64     []int64
	offsets []int32
	data    []byte
	ip      []byte
}

func newColumn(f Field) Column {
	c := Column{Field: f}
	c.reset()
	return c
}

func (c *Column) reset() {
	c.valid = c.valid[:0]
	c.nulls = 0
	c.i32 = c.i32[:0]
	c.i64 = c.i64[:0]
	c.data = c.data[:0]
	c.ip = c.ip[:0]
	if c.Field.Kind == KindString {
		c.offsets = append(c.offsets[:0], 0)
	}
}

// Len returns the number of rows.
func (c *Column) Len() int {
	switch c.Field.Kind {
	case KindInt32:
		return len(c.i32)
	case KindInt64:
		return len(c.i64)
	case KindIP:
		return len(c.ip) / 16
	default:
		return len(c.offsets) - 1
	}
}

// NullCount returns the number of NULL rows.
func (c *Column) NullCount() int { return c.nulls }

// IsNull reports whether row i is NULL.
func (c *Column) IsNull(i int) bool { return c.valid[i>>3]&(1<<(i&7)) == 0 }

// Int32 returns row i of an int32 column.
func (c *Column) Int32(i int) int32 { return c.i32[i] }

// Int64 returns row i of an int64 column.
func (c *Column) Int64(i int) int64 { return c.i64[i] }

// Bytes returns row i of a string column. The slice aliases the column's
// buffer: it is valid until the batch is reset.
func (c *Column) Bytes(i int) []byte { return c.data[c.offsets[i]:c.offsets[i+1]] }

// IP returns row i of an IP column (the zero Addr when NULL). IPv4 addresses
// come back as IPv4, not IPv4-mapped IPv6.
func (c *Column) IP(i int) netip.Addr {
	if c.IsNull(i) {
		return netip.Addr{}
	}
	return netip.AddrFrom16([16]byte(c.ip[i*16 : i*16+16])).Unmap()
}

// Validity returns the validity bitmap: at least (Len()+7)/8 bytes; bits
// past Len() are set.
func (c *Column) Validity() []byte { return c.valid }

// Int32Values returns the values of an int32 column.
func (c *Column) Int32Values() []int32 { return c.i32 }

// Int64Values returns the values of an int64 column.
func (c *Column) Int64Values() []int64 { return c.i64 }

// Offsets returns the Len()+1 string offsets of a string column.
func (c *Column) Offsets() []int32 { return c.offsets }

// Data returns the concatenated bytes of a string column.
func (c *Column) Data() []byte { return c.data }

// IPBytes returns the 16-byte addresses of an IP column, 16*Len() bytes.
func (c *Column) IPBytes() []byte { return c.ip }

// The validity bitmap is kept by row, not by value: a Batch appends a byte
// of ones to every column before each eighth row, and a NULL clears its bit.
// So a valid value costs no bitmap work, which is most of them.

// nullAt clears the validity bit of row.
func (c *Column) nullAt(row int) {
	c.valid[row>>3] &^= 1 << (row & 7)
	c.nulls++
}

func (c *Column) appendNull(row int) {
	switch c.Field.Kind {
	case KindInt32:
		c.i32 = append(c.i32, 0)
	case KindInt64:
		c.i64 = append(c.i64, 0)
	case KindIP:
		c.ip = append(c.ip, zeroIP[:]...)
	default:
		c.offsets = append(c.offsets, int32(len(c.data)))
	}
	c.nullAt(row)
}

var zeroIP [16]byte

// truncate drops the values of rows from n on; it undoes a partly appended
// record. Validity bits of dropped rows are set again.
func (c *Column) truncate(n int) {
	for i := n; i < c.Len(); i++ {
		if c.IsNull(i) {
			c.nulls--
			c.valid[i>>3] |= 1 << (i & 7)
		}
	}
	switch c.Field.Kind {
	case KindInt32:
		c.i32 = c.i32[:n]
	case KindInt64:
		c.i64 = c.i64[:n]
	case KindIP:
		c.ip = c.ip[:16*n]
	default:
		c.offsets = c.offsets[:n+1]
		c.data = c.data[:c.offsets[n]]
	}
}
