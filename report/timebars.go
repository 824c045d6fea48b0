package report

import (
	"cmp"
	"fmt"
	"html/template"
	"slices"

	"github.com/flowlens/flowlens/internal/saturate"
)

// maxBars bounds the bars of bytes over time: beyond it, neighbouring
// windows share a bar.
const maxBars = 360

// timeBar is the bytes of one bar of bytes over time.
type timeBar struct {
	start          int64
	accept, reject int64
}

// bars returns the bars of bytes over time, in time order, and the seconds
// each covers: one per window, or per run of windows when there are more
// than maxBars.
func (t *traffic) bars() ([]timeBar, int64) {
	width := max(t.window, 1)
	if n := (t.last - t.first + width - 1) / width; n > maxBars {
		width *= (n + maxBars - 1) / maxBars
	}
	sums := map[int64]*timeBar{}
	for ws, v := range t.windows {
		start := ws - ((ws%width)+width)%width
		b := sums[start]
		if b == nil {
			b = &timeBar{start: start}
			sums[start] = b
		}
		b.accept = saturate.Add(b.accept, v[0])
		b.reject = saturate.Add(b.reject, v[1])
	}
	out := make([]timeBar, 0, len(sums))
	for _, b := range sums {
		out = append(out, *b)
	}
	slices.SortFunc(out, func(a, b timeBar) int { return cmp.Compare(a.start, b.start) })
	return out, width
}

// bytesOverTime draws bytes per window as bars stacked by action.
func bytesOverTime(t *traffic) template.HTML {
	bars, width := t.bars()
	if len(bars) == 0 {
		return ""
	}
	const height, left, right, top, bottom = 300.0, 80.0, chartWidth - 20.0, 12.0, 270.0
	from, to := bars[0].start, max(t.last, bars[len(bars)-1].start+width)
	x := func(ts int64) float64 { return left + float64(ts-from)/float64(to-from)*(right-left) }
	var peak int64
	for _, b := range bars {
		peak = max(peak, b.accept+b.reject)
	}
	ticks := niceTicks(float64(peak), byteUnit(float64(peak)), 4)
	ymax := ticks[len(ticks)-1]
	h := func(v int64) float64 {
		if ymax == 0 {
			return 0
		}
		return float64(v) / ymax * (bottom - top)
	}
	s := newSVG("bytes-over-time", height, "bytes per window by action")
	for _, v := range ticks {
		y := bottom - h(int64(v))
		s.line(left, y, right, y, "grid")
		s.text(left-6, y+4, "end", "tick", formatBytes(int64(v)))
	}
	s.timeAxis(from, to, left, right, top, bottom)
	bw := x(from+width) - x(from)
	gap := 0.0
	if bw >= 3 {
		gap = 1
	}
	for _, b := range bars {
		tip := fmt.Sprintf("%s: accepted %s, rejected %s", formatRange(unixTime(b.start), unixTime(b.start+width)),
			formatBytes(b.accept), formatBytes(b.reject))
		fmt.Fprintf(s, `<g class="bar" data-point data-start="%d" data-accept="%d" data-reject="%d" data-tip="%s">`,
			b.start, b.accept, b.reject, esc(tip))
		ha, hr := h(b.accept), h(b.reject)
		s.rect(x(b.start), bottom-ha, max(bw-gap, 1), ha, "accept", "")
		s.rect(x(b.start), bottom-ha-hr, max(bw-gap, 1), hr, "reject", "")
		s.WriteString("</g>")
	}
	return s.close()
}
