package gunzip

import (
	"errors"
	"math/bits"
)

// A decoding table maps the next tableBits bits of the stream (least
// significant first, as deflate packs codes reversed) to an entry:
//
//	bits 0-5   bits the entry consumes: its codeword's, and for a length or
//	           distance the extra bits after it (in a main-table pointer:
//	           the table's bits)
//	bits 6-7   flags: entryEnd, entryInvalid
//	bits 8-11  the codeword's bits, where the extra bits start (in a
//	           pointer: the subtable's bits)
//	bits 12-14 flags: entryPair, entryLiteral, entrySub
//	bits 16-31 the value: literal byte, length or distance base, subtable offset
//
// Codes longer than the main table's bits continue in a subtable, as in
// zlib's inflate_table and libdeflate. As in libdeflate, one shift consumes
// a length's or distance's codeword and extra bits together, the extra
// bits being read from the bits saved before it: one shift less on the
// path every symbol's decoding waits on.
//
// A main-table entry of a literal whose code leaves room in the table's
// bits for the whole code of a second literal holds both: entryPair is
// set, bits 0-5 count both codes, bits 8-11 the first's, and bits 24-31
// hold the second byte. Text of few distinct bytes (digits and dots of
// addresses) has codes of 4 to 6 bits, so most lookups of its literals
// yield two.
const (
	entryEnd     = 0x40
	entryInvalid = 0x80
	entryPair    = 0x1000
	entryLiteral = 0x2000
	entrySub     = 0x4000
	entryBits    = 63 // the bits an entry consumes

	litBits  = 10 // main-table bits of the literal/length code
	distBits = 8  // main-table bits of the distance code
	lenBits  = 7  // bits of the code-length code (at most 7 long)
)

// tableSize bounds a table with its subtables: at most 1332 entries for the
// literal/length code with a 10-bit main table, 402 for the distance code
// with an 8-bit one (zlib's "enough" program). A table a power of two long,
// indexed under its mask, needs no bounds checks in the decoding loop.
const tableSize = 2048

// table is a decoding table: a main table of 1<<bits entries followed by
// its subtables.
type table struct {
	t    *[tableSize]uint32
	mask uint64
}

// Length and distance bases and extra bits (RFC 1951 §3.2.5).
var (
	lengthBase  = [29]uint16{3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258}
	lengthExtra = [29]uint8{0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0}
	distBase    = [30]uint16{1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577}
	distExtra   = [30]uint8{0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13}
)

// code kinds: what a symbol of the table stands for.
const (
	kindLitLen = iota
	kindDist
	kindCodeLen
)

var errBadCode = errors.New("invalid Huffman code lengths")

// symbolEntry is the entry of symbol s of a table of kind, its codeword n
// bits long.
func symbolEntry(kind int, s int, n uint) uint32 {
	switch kind {
	case kindLitLen:
		switch {
		case s < 256:
			return uint32(s)<<16 | uint32(n)<<8 | entryLiteral | uint32(n)
		case s == 256:
			return entryEnd | uint32(n)
		case s < 286:
			return uint32(lengthBase[s-257])<<16 | uint32(n)<<8 | (uint32(n) + uint32(lengthExtra[s-257]))
		}
	case kindDist:
		if s < 30 {
			return uint32(distBase[s])<<16 | uint32(n)<<8 | (uint32(n) + uint32(distExtra[s]))
		}
	case kindCodeLen:
		return uint32(s)<<16 | uint32(n)<<8 | uint32(n)
	}
	return entryInvalid | uint32(n)
}

