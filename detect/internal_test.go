package detect

import (
	"math"
	"math/rand/v2"
	"net/netip"
	"slices"
	"testing"
)

func TestInternal(t *testing.T) {
	d, err := New(Config{Internal: []netip.Prefix{netip.MustParsePrefix("100.64.0.0/10")}})
	if err != nil {
		t.Fatal(err)
	}
	for s, want := range map[string]bool{
		"10.1.2.3": true, "172.16.0.1": true, "172.32.0.1": false, "192.168.9.9": true, "8.8.8.8": false,
		"100.64.1.1": true, "fd00::1": true, "fc00::1": true, "2600::1": false,
		"0:0:1234:5678::ffff:a00:1": false, "0:0:1::ffff:c0a8:1": false, "::ffff:10.0.0.1": true,
	} {
		if got := d.internal(addr(netip.MustParseAddr(s).As16())); got != want {
			t.Errorf("internal(%s) = %v", s, got)
		}
	}
}

// TestLogHistogramSparseAndDense checks the median and MAD against a sort
// of the values' bucket middles, below and above the point where the
// histogram's list of buckets becomes an array.
func TestLogHistogramSparseAndDense(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 9))
	for _, n := range []int{1, 2, 5, 100, 1000, 20000} {
		var h logHistogram
		var mids []float64
		for range n {
			x := math.Exp2(rng.Float64() * 40)
			h.add(x)
			mids = append(mids, histValue(histBucket(x)))
		}
		slices.Sort(mids)
		half := (n + 1) / 2
		median := mids[half-1]
		devs := make([]float64, n)
		for i, m := range mids {
			devs[i] = math.Abs(m - median)
		}
		slices.Sort(devs)
		gotMedian, gotMAD := h.medianMAD()
		if gotMedian != median || gotMAD != devs[half-1] {
			t.Errorf("n=%d: median, MAD = %v, %v; want %v, %v", n, gotMedian, gotMAD, median, devs[half-1])
		}
		// 320 buckets are possible: a thousand values use more than the list holds.
		if dense := h.dense != nil; dense != (n >= 1000) {
			t.Errorf("n=%d: dense=%v with %d buckets listed", n, dense, len(h.sparse))
		}
	}
}
