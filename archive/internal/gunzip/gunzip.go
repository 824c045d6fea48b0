// Package gunzip decompresses gzip streams (RFC 1952 members holding RFC
// 1951 deflate data), every member of a multi-member stream, checking each
// member's CRC-32 and length. Zero padding after the last member is
// allowed.
//
// It exists because gunzip was the largest single cost of converting flow
// logs (a third of the CPU time): klauspost/compress, the fastest inflater
// in Go, reads its input a byte at a time through an io.ByteReader and
// decodes a symbol per table lookup. This one follows libdeflate's design:
// the input is buffered and read eight bytes at a time into a 64-bit bit
// buffer, refilled once per symbol without a branch per byte; the decoding
// tables resolve a length or distance with its base and extra bits in one
// entry; matches are copied eight bytes at a time. It is used by the
// archive package only, hence internal.
package gunzip

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"unsafe"
)

var (
	// ErrHeader is returned for data that is not a gzip member header.
	ErrHeader = errors.New("gzip: invalid header")
	// ErrChecksum is returned when a member's CRC-32 or length does not
	// match its data.
	ErrChecksum = errors.New("gzip: invalid checksum")
)

// corruptError is deflate data that cannot be decoded.
type corruptError struct {
	offset int64 // of the input, in bytes
	why    string
}

func (e *corruptError) Error() string {
	return fmt.Sprintf("gzip: corrupt deflate data near input byte %d: %s", e.offset, e.why)
}

const (
	window     = 32 << 10  // deflate's history
	outChunk   = 512 << 10 // bytes decoded between returns
	maxMatch   = 258
	outSlack   = maxMatch + 16 // six literals, then a match that may write 8-byte words past its end
	inBytes    = 128 << 10
	inPad      = 64 // zero bytes after the data, so that 8-byte loads never fail
	headerNeed = 1024
	// maxHeaderString bounds a member's file name and comment, their zero
	// included, as compress/gzip does.
	maxHeaderString = 512
	// maxEmptyReads is how many reads returning nothing in a row make a
	// source broken (io.ErrNoProgress), as for bufio.
	maxEmptyReads = 100
)

// stream states
const (
	stateMember  = iota // before a member's header
	stateBlock          // before a deflate block's header
	stateStored         // inside a stored block
	stateHuffman        // inside a Huffman-coded block
	stateTrailer        // after a member's last block
	stateDone
)

// Reader decompresses a gzip stream. The zero value is ready for Reset,
// which reads a stream's first header; a Reader is reused through Reset
// (its buffers are 700 KB).
type Reader struct {
	r   io.Reader
	in  []byte // in[pos:end] is unread input, followed by inPad zeros
	pos int
	end int
	eof bool  // r is exhausted: end is the end of the stream
	off int64 // input bytes dropped from in before in[0]

	bitbuf uint64 // the next nbits bits of the stream, least significant first
	nbits  uint

	out      []byte // the history window followed by decoded output
	o        int    // where the next byte is decoded
	rd       int    // out[rd:o] is decoded and not yet read
	hist     int    // out[hist:o] is this member's output: the reach of a distance
	crcFrom  int    // out[crcFrom:o] is not yet in crc
	crc      uint32 // of the member's output so far
	size     uint32 // of the member's output so far, modulo 2^32
	members  int
	state    int
	final    bool // the current block is the member's last
	stored   int  // bytes of the stored block left
	lit      table
	dist     table
	lengths  [286 + 30]uint8
	dynLit   table
	dynDist  table
	codeLens table
	header   []byte // the member header read so far
	// srcErr is the source's error, kept until the input before it is
	// decoded; err ends the stream (io.EOF, a decoding error, or srcErr).
	srcErr error
	err    error
}

// Reset makes z read a new stream from r, keeping its buffers.
func (z *Reader) Reset(r io.Reader) error {
	if z.in == nil {
		z.in = make([]byte, inBytes+inPad)
		z.out = make([]byte, window+outChunk+outSlack)
	}
	*z = Reader{r: r, in: z.in, out: z.out, dynLit: z.dynLit, dynDist: z.dynDist, codeLens: z.codeLens, header: z.header}
	clear(z.in[:inPad])
	z.fillInput(10)
	if err := z.member(); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		z.err = err
		return err
	}
	return nil
}

