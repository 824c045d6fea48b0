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
	pos      map[K]int      // key → index in heap
	heap     []counted[K]   // min-heap by sum
	compare  func(K, K) int // orders keys of equal sums
	evicted  bool           // some key was replaced: sums are upper bounds
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
	return &counter[K]{capacity: capacity, pos: map[K]int{}, compare: compare}
}

// add adds parts to the sums of k; a key is kept only once its sum is
// positive. clone, if not nil, copies a key before it is kept (strings that
// view Arrow buffers).
func (c *counter[K]) add(k K, parts [2]int64, clone func(K) K) {
	w := saturate.Add(parts[0], parts[1])
	if i, ok := c.pos[k]; ok {
		e := &c.heap[i]
		e.sum = saturate.Add(e.sum, w)
		e.parts[0] = saturate.Add(e.parts[0], parts[0])
		e.parts[1] = saturate.Add(e.parts[1], parts[1])
		c.down(i)
		return
	}
	if w <= 0 {
		return
	}
	if clone != nil {
		k = clone(k)
	}
	if len(c.heap) < c.capacity {
		c.heap = append(c.heap, counted[K]{key: k, sum: w, parts: parts})
		c.pos[k] = len(c.heap) - 1
		c.up(len(c.heap) - 1)
		return
	}
	c.evicted = true
	least := c.heap[0]
	delete(c.pos, least.key)
	c.heap[0] = counted[K]{key: k, sum: saturate.Add(least.sum, w), parts: parts, err: least.sum}
	c.pos[k] = 0
	c.down(0)
}

// top returns the n heaviest keys, heaviest first (ties by key).
func (c *counter[K]) top(n int) []counted[K] {
	out := slices.Clone(c.heap)
	slices.SortFunc(out, func(a, b counted[K]) int { return cmp.Or(cmp.Compare(b.sum, a.sum), c.compare(a.key, b.key)) })
	return out[:min(n, len(out))]
}

func (c *counter[K]) less(i, j int) bool { return c.heap[i].sum < c.heap[j].sum }

func (c *counter[K]) swap(i, j int) {
	c.heap[i], c.heap[j] = c.heap[j], c.heap[i]
	c.pos[c.heap[i].key] = i
	c.pos[c.heap[j].key] = j
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
