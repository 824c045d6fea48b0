package pqfile

import "testing"

// TestDenseIndexFrozen: a value too far from the window freezes it; the
// values inside it are still answered, with their entries, and those
// outside get nil (they are hashed), however near the window they lie.
func TestDenseIndexFrozen(t *testing.T) {
	var d denseIndex
	defer d.reset()
	for _, v := range []int64{1000, 1500, 3000} {
		if r := d.ref(v); r == nil {
			t.Fatalf("ref(%d) = nil while the window grows", v)
		} else {
			*r = int32(v)
		}
	}
	if r := d.ref(1000 + maxDenseSpan); r != nil || !d.frozen {
		t.Fatalf("a value beyond the span: ref %v, frozen %v; want nil, frozen", r, d.frozen)
	}
	for _, v := range []int64{1000, 1500, 3000} {
		if r := d.ref(v); r == nil || *r != int32(v) {
			t.Errorf("ref(%d) after freezing: want its entry %d", v, v)
		}
	}
	if r := d.ref(1001); r == nil || *r != 0 {
		t.Errorf("ref(1001), inside the frozen window: want an empty slot")
	}
	if r := d.ref(d.lo + int64(len(d.refs))); r != nil {
		t.Errorf("ref just past the frozen window = %d; want nil", *r)
	}
}