// build fills t from the code lengths of the symbols (0: unused), with a
// main table of mainBits. Like Go's compress/flate, it accepts complete
// codes, a single code of length 1, and no code at all; other incomplete or
// over-subscribed sets are errors.
func (t *table) build(lengths []uint8, mainBits uint, kind int) error {
	var count [16]int
	maxLen := 0
	for _, n := range lengths {
		count[n]++
		maxLen = max(maxLen, int(n))
	}
	count[0] = 0
	left := 1
	for n := 1; n < 16; n++ {
		left = left<<1 - count[n]
		if left < 0 {
			return errBadCode
		}
	}
	if left > 0 && maxLen > 0 && !(maxLen == 1 && count[1] == 1) {
		return errBadCode
	}
	var next [16]uint32
	code := uint32(0)
	for n := 1; n < 16; n++ {
		code = (code + uint32(count[n-1])) << 1
		next[n] = code
	}
	next[0] = 0

	mainSize := 1 << mainBits
	size := mainSize
	var subBits [1 << litBits]uint8 // by main-table index, for codes longer than mainBits
	if maxLen > int(mainBits) {
		c := next
		for _, n := range lengths {
			if int(n) > int(mainBits) {
				rev := bits.Reverse16(uint16(c[n])) >> (16 - n)
				c[n]++
				p := rev & uint16(mainSize-1)
				subBits[p] = max(subBits[p], n-uint8(mainBits))
			}
		}
		for p := range mainSize {
			if subBits[p] > 0 {
				size += 1 << subBits[p]
			}
		}
	}
	if size > tableSize {
		return errBadCode // cannot happen with complete codes of at most 15 bits
	}
	if t.t == nil {
		t.t = new([tableSize]uint32)
	}
	t.mask = uint64(mainSize - 1)
	for i := range t.t[:size] {
		t.t[i] = entryInvalid
	}
	if maxLen > int(mainBits) {
		off := mainSize
		for p := range mainSize {
			if b := subBits[p]; b > 0 {
				t.t[p] = uint32(off)<<16 | uint32(b)<<8 | entrySub | uint32(mainBits)
				off += 1 << b
			}
		}
	}
	for s, n := range lengths {
		if n == 0 {
			continue
		}
		rev := uint32(bits.Reverse16(uint16(next[n])) >> (16 - n))
		next[n]++
		if uint(n) <= mainBits {
			e := symbolEntry(kind, s, uint(n))
			for i := rev; i < uint32(mainSize); i += 1 << n {
				t.t[i] = e
			}
			continue
		}
		ptr := t.t[rev&uint32(mainSize-1)]
		off, sub := ptr>>16, (ptr>>8)&0xf
		rest := uint(n) - mainBits
		e := symbolEntry(kind, s, rest)
		for i := rev >> mainBits; i < 1<<sub; i += 1 << rest {
			t.t[off+i] = e
		}
	}
	if kind == kindLitLen {
		t.pairLiterals(mainBits)
	}
	return nil
}

// pairLiterals makes each main-table entry of a literal that leaves room
// for a second literal's code hold both. It goes from the last entry down:
// the entry of the bits after a first code, i>>n, is at or below i and so
// still single.
func (t *table) pairLiterals(mainBits uint) {
	for i := 1<<mainBits - 1; i >= 0; i-- {
		e := t.t[i]
		n := uint(e & entryBits)
		if e&entryLiteral == 0 || n >= mainBits {
			continue
		}
		next := t.t[i>>n]
		m := uint(next & entryBits)
		if next&(entryLiteral|entrySub) != entryLiteral || n+m > mainBits {
			continue
		}
		t.t[i] = e&0xff0000 | (next>>16&0xff)<<24 | entryPair | uint32(n)<<8 | entryLiteral | uint32(n+m)
	}
}

// fixedLit and fixedDist are the tables of the fixed code (RFC 1951
// §3.2.6).
var fixedLit, fixedDist = func() (table, table) {
	var lengths [288]uint8
	for i := range lengths {
		switch {
		case i < 144:
			lengths[i] = 8
		case i < 256:
			lengths[i] = 9
		case i < 280:
			lengths[i] = 7
		default:
			lengths[i] = 8
		}
	}
	var lit, dist table
	if err := lit.build(lengths[:], litBits, kindLitLen); err != nil {
		panic(err)
	}
	// The fixed distance code has 32 five-bit codes; 30 and 31 are invalid
	// in data (symbolEntry marks them so).
	var d32 [32]uint8
	for i := range d32 {
		d32[i] = 5
	}
	if err := dist.build(d32[:], distBits, kindDist); err != nil {
		panic(err)
	}
	return lit, dist
}()
