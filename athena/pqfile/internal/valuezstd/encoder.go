// Package valuezstd compresses Parquet pages of PLAIN byte-array values
// into zstd frames, seeking matches only where values start.
//
// It is a package of its own because no zstd library does this, and the
// writer needs it: a general match finder probes every byte, and on
// columns of distinct short strings (addresses of internet-facing flows
// above all) it finds little beyond a value's length and first characters,
// yet it took a fifth of a flow-log conversion's time searching. Here each
// value is looked up once, by its length prefix and first bytes, else by
// its first bytes alone, against the last value that began alike. Each
// block codes its sequences with FSE tables of its own, and its literals
// with Huffman codes (klauspost's huff0). On such columns the frames come
// out smaller than zstd's fastest level makes them, at nearly twice its
// speed.
package valuezstd

import (
	"encoding/binary"
	"errors"
	"math"
	"math/bits"
	"slices"

	"github.com/klauspost/compress/huff0"
)

const (
	maxBlock   = 128 << 10 // zstd's largest block
	minMatch   = 6         // shorter matches cost more to code than their literals
	hashLog    = 14
	minLog     = 5 // FSE accuracy bounds
	maxLog     = 9
	maxSymbols = 53 // match-length codes, the most of the three
	// A block with fewer sequences than this codes them with zstd's
	// predefined tables rather than describing its own.
	ownTablesFrom = 64
)

// Encoder compresses pages; it holds about 140 KB of tables and is reused
// from page to page, by one goroutine at a time.
type Encoder struct {
	byPrefix [1 << hashLog]uint32 // 1 + start of the last value hashed here by length prefix and first bytes
	byText   [1 << hashLog]uint32 // 1 + start of the last value's text hashed here by its first bytes
	seqs     []sequence
	lits     []byte
	huff     huff0.Scratch
	counts   [3][maxSymbols]uint32 // of the block's codes, by table
	norm     [3][]int16
	own      [3]fseTable
}

// sequence is literals then a match, and the three codes that stand for
// their lengths and the match's offset.
type sequence struct {
	literals, match, offset uint32
	ll, of, ml              uint8
}

// Encode appends to dst the zstd frame of src, in which the bytes from
// valuesAt on are PLAIN byte-array values: each a 4-byte little-endian
// length and that many bytes. Those before are coded as literals. The
// frame decodes to src whatever src holds: values that do not parse only
// end the search for matches.
func (e *Encoder) Encode(dst, src []byte, valuesAt int) ([]byte, error) {
	if len(src) > math.MaxInt32 { // Parquet's page sizes are int32 too
		return nil, errors.New("valuezstd: page of 2 GiB or more")
	}
	// Frame header: single segment, 4-byte content size, no checksum.
	dst = append(dst, 0x28, 0xB5, 0x2F, 0xFD, 2<<6|1<<5)
	dst = binary.LittleEndian.AppendUint32(dst, uint32(len(src)))
	if len(src) == 0 {
		return append(dst, 1, 0, 0), nil // an empty raw last block
	}
	if valuesAt < len(src) { // literals alone need no match tables
		clear(e.byPrefix[:])
		clear(e.byText[:])
	}
	e.huff.Reuse = huff0.ReusePolicyNone
	next := max(valuesAt, 0)
	for start := 0; start < len(src); start += maxBlock {
		end := min(start+maxBlock, len(src))
		next = e.findSequences(src, start, end, next)
		dst = e.appendBlock(dst, src[start:end], end == len(src))
	}
	return dst, nil
}

func hash8(v uint64) uint32 { return uint32((v * 0x9E3779B185EBCA87) >> (64 - hashLog)) }

func hash6(v uint64) uint32 { return uint32(((v << 16) * 0x9E3779B185EBCA87) >> (64 - hashLog)) }

