package aggregate

import (
	"math"
	"math/bits"
)

// Distinct counts distinct 64-bit hashes: exactly, with a set, up to a
// threshold, then with a HyperLogLog sketch (precision 12: 4,096 one-byte
// registers, about 1.6 % standard error). Both forms merge, so partial
// counts made by different workers combine into the count of their union,
// whatever the order.
type Distinct struct {
	small [smallDistinct]uint64 // the first values, without a table: most keys have few
	n     uint8
	set   hashSet
	regs  []uint8 // the sketch, once the set outgrew the threshold
}

// hashSet is a set of mixed hashes: open addressing with linear probing
// over the values themselves, 0 marking an empty slot (the value 0 is kept
// aside), cheaper than a Go map for the millions of small sets the tables
// hold.
type hashSet struct {
	tab     []uint64
	n       int32
	hasZero bool
}

func (s *hashSet) active() bool { return s.tab != nil }

func (s *hashSet) len() int { return int(s.n) }

// add inserts h.
func (s *hashSet) add(h uint64) {
	if h == 0 {
		if !s.hasZero {
			s.hasZero = true
			s.n++
		}
		return
	}
	if int(s.n+1)*4 > len(s.tab)*3 {
		s.grow()
	}
	mask := uint64(len(s.tab) - 1)
	for i := h & mask; ; i = (i + 1) & mask {
		switch s.tab[i] {
		case h:
			return
		case 0:
			s.tab[i] = h
			s.n++
			return
		}
	}
}

func (s *hashSet) grow() {
	old := s.tab
	s.tab = make([]uint64, max(16, 2*len(old)))
	mask := uint64(len(s.tab) - 1)
	for _, h := range old {
		if h == 0 {
			continue
		}
		i := h & mask
		for s.tab[i] != 0 {
			i = (i + 1) & mask
		}
		s.tab[i] = h
	}
}

// each calls f with every value.
func (s *hashSet) each(f func(uint64)) {
	if s.hasZero {
		f(0)
	}
	for _, h := range s.tab {
		if h != 0 {
			f(h)
		}
	}
}

const smallDistinct = 4

const hllP = 12

// Add counts h, a hash of the value (it is mixed again, so any 64-bit
// hash will do).
func (d *Distinct) Add(h uint64, threshold int) {
	d.addMixed(mix(h), threshold)
}

func (d *Distinct) addMixed(h uint64, threshold int) {
	if d.regs != nil {
		d.addHLL(h)
		return
	}
	if !d.set.active() {
		for _, v := range d.small[:d.n] {
			if v == h {
				return
			}
		}
		if int(d.n) < smallDistinct {
			d.small[d.n] = h
			d.n++
			return
		}
		d.set.grow()
		for _, v := range d.small[:d.n] {
			d.set.add(v)
		}
	}
	d.set.add(h)
	if d.set.len() > threshold {
		d.toSketch()
	}
}

func (d *Distinct) toSketch() {
	d.regs = make([]uint8, 1<<hllP)
	for _, h := range d.small[:d.n] { // the values held are mixed hashes already
		d.addHLL(h)
	}
	d.set.each(d.addHLL)
	d.set, d.n = hashSet{}, 0
}

func (d *Distinct) addHLL(h uint64) {
	idx := h >> (64 - hllP)
	rank := uint8(bits.LeadingZeros64(h<<hllP|1<<(hllP-1))) + 1
	if rank > d.regs[idx] {
		d.regs[idx] = rank
	}
}

// Merge adds o's values to d.
func (d *Distinct) Merge(o *Distinct, threshold int) {
	switch {
	case o.regs != nil:
		if d.regs == nil {
			d.toSketch()
		}
		for i, r := range o.regs {
			if r > d.regs[i] {
				d.regs[i] = r
			}
		}
	default:
		for _, h := range o.small[:o.n] {
			d.addMixed(h, threshold)
		}
		o.set.each(func(h uint64) { d.addMixed(h, threshold) })
	}
}

// Count returns the number of distinct values: exact below the threshold,
// estimated above it.
func (d *Distinct) Count() int64 {
	if d.regs == nil {
		if !d.set.active() {
			return int64(d.n)
		}
		return int64(d.set.len())
	}
	m := float64(len(d.regs))
	var sum float64
	zeros := 0
	for _, r := range d.regs {
		sum += pow2neg[r]
		if r == 0 {
			zeros++
		}
	}
	est := 0.7213 / (1 + 1.079/m) * m * m / sum
	if est <= 2.5*m && zeros > 0 { // small range correction: linear counting
		est = m * math.Log(m/float64(zeros))
	}
	return int64(est + 0.5)
}

// pow2neg[r] is 2^-r, for the sketch's estimate.
var pow2neg = func() (t [66]float64) {
	for r := range t {
		t[r] = math.Ldexp(1, -r)
	}
	return t
}()

// Exact reports whether Count is exact.
func (d *Distinct) Exact() bool { return d.regs == nil }

// mix is a 64-bit finalizer (from SplitMix64) that spreads keys over the
// sketch's registers.
func mix(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}
