package report

import (
	"cmp"
	"fmt"
	"html/template"
	"slices"
	"strings"

	"github.com/flowlens/flowlens/detect"
)

// findingsTimeline draws each finding as a mark from its first to its last
// sighting, one lane per kind (marks that would overlap go on rows of their
// own), coloured by severity, each linking to its row of the table. The
// time axis spans [from, to] widened to take in every finding.
func findingsTimeline(f *findings, from, to int64) template.HTML {
	if f == nil || len(f.shown) == 0 {
		return ""
	}
	for _, x := range f.shown {
		from, to = min(from, x.FirstSeen.Unix()), max(to, x.LastSeen.Unix())
	}
	if to <= from {
		from, to = from-60, to+60
	}
	const left, right, top, rowH, laneGap = 200.0, chartWidth - 20.0, 8.0, 13.0, 10.0
	xOf := func(t int64) float64 { return left + float64(t-from)/float64(to-from)*(right-left) }
	lanes := map[string][]detect.Finding{}
	for _, x := range f.shown {
		lanes[x.Kind] = append(lanes[x.Kind], x)
	}
	kinds := make([]string, 0, len(lanes))
	for k := range lanes {
		kinds = append(kinds, k)
	}
	slices.SortFunc(kinds, func(a, b string) int {
		ia, ib := kindOrder(a), kindOrder(b)
		return cmp.Or(cmp.Compare(ia, ib), strings.Compare(a, b))
	})
	var marks svg
	y := top
	for _, kind := range kinds {
		fs := lanes[kind]
		slices.SortStableFunc(fs, func(a, b detect.Finding) int { return a.FirstSeen.Compare(b.FirstSeen) })
		var rowEnds []float64 // per row, where its last mark ends
		for _, x := range fs {
			x0 := xOf(x.FirstSeen.Unix())
			w := max(xOf(x.LastSeen.Unix())-x0, 4)
			row := slices.IndexFunc(rowEnds, func(end float64) bool { return end+2 <= x0 })
			if row < 0 {
				row = len(rowEnds)
				rowEnds = append(rowEnds, 0)
			}
			rowEnds[row] = x0 + w
			tip := fmt.Sprintf("%s %s from %s, %s: %s", x.Severity, x.Kind, x.Source,
				formatRange(x.FirstSeen, x.LastSeen), x.Explanation)
			fmt.Fprintf(&marks, `<a href="#finding-%s">`, esc(x.ID))
			marks.rect(x0, y+laneGap/2+float64(row)*rowH, w, rowH-3, "mark sev-"+strings.ToLower(x.Severity.String()),
				fmt.Sprintf(` data-point data-id="%s" data-severity="%s" data-first="%d" data-last="%d" data-tip="%s"`,
					esc(x.ID), x.Severity, x.FirstSeen.Unix(), x.LastSeen.Unix(), esc(tip)))
			marks.WriteString("</a>")
		}
		laneH := float64(len(rowEnds))*rowH + laneGap
		marks.text(left-10, y+laneH/2+4, "end", "key", kind)
		marks.line(left, y+laneH, right, y+laneH, "lane")
		y += laneH
	}
	s := newSVG("findings-timeline", y+28, "findings over time by kind and severity")
	s.timeAxis(from, to, left, right, top, y)
	s.WriteString(marks.String())
	return s.close()
}

// kindOrder ranks a kind as detect lists them, unknown kinds last.
func kindOrder(kind string) int {
	if i := slices.Index(detect.Kinds, kind); i >= 0 {
		return i
	}
	return len(detect.Kinds)
}
