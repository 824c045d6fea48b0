package pqfile

import (
	"math/rand/v2"
	"net/netip"
	"testing"
)

// TestIPText: addresses are written as netip writes them, IPv4 (mapped
// into IPv6 in the arrays) in dotted decimal.
func TestIPText(t *testing.T) {
	addrs := []string{"0.0.0.0", "255.255.255.255", "10.0.0.1", "1.20.255.9", "::", "::1", "::ffff:0:0",
		"::1.2.3.4", "2600:1f18::1", "fe80::1:2:3:4", "::fffe:102:304", "0:0:1::ffff:102:304"}
	rng := rand.New(rand.NewPCG(5, 6))
	for range 2000 {
		var a [16]byte
		for i := range a {
			a[i] = byte(rng.Uint32())
		}
		if rng.IntN(2) == 0 {
			a = netip.AddrFrom4([4]byte(a[12:])).As16()
		}
		addrs = append(addrs, netip.AddrFrom16(a).String())
	}
	for _, s := range addrs {
		a := netip.MustParseAddr(s)
		want := a.Unmap().String()
		if got := string(appendIPText([]byte("x"), a.As16())); got != "x"+want {
			t.Errorf("%s: %q, want %q", s, got, "x"+want)
		}
	}
}
