package report

import (
	"cmp"
	"math"
	"math/rand/v2"
	"net/netip"
	"strings"
	"testing"

	"github.com/flowlens/flowlens/athena"
)

// TestCounterExactWithinCapacity: with no more keys than the capacity the
// sums and their order are exact.
func TestCounterExactWithinCapacity(t *testing.T) {
	c := newCounter(8, cmp.Compare[int])
	for k := range 8 {
		for range k + 1 {
			c.add(k, [2]int64{int64(k), 1}, nil)
		}
	}
	c.add(3, [2]int64{0, 0}, nil)  // a zero weight changes nothing
	c.add(99, [2]int64{0, 0}, nil) // and adds no key
	top := c.top(3)
	if c.evicted || len(c.entries) != 8 || len(top) != 3 {
		t.Fatalf("evicted %v, %d keys, top %v", c.evicted, len(c.entries), top)
	}
	for i, want := range []int{7, 6, 5} {
		e := top[i]
		if e.key != want || e.parts != [2]int64{int64(want * (want + 1)), int64(want + 1)} || e.err != 0 || e.sum != e.parts[0]+e.parts[1] {
			t.Errorf("top %d = %+v, want key %d exact", i, e, want)
		}
	}
}

// TestCounterBoundedAndHeavyKeysKept streams many light keys and a few
// heavy ones through a small counter: it never holds more than its
// capacity, keeps every heavy key, and each sum bounds the truth from above
// by at most its error.
func TestCounterBoundedAndHeavyKeysKept(t *testing.T) {
	const capacity = 64
	c := newCounter(capacity, cmp.Compare[int])
	truth := map[int]int64{}
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 200_000 {
		k := 1000 + rng.IntN(50_000) // light: about 4 each
		if i%10 == 0 {
			k = i / 10 % 5 // heavy: 4,000 each
		}
		w := int64(1 + rng.IntN(3))
		truth[k] += w
		c.add(k, [2]int64{w, 0}, nil)
		if len(c.entries) > capacity {
			t.Fatalf("%d keys held, capacity %d", len(c.entries), capacity)
		}
		if i%997 == 0 {
			checkHeap(t, c)
		}
	}
	if !c.evicted {
		t.Fatal("no eviction: the test does not exercise Space-Saving")
	}
	for i, e := range c.top(5) {
		if e.key >= 5 {
			t.Errorf("top %d is light key %d (%d)", i, e.key, e.sum)
		}
	}
	checkHeap(t, c)
	for _, e := range c.entries {
		if e.sum < truth[e.key] || e.sum-e.err > truth[e.key] {
			t.Errorf("key %d: sum %d, error %d, truth %d", e.key, e.sum, e.err, truth[e.key])
		}
	}
}

func TestSpaceWithTheRunsRanges(t *testing.T) {
	m := &athena.Manifest{Extra: map[string]any{athena.ExtraInternalCIDRs: []any{"100.64.0.0/10"}}}
	extra := extraInternal(m)
	for s, want := range map[string]int{"100.64.3.4": internalSpace, "10.9.9.9": internalSpace, "8.8.8.8": externalSpace, "fd00::9": internalSpace} {
		if got, ok := space(s, extra); !ok || got != want {
			t.Errorf("space(%s) = %d, %v", s, got, ok)
		}
	}
	if got, _ := space("100.64.3.4", nil); got != externalSpace {
		t.Errorf("100.64.3.4 is internal without the run's ranges")
	}
}

// TestCounterSaturates: sums that would overflow int64 (the byte counts of
// a record may reach its maximum) stay at the maximum, and so stay on top.
func TestCounterSaturates(t *testing.T) {
	c := newCounter(1, cmp.Compare[int])
	c.add(1, [2]int64{math.MaxInt64, 100}, nil)
	c.add(1, [2]int64{math.MaxInt64, 0}, nil)
	c.add(2, [2]int64{5, 0}, nil) // evicts 1: inherits its sum
	if top := c.top(1); len(top) != 1 || top[0].sum != math.MaxInt64 {
		t.Errorf("top %+v, want a sum of %d", top, int64(math.MaxInt64))
	}
}

// checkHeap checks the counter's bookkeeping: every key indexed at its
// entry and nothing else indexed, every entry at its heap place, and the
// heap ordered.
func checkHeap[K comparable](t *testing.T, c *counter[K]) {
	t.Helper()
	for i, e := range c.entries {
		if got := c.find(e.key, c.hash32(e.key)); got != int32(i) {
			t.Fatalf("entry %d indexed at %d", i, got)
		}
	}
	indexed := 0
	for _, v := range c.slots {
		if v != 0 {
			indexed++
		}
	}
	if indexed != len(c.entries) || 2*indexed > len(c.slots) {
		t.Fatalf("%d slots of %d used for %d entries", indexed, len(c.slots), len(c.entries))
	}
	for h, slot := range c.heap {
		if i := slot.entry; c.at[i] != int32(h) || slot.sum != c.entries[i].sum {
			t.Fatalf("entry %d (sum %d) at heap place %d (sum %d), recorded %d", i, c.entries[i].sum, h, slot.sum, c.at[i])
		}
		if p := (h - 1) / 2; h > 0 && c.heap[p].sum > slot.sum {
			t.Fatalf("heap place %d (%d) above %d (%d)", p, c.heap[p].sum, h, slot.sum)
		}
	}
}

// BenchmarkCounterDistinct adds keys that are nearly all distinct, the
// talkers of an internet-facing interface: past the capacity every one
// evicts the lightest.
func BenchmarkCounterDistinct(b *testing.B) {
	const n = 1 << 20
	keys := make([]string, n)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range keys {
		keys[i] = netip.AddrFrom4([4]byte{byte(rng.IntN(256)), byte(rng.IntN(256)), byte(rng.IntN(256)), byte(rng.IntN(256))}).String()
	}
	b.ReportAllocs()
	for b.Loop() {
		c := newCounter(counterCapacity, strings.Compare)
		for i, k := range keys {
			c.add(k, [2]int64{int64(40 + i%1500), 0}, nil)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/key")
}
