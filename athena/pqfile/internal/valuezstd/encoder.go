// Package valuezstd compresses Parquet pages of PLAIN byte-array values
// into zstd frames, seeking matches only where values start.
//
// It is a package of its own because no zstd library does this, and the
// writer needs it: a general match finder probes every byte, and on
// columns of distinct short strings (addresses of internet-facing flows
// above all) it finds little beyond a value's length and first characters,
// yet it took a fifth of a flow-log conversion's time searching. Here each
// value is looked up once, by its length prefix and first bytes and by its
// first bytes alone, against the last value that began alike. Each block
// codes its sequences with FSE tables of its own, and its literals with
// Huffman codes (klauspost's huff0). On such columns the frames come out
// smaller than zstd's fastest level makes them, at a few times its speed.
package valuezstd

import (
	"encoding/binary"
	"errors"
	"math"
	"math/bits"

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
	codes    []codes
	lits     []byte
	huff     huff0.Scratch
	counts   [3][maxSymbols]uint32
	norm     [3][]int16
	own      [3]fseTable
	bw       bitWriter
}

type sequence struct{ literals, match, offset uint32 }

type codes struct{ ll, of, ml uint8 }

// Encode appends to dst the zstd frame of src, in which the bytes from
// valuesAt on are PLAIN byte-array values: each a 4-byte little-endian
// length and that many bytes. Those before are coded as literals. The
// frame decodes to src whatever src holds: values that do not parse only
// end the search for matches.
func (e *Encoder) Encode(dst, src []byte, valuesAt int) ([]byte, error) {
	if len(src) > math.MaxUint32 {
		return nil, errors.New("valuezstd: page larger than 4 GiB")
	}
	// Frame header: single segment, 4-byte content size, no checksum.
	dst = append(dst, 0x28, 0xB5, 0x2F, 0xFD, 2<<6|1<<5)
	dst = binary.LittleEndian.AppendUint32(dst, uint32(len(src)))
	if len(src) == 0 {
		return append(dst, 1, 0, 0), nil // an empty raw last block
	}
	clear(e.byPrefix[:])
	clear(e.byText[:])
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
	e.seqs, e.lits = e.seqs[:0], e.lits[:0]
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
				if m := matchLen(src, int(c-1), v+1, end); m >= minMatch && v+1+m > at+length {
					from, at, length = int(c-1), v+1, m
				}
			}
			if length > 0 {
				e.seqs = append(e.seqs, sequence{literals: uint32(at - anchor), match: uint32(length), offset: uint32(at - from)})
				e.lits = append(e.lits, src[anchor:at]...)
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
	e.codes = grow(e.codes, n)
	for i := range e.counts {
		clear(e.counts[i][:])
	}
	top := [3]int{}
	for i, s := range e.seqs {
		c := codes{ll: litLengthCode(s.literals), of: uint8(bits.Len32(s.offset+3) - 1), ml: matchLengthCode(s.match)}
		e.codes[i] = c
		e.counts[litLengths][c.ll]++
		e.counts[offsets][c.of]++
		e.counts[matchLengths][c.ml]++
		top[litLengths] = max(top[litLengths], int(c.ll))
		top[offsets] = max(top[offsets], int(c.of))
		top[matchLengths] = max(top[matchLengths], int(c.ml))
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

	w := &e.bw
	w.out, w.acc, w.nbits = dst, 0, 0
	var ll, of, ml fseState
	last := n - 1
	c := e.codes[last]
	ml.init(tables[matchLengths], c.ml)
	of.init(tables[offsets], c.of)
	ll.init(tables[litLengths], c.ll)
	e.addExtraBits(e.seqs[last], c)
	for i := last - 1; i >= 0; i-- {
		c := e.codes[i]
		of.encode(w, c.of) // at most 8 + 9 + 9 bits, after at most 7 pending
		ml.encode(w, c.ml)
		ll.encode(w, c.ll)
		w.flush()
		e.addExtraBits(e.seqs[i], c)
	}
	ml.flush(w)
	of.flush(w)
	ll.flush(w)
	return w.close()
}

// addExtraBits writes the bits a sequence's codes leave out, after at most
// 7 pending, and flushes: at most 16 + 16 bits of lengths and 31 of offset.
func (e *Encoder) addExtraBits(s sequence, c codes) {
	w := &e.bw
	w.add(uint64(s.literals-litLengthBase[c.ll]), uint(litLengthBits[c.ll]))
	w.add(uint64(s.match-matchLengthBase[c.ml]), uint(matchLengthBits[c.ml]))
	if c.of > 24 {
		w.flush()
	}
	w.add(uint64(s.offset+3), uint(c.of))
	w.flush()
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
