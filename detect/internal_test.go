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

// TestLateEndpointSweptWhenDue: an endpoint first contacted in a late
// window (earlier than the host's others) is forgotten by the sweep of
// the hour it goes stale in, not with the host's later endpoints.
func TestLateEndpointSweptWhenDue(t *testing.T) {
	d, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	h := d.host(addr(netip.MustParseAddr("10.0.0.1").As16()), "")
	endpoint := func(s string) beaconKey {
		return beaconKey{addr(netip.MustParseAddr(s).As16()), 443, 6}
	}
	c := counts{records: 1, packets: 1, bytes: 100}
	h.addBeacon(d, endpoint("203.0.113.1"), 3600, &c)
	h.addBeacon(d, endpoint("203.0.113.2"), 3300, &c) // a late window's
	// 3300 is stale from 3300+6h+1 on, in hour 7 (25200-28799); 3600 is
	// not stale before 25201.
	d.expireBeacons(25200)
	if len(h.beacons) != 1 || h.beacons[endpoint("203.0.113.1")] == nil {
		t.Fatalf("after hour 7's sweep: %d endpoints tracked, want only the one of window 3600", len(h.beacons))
	}
	d.expireBeacons(28800)
	if len(h.beacons) != 0 {
		t.Fatalf("after hour 8's sweep: %d endpoints tracked, want none", len(h.beacons))
	}
}
