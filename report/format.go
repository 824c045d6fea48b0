package report

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// binaryUnits name powers of 1024, as the findings' explanations do.
var binaryUnits = []string{"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"}

// formatBytes writes n bytes for people: 1.5 GiB.
func formatBytes(n int64) string {
	u, v := 0, float64(n)
	for math.Abs(v) >= 1024 && u < len(binaryUnits)-1 {
		u, v = u+1, v/1024
	}
	if u == 0 {
		return strconv.FormatInt(n, 10) + " B"
	}
	return significant(v) + " " + binaryUnits[u]
}

// significant writes v with three significant digits at most, trailing
// zeros dropped: 1.5, 17.3, 512.
func significant(v float64) string {
	prec := 2
	switch a := math.Abs(v); {
	case a >= 100:
		prec = 0
	case a >= 10:
		prec = 1
	}
	s := strconv.FormatFloat(v, 'f', prec, 64)
	if prec > 0 {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	return s
}

// formatCount writes n with thousands separators: 1,234,567.
func formatCount(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := n < 0
	if neg {
		s = s[1:]
	}
	out := make([]byte, 0, len(s)+len(s)/3+1)
	if neg {
		out = append(out, '-')
	}
	for i := range len(s) {
		if i > 0 && (len(s)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, s[i])
	}
	return string(out)
}

// unixTime is the time of Unix seconds.
func unixTime(unix int64) time.Time { return time.Unix(unix, 0).UTC() }

// formatTime writes a Unix time in UTC, to the second.
func formatTime(unix int64) string {
	return time.Unix(unix, 0).UTC().Format("2006-01-02 15:04:05")
}

// formatRange writes a time range compactly: the second end without its
// date when both are on the same day.
func formatRange(from, to time.Time) string {
	from, to = from.UTC(), to.UTC()
	end := to.Format("2006-01-02 15:04:05")
	if from.Format(time.DateOnly) == to.Format(time.DateOnly) {
		end = to.Format(time.TimeOnly)
	}
	return fmt.Sprintf("%s – %s UTC", from.Format("2006-01-02 15:04:05"), end)
}

// niceTicks returns about n round tick values from 0 to at least max, the
// step a multiple of 1, 2 or 5 times a power of ten of unit.
func niceTicks(max float64, unit float64, n int) []float64 {
	if max <= 0 {
		return []float64{0}
	}
	raw := max / unit / float64(n)
	pow := math.Pow(10, math.Floor(math.Log10(raw)))
	step := pow * 10
	for _, m := range []float64{1, 2, 5} {
		if m*pow >= raw {
			step = m * pow
			break
		}
	}
	step *= unit
	var ticks []float64
	for v := 0.0; ; v += step {
		ticks = append(ticks, v)
		if v >= max {
			return ticks
		}
	}
}

// byteUnit returns the power of 1024 axes of values up to max are labelled in.
func byteUnit(max float64) float64 {
	u := 1.0
	for max >= 1024*u && u < math.Pow(1024, 6) {
		u *= 1024
	}
	return u
}

// timeSteps are the candidate spacings of time-axis ticks, in seconds.
var timeSteps = []int64{60, 300, 600, 900, 1800, 3600, 2 * 3600, 3 * 3600, 6 * 3600, 12 * 3600,
	86400, 2 * 86400, 7 * 86400, 14 * 86400, 28 * 86400, 91 * 86400, 364 * 86400}

// timeTicks returns tick times within [from, to], aligned to UTC multiples
// of the first step that gives at most n ticks.
func timeTicks(from, to int64, n int) []int64 {
	span := uint64(to - from) // to >= from; unsigned, as a span of far-apart times overflows int64
	last := timeSteps[len(timeSteps)-1]
	// Beyond the largest step (times centuries apart, from a bad record),
	// a multiple of it.
	step := int64(min(span/uint64(n)/uint64(last)+1, math.MaxInt64/uint64(last))) * last
	for _, s := range timeSteps {
		if span/uint64(s) <= uint64(n) {
			step = s
			break
		}
	}
	var ticks []int64
	first := from / step * step // rounded toward zero: from itself, or past it when from < 0
	if first < from {
		if first > math.MaxInt64-step {
			return nil // no multiple of step left in range
		}
		first += step
	}
	for t := first; t <= to && len(ticks) <= n; t += step {
		ticks = append(ticks, t)
		if t > math.MaxInt64-step {
			break
		}
	}
	return ticks
}

// tickLabel labels a time tick: its clock time, with the date when it is
// the first tick or the day changed since the previous one.
func tickLabel(t, prev int64, first bool) string {
	tt := time.Unix(t, 0).UTC()
	if first || tt.YearDay() != time.Unix(prev, 0).UTC().YearDay() {
		return tt.Format("Jan 2 15:04")
	}
	return tt.Format("15:04")
}
