package pqfile

import (
	"math/bits"
	"sync"
)

// The buffers a column fills for a row group (its pages, dictionary and
// chunk) go back to these pools when the row group is written, and a
// column takes them again, as large as they grew last time, when it next
// gets values. A run keeps many files open, most of them idle at any time
// (one per table, region and day), and an idle file must not hold its
// buffers; growing them afresh for each row group, though, cost a few
// percent of a conversion in copying and clearing.
var (
	bytePool   classPool[byte]
	uint16Pool classPool[uint16]
	int32Pool  classPool[int32]
)

// classPool keeps slices by capacity class, a power of two.
type classPool[T any] struct{ classes [48]sync.Pool }

// minPooled is the smallest capacity worth pooling: smaller buffers are
// cheap to grow.
const minPooled = 4 << 10

// get returns an empty slice with room for at least n elements.
func (p *classPool[T]) get(n int) []T {
	c := bits.Len(uint(max(n, minPooled) - 1)) // the smallest class that holds n
	if v := p.classes[c].Get(); v != nil {
		return (*v.(*[]T))[:0]
	}
	return make([]T, 0, 1<<c)
}

// put gives b back to the pool; the caller must not use it any more.
func (p *classPool[T]) put(b []T) {
	if cap(b) < minPooled {
		return
	}
	b = b[:0]
	p.classes[bits.Len(uint(cap(b)))-1].Put(&b) // the largest class b holds
}

// pooledCap returns the capacity that get gives back for b after put (the
// class b is put in), or 0 when b is not pooled.
func pooledCap[T any](b []T) int {
	if cap(b) < minPooled {
		return 0
	}
	return 1 << (bits.Len(uint(cap(b))) - 1)
}

// take returns b, or a pooled buffer of hint elements when b has no room
// yet and the column had a buffer last row group.
func take[T any](p *classPool[T], b []T, hint int) []T {
	if cap(b) > 0 || hint == 0 {
		return b
	}
	return p.get(hint)
}

// maxChunkBlock bounds the blocks a column chunk is kept in.
const maxChunkBlock = 1 << 20

// blocks holds a column chunk's bytes in pooled blocks, each twice the
// last up to maxChunkBlock: an appended page is copied once, and a small
// chunk takes little. One growing slice copied its bytes again at every
// doubling, and cleared the new memory: 2 % of a conversion, in the first
// row group of every file, before its sizes are known.
type blocks struct {
	full [][]byte // the blocks filled
	cur  []byte   // the block being filled
	n    int      // bytes held
}

// append appends p.
func (b *blocks) append(p []byte) {
	b.n += len(p)
	for len(p) > 0 {
		if len(b.cur) == cap(b.cur) {
			if b.cur != nil {
				b.full = append(b.full, b.cur)
			}
			b.cur = bytePool.get(min(2*cap(b.cur), maxChunkBlock))
		}
		k := copy(b.cur[len(b.cur):cap(b.cur)], p)
		b.cur = b.cur[:len(b.cur)+k]
		p = p[k:]
	}
}

// writeTo writes the bytes held to w, in order.
func (b *blocks) writeTo(w func([]byte) error) error {
	for _, p := range b.full {
		if err := w(p); err != nil {
			return err
		}
	}
	return w(b.cur)
}

// reset gives the blocks back to the pool.
func (b *blocks) reset() {
	for _, p := range b.full {
		bytePool.put(p)
	}
	bytePool.put(b.cur)
	clear(b.full)
	b.full, b.cur, b.n = b.full[:0], nil, 0
}
