package pqfile

import (
	"encoding/binary"
	"hash/maphash"
	"math/bits"
)

// dictIndex maps the values of a column's dictionary to their indexes with
// open addressing and linear probing. It is several times faster than a Go
// map for this use: one hash, usually one probe, no interface or bucket
// machinery. Keys are stored by index in keys.
type dictIndex[K comparable] struct {
	slots  []int32 // index+1 of the key in keys, 0 when empty; a power of two long
	shift  uint8   // 64 - log2(len(slots))
	keys   []K
	hashes []uint64 // of keys: compared first, so unequal strings are rarely compared
}

func (d *dictIndex[K]) reset() {
	clear(d.slots)
	d.keys = d.keys[:0]
	d.hashes = d.hashes[:0]
}

// find returns the index of k, whose hash is h, or -1.
func (d *dictIndex[K]) find(k K, h uint64) int32 {
	if len(d.slots) == 0 {
		return -1
	}
	mask := uint64(len(d.slots) - 1)
	for i := h >> d.shift; ; i = (i + 1) & mask {
		s := d.slots[i]
		if s == 0 {
			return -1
		}
		if d.hashes[s-1] == h && d.keys[s-1] == k {
			return s - 1
		}
	}
}

// insert adds k, which must be absent, and returns its index.
func (d *dictIndex[K]) insert(k K, h uint64) int32 {
	if 2*(len(d.keys)+1) > len(d.slots) {
		d.grow()
	}
	d.keys = append(d.keys, k)
	d.hashes = append(d.hashes, h)
	d.place(int32(len(d.keys)), h)
	return int32(len(d.keys) - 1)
}

func (d *dictIndex[K]) place(slot int32, h uint64) {
	mask := uint64(len(d.slots) - 1)
	i := h >> d.shift
	for d.slots[i] != 0 {
		i = (i + 1) & mask
	}
	d.slots[i] = slot
}

// grow doubles the table (starting at 1024 slots) and re-places every key.
func (d *dictIndex[K]) grow() {
	n := max(1024, 2*len(d.slots))
	d.slots = make([]int32, n)
	d.shift = uint8(64 - bits.TrailingZeros(uint(n)))
	for i, h := range d.hashes {
		d.place(int32(i+1), h)
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
// dictionary allocates nothing beyond the arena's growth.
type strIndex struct {
	slots  []int32
	shift  uint8
	hashes []uint64
	offs   []int32 // where each value starts in the arena
	lens   []int32
}

func (d *strIndex) reset() {
	clear(d.slots)
	d.hashes, d.offs, d.lens = d.hashes[:0], d.offs[:0], d.lens[:0]
}

// find returns the index of s, whose hash is h, or -1.
func (d *strIndex) find(arena, s []byte, h uint64) int32 {
	if len(d.slots) == 0 {
		return -1
	}
	mask := uint64(len(d.slots) - 1)
	for i := h >> d.shift; ; i = (i + 1) & mask {
		e := d.slots[i] - 1
		if e < 0 {
			return -1
		}
		if d.hashes[e] == h && int(d.lens[e]) == len(s) && string(arena[d.offs[e]:d.offs[e]+d.lens[e]]) == string(s) {
			return e
		}
	}
}

// insert adds the value at arena[off:off+n], which must be absent.
func (d *strIndex) insert(off, n int, h uint64) int32 {
	if 2*(len(d.hashes)+1) > len(d.slots) {
		size := max(1024, 2*len(d.slots))
		d.slots = make([]int32, size)
		d.shift = uint8(64 - bits.TrailingZeros(uint(size)))
		for i, hh := range d.hashes {
			d.place(int32(i+1), hh)
		}
	}
	d.hashes = append(d.hashes, h)
	d.offs = append(d.offs, int32(off))
	d.lens = append(d.lens, int32(n))
	d.place(int32(len(d.hashes)), h)
	return int32(len(d.hashes) - 1)
}

func (d *strIndex) place(slot int32, h uint64) {
	mask := uint64(len(d.slots) - 1)
	i := h >> d.shift
	for d.slots[i] != 0 {
		i = (i + 1) & mask
	}
	d.slots[i] = slot
}