// Close drops the Reader's reference to its source; Reset makes it usable
// again. It does not close the source.
func (z *Reader) Close() error {
	z.r = nil
	z.err = io.ErrClosedPipe
	return nil
}

// Read reads decompressed bytes.
func (z *Reader) Read(p []byte) (int, error) {
	for z.rd == z.o {
		if z.err != nil {
			return 0, z.err
		}
		z.decode()
	}
	n := copy(p, z.out[z.rd:z.o])
	z.rd += n
	return n, nil
}

// fillInput makes at least need bytes of input available when the stream
// has them, moving the unread bytes to the front of the buffer first.
func (z *Reader) fillInput(need int) {
	if z.end-z.pos >= need || z.eof {
		return
	}
	// Keep the whole bytes the bit buffer holds: align gives them back.
	if keep := z.pos - int(z.nbits>>3); keep > 0 {
		n := copy(z.in, z.in[keep:z.end])
		z.off += int64(keep)
		z.pos, z.end = z.pos-keep, n
	}
	for empty := 0; z.end-z.pos < need && !z.eof; {
		n, err := z.r.Read(z.in[z.end:inBytes])
		z.end += n
		switch {
		case err == io.EOF:
			z.eof = true
		case err != nil:
			z.srcErr, z.eof = err, true
		case n > 0:
			empty = 0
		case z.end == inBytes:
			return // full: need is at most a header's worth, so this is not reached
		default:
			if empty++; empty == maxEmptyReads {
				z.srcErr, z.eof = io.ErrNoProgress, true
			}
		}
	}
	clear(z.in[z.end : z.end+inPad])
}

// consumed returns the input position (in bits from in[0]) the decoder has
// reached.
func (z *Reader) consumed() int { return z.pos*8 - int(z.nbits) }

// overread reports whether the decoder has used bits past the end of the
// stream.
func (z *Reader) overread() bool { return z.eof && z.consumed() > z.end*8 }

func (z *Reader) corrupt(why string) error {
	return &corruptError{offset: z.off + int64(z.consumed()/8), why: why}
}

// refill tops the bit buffer up to at least 56 bits.
func (z *Reader) refill() {
	z.pos, z.bitbuf, z.nbits = topUp(binary.LittleEndian.Uint64(z.in[z.pos:]), z.pos, z.bitbuf, z.nbits)
}

// topUp tops a bit buffer of nbits bits up to at least 56 with next, the 8
// bytes of input at pos, and returns the new state. It is inlined in the
// decoding loop, which keeps the state in registers.
func topUp(next uint64, pos int, bitbuf uint64, nbits uint) (int, uint64, uint) {
	return pos + int(63-nbits)>>3, bitbuf | next<<nbits, nbits | 56
}

// The decoding loop reads and writes its buffers through load64, store64
// and store16, without bounds checks: in a loop of a dozen cheap steps a
// symbol, Go's checks on the input and output slices (about twelve a match)
// took 10-16 % of the time. Each use is within bounds by the loop's limits,
// as huffman sets out; the fuzz and shape tests run through them. (Under
// -race, checkptr fails an access that starts past its buffer, not one
// that starts inside and runs up to 7 bytes past: it is no proof of the
// bounds, which rest on the argument.)

// load64 returns the 8 bytes at p+i, little-endian.
func load64(p unsafe.Pointer, i int) uint64 {
	return binary.LittleEndian.Uint64((*[8]byte)(unsafe.Add(p, i))[:])
}

// store64 stores v at p+i, little-endian.
func store64(p unsafe.Pointer, i int, v uint64) {
	binary.LittleEndian.PutUint64((*[8]byte)(unsafe.Add(p, i))[:], v)
}

// store16 stores v at p+i, little-endian.
func store16(p unsafe.Pointer, i int, v uint16) {
	binary.LittleEndian.PutUint16((*[2]byte)(unsafe.Add(p, i))[:], v)
}

