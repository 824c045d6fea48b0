package gunzip

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"math/rand/v2"
)

// A generator of random valid gzip streams whose every output byte is
// known with the bit at which its code ends: stored, fixed and dynamic
// blocks, complete codes of random shapes from 1 to 15 bits (subtables,
// single codes, very short codes that pair literals), literals and matches.
// It is the oracle of what a truncated stream must yield.

// bitWriter writes deflate bits LSB first.
type bitWriter struct {
	b     []byte
	acc   uint64
	n     uint
	total int // bits written
}

func (w *bitWriter) bits(v uint64, n uint) {
	for i := uint(0); i < n; i++ {
		w.acc |= ((v >> i) & 1) << w.n
		w.n++
		w.total++
		if w.n == 8 {
			w.b = append(w.b, byte(w.acc))
			w.acc, w.n = 0, 0
		}
	}
}

// code writes a Huffman code of n bits, most significant bit first.
func (w *bitWriter) code(c uint32, n uint8) {
	for i := int(n) - 1; i >= 0; i-- {
		w.bits(uint64(c>>uint(i))&1, 1)
	}
}

func (w *bitWriter) align() {
	if w.n > 0 {
		w.total += int(8 - w.n)
		w.b = append(w.b, byte(w.acc))
		w.acc, w.n = 0, 0
	}
}

// randomLengths returns complete code lengths for k symbols (k>=2) of at
// most maxLen bits, of a random tree shape.
func randomLengths(rng *rand.Rand, k int, maxLen int, skew float64) []uint8 {
	leaves := []uint8{0}
	for len(leaves) < k {
		// split a leaf: with probability skew the deepest that can be, else any
		cand := []int{}
		for i, d := range leaves {
			if int(d) < maxLen {
				cand = append(cand, i)
			}
		}
		if len(cand) == 0 {
			break
		}
		var i int
		if rng.Float64() < skew {
			i = cand[0]
			for _, c := range cand {
				if leaves[c] > leaves[i] {
					i = c
				}
			}
		} else {
			i = cand[rng.IntN(len(cand))]
		}
		d := leaves[i] + 1
		leaves[i] = d
		leaves = append(leaves, d)
	}
	rng.Shuffle(len(leaves), func(i, j int) { leaves[i], leaves[j] = leaves[j], leaves[i] })
	return leaves
}

func canonical(lengths []uint8) []uint32 {
	var count [16]int
	for _, n := range lengths {
		count[n]++
	}
	count[0] = 0
	var next [16]uint32
	code := uint32(0)
	for n := 1; n < 16; n++ {
		code = (code + uint32(count[n-1])) << 1
		next[n] = code
	}
	codes := make([]uint32, len(lengths))
	for s, n := range lengths {
		if n > 0 {
			codes[s] = next[n]
			next[n]++
		}
	}
	return codes
}

