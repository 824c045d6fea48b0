package parser

import (
	"net/netip"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow/memory"
)

// Column holds the values of one field for the records of a Batch, in Arrow's
// memory layout so that a later stage can wrap the buffers without copying:
// a validity bitmap (bit i set when row i is not NULL, least significant bit
// first) plus, by kind, int32 or int64 values, int32 string offsets (len n+1)
// and bytes, or 16-byte IP addresses. NULL rows hold zero values.
type Column struct {
	Field Field

	mem memory.Allocator // where every buffer below comes from

	valid []byte
	nulls int

	i32     []int32
	i64     []int64
	offsets []int32
	data    []byte
	ip      []byte
}

func newColumn(f Field, mem memory.Allocator) Column {
	c := Column{Field: f, mem: mem}
	if f.Kind == KindString {
		c.offsets = growCap(mem, c.offsets, 1)
	}
	c.reset()
	return c
}

// The buffers grow only through growCap, from the column's allocator, and
// only in reserve: the parser reserves room for a whole block up front, so
// the appends of the hot loop never reallocate.

// growCap returns s with capacity for at least n elements, reallocated
// through mem. Capacity always equals the allocated size, as Free needs.
func growCap[T byte | int32 | int64](mem memory.Allocator, s []T, n int) []T {
	if n <= cap(s) {
		return s
	}
	n = max(n, 2*cap(s), 64)
	var zero T
	size := int(unsafe.Sizeof(zero))
	b := mem.Reallocate(n*size, asBytes(s[:cap(s)]))
	return unsafe.Slice((*T)(unsafe.Pointer(unsafe.SliceData(b))), len(b)/size)[:len(s)]
}

// asBytes views a slice of fixed-size values as bytes.
func asBytes[T byte | int32 | int64](s []T) []byte {
	if cap(s) == 0 {
		return nil
	}
	var zero T
	return unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(s))), len(s)*int(unsafe.Sizeof(zero)))
}

func freeBuf[T byte | int32 | int64](mem memory.Allocator, s []T) {
	if cap(s) > 0 {
		mem.Free(asBytes(s[:cap(s)]))
	}
}

// reserve makes room for rows more rows holding up to dataBytes bytes of
// string values.
func (c *Column) reserve(rows, dataBytes int) {
	n := c.Len()
	c.valid = growCap(c.mem, c.valid, (n+rows)/8+1)
	switch c.Field.Kind {
	case KindInt32:
		c.i32 = growCap(c.mem, c.i32, n+rows)
	case KindInt64:
		c.i64 = growCap(c.mem, c.i64, n+rows)
	case KindIP:
		c.ip = growCap(c.mem, c.ip, 16*(n+rows))
	default:
		c.offsets = growCap(c.mem, c.offsets, n+rows+1)
		c.data = growCap(c.mem, c.data, len(c.data)+dataBytes)
	}
}

// free returns every buffer to the allocator.
func (c *Column) free() {
	freeBuf(c.mem, c.valid)
	freeBuf(c.mem, c.i32)
	freeBuf(c.mem, c.i64)
	freeBuf(c.mem, c.offsets)
	freeBuf(c.mem, c.data)
	freeBuf(c.mem, c.ip)
	*c = Column{Field: c.Field, mem: c.mem}
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
