package valuezstd

import "math/bits"

// fseTable is the encoding table of one normalized distribution (RFC 8878
// §4.1.1), built as zstd's reference encoder builds it.
type fseTable struct {
	log   uint
	state []uint16          // next states, grouped by symbol
	sym   []symbolTransform // per symbol
}

type symbolTransform struct {
	deltaBits  int32 // (max bits out << 16) - (lowest state that outputs them)
	deltaState int32 // where the symbol's states start in state, less its count
}

// build makes the table of norm, counts summing to 1<<log where -1 marks
// a symbol of less than one state's probability.
func (t *fseTable) build(norm []int16, log uint) {
	size := 1 << log
	t.log = log
	t.state = grow(t.state, size)
	t.sym = grow(t.sym, len(norm))
	var cumul [maxSymbols + 1]int
	var spread [1 << maxLog]uint8
	high := size - 1
	for s, n := range norm {
		if n == -1 {
			cumul[s+1] = cumul[s] + 1
			spread[high] = uint8(s)
			high--
		} else {
			cumul[s+1] = cumul[s] + int(n)
		}
	}
	step := size>>1 + size>>3 + 3
	pos := 0
	for s, n := range norm {
		for range max(int(n), 0) {
			spread[pos] = uint8(s)
			pos = (pos + step) & (size - 1)
			for pos > high {
				pos = (pos + step) & (size - 1)
			}
		}
	}
	for u := range size {
		s := spread[u]
		t.state[cumul[s]] = uint16(size + u)
		cumul[s]++
	}
	total := int32(0)
	for s, n := range norm {
		switch {
		case n == 0:
			t.sym[s] = symbolTransform{deltaBits: int32(log+1)<<16 - int32(size)}
		case n == -1 || n == 1:
			t.sym[s] = symbolTransform{deltaBits: int32(log)<<16 - int32(size), deltaState: total - 1}
			total++
		default:
			maxBits := int32(log) - int32(bits.Len16(uint16(n-1))-1)
			t.sym[s] = symbolTransform{deltaBits: maxBits<<16 - int32(n)<<maxBits, deltaState: total - int32(n)}
			total += int32(n)
		}
	}
}

// rle makes the table of a distribution of the one symbol s, which zstd
// codes in no bits at all (RLE_Mode): every state is 0 and stays so.
func (t *fseTable) rle(s uint8) {
	t.log = 0
	t.state = append(t.state[:0], 0)
	t.sym = grow(t.sym, int(s)+1)
	t.sym[s] = symbolTransform{}
}

// initial returns the state to encode s first from, which writes nothing.
func (t *fseTable) initial(s uint8) uint32 {
	tt := t.sym[s]
	n := (tt.deltaBits + 1<<15) >> 16
	v := n<<16 - tt.deltaBits
	return uint32(t.state[(v>>n)+tt.deltaState])
}

// encode returns the bits (n of them) that lead the decoder from s to
// state, and the state before.
func (t *fseTable) encode(state uint32, s uint8) (bits uint64, n uint, before uint32) {
	tt := t.sym[s]
	n = uint((int32(state) + tt.deltaBits) >> 16)
	return uint64(state) & (1<<n - 1), n, uint32(t.state[int32(state>>n)+tt.deltaState])
}

// normalize scales counts (of total) to a distribution of 1<<log states,
// each present symbol keeping at least one: proportional shares rounded
// down, the largest symbol taking the remainder. 1<<log must be at least
// the number of symbols.
func normalize(norm []int16, counts []uint32, total int, log uint) []int16 {
	size := 1 << log
	norm = norm[:0]
	sum, largest := 0, 0
	for s, c := range counts {
		n := 0
		if c > 0 {
			n = max(int(uint64(c)<<log/uint64(total)), 1)
			if c > counts[largest] {
				largest = s
			}
		}
		norm = append(norm, int16(n))
		sum += n
	}
	norm[largest] += int16(size - sum)
	for norm[largest] < 1 { // many rare symbols rounded up: take from the next largest
		big := -1
		for s, n := range norm {
			if s != largest && (big < 0 || n > norm[big]) {
				big = s
			}
		}
		norm[big]--
		norm[largest]++
	}
	return norm
}

// tableLog picks the accuracy of a distribution of n symbols drawn from
// 0..maxSym: fewer states for few symbols to code, at most maxLog.
func tableLog(n int, maxSym int, maxLog uint) uint {
	log := maxLog
	if n > 4 {
		log = min(log, uint(bits.Len(uint(n-1)))-2)
	}
	log = max(log, uint(bits.Len(uint(maxSym)))+1)
	return min(max(log, minLog), maxLog)
}

// appendDescription appends the FSE table description of norm (RFC 8878
// §4.1.1), as zstd's reference encoder writes it.
func appendDescription(dst []byte, norm []int16, log uint) []byte {
	size := 1 << log
	remaining := size + 1
	threshold := size
	nbBits := log + 1
	acc := uint64(log - minLog)
	nacc := uint(4)
	flush16 := func() {
		dst = append(dst, byte(acc), byte(acc>>8))
		acc >>= 16
		nacc -= 16
	}
	previous0 := false
	for s := 0; s < len(norm) && remaining > 1; {
		if previous0 {
			start := s
			for s < len(norm) && norm[s] == 0 {
				s++
			}
			for s >= start+24 {
				start += 24
				acc |= 0xFFFF << nacc
				dst = append(dst, byte(acc), byte(acc>>8))
				acc >>= 16
			}
			for s >= start+3 {
				start += 3
				acc |= 3 << nacc
				nacc += 2
			}
			acc |= uint64(s-start) << nacc
			nacc += 2
			if nacc > 16 {
				flush16()
			}
		}
		count := int(norm[s])
		s++
		maxv := 2*threshold - 1 - remaining
		if count < 0 {
			remaining += count
		} else {
			remaining -= count
		}
		count++
		if count >= threshold {
			count += maxv
		}
		acc |= uint64(count) << nacc
		nacc += nbBits
		if count < maxv {
			nacc--
		}
		previous0 = count == 1
		for remaining < threshold {
			nbBits--
			threshold >>= 1
		}
		if nacc > 16 {
			flush16()
		}
	}
	dst = append(dst, byte(acc), byte(acc>>8))
	return dst[:len(dst)-2+int(nacc+7)/8]
}

func grow[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	return s[:n]
}
