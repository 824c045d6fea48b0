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

func hashBytes(b []byte) uint64 { return maphash.Bytes(stringSeed, b) }

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

// find returns the index of s, whose hash is h, or -1.
func (d *strIndex) find(arena, s []byte, h uint64) int32 {
	if len(d.slots) == 0 {
		return -1
	}
	mask := uint64(len(d.slots) - 1)
	for i := h >> d.shift; ; i = (i + 1) & mask {
		e := &d.slots[i]
		if e.ref == 0 {
			return -1
		}
		if e.hash == h && int(e.len) == len(s) && string(arena[e.off:e.off+e.len]) == string(s) {
			return e.ref - 1
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