// bits reads n (at most 32) bits.
func (z *Reader) bits(n uint) uint32 {
	if z.nbits < n {
		z.refill()
	}
	v := uint32(z.bitbuf & (1<<n - 1))
	z.bitbuf >>= n
	z.nbits -= n
	return v
}

// align drops the bits up to the next byte boundary and gives the whole
// bytes left in the bit buffer back to the input.
func (z *Reader) align() {
	z.pos -= int(z.nbits >> 3)
	z.bitbuf, z.nbits = 0, 0
}

// byte reads one byte of byte-aligned input.
func (z *Reader) byte() (byte, error) {
	z.fillInput(1)
	if z.pos >= z.end {
		return 0, z.truncated()
	}
	b := z.in[z.pos]
	z.pos++
	return b, nil
}

// member reads a member header; io.EOF when the stream ends cleanly
// before it. Zero bytes after the last member (padding to a block size,
// which some writers and tape formats add) end the stream too, as gzip(1)
// takes them; other bytes there are an invalid header.
func (z *Reader) member() error {
	z.fillInput(10)
	for z.members > 0 && z.pos < z.end && z.in[z.pos] == 0 {
		for z.pos < z.end && z.in[z.pos] == 0 {
			z.pos++
		}
		if z.pos == z.end {
			z.fillInput(1)
			if z.pos == z.end {
				break
			}
		}
		if z.in[z.pos] != 0 {
			return ErrHeader
		}
	}
	if z.pos == z.end && z.members > 0 {
		if z.srcErr != nil {
			return z.srcErr
		}
		return io.EOF
	}
	// The header's bytes, for FHCRC.
	z.header = z.header[:0]
	next := func() (byte, error) {
		b, err := z.byte()
		z.header = append(z.header, b)
		return b, err
	}
	var h [10]byte
	for i := range h {
		b, err := next()
		if err != nil {
			return err
		}
		h[i] = b
	}
	// Reserved flags are ignored, as compress/gzip does.
	if h[0] != 0x1f || h[1] != 0x8b || h[2] != 8 {
		return ErrHeader
	}
	flags := h[3]
	if flags&0x04 != 0 { // FEXTRA
		lo, err := next()
		if err != nil {
			return err
		}
		hi, err := next()
		if err != nil {
			return err
		}
		for range int(lo) | int(hi)<<8 {
			if _, err := next(); err != nil {
				return err
			}
		}
	}
	for _, f := range []byte{0x08, 0x10} { // FNAME, FCOMMENT: zero-terminated
		if flags&f == 0 {
			continue
		}
		for n := 1; ; n++ {
			b, err := next()
			if err != nil {
				return err
			}
			if b == 0 {
				break
			}
			if n == maxHeaderString {
				return ErrHeader
			}
		}
	}
	if flags&0x02 != 0 { // FHCRC: the low 16 bits of the header's CRC-32
		want := uint16(crc32.ChecksumIEEE(z.header))
		lo, err := z.byte()
		if err != nil {
			return err
		}
		hi, err := z.byte()
		if err != nil {
			return err
		}
		if uint16(lo)|uint16(hi)<<8 != want {
			return ErrHeader
		}
	}
	z.members++
	z.crc, z.size, z.hist, z.crcFrom = 0, 0, z.o, z.o
	z.state = stateBlock
	return nil
}

// decode decodes up to outChunk bytes, or to the end of the stream, or to
// an error, which it keeps in z.err (io.EOF at the end).
func (z *Reader) decode() {
	if z.o >= window+outChunk-outSlack {
		// Keep the window only: everything decoded has been read.
		shift := z.o - window
		copy(z.out, z.out[shift:z.o])
		z.o, z.rd, z.crcFrom = window, window, window
		z.hist = max(z.hist-shift, 0)
	}
	limit := window + outChunk
	for z.err == nil && z.o < limit-outSlack {
		var err error
		switch z.state {
		case stateBlock:
			err = z.blockHeader()
		case stateStored:
			err = z.copyStored(limit)
		case stateHuffman:
			err = z.huffman(limit)
		case stateTrailer:
			err = z.trailer()
		case stateMember:
			err = z.member()
		}
		if err != nil {
			z.err = err
		}
	}
	z.sum()
}

