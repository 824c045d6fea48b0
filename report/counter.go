package report

import (
	"cmp"
	"hash/maphash"
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
	seed     maphash.Seed
	// slots index entries by key, open-addressed: each holds the high 32
	// bits of its key's hash (where the key's probe starts and what a
	// probe compares first) and its entry's index+1; 0 is empty. A Go
	// map of the same keys spent three fifths of an eviction's time
	// deleting the evicted key (hashing its text again, cold in memory)
	// and looking the new one up.
	slots   []uint64
	entries []counted[K]   // kept in place: a heap move touches no key
	hashes  []uint32       // of the entries' keys: an evicted key's text, cold, is not read again
	heap    []heapSlot     // min-heap by sum of the entries
	at      []int32        // entry index → its place in heap
	compare func(K, K) int // orders keys of equal sums
	evicted bool           // some key was replaced: sums are upper bounds
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
	return &counter[K]{capacity: capacity, seed: maphash.MakeSeed(), slots: make([]uint64, 64), compare: compare}
}

// hash32 returns the high 32 bits of k's hash.
func (c *counter[K]) hash32(k K) uint32 { return uint32(maphash.Comparable(c.seed, k) >> 32) }

// find returns the index of k's entry, or -1.
func (c *counter[K]) find(k K, h uint32) int32 {
	mask := uint32(len(c.slots) - 1)
	for s := h & mask; ; s = (s + 1) & mask {
		v := c.slots[s]
		if v == 0 {
			return -1
		}
		if uint32(v>>32) == h && c.entries[uint32(v)-1].key == k {
			return int32(uint32(v)) - 1
		}
	}
}

// place records entry i, of hash h, in the first free slot of its probe,
// the slots being at most half full.
func (c *counter[K]) place(i int32, h uint32) {
	mask := uint32(len(c.slots) - 1)
	s := h & mask
	for c.slots[s] != 0 {
		s = (s + 1) & mask
	}
	c.slots[s] = uint64(h)<<32 | uint64(i+1)
}

// unplace removes entry i, of hash h, from the slots, moving back the
// entries after it in its run whose probes start at or before its slot
// (linear probing's deletion, Knuth's Algorithm R): no tombstones.
func (c *counter[K]) unplace(i int32, h uint32) {
	mask := uint32(len(c.slots) - 1)
	s := h & mask
	for uint32(c.slots[s]) != uint32(i+1) {
		s = (s + 1) & mask
	}
	for j := s; ; {
		j = (j + 1) & mask
		v := c.slots[j]
		if v == 0 {
			break
		}
		// v stays unless its probe starts cyclically outside (s, j].
		if home := uint32(v>>32) & mask; (j-home)&mask >= (j-s)&mask {
			c.slots[s] = v
			s = j
		}
	}
	c.slots[s] = 0
}

// grow doubles the slots once they would be more than half full.
func (c *counter[K]) grow() {
	if 2*(len(c.entries)+1) <= len(c.slots) {
		return
	}
	old := c.slots
	c.slots = make([]uint64, 2*len(old))
	for _, v := range old {
		if v != 0 {
			c.place(int32(uint32(v))-1, uint32(v>>32))
		}
	}
}

// add adds parts to the sums of k; a key is kept only once its sum is
// positive. clone, if not nil, copies a key before it is kept (strings that
// view Arrow buffers).
func (c *counter[K]) add(k K, parts [2]int64, clone func(K) K) {
	w := saturate.Add(parts[0], parts[1])
	h := c.hash32(k)
	if i := c.find(k, h); i >= 0 {
		e := &c.entries[i]
		e.sum = saturate.Add(e.sum, w)
		e.parts[0] = saturate.Add(e.parts[0], parts[0])
		e.parts[1] = saturate.Add(e.parts[1], parts[1])
		p := c.at[i]
		c.heap[p].sum = e.sum
		c.down(int(p))
		return
	}
	if w <= 0 {
		return
	}
	if clone != nil {
		k = clone(k)
	}
	if len(c.entries) < c.capacity {
		c.grow()
		i := int32(len(c.entries))
		c.entries = append(c.entries, counted[K]{key: k, sum: w, parts: parts})
		c.heap = append(c.heap, heapSlot{w, i})
		c.at = append(c.at, i)
		c.hashes = append(c.hashes, h)
		c.place(i, h)
		c.up(int(i))
		return
	}
	c.evicted = true
	i := c.heap[0].entry
	least := c.entries[i]
	c.unplace(i, c.hashes[i])
	c.entries[i] = counted[K]{key: k, sum: saturate.Add(least.sum, w), parts: parts, err: least.sum}
	c.hashes[i] = h
	c.place(i, h)
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
