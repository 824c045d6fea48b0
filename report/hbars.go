package report

import (
	"fmt"
	"html/template"
	"strings"
)

// hbarChart describes a horizontal bar chart of a ranking.
type hbarChart struct {
	chart, label string
	classes      [2]string // CSS classes of the two parts of a bar
	names        [2]string // their names in tooltips; "" for an unused part
	format       func(int64) string
}

// draw draws one bar per row of r, its parts stacked, the share of its sum
// that may belong to other keys (approximate rankings) hatched at its end.
func (c hbarChart) draw(r *ranking) template.HTML {
	if r == nil || len(r.rows) == 0 {
		return ""
	}
	const rowH, barH, top, labelX, left, right = 24.0, 16.0, 8.0, 270.0, 280.0, chartWidth - 130.0
	peak := r.rows[0].sum
	w := func(v int64) float64 { return float64(v) / float64(peak) * (right - left) }
	s := newSVG(c.chart, top*2+rowH*float64(len(r.rows)), c.label)
	s.line(left, top, left, top+rowH*float64(len(r.rows)), "axis")
	for i, row := range r.rows {
		y := top + rowH*float64(i)
		var tip []string
		for j, name := range c.names {
			if name != "" {
				tip = append(tip, name+" "+c.format(row.parts[j]))
			}
		}
		if row.err > 0 {
			tip = append(tip, "up to "+c.format(row.err)+" of it other keys'")
		}
		fmt.Fprintf(s, `<g class="bar" data-point data-key="%s" data-value="%d" data-tip="%s">`,
			esc(row.label), row.sum, esc(row.label+": "+strings.Join(tip, ", ")))
		s.text(labelX, y+barH-3, "end", "key", row.label)
		x := left
		for j, part := range row.parts {
			s.rect(x, y+(rowH-barH)/2, w(part), barH, c.classes[j], "")
			x += w(part)
		}
		s.rect(x, y+(rowH-barH)/2, w(row.err), barH, "uncertain", "")
		s.text(left+w(row.sum)+6, y+barH-3, "start", "value", c.format(row.sum))
		s.WriteString("</g>")
	}
	return s.close()
}
