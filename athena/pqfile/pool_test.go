package pqfile

import "testing"

// TestClassPool: get gives room for what was asked; a buffer put back is
// found again by a get of its pooledCap, so a column's next row group
// reuses the buffers of its last.
func TestClassPool(t *testing.T) {
	var p classPool[byte]
	for _, n := range []int{0, 1, minPooled - 1, minPooled, minPooled + 1, 1 << 20, 3 << 19} {
		if b := p.get(n); len(b) != 0 || cap(b) < n || cap(b) < minPooled {
			t.Errorf("get(%d): len %d cap %d", n, len(b), cap(b))
		}
	}
	b := make([]byte, 5, 3<<19) // not a power of two, as append grows them
	b[0] = 7
	hint := pooledCap(b)
	if hint != 1<<20 {
		t.Fatalf("pooledCap of cap %d = %d, want %d", cap(b), hint, 1<<20)
	}
	found := false
	for range 50 { // the race detector makes sync.Pool drop some puts
		p.put(b)
		got := p.get(hint)
		if len(got) != 0 {
			t.Fatalf("get returned len %d", len(got))
		}
		if found = cap(got) == cap(b) && got[:1][0] == 7; found {
			break
		}
	}
	if !found {
		t.Errorf("get(%d) after put of a buffer of cap %d never returned it", hint, cap(b))
	}
	if small := make([]byte, 0, minPooled-1); pooledCap(small) != 0 {
		t.Errorf("pooledCap of a small buffer = %d, want 0 (not pooled)", pooledCap(small))
	}
	if got := take(&p, []byte{1}, 1<<20); len(got) != 1 {
		t.Errorf("take replaced a buffer that had room")
	}
	if got := take(&p, nil, 0); got != nil {
		t.Errorf("take with no hint returned a buffer of cap %d", cap(got))
	}
}
