package pqfile

import (
	"encoding/binary"
	"hash/maphash"
	"math/bits"
)

// dictIndex maps the values of a column's dictionary to their indexes with
// open addressing and linear probing. It is several times faster than a Go
// map for this use: one hash, usually one probe, no interface or bucket
// machinery. A slot holds its key, so that a probe touches one cache line
// when the table has outgrown the caches (columns of many distinct values).
type dictIndex[K comparable] struct {
	slots  []dictSlot[K] // a power of two long
	shift  uint8         // 64 - log2(len(slots))
	hashes []uint64      // of the keys, by index: for re-placing them on growth
}

// dictSlot is one slot of a dictIndex: ref is the key's index+1, 0 when the
// slot is empty.
type dictSlot[K comparable] struct {
	key K
	ref int32
}

func (d *dictIndex[K]) reset() {
	clear(d.slots)
	d.hashes = d.hashes[:0]
}

// find returns the index of k, whose hash is h, or -1.
func (d *dictIndex[K]) find(k K, h uint64) int32 {
	if len(d.slots) == 0 {
		return -1
	}
	mask := uint64(len(d.slots) - 1)
	for i := h >> d.shift; ; i = (i + 1) & mask {
		s := &d.slots[i]
		if s.ref == 0 {
			return -1
		}
		if s.key == k {
			return s.ref - 1
		}
	}
}

// insert adds k, which must be absent, and returns its index.
func (d *dictIndex[K]) insert(k K, h uint64) int32 {
	if 2*(len(d.hashes)+1) > len(d.slots) {
		d.grow()
	}
	d.hashes = append(d.hashes, h)
	d.place(dictSlot[K]{k, int32(len(d.hashes))}, h)
	return int32(len(d.hashes) - 1)
}

func (d *dictIndex[K]) place(s dictSlot[K], h uint64) {
	mask := uint64(len(d.slots) - 1)
	i := h >> d.shift
	for d.slots[i].ref != 0 {
		i = (i + 1) & mask
	}
	d.slots[i] = s
}

// grow doubles the table (starting at 1024 slots) and re-places every key.
func (d *dictIndex[K]) grow() {
	old := d.slots
	n := max(1024, 2*len(old))
	d.slots = make([]dictSlot[K], n)
	d.shift = uint8(64 - bits.TrailingZeros(uint(n)))
	for _, s := range old {
		if s.ref != 0 {
			d.place(s, d.hashes[s.ref-1])
		}
	}
}

const (
	mul1 = 0x9e3779b97f4a7c15
	mul2 = 0xc2b2ae3d27d4eb4f
)

var stringSeed = maphash.MakeSeed()

func hashInt(v uint64) uint64 { return v * mul1 }

// ipKey is a 16-byte address as two words: compared without a memequal call.
type ipKey struct{ lo, hi uint64 }

func ipKeyOf(a [16]byte) ipKey {
	return ipKey{binary.LittleEndian.Uint64(a[:8]), binary.LittleEndian.Uint64(a[8:])}
}

func hashIP(k ipKey) uint64 { return k.lo*mul1 ^ k.hi*mul2 }

// hashBytes hashes a string value. Those of 4 to 32 bytes (account and
// interface ids, actions, statuses) are hashed inline from two to four
// word loads, overlapping when the length is not a multiple, and folded
// with 128-bit multiplies as wyhash does; maphash's call took a third of
// their dictionary lookup. The seed is random, as maphash's is.
func hashBytes(b []byte) uint64 {
	n := len(b)
	switch {
	case n >= 4 && n < 8:
		return mum(uint64(binary.LittleEndian.Uint32(b))^wordSeed, uint64(binary.LittleEndian.Uint32(b[n-4:]))^uint64(n)*mul2)
	case n >= 8 && n <= 16:
		return mum(binary.LittleEndian.Uint64(b)^wordSeed, binary.LittleEndian.Uint64(b[n-8:])^uint64(n)*mul2)
	case n > 16 && n <= 32:
		h := mum(binary.LittleEndian.Uint64(b)^wordSeed, binary.LittleEndian.Uint64(b[8:])^uint64(n)*mul2)
		return mum(binary.LittleEndian.Uint64(b[n-16:])^h, binary.LittleEndian.Uint64(b[n-8:])^mul1)
	}
	return maphash.Bytes(stringSeed, b)
}

// mum folds the 128-bit product of a and b to 64 bits.
func mum(a, b uint64) uint64 {
	hi, lo := bits.Mul64(a, b)
	return hi ^ lo
}

