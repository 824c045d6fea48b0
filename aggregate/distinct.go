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
	set  map[uint64]struct{}
	regs []uint8 // the sketch, once the set outgrew the threshold
}

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
	if d.set == nil {
		d.set = make(map[uint64]struct{}, 4)
	}
	d.set[h] = struct{}{}
	if len(d.set) > threshold {
		d.toSketch()
	}
}

func (d *Distinct) toSketch() {
	d.regs = make([]uint8, 1<<hllP)
	for h := range d.set { // the set holds mixed hashes already
		d.addHLL(h)
	}
	d.set = nil
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
		for h := range o.set {
			d.addMixed(h, threshold)
		}
	}
}

// Count returns the number of distinct values: exact below the threshold,
// estimated above it.
func (d *Distinct) Count() int64 {
	if d.regs == nil {
		return int64(len(d.set))
	}
	m := float64(len(d.regs))
	var sum float64
	zeros := 0
	for _, r := range d.regs {
		sum += math.Ldexp(1, -int(r))
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
