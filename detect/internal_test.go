package detect

import (
	"net/netip"
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
