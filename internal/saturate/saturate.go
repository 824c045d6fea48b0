// Package saturate adds the non-negative counters of flow records (bytes,
// packets, records) without wrapping: the parser takes any value up to
// int64's maximum, and the sums of aggregates and detectors would
// otherwise turn negative. A sum that overflows stays at the maximum,
// which no real traffic reaches.
package saturate

import "math"

// Add returns a+b for non-negative b, or math.MaxInt64 when that
// overflows.
func Add(a, b int64) int64 {
	if s := a + b; s >= a {
		return s
	}
	return math.MaxInt64
}
