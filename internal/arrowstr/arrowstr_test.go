package arrowstr

import (
	"testing"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// TestDataOfSlice: the offsets of a slice of a larger array index Data,
// value for value, where they would not index ValueBytes.
func TestDataOfSlice(t *testing.T) {
	b := array.NewStringBuilder(memory.DefaultAllocator)
	defer b.Release()
	b.AppendValues([]string{"eni-0aaa", "eni-1bb", "", "eni-3d"}, nil)
	whole := b.NewStringArray()
	defer whole.Release()
	part := array.NewSlice(whole, 1, 4).(*array.String)
	defer part.Release()
	offs, data := part.ValueOffsets(), Data(part)
	for i := range part.Len() {
		if got := string(data[offs[i]:offs[i+1]]); got != part.Value(i) {
			t.Errorf("value %d: %q, want %q", i, got, part.Value(i))
		}
	}
	if string(part.ValueBytes()[offs[0]:offs[1]]) == part.Value(0) {
		t.Fatal("the slice's ValueBytes starts at 0: the test does not exercise a slice")
	}
}
