package report

import (
	"cmp"
	"slices"

	"github.com/flowlens/flowlens/internal/saturate"
)

// counterCapacity bounds the keys a counter holds: about 100 bytes each.
const counterCapacity = 1 << 17

// counter sums two measures per key in bounded memory. While it holds at most
// its capacity of keys it is exact; past that it runs Space-Saving
// (Metwally, Agrawal, El Abbadi 2005): a new key replaces the lightest and
// inherits its sum as its possible error, so every sum is an upper bound at
// most its error above the truth, and every key whose true sum exceeds
// total/capacity is kept.
type counter[K comparable] struct {
	capacity int
	pos      map[K]int32    // key → index in entries
	entries  []counted[K]   // kept in place: a heap move touches no key
	heap     []heapSlot     // min-heap by sum of the entries
	at       []int32        // entry index → its place in heap
	compare  func(K, K) int // orders keys of equal sums
	evicted  bool           // some key was replaced: sums are upper bounds
}

// heapSlot is an entry's place in the heap, with a copy of its sum: a
// sift reads the heap alone, not entries scattered over megabytes.
type heapSlot struct {
	sum   int64
	entry int32
}

// counted is a key's sum, the two parts it is the sum of (bytes sent and
// received, say) and how much of the sum may belong to evicted keys (then
// the parts count only what was added since the key was last inserted).
type counted[K comparable] struct {
	key      K
	sum, err int64
	parts    [2]int64
}

func newCounter[K comparable](capacity int, compare func(K, K) int) *counter[K] {
	return &counter[K]{capacity: capacity, pos: map[K]int32{}, compare: compare}
}

// add adds parts to the sums of k; a key is kept only once its sum is
// positive. clone, if not nil, copies a key before it is kept (strings that
// view Arrow buffers).
func (c *counter[K]) add(k K, parts [2]int64, clone func(K) K) {
	w := saturate.Add(parts[0], parts[1])
	if i, ok := c.pos[k]; ok {
		e := &c.entries[i]
		e.sum = saturate.Add(e.sum, w)
		e.parts[0] = saturate.Add(e.parts[0], parts[0])
		e.parts[1] = saturate.Add(e.parts[1], parts[1])
		h := c.at[i]
		c.heap[h].sum = e.sum
		c.down(int(h))
		return
	}
	if w <= 0 {
		return
	}
	if clone != nil {
		k = clone(k)
	}
	if len(c.entries) < c.capacity {
		i := int32(len(c.entries))
		c.entries = append(c.entries, counted[K]{key: k, sum: w, parts: parts})
		c.heap = append(c.heap, heapSlot{w, i})
		c.at = append(c.at, i)
		c.pos[k] = i
		c.up(int(i))
		return
	}
	c.evicted = true
	i := c.heap[0].entry
	least := c.entries[i]
	delete(c.pos, least.key)
	c.entries[i] = counted[K]{key: k, sum: saturate.Add(least.sum, w), parts: parts, err: least.sum}
	c.pos[k] = i
	c.heap[0].sum = c.entries[i].sum
	c.down(0)
}

// top returns the n heaviest keys, heaviest first (ties by key).
func (c *counter[K]) top(n int) []counted[K] {
	out := slices.Clone(c.entries)
	slices.SortFunc(out, func(a, b counted[K]) int { return cmp.Or(cmp.Compare(b.sum, a.sum), c.compare(a.key, b.key)) })
	return out[:min(n, len(out))]
}

func (c *counter[K]) less(i, j int) bool { return c.heap[i].sum < c.heap[j].sum }

func (c *counter[K]) swap(i, j int) {
	c.heap[i], c.heap[j] = c.heap[j], c.heap[i]
	c.at[c.heap[i].entry] = int32(i)
	c.at[c.heap[j].entry] = int32(j)
}
func (c *counter[K]) up(i int) {
	for i > 0 {
		p := (i - 1) / 2
		if !c.less(i, p) {
			return
		}
		c.swap(i, p)
		i = p
	}
}

func (c *counter[K]) down(i int) {
	for {
		l := 2*i + 1
		if l >= len(c.heap) {
			return
		}
		m := l
		if r := l + 1; r < len(c.heap) && c.less(r, l) {
			m = r
		}
		if !c.less(m, i) {
			return
		}
		c.swap(i, m)
		i = m
	}
}