// findSequences collects the sequences and literals of block src[start:end]
// from the value starting at next, and returns where the first value past
// the block starts.
func (e *Encoder) findSequences(src []byte, start, end, next int) int {
	e.seqs = e.seqs[:0]
	if cap(e.lits) < maxBlock+16 {
		e.lits = make([]byte, 0, maxBlock+16)
	}
	e.lits = e.lits[:0]
	for k := range e.counts {
		clear(e.counts[k][:])
	}
	anchor := start
	v := next
	for v < end && v+9 <= len(src) {
		n := binary.LittleEndian.Uint32(src[v:])
		next = v + 4 + int(n)
		if uint64(v)+4+uint64(n) > uint64(len(src)) {
			next = len(src) + 1 // not a value: no further matches
		}
		prefix := binary.LittleEndian.Uint64(src[v:])
		text := binary.LittleEndian.Uint64(src[v+1:])
		h1, h2 := hash8(prefix), hash6(text)
		if v >= anchor {
			from, at, length := 0, 0, 0
			if c := e.byPrefix[h1]; c > 0 {
				if m := matchLen(src, int(c-1), v, end); m >= minMatch {
					from, at, length = int(c-1), v, m
				}
			}
			if c := e.byText[h2]; c > 0 && length == 0 {
				if m := matchLen(src, int(c-1), v+1, end); m >= minMatch {
					from, at, length = int(c-1), v+1, m
				}
			}
			if length > 0 {
				e.addSequence(uint32(at-anchor), uint32(length), uint32(at-from))
				e.appendLiterals16(src, anchor, at)
				anchor = at + length
			}
		}
		e.byPrefix[h1] = uint32(v + 1)
		e.byText[h2] = uint32(v + 2)
		v = next
	}
	e.lits = append(e.lits, src[anchor:end]...)
	return v
}

// appendLiterals16 appends src[from:to], the literals before a match, to
// e.lits, which has room for a block and 16 bytes more: runs of up to 16
// bytes, the usual between values, are copied as 16 bytes of constant size,
// which the compiler turns into two moves rather than a call.
func (e *Encoder) appendLiterals16(src []byte, from, to int) {
	n := len(e.lits)
	if to-from <= 16 && from+16 <= len(src) {
		copy(e.lits[n:n+16], src[from:from+16])
		e.lits = e.lits[:n+to-from]
		return
	}
	e.lits = append(e.lits, src[from:to]...)
}

// addSequence adds a sequence and counts its codes. Its fields are stored
// in place: a sequence built aside and then appended was written field by
// field and read back whole, a load the stores cannot forward to (a stall
// on every match; BenchmarkEncode -1 %).
func (e *Encoder) addSequence(literals, match, offset uint32) {
	e.seqs = append(e.seqs, sequence{})
	s := &e.seqs[len(e.seqs)-1]
	s.literals, s.match, s.offset = literals, match, offset
	ll, of, ml := litLengthCode(literals), uint8(bits.Len32(offset+3)-1), matchLengthCode(match)
	s.ll, s.of, s.ml = ll, of, ml
	e.counts[litLengths][ll]++
	e.counts[offsets][of]++
	e.counts[matchLengths][ml]++
}

// matchLen returns how many bytes from p, before limit, equal those from
// q < p.
func matchLen(src []byte, q, p, limit int) int {
	n := 0
	for p+n+8 <= limit {
		if x := binary.LittleEndian.Uint64(src[p+n:]) ^ binary.LittleEndian.Uint64(src[q+n:]); x != 0 {
			return n + bits.TrailingZeros64(x)/8
		}
		n += 8
	}
	for p+n < limit && src[p+n] == src[q+n] {
		n++
	}
	return n
}

// appendBlock appends the block of the sequences and literals found, or
// block itself when that is no larger.
func (e *Encoder) appendBlock(dst, block []byte, last bool) []byte {
	mark := len(dst)
	dst = append(dst, 0, 0, 0)
	dst = e.appendLiterals(dst)
	dst = e.appendSequences(dst)
	size := len(dst) - mark - 3
	kind := 2 // compressed
	if size >= len(block) {
		dst = append(dst[:mark+3], block...)
		size, kind = len(block), 0 // raw
	}
	h := uint32(size)<<3 | uint32(kind)<<1
	if last {
		h |= 1
	}
	dst[mark], dst[mark+1], dst[mark+2] = byte(h), byte(h>>8), byte(h>>16)
	return dst
}

// appendLiterals appends the literals section (RFC 8878 §3.1.1.3.1).
func (e *Encoder) appendLiterals(dst []byte) []byte {
	n := len(e.lits)
	var out []byte
	err := huff0.ErrIncompressible
	single := n < 1024
	switch {
	case n < 32:
	case single:
		out, _, err = huff0.Compress1X(e.lits, &e.huff)
	default:
		out, _, err = huff0.Compress4X(e.lits, &e.huff)
	}
	switch {
	case err == huff0.ErrUseRLE:
		return append(appendRawHeader(dst, 1, n), e.lits[0])
	case err != nil || len(out)+5 >= n:
		return append(appendRawHeader(dst, 0, n), e.lits...)
	}
	// One stream under 1 KiB, sizes in 10 bits; else four, sizes in 14 or 18.
	format, sizeBits := uint64(0), uint(10)
	switch {
	case single:
	case n < 1<<14:
		format, sizeBits = 2, 14
	default:
		format, sizeBits = 3, 18
	}
	h := 2 | format<<2 | uint64(n)<<4 | uint64(len(out))<<(4+sizeBits)
	for i := uint(0); i < (4+2*sizeBits+7)/8; i++ {
		dst = append(dst, byte(h>>(8*i)))
	}
	return append(dst, out...)
}

