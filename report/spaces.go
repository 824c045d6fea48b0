package report

import (
	"fmt"
	"html/template"

	"github.com/flowlens/flowlens/internal/saturate"
)

// spaceNames name the address spaces, by index.
var spaceNames = [2]string{"internal", "external"}

// addressSpaces draws the bytes between internal and external space as
// bands from sources (left) to destinations (right), as wide as their
// bytes.
func addressSpaces(t *traffic) template.HTML {
	total := t.spaces[0][0] + t.spaces[0][1] + t.spaces[1][0] + t.spaces[1][1]
	if total == 0 {
		return ""
	}
	const height, top, gap, nodeW, leftX, rightX = 280.0, 30.0, 24.0, 16.0, 300.0, 784.0
	scale := (height - top - 10 - gap) / float64(total)
	s := newSVG("address-spaces", height, "bytes between internal and external address space")
	s.text(leftX+nodeW, 16, "end", "key", "from")
	s.text(rightX, 16, "start", "key", "to")
	var srcN, dstN [2]int64
	for from := range 2 {
		for to := range 2 {
			srcN[from] = saturate.Add(srcN[from], t.spaces[from][to])
			dstN[to] = saturate.Add(dstN[to], t.spaces[from][to])
		}
	}
	// node draws the two nodes of one side and returns where each starts.
	node := func(x float64, n [2]int64, labelX float64, anchor string) (y [2]float64) {
		at := top
		for sp := range 2 {
			h := float64(n[sp]) * scale
			y[sp] = at
			s.rect(x, at, nodeW, h, "node", "")
			s.text(labelX, at+h/2+4, anchor, "key", spaceNames[sp]+" "+formatBytes(n[sp]))
			at += h + gap
		}
		return y
	}
	srcAt := node(leftX, srcN, leftX-8, "end")
	dstAt := node(rightX, dstN, rightX+nodeW+8, "start")
	x0, x1 := leftX+nodeW, rightX
	mid := (x0 + x1) / 2
	for from := range 2 {
		for to := range 2 {
			n := t.spaces[from][to]
			if n == 0 {
				continue
			}
			h := float64(n) * scale
			y0, y1 := srcAt[from], dstAt[to]
			srcAt[from] += h
			dstAt[to] += h
			tip := fmt.Sprintf("%s → %s: %s (%.1f %%)", spaceNames[from], spaceNames[to], formatBytes(n), 100*float64(n)/float64(total))
			fmt.Fprintf(s, `<path class="band from-%s to-%s" data-point data-from="%s" data-to="%s" data-bytes="%d" data-tip="%s" d="M%.1f,%.2f C%.1f,%.2f %.1f,%.2f %.1f,%.2f L%.1f,%.2f C%.1f,%.2f %.1f,%.2f %.1f,%.2f Z"/>`,
				spaceNames[from], spaceNames[to], spaceNames[from], spaceNames[to], n, esc(tip),
				x0, y0, mid, y0, mid, y1, x1, y1, x1, y1+max(h, 1), mid, y1+max(h, 1), mid, y0+max(h, 1), x0, y0+max(h, 1))
		}
	}
	return s.close()
}