// sum adds the output decoded since the last call to the member's CRC and
// length.
func (z *Reader) sum() {
	z.crc = crc32.Update(z.crc, crc32.IEEETable, z.out[z.crcFrom:z.o])
	z.size += uint32(z.o - z.crcFrom)
	z.crcFrom = z.o
}

// trailer checks the member's CRC-32 and length, then moves on to the next
// member.
func (z *Reader) trailer() error {
	z.sum()
	z.align()
	var t [8]byte
	for i := range t {
		b, err := z.byte()
		if err != nil {
			return err
		}
		t[i] = b
	}
	if binary.LittleEndian.Uint32(t[:4]) != z.crc || binary.LittleEndian.Uint32(t[4:]) != z.size {
		return ErrChecksum
	}
	z.state = stateMember
	return nil
}

// blockHeader reads a deflate block header and, for a dynamic block, its
// code tables.
func (z *Reader) blockHeader() error {
	z.fillInput(headerNeed)
	h := z.bits(3)
	z.final = h&1 != 0
	switch h >> 1 {
	case 0:
		z.align()
		z.fillInput(4)
		if z.end-z.pos < 4 {
			return z.truncated()
		}
		n := binary.LittleEndian.Uint16(z.in[z.pos:])
		if ^n != binary.LittleEndian.Uint16(z.in[z.pos+2:]) {
			return z.corrupt("stored block length and its complement differ")
		}
		z.pos += 4
		z.stored = int(n)
		z.state = stateStored
		return nil
	case 1:
		z.lit, z.dist = fixedLit, fixedDist
	case 2:
		if err := z.dynamicTables(); err != nil {
			if z.overread() { // the zeros past a truncated stream
				return z.truncated()
			}
			return err
		}
		z.lit, z.dist = z.dynLit, z.dynDist
	default:
		return z.corrupt("reserved block type")
	}
	if z.overread() {
		return z.truncated()
	}
	z.state = stateHuffman
	return nil
}

// truncated returns why the input ended early: the source's error, or
// io.ErrUnexpectedEOF.
func (z *Reader) truncated() error {
	if z.srcErr != nil {
		return z.srcErr
	}
	return io.ErrUnexpectedEOF
}

// codeLenOrder is the order of the code-length code's lengths.
var codeLenOrder = [19]uint8{16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15}

// dynamicTables reads the code tables of a dynamic block (RFC 1951
// §3.2.7). The whole header is in the input (fillInput(headerNeed)) unless
// the stream ends first, which overread detects.
func (z *Reader) dynamicTables() error {
	nlit := int(z.bits(5)) + 257
	ndist := int(z.bits(5)) + 1
	nclen := int(z.bits(4)) + 4
	if nlit > 286 || ndist > 30 {
		return z.corrupt("too many length or distance codes")
	}
	var cl [19]uint8
	for i := range nclen {
		cl[codeLenOrder[i]] = uint8(z.bits(3))
	}
	if err := z.codeLens.build(cl[:], lenBits, kindCodeLen); err != nil {
		return z.corrupt("invalid code-length code")
	}
	lengths := z.lengths[:nlit+ndist]
	for i := 0; i < len(lengths); {
		if z.overread() {
			return z.truncated()
		}
		if z.nbits < 16 {
			z.refill()
		}
		e := z.codeLens.t[z.bitbuf&z.codeLens.mask]
		if e&entryInvalid != 0 {
			return z.corrupt("invalid code-length symbol")
		}
		n := uint(e & entryBits)
		z.bitbuf >>= n
		z.nbits -= n
		sym := e >> 16
		if sym < 16 {
			lengths[i] = uint8(sym)
			i++
			continue
		}
		var rep int
		var val uint8
		switch sym {
		case 16:
			if i == 0 {
				return z.corrupt("repeat of no previous length")
			}
			rep, val = 3+int(z.bits(2)), lengths[i-1]
		case 17:
			rep = 3 + int(z.bits(3))
		default:
			rep = 11 + int(z.bits(7))
		}
		if i+rep > len(lengths) {
			return z.corrupt("code lengths overflow")
		}
		for range rep {
			lengths[i] = val
			i++
		}
	}
	if lengths[256] == 0 {
		return z.corrupt("no end-of-block code")
	}
	if err := z.dynLit.build(lengths[:nlit], litBits, kindLitLen); err != nil {
		return z.corrupt("invalid literal/length code")
	}
	if err := z.dynDist.build(lengths[nlit:], distBits, kindDist); err != nil {
		return z.corrupt("invalid distance code")
	}
	return nil
}

