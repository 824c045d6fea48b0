package report

import (
	"math"
	"testing"
)

// TestTimeTicks: ticks are aligned multiples of a step, inside the range,
// at most n+1 of them, even when a bad record puts times centuries or
// the whole int64 range apart (it once made millions of ticks).
func TestTimeTicks(t *testing.T) {
	const day = 1_700_000_000 - 1_700_000_000%86400
	cases := []struct {
		from, to int64
		step     int64 // 0: only check the bounds
	}{
		{day, day + 3600, 600},
		{day + 1, day + 86400, 3 * 3600},
		{day, day + 30*86400, 7 * 86400},
		{day, 99_999_999_999_999, 0},
		{day, 999_999_999_999_999, 0},
		{0, math.MaxInt64, 0},
		{-86400*3 + 7, 86400, 12 * 3600},
		{day, day, 60},
		{math.MaxInt64 - 3, math.MaxInt64, 0},
		{math.MaxInt64 - 86400*400, math.MaxInt64, 0},
	}
	for _, c := range cases {
		ticks := timeTicks(c.from, c.to, 10)
		if len(ticks) > 11 || (len(ticks) == 0 && c.to-c.from > 600) {
			t.Errorf("[%d, %d]: %d ticks", c.from, c.to, len(ticks))
			continue
		}
		for i, tk := range ticks {
			if tk < c.from || tk > c.to {
				t.Errorf("[%d, %d]: tick %d outside the range", c.from, c.to, tk)
			}
			if i > 0 && tk <= ticks[i-1] {
				t.Errorf("[%d, %d]: ticks not increasing: %v", c.from, c.to, ticks)
			}
			if c.step != 0 && tk%c.step != 0 {
				t.Errorf("[%d, %d]: tick %d not a multiple of %d", c.from, c.to, tk, c.step)
			}
		}
		if c.step != 0 && ticks[0]-c.step >= c.from {
			t.Errorf("[%d, %d]: first tick %d, step %d: one is missing", c.from, c.to, ticks[0], c.step)
		}
	}
}