// appendRawHeader appends the header of raw (kind 0) or RLE (kind 1)
// literals.
func appendRawHeader(dst []byte, kind, n int) []byte {
	switch {
	case n < 32:
		return append(dst, byte(kind|n<<3))
	case n < 4096:
		return append(dst, byte(kind|1<<2|n<<4), byte(n>>4))
	default:
		return append(dst, byte(kind|3<<2|n<<4), byte(n>>4), byte(n>>12))
	}
}

// The three codes of a sequence, in the order of the section's tables.
const (
	litLengths = iota
	offsets
	matchLengths
)

// appendSequences appends the sequences section (RFC 8878 §3.1.1.3.2).
func (e *Encoder) appendSequences(dst []byte) []byte {
	n := len(e.seqs)
	switch {
	case n < 128:
		dst = append(dst, byte(n))
	case n < 0x7F00:
		dst = append(dst, byte(n>>8|0x80), byte(n))
	default:
		dst = append(dst, 0xFF, byte(n-0x7F00), byte((n-0x7F00)>>8))
	}
	if n == 0 {
		return dst
	}
	var top [3]int // the highest code of each table
	for k := range top {
		for top[k] = maxSymbols - 1; e.counts[k][top[k]] == 0; top[k]-- {
		}
	}
	var tables [3]*fseTable
	modes := byte(0)
	modePos := len(dst)
	dst = append(dst, 0)
	for k := range tables {
		switch counts := e.counts[k][:top[k]+1]; {
		case counts[top[k]] == uint32(n): // one symbol
			e.own[k].rle(uint8(top[k]))
			tables[k] = &e.own[k]
			dst = append(dst, uint8(top[k]))
			modes |= 1 << (6 - 2*k) // RLE_Mode
		case n < ownTablesFrom && top[k] < len(predefined[k].sym):
			tables[k] = &predefined[k]
		default:
			log := tableLog(n, top[k], maxLogs[k])
			e.norm[k] = normalize(e.norm[k], counts, n, log)
			e.own[k].build(e.norm[k], log)
			tables[k] = &e.own[k]
			dst = appendDescription(dst, e.norm[k], log)
			modes |= 2 << (6 - 2*k) // FSE_Compressed_Mode
		}
	}
	dst[modePos] = modes

	return appendBitstream(dst, e.seqs, tables[litLengths], tables[offsets], tables[matchLengths])
}

// appendBitstream appends the sequences' bitstream, encoded from the last
// sequence to the first so that the decoder reads the first first: per
// sequence, the offset, match and literal length states' bits, then the
// literal length, match length and offset's extra bits.
func appendBitstream(dst []byte, seqs []sequence, ll, of, ml *fseTable) []byte {
	// A sequence takes at most 9 + 8 + 9 bits of states and 16 + 16 + 31 of
	// extra bits: 12 bytes; the 8-byte writes need 8 more.
	p := len(dst)
	out := slices.Grow(dst, 12*len(seqs)+24)[:p+12*len(seqs)+24]
	var acc uint64 // bits not yet written, the first lowest
	var nb uint    // how many
	s := seqs[len(seqs)-1]
	llState, ofState, mlState := ll.initial(s.ll), of.initial(s.of), ml.initial(s.ml)
	acc, nb = addExtraBits(acc, nb, s)
	p, acc, nb = flushBits(out, p, acc, nb)
	for i := len(seqs) - 2; i >= 0; i-- {
		s := seqs[i]
		// The three states are independent: their lookups overlap.
		ofBits, ofN, ofNext := of.encode(ofState, s.of)
		mlBits, mlN, mlNext := ml.encode(mlState, s.ml)
		llBits, llN, llNext := ll.encode(llState, s.ll)
		ofState, mlState, llState = ofNext, mlNext, llNext
		acc |= ofBits<<nb | mlBits<<(nb+ofN) | llBits<<(nb+ofN+mlN)
		nb += ofN + mlN + llN
		p, acc, nb = flushBits(out, p, acc, nb)
		if s.of > 24 {
			acc, nb = addLengthBits(acc, nb, s)
			p, acc, nb = flushBits(out, p, acc, nb)
			acc |= uint64(s.offset+3) & (1<<s.of - 1) << nb
			nb += uint(s.of)
		} else {
			acc, nb = addExtraBits(acc, nb, s)
		}
		p, acc, nb = flushBits(out, p, acc, nb)
	}
	acc |= uint64(mlState)&(1<<ml.log-1)<<nb | uint64(ofState)&(1<<of.log-1)<<(nb+ml.log) | uint64(llState)&(1<<ll.log-1)<<(nb+ml.log+of.log)
	nb += ml.log + of.log + ll.log
	acc |= 1 << nb // the end mark
	nb++
	p, _, nb = flushBits(out, p, acc, nb)
	if nb > 0 { // the last byte, written by flushBits
		p++
	}
	return out[:p]
}

