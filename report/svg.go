package report

import (
	"fmt"
	"html"
	"html/template"
	"strings"
)

// chartWidth is the width of every chart in SVG user units; the page
// scales the SVG to its column.
const chartWidth = 1100

// svg accumulates the markup of one chart. Every data point (a bar, a band,
// a mark) carries data-point and a data-tip the page shows on hover.
type svg struct{ strings.Builder }

// newSVG opens a chart: an <svg data-chart=chart> of the given height.
func newSVG(chart string, height float64, label string) *svg {
	s := &svg{}
	fmt.Fprintf(s, `<svg data-chart="%s" class="chart" viewBox="0 0 %d %.0f" width="%d" height="%.0f" role="img" aria-label="%s" xmlns="http://www.w3.org/2000/svg">`,
		chart, chartWidth, height, chartWidth, height, esc(label))
	return s
}

// esc escapes text for HTML text and attribute values.
func esc(s string) string { return html.EscapeString(s) }

// close ends the chart and returns its markup.
func (s *svg) close() template.HTML {
	s.WriteString("</svg>")
	return template.HTML(s.String()) // built here, every text escaped by esc
}

// text writes a label; anchor is start, middle or end.
func (s *svg) text(x, y float64, anchor, class, text string) {
	fmt.Fprintf(s, `<text x="%.1f" y="%.1f" text-anchor="%s" class="%s">%s</text>`, x, y, anchor, class, esc(text))
}

// line writes a line of a class (grid, axis).
func (s *svg) line(x1, y1, x2, y2 float64, class string) {
	fmt.Fprintf(s, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" class="%s"/>`, x1, y1, x2, y2, class)
}

// rect writes a rectangle of a class with extra attributes (already
// escaped), or nothing when it has no area.
func (s *svg) rect(x, y, w, h float64, class, attrs string) {
	if w <= 0 || h <= 0 {
		return
	}
	fmt.Fprintf(s, `<rect x="%.2f" y="%.2f" width="%.2f" height="%.2f" class="%s"%s/>`, x, y, w, h, class, attrs)
}

// timeAxis writes the ticks, grid lines and labels of a time axis under a
// plot spanning [left, right] × [top, bottom] for times [from, to].
func (s *svg) timeAxis(from, to int64, left, right, top, bottom float64) {
	x := func(t int64) float64 { return left + float64(t-from)/float64(to-from)*(right-left) }
	ticks := timeTicks(from, to, 10)
	for i, t := range ticks {
		s.line(x(t), top, x(t), bottom, "grid")
		prev := t
		if i > 0 {
			prev = ticks[i-1]
		}
		s.text(x(t), bottom+16, "middle", "tick", tickLabel(t, prev, i == 0))
	}
	s.line(left, bottom, right, bottom, "axis")
}
