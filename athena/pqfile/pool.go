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
	bytePool  classPool[byte]
	int32Pool classPool[int32]
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