// wordSeed randomises hashBytes's inline hashes.
var wordSeed = maphash.Comparable(stringSeed, 0) | 1

// strIndex is dictIndex for byte strings kept in an arena (the column's
// PLAIN dictionary bytes): entries are offsets, so adding a value to the
// dictionary allocates nothing beyond the arena's growth. A slot holds the
// value's hash, offset and length: a probe reads the arena only when the
// hashes agree.
type strIndex struct {
	slots []strSlot // a power of two long
	shift uint8
	n     int // values held
}

// strSlot is one slot of a strIndex: ref is the value's index+1, 0 when the
// slot is empty.
type strSlot struct {
	hash     uint64
	off, len int32
	ref      int32
}

func (d *strIndex) reset() {
	clear(d.slots)
	d.n = 0
}

// find returns the index of s, whose hash is h, and where its text is in
// the arena; or -1.
func (d *strIndex) find(arena, s []byte, h uint64) (idx, off int32) {
	if len(d.slots) == 0 {
		return -1, 0
	}
	mask := uint64(len(d.slots) - 1)
	for i := h >> d.shift; ; i = (i + 1) & mask {
		e := &d.slots[i]
		if e.ref == 0 {
			return -1, 0
		}
		if e.hash == h && int(e.len) == len(s) && string(arena[e.off:e.off+e.len]) == string(s) {
			return e.ref - 1, e.off
		}
	}
}

// insert adds the value at arena[off:off+n], which must be absent.
func (d *strIndex) insert(off, n int, h uint64) int32 {
	if 2*(d.n+1) > len(d.slots) {
		old := d.slots
		size := max(1024, 2*len(old))
		d.slots = make([]strSlot, size)
		d.shift = uint8(64 - bits.TrailingZeros(uint(size)))
		for _, e := range old {
			if e.ref != 0 {
				d.place(e)
			}
		}
	}
	d.n++
	d.place(strSlot{hash: h, off: int32(off), len: int32(n), ref: int32(d.n)})
	return int32(d.n - 1)
}

func (d *strIndex) place(e strSlot) {
	mask := uint64(len(d.slots) - 1)
	i := e.hash >> d.shift
	for d.slots[i].ref != 0 {
		i = (i + 1) & mask
	}
	d.slots[i] = e
}

// denseIndex maps int64 values lying within a window of at most
// maxDenseSpan to their dictionary index+1, in an array: one access and no
// hash where dictIndex's table, for the tens of thousands of distinct times
// of a row group, outgrows the caches. Times of a partition fall within a
// day of seconds, small counts within a few thousand. A value that would
// stretch the window further freezes it for the row group: the values
// outside are then hashed, those inside still found here, so that counts
// with rare outliers (bytes and packets) keep the window for the many.
type denseIndex struct {
	lo     int64   // the value of refs[0]
	refs   []int32 // index+1 of value lo+i, 0 when absent
	frozen bool
}

// maxDenseSpan bounds the window: 1 MiB of refs, two days of seconds.
const maxDenseSpan = 1 << 18

// reset empties the index, its window going back to the pool.
func (d *denseIndex) reset() {
	int32Pool.put(d.refs)
	*d = denseIndex{}
}

// ref returns the slot of v, or nil when v lies outside a frozen window or
// too far from the values before it (the window is then frozen).
func (d *denseIndex) ref(v int64) *int32 {
	if o := uint64(v - d.lo); o < uint64(len(d.refs)) {
		return &d.refs[o]
	}
	if d.frozen || v < -1<<61 || v > 1<<61 { // spans below then stay far from overflow
		d.frozen = true
		return nil
	}
	if len(d.refs) == 0 { // the first value: a window around it
		d.refs = zeroed(4096)
		d.lo = v - 2048
		return &d.refs[2048]
	}
	lo, hi := min(d.lo, v), max(d.lo+int64(len(d.refs)), v+1)
	if hi-lo > maxDenseSpan {
		d.frozen = true
		return nil
	}
	size := min(max(2*len(d.refs), 1<<bits.Len64(uint64(hi-lo-1))), maxDenseSpan)
	if v < d.lo {
		lo = hi - int64(size)
	}
	refs := zeroed(size)
	copy(refs[d.lo-lo:], d.refs)
	int32Pool.put(d.refs)
	d.refs, d.lo = refs, lo
	return &d.refs[v-lo]
}

// zeroed returns n zeros, from the pool.
func zeroed(n int) []int32 {
	s := int32Pool.get(n)[:n]
	clear(s)
	return s
}