// flushBits writes acc's whole bytes at out[p:], 8 bytes whatever their
// number, and returns what remains.
func flushBits(out []byte, p int, acc uint64, nb uint) (int, uint64, uint) {
	binary.LittleEndian.PutUint64(out[p:], acc)
	return p + int(nb>>3), acc >> (nb &^ 7), nb & 7
}

// addLengthBits adds the extra bits of a sequence's lengths: 32 at most.
func addLengthBits(acc uint64, nb uint, s sequence) (uint64, uint) {
	acc |= uint64(s.literals-litLengthBase[s.ll]) << nb
	nb += uint(litLengthBits[s.ll])
	acc |= uint64(s.match-matchLengthBase[s.ml]) << nb
	return acc, nb + uint(matchLengthBits[s.ml])
}

// addExtraBits adds the extra bits of a sequence's lengths and of an
// offset code of 24 bits or fewer: 56 at most.
func addExtraBits(acc uint64, nb uint, s sequence) (uint64, uint) {
	acc, nb = addLengthBits(acc, nb, s)
	acc |= uint64(s.offset+3) & (1<<s.of - 1) << nb
	return acc, nb + uint(s.of)
}

var maxLogs = [3]uint{9, 8, 9}

// The code tables of RFC 8878 §3.1.1.3.2.1.1.
var (
	litLengthBase = [36]uint32{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15,
		16, 18, 20, 22, 24, 28, 32, 40, 48, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384, 32768, 65536}
	litLengthBits = [36]uint8{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
		1, 1, 1, 1, 2, 2, 3, 3, 4, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}
	matchLengthBase = [53]uint32{3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18,
		19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34,
		35, 37, 39, 41, 43, 47, 51, 59, 67, 83, 99, 131, 259, 515, 1027, 2051, 4099, 8195, 16387, 32771, 65539}
	matchLengthBits = [53]uint8{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
		1, 1, 1, 1, 2, 2, 3, 3, 4, 4, 5, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}
)

// litLengthCodes and matchLengthCodes code the small lengths by table.
var litLengthCodes, matchLengthCodes = func() (ll [64]uint8, ml [128]uint8) {
	for c, base := range litLengthBase {
		for l := int(base); l < len(ll) && l < int(base)+1<<litLengthBits[c]; l++ {
			ll[l] = uint8(c)
		}
	}
	for c, base := range matchLengthBase {
		for m := int(base) - 3; m < len(ml) && m < int(base)-3+1<<matchLengthBits[c]; m++ {
			ml[m] = uint8(c)
		}
	}
	return ll, ml
}()

func litLengthCode(l uint32) uint8 {
	if l < 64 {
		return litLengthCodes[l]
	}
	return uint8(bits.Len32(l) - 1 + 19)
}

func matchLengthCode(m uint32) uint8 {
	if m-3 < 128 {
		return matchLengthCodes[m-3]
	}
	return uint8(bits.Len32(m-3) - 1 + 36)
}

// predefined holds zstd's default distributions (RFC 8878
// §3.1.1.3.2.2), in the order literal lengths, offsets, match lengths.
var predefined = func() (t [3]fseTable) {
	t[litLengths].build([]int16{4, 3, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 1, 1, 1,
		2, 2, 2, 2, 2, 2, 2, 2, 2, 3, 2, 1, 1, 1, 1, 1, -1, -1, -1, -1}, 6)
	t[offsets].build([]int16{1, 1, 1, 1, 1, 1, 2, 2, 2, 1, 1, 1, 1, 1, 1, 1,
		1, 1, 1, 1, 1, 1, 1, 1, -1, -1, -1, -1, -1}, 5)
	t[matchLengths].build([]int16{1, 4, 3, 2, 2, 2, 2, 2, 2, 1, 1, 1, 1, 1, 1, 1,
		1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
		1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, -1, -1, -1, -1, -1, -1, -1}, 6)
	return t
}()
