package pqfile

import "testing"

// TestDenseIndexOffForAll: once a value lies too far from the window, the
// index answers for no value, those inside the old window included, so
// that every lookup of the row group goes to the hash index, which
// indexInt64Entries completes. Answering for the window's values kept
// their entries out of the hash index, and the writer's run loop, which
// needs it complete, stopped at each of them.
func TestDenseIndexOffForAll(t *testing.T) {
	var d denseIndex
	defer d.reset()
	for _, v := range []int64{1000, 1500, 3000} {
		if r := d.ref(v); r == nil {
			t.Fatalf("ref(%d) = nil while the window is on", v)
		} else {
			*r = int32(v)
		}
	}
	if r := d.ref(1000); r == nil || *r != 1000 {
		t.Fatalf("ref(1000) does not hold its entry")
	}
	if r := d.ref(1000 + maxDenseSpan); r != nil || !d.off {
		t.Fatalf("a value beyond the span: ref %v, off %v; want nil, off", r, d.off)
	}
	for _, v := range []int64{1000, 1500, 3000, 1001} {
		if r := d.ref(v); r != nil {
			t.Errorf("ref(%d) = %d after the index turned off; want nil", v, *r)
		}
	}
	if d.refs != nil {
		t.Errorf("the window (%d refs) is kept after the index turned off", len(d.refs))
	}
}
