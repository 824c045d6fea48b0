package aggregate

// hashedKey is a key that hashes itself.
type hashedKey interface {
	comparable
	hash() uint64
}

// keyIndex maps keys to their rows in a state (the keys themselves live in
// the state's slice): open addressing with linear probing over 8-byte slots
// that hold a fingerprint of the key's hash and the row, so that a probe
// reads one slot and compares a key only when the fingerprints match. It
// replaces Go maps whose control groups and keys cost two cache misses per
// record on the largest tables.
type keyIndex[K hashedKey] struct {
	slots []uint64 // fingerprint<<32 | row+1; 0 is empty
	mask  uint64
	n     int
}

func (x *keyIndex[K]) init(hint int) {
	size := 64
	for size*7 < hint*10 { // keep the load under 0.7
		size *= 2
	}
	x.slots, x.mask, x.n = make([]uint64, size), uint64(size-1), 0
}

// find returns the row of k.
func (x *keyIndex[K]) find(k *K, keys []K) (int32, bool) {
	h := (*k).hash()
	fp := h >> 32
	for i := h & x.mask; ; i = (i + 1) & x.mask {
		e := x.slots[i]
		if e == 0 {
			return 0, false
		}
		if e>>32 == fp {
			row := int32(e&0xffffffff) - 1
			if keys[row] == *k {
				return row, true
			}
		}
	}
}

// insert adds k, absent, at row.
func (x *keyIndex[K]) insert(k *K, row int32, keys []K) {
	if (x.n+1)*10 > len(x.slots)*7 {
		x.grow(keys)
	}
	x.put((*k).hash(), row)
	x.n++
}

func (x *keyIndex[K]) put(h uint64, row int32) {
	i := h & x.mask
	for x.slots[i] != 0 {
		i = (i + 1) & x.mask
	}
	x.slots[i] = h>>32<<32 | uint64(row+1)
}

func (x *keyIndex[K]) grow(keys []K) {
	x.slots = make([]uint64, 2*len(x.slots))
	x.mask = uint64(len(x.slots) - 1)
	for row := range keys[:x.n] {
		x.put(keys[row].hash(), int32(row))
	}
}

// lookupOrAdd returns the row of k in a table kept as an index over rows of
// keys and values, appending k and a zero value when it is new.
func lookupOrAdd[K hashedKey, V any](x *keyIndex[K], keys *[]K, vals *[]V, k K) int32 {
	i, ok := x.find(&k, *keys)
	if !ok {
		i = int32(len(*keys))
		x.insert(&k, i, *keys)
		*keys = append(*keys, k)
		var zero V
		*vals = append(*vals, zero)
	}
	return i
}

// mix64 is MurmurHash3's finaliser.
func mix64(h uint64) uint64 {
	h ^= h >> 33
	h *= 0xff51afd7ed558ccd
	h ^= h >> 33
	h *= 0xc4ceb9fe1a85ec53
	h ^= h >> 33
	return h
}

func (k convKey) hash() uint64 {
	h := mix64(k.src.hi ^ k.src.lo*0x9e3779b97f4a7c15)
	h = mix64(h ^ k.dst.hi ^ k.dst.lo*0xc2b2ae3d27d4eb4f)
	h = mix64(h ^ uint64(k.iface)<<32 ^ uint64(k.account) ^ uint64(uint32(k.dstport))<<48 ^ uint64(uint32(k.proto))<<40 ^
		uint64(k.action)<<20 ^ uint64(k.region)<<8)
	if k.ifMask != 0 {
		h = mix64(h ^ k.ifSrc.hi ^ k.ifSrc.lo*0x9e3779b97f4a7c15 ^ k.ifDst.hi*0xc2b2ae3d27d4eb4f ^ k.ifDst.lo ^ uint64(k.ifMask))
	}
	return h
}

func (k talkerKey) hash() uint64 {
	return mix64(k.a.hi ^ k.a.lo*0x9e3779b97f4a7c15 ^ uint64(k.region)<<40)
}

func (k portKey) hash() uint64 {
	return mix64(uint64(k.region)<<40 ^ uint64(uint32(k.port))<<8 ^ uint64(uint32(k.proto)))
}

func (k ifaceKey) hash() uint64 {
	return mix64(uint64(k.iface)<<32 ^ uint64(k.account) ^ uint64(k.region)<<52)
}
