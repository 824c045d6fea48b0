package aggregate

import (
	"encoding/binary"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/flowlens/flowlens/parser"
)

// Column writers fill Arrow buffers of a known length directly, without
// the builders' per-value bookkeeping: the conversations table has as many
// rows as a window has conversations, often nearly one per record.

// columnSet makes the column writers of a table of n rows.
type columnSet struct {
	mem memory.Allocator
	n   int
}

func columnsOf(mem memory.Allocator, n int) columnSet { return columnSet{mem, n} }

func (c columnSet) buffer(bytes int) *memory.Buffer {
	b := memory.NewResizableBuffer(c.mem)
	b.Resize(bytes)
	return b
}

// validity is a bitmap of set values, allocated at the first NULL.
type validity struct {
	c     columnSet
	bits  *memory.Buffer
	nulls int
}

func (v *validity) null(i int) {
	if v.bits == nil {
		v.bits = v.c.buffer(int(bitutil.BytesForBits(int64(v.c.n))))
		bitutil.SetBitsTo(v.bits.Bytes(), 0, int64(v.c.n), true)
	}
	bitutil.ClearBit(v.bits.Bytes(), i)
	v.nulls++
}

func (v *validity) data(dt arrow.DataType, bufs ...*memory.Buffer) arrow.ArrayData {
	data := array.NewData(dt, v.c.n, append([]*memory.Buffer{v.bits}, bufs...), nil, v.nulls, 0)
	if v.bits != nil {
		v.bits.Release()
	}
	for _, b := range bufs {
		b.Release()
	}
	return data
}

// fixedColumn holds fixed-width values of type T (int64, float64, int32),
// written straight into the Arrow buffer.
type fixedColumn[T int32 | int64 | float64] struct {
	validity
	dt   arrow.DataType
	buf  *memory.Buffer
	vals []T
}

func newFixedColumn[T int32 | int64 | float64](c columnSet, dt arrow.DataType) *fixedColumn[T] {
	var zero T
	b := c.buffer(c.n * int(unsafe.Sizeof(zero)))
	vals := unsafe.Slice((*T)(unsafe.Pointer(unsafe.SliceData(b.Bytes()))), c.n)
	return &fixedColumn[T]{validity: validity{c: c}, dt: dt, buf: b, vals: vals}
}

func (c *fixedColumn[T]) set(i int, v T) { c.vals[i] = v }

func (c *fixedColumn[T]) array() arrow.Array {
	d := c.data(c.dt, c.buf)
	defer d.Release()
	return array.MakeFromData(d)
}

type int64Column = fixedColumn[int64]

func (c columnSet) int64s() *int64Column { return newFixedColumn[int64](c, arrow.PrimitiveTypes.Int64) }

func (c columnSet) float64s() *fixedColumn[float64] {
	return newFixedColumn[float64](c, arrow.PrimitiveTypes.Float64)
}

// int32Column holds int32 values; negative ones are NULL.
type int32Column struct{ *fixedColumn[int32] }

func (c columnSet) int32s() int32Column {
	return int32Column{newFixedColumn[int32](c, arrow.PrimitiveTypes.Int32)}
}

func (c int32Column) set(i int, v int32) {
	if v < 0 {
		c.null(i)
		v = 0
	}
	c.vals[i] = v
}

// strColumn holds interned string ids (0 is NULL), written out at the end.
type strColumn struct {
	validity
	ids []uint32
}

func (c columnSet) strs() *strColumn {
	return &strColumn{validity: validity{c: c}, ids: make([]uint32, c.n)}
}

func (c *strColumn) set(i int, id uint32) {
	if id == 0 {
		c.null(i)
	}
	c.ids[i] = id
}

func (c *strColumn) array(strs []string) arrow.Array {
	size := 0
	for _, id := range c.ids {
		size += len(strs[id])
	}
	offBuf, valBuf := c.c.buffer((c.c.n+1)*4), c.c.buffer(size)
	offs := arrow.Int32Traits.CastFromBytes(offBuf.Bytes())
	vals := valBuf.Bytes()
	at := 0
	for i, id := range c.ids {
		offs[i] = int32(at)
		at += copy(vals[at:], strs[id])
	}
	offs[c.c.n] = int32(at)
	d := c.data(arrow.BinaryTypes.String, offBuf, valBuf)
	defer d.Release()
	return array.MakeFromData(d)
}

// addrColumn holds 16-byte addresses.
type addrColumn struct {
	validity
	buf  *memory.Buffer
	vals []byte
}

func (c columnSet) addrs() *addrColumn {
	b := c.buffer(c.n * 16)
	return &addrColumn{validity: validity{c: c}, buf: b, vals: b.Bytes()}
}

func (c *addrColumn) set(i int, a addr, ok bool) {
	if !ok {
		c.null(i)
		a = addr{}
	}
	binary.BigEndian.PutUint64(c.vals[16*i:], a.hi)
	binary.BigEndian.PutUint64(c.vals[16*i+8:], a.lo)
}

func (c *addrColumn) array() arrow.Array {
	d := c.data(parser.IPType, c.buf)
	defer d.Release()
	return array.MakeFromData(d)
}