// genStream writes a random valid gzip member. ends[i] is the stream bit
// (from the start of the gzip bytes) at which output byte i is fully coded.
func genStream(rng *rand.Rand) (gz []byte, data []byte, ends []int) {
	w := &bitWriter{}
	hdr := []byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff}
	for _, b := range hdr {
		w.bits(uint64(b), 8)
	}
	nblocks := 1 + rng.IntN(3)
	for bi := 0; bi < nblocks; bi++ {
		final := bi == nblocks-1
		fb := uint64(0)
		if final {
			fb = 1
		}
		kind := rng.IntN(10)
		if kind == 0 { // stored
			w.bits(fb, 1)
			w.bits(0, 2)
			w.align()
			n := rng.IntN(40)
			w.bits(uint64(n), 16)
			w.bits(uint64(^uint16(n)), 16)
			for range n {
				c := byte(rng.IntN(256))
				w.bits(uint64(c), 8)
				data = append(data, c)
				ends = append(ends, w.total)
			}
			continue
		}
		var litLens, distLens []uint8
		fixed := kind == 1
		if fixed {
			litLens = make([]uint8, 288)
			for i := range litLens {
				switch {
				case i < 144:
					litLens[i] = 8
				case i < 256:
					litLens[i] = 9
				case i < 280:
					litLens[i] = 7
				default:
					litLens[i] = 8
				}
			}
			distLens = make([]uint8, 30)
			for i := range distLens {
				distLens[i] = 5
			}
		} else {
			// choose symbols: a few literals (short codes) or many (deep codes)
			nlitSyms := []int{1, 2, 3, 4, 6, 10, 30, 100, 256}[rng.IntN(9)]
			nlenSyms := []int{0, 1, 2, 5, 29}[rng.IntN(5)]
			syms := map[int]bool{256: true}
			for len(syms) < 1+nlitSyms {
				syms[rng.IntN(256)] = true
			}
			for i := 0; i < nlenSyms; i++ {
				syms[257+rng.IntN(29)] = true
			}
			list := []int{}
			for s := range 286 {
				if syms[s] {
					list = append(list, s)
				}
			}
			litLens = make([]uint8, 286)
			if len(list) == 1 {
				litLens[256] = 1 // single code of length 1
			} else {
				ls := randomLengths(rng, len(list), 15, rng.Float64())
				for i, s := range list {
					litLens[s] = ls[i]
				}
			}
			distLens = make([]uint8, 30)
			hasLen := nlenSyms > 0
			if hasLen {
				nd := 1 + rng.IntN(30)
				if nd == 1 {
					distLens[rng.IntN(30)] = 1
				} else {
					perm := rng.Perm(30)[:nd]
					ls := randomLengths(rng, nd, 15, rng.Float64())
					for i, s := range perm {
						distLens[s] = ls[i]
					}
				}
			}
			// trim
			nlit := 257
			for s := 257; s < 286; s++ {
				if litLens[s] > 0 {
					nlit = s + 1
				}
			}
			ndist := 1
			for s := range 30 {
				if distLens[s] > 0 {
					ndist = s + 1
				}
			}
			litLens, distLens = litLens[:nlit], distLens[:ndist]
		}
		w.bits(fb, 1)
		if fixed {
			w.bits(1, 2)
		} else {
			w.bits(2, 2)
			w.bits(uint64(len(litLens)-257), 5)
			w.bits(uint64(len(distLens)-1), 5)
			all := append(append([]uint8{}, litLens...), distLens...)
			used := map[uint8]bool{}
			for _, n := range all {
				used[n] = true
			}
			clSyms := []int{}
			for s := range 16 {
				if used[uint8(s)] {
					clSyms = append(clSyms, s)
				}
			}
			var cl [19]uint8
			if len(clSyms) == 1 {
				cl[clSyms[0]] = 1
			} else {
				ls := randomLengths(rng, len(clSyms), 7, rng.Float64())
				for i, s := range clSyms {
					cl[s] = ls[i]
				}
			}
			w.bits(uint64(19-4), 4)
			for _, s := range codeLenOrder {
				w.bits(uint64(cl[s]), 3)
			}
			clCodes := canonical(cl[:])
			for _, n := range all {
				w.code(clCodes[n], cl[n])
			}
		}
		litCodes, distCodes := canonical(litLens), canonical(distLens)
		var lits, lens, dists []int
		for s, n := range litLens {
			if n > 0 && s < 256 {
				lits = append(lits, s)
			}
			if n > 0 && s > 256 && s < 286 {
				lens = append(lens, s)
			}
		}
		for s, n := range distLens {
			if n > 0 {
				dists = append(dists, s)
			}
		}
		nsyms := rng.IntN(300)
		for range nsyms {
			if len(lens) > 0 && len(dists) > 0 && len(data) > 0 && rng.IntN(4) == 0 {
				ls := lens[rng.IntN(len(lens))]
				// distance: pick a code whose base fits in the output
				cands := []int{}
				for _, d := range dists {
					if int(distBase[d]) <= len(data) {
						cands = append(cands, d)
					}
				}
				if len(cands) > 0 {
					ds := cands[rng.IntN(len(cands))]
					le := lengthExtra[ls-257]
					lx := rng.IntN(1 << le)
					length := int(lengthBase[ls-257]) + lx
					if ls == 285 {
						length = 258
					}
					de := distExtra[ds]
					maxX := min(1<<de-1, len(data)-int(distBase[ds]))
					dx := rng.IntN(maxX + 1)
					dist := int(distBase[ds]) + dx
					w.code(litCodes[ls], litLens[ls])
					w.bits(uint64(lx), uint(le))
					w.code(distCodes[ds], distLens[ds])
					w.bits(uint64(dx), uint(de))
					for range length {
						data = append(data, data[len(data)-dist])
						ends = append(ends, w.total)
					}
					continue
				}
			}
			if len(lits) == 0 {
				break
			}
			s := lits[rng.IntN(len(lits))]
			w.code(litCodes[s], litLens[s])
			data = append(data, byte(s))
			ends = append(ends, w.total)
		}
		w.code(litCodes[256], litLens[256])
	}
	w.align()
	var t [8]byte
	binary.LittleEndian.PutUint32(t[:4], crc32.ChecksumIEEE(data))
	binary.LittleEndian.PutUint32(t[4:], uint32(len(data)))
	for _, b := range t {
		w.bits(uint64(b), 8)
	}
	return bytes.Clone(w.b), data, ends
}