// copyStored copies the stored block's bytes, up to limit in out.
func (z *Reader) copyStored(limit int) error {
	for z.stored > 0 && z.o < limit {
		z.fillInput(1)
		if z.pos == z.end {
			return z.truncated()
		}
		n := copy(z.out[z.o:min(limit, z.o+z.stored)], z.in[z.pos:z.end])
		z.o += n
		z.pos += n
		z.stored -= n
	}
	if z.stored == 0 {
		z.endBlock()
	}
	return nil
}

// endBlock moves on after a block's end.
func (z *Reader) endBlock() {
	if z.final {
		z.state = stateTrailer
	} else {
		z.state = stateBlock
	}
}

// fastInput is how much input the Huffman loop wants ahead of it: a refill
// reads 8 bytes, and one symbol with its distance takes at most 48 bits.
const fastInput = 16

// huffman decodes a Huffman-coded block's symbols until its end, until the
// output reaches limit (less room for a match), or until the input runs
// short (then it refills the input and goes on). Near the end of the
// stream each symbol is checked against reading past it, so a truncated
// stream yields no bytes it did not hold.
//
// Its loads and stores are unchecked (load64, store64, store16); they stay
// within bounds because:
//   - input: each pass of the loop starts with pos <= inLimit, at most
//     inBytes+8, and tops the bits up at most twice before the next check,
//     each time reading 8 bytes and moving pos 7 at most: it reads below
//     inLimit+22, inside in's inPad (64) bytes past inBytes;
//   - output: each pass starts with o <= outLimit = limit-outSlack, writes
//     up to six literals, then a match of at most 258 bytes in 8-byte
//     words, at least five of them (264 bytes at most), all below limit,
//     at most len(out)-outSlack; a match reads from o-d >= hist >= 0,
//     checked, as far as it writes.
func (z *Reader) huffman(limit int) error {
	in, out := z.in, z.out
	if limit > len(out)-outSlack || len(in) < inBytes+inPad {
		panic("gunzip: buffers smaller than the decoding loop's bounds")
	}
	inp, outp := unsafe.Pointer(unsafe.SliceData(in)), unsafe.Pointer(unsafe.SliceData(out))
	lit, dist := z.lit.t, z.dist.t // main tables of litBits and distBits
	const litMask, distMask, subMask = 1<<litBits - 1, 1<<distBits - 1, tableSize - 1
	outLimit := limit - outSlack
	for {
		z.fillInput(fastInput)
		inLimit := z.end - fastInput
		careful := z.eof
		if careful {
			inLimit = z.end + 8 // past the end: zeros, watched by the checks
		}
		endBits := z.end * 8
		pos, bitbuf, nbits, o, hist := z.pos, z.bitbuf, z.nbits, z.o, z.hist
		var err error
		done := false
		// Each symbol's first entry is looked up ahead, after the bits
		// are topped up: at the end of the one before, ahead of its
		// match's copy, whose mispredicted loop exit then does not delay
		// it (as libdeflate does).
		var e uint32
		if pos <= inLimit {
			pos, bitbuf, nbits = topUp(load64(inp, pos), pos, bitbuf, nbits)
			e = lit[bitbuf&litMask]
		}
	decode:
		for pos <= inLimit && o <= outLimit {
			if e&entrySub != 0 {
				bitbuf >>= litBits
				nbits -= litBits
				e = lit[(e>>16+uint32(bitbuf)&(1<<((e>>8)&0xf)-1))&subMask]
			}
			saved := bitbuf // a length's extra bits are read from it
			n := e & entryBits
			bitbuf >>= n
			nbits -= uint(n)
			if e&entryLiteral != 0 {
				// Up to three lookups of literals fit in the bits at hand
				// (a code takes at most 15, a pair at most 10).
				for lits := 1; ; lits++ {
					if careful && pos*8-int(nbits) > endBits {
						// A pair whose first literal was in the stream
						// yields it.
						if e&entryPair != 0 && pos*8-int(nbits)-int(e&entryBits)+int(e>>8&0xf) <= endBits {
							out[o] = byte(e >> 16)
							o++
						}
						err = z.truncated()
						break decode
					}
					store16(outp, o, uint16(e>>16))
					o += 1 + int(e>>12&1)
					if lits == 3 {
						pos, bitbuf, nbits = topUp(load64(inp, pos), pos, bitbuf, nbits)
						e = lit[bitbuf&litMask]
						continue decode
					}
					e = lit[bitbuf&litMask]
					if e&entrySub != 0 {
						bitbuf >>= litBits
						nbits -= litBits
						e = lit[(e>>16+uint32(bitbuf)&(1<<((e>>8)&0xf)-1))&subMask]
					}
					saved = bitbuf
					n = e & entryBits
					bitbuf >>= n
					nbits -= uint(n)
					if e&entryLiteral == 0 {
						break
					}
				}
				// A distance takes up to 28 more bits (a length's extra
				// bits were at hand, in saved).
				pos, bitbuf, nbits = topUp(load64(inp, pos), pos, bitbuf, nbits)
			}
			if e&(entryEnd|entryInvalid) != 0 {
				if e&entryInvalid != 0 {
					err = &corruptError{offset: z.off + int64(pos-int(nbits/8)), why: "invalid literal/length code"}
				} else if careful && pos*8-int(nbits) > endBits {
					err = z.truncated()
				}
				done = true
				break
			}
			length := int(e>>16) + int(saved&(1<<n-1)>>(e>>8&0xf))
			e = dist[bitbuf&distMask]
			if e&entrySub != 0 {
				bitbuf >>= distBits
				nbits -= distBits
				e = dist[(e>>16+uint32(bitbuf)&(1<<((e>>8)&0xf)-1))&subMask]
			}
			if e&entryInvalid != 0 {
				err = &corruptError{offset: z.off + int64(pos-int(nbits/8)), why: "invalid distance code"}
				done = true
				break
			}
			saved = bitbuf
			n = e & entryBits
			bitbuf >>= n
			nbits -= uint(n)
			d := int(e>>16) + int(saved&(1<<n-1)>>(e>>8&0xf))
			if d > o-hist {
				err = &corruptError{offset: z.off + int64(pos-int(nbits/8)), why: "distance beyond the output"}
				done = true
				break
			}
			if careful && pos*8-int(nbits) > endBits {
				err = z.truncated()
				break
			}
			pos, bitbuf, nbits = topUp(load64(inp, pos), pos, bitbuf, nbits)
			e = lit[bitbuf&litMask]
			src := o - d
			if d >= 8 {
				// Five words whatever the length (as libdeflate does): most
				// matches are shorter, and a loop's exit, at a length that
				// varies from match to match, would be mispredicted.
				store64(outp, o, load64(outp, src))
				store64(outp, o+8, load64(outp, src+8))
				store64(outp, o+16, load64(outp, src+16))
				store64(outp, o+24, load64(outp, src+24))
				store64(outp, o+32, load64(outp, src+32))
				for i := 40; i < length; i += 8 {
					store64(outp, o+i, load64(outp, src+i))
				}
			} else {
				for i := range length {
					out[o+i] = out[src+i]
				}
			}
			o += length
		}
		z.pos, z.bitbuf, z.nbits, z.o = pos, bitbuf, nbits, o
		if err != nil {
			if _, bad := err.(*corruptError); bad && careful && z.consumed() > endBits {
				return z.truncated() // the zeros past a truncated stream
			}
			return err
		}
		if done {
			z.endBlock()
			return nil
		}
		if o > outLimit {
			return nil
		}
		if careful {
			return z.truncated()
		}
	}
}
