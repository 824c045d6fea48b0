package saturate

import (
	"math"
	"testing"
)

func TestAdd(t *testing.T) {
	for _, c := range []struct{ a, b, want int64 }{
		{1, 2, 3},
		{0, 0, 0},
		{math.MaxInt64 - 1, 1, math.MaxInt64},
		{math.MaxInt64, 100, math.MaxInt64},
		{math.MaxInt64 - 5, math.MaxInt64, math.MaxInt64},
	} {
		if got := Add(c.a, c.b); got != c.want {
			t.Errorf("Add(%d, %d) = %d, want %d", c.a, c.b, got, c.want)
		}
	}
}
