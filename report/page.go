package report

import (
	"cmp"
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/flowlens/flowlens/athena"
	"github.com/flowlens/flowlens/detect"
)

//go:embed page.html
var pageHTML string

var pageTemplate = template.Must(template.New("page").Parse(pageHTML))

// Bounds of the data-quality lists.
const (
	maxFailedListed  = 100
	maxInvalidListed = 20
	targetsInline    = 3 // targets shown before the rest fold away
)

// view is what the page template lays out: text already formatted, charts
// already drawn ("" when there is nothing to draw).
type view struct {
	Dir, Run, Tool, Finished, Period string
	Shards                           int
	Cards                            []card

	Findings      bool // detection ran
	FindingsTotal int
	FindingRows   []findingRow
	Timeline      template.HTML

	BytesOverTime, Spaces, Talkers, Ports template.HTML
	SpaceRows                             []spaceRow
	TalkersNote, PortsNote, GapsNote      string
	Gaps                                  template.HTML

	Facts         []card
	Failed        []inputRow
	FailedMore    int
	Warned        []inputRow // an input's warning each (Error holds it)
	WarnedMore    int
	Invalid       []inputRow
	InvalidInputs int
}

// card is a labelled figure.
type card struct{ Label, Value, Class string }

// findingRow is one row of the findings table.
type findingRow struct {
	ID, Severity, Class, Kind, Technique, Source, Region string
	Targets, MoreTargets                                 []string
	Ports, First, Last, Explanation, Records, Bytes      string
	Evidence                                             []string
}

// spaceRow is the bytes of one direction between address spaces.
type spaceRow struct{ From, To, Bytes, Share string }

// inputRow is an input named in the data-quality lists.
type inputRow struct{ Path, Error, Records, Invalid string }

// render writes the page of d.
func renderPage(w io.Writer, d *data) error {
	m := d.manifest
	v := &view{Dir: d.dir, Run: m.RunID, Tool: m.Tool, Finished: m.Finished, Shards: d.shards}
	if t, err := time.Parse(time.RFC3339Nano, m.Finished); err == nil {
		v.Finished = t.UTC().Format("2006-01-02 15:04:05 UTC")
	}
	v.Cards = append(v.Cards, card{"records", formatCount(m.Totals.Records), ""},
		card{"inputs", formatCount(int64(m.Totals.Inputs)), ""})
	if m.Totals.FailedInputs > 0 {
		v.Cards = append(v.Cards, card{"failed inputs", formatCount(int64(m.Totals.FailedInputs)), "bad"})
	}
	if m.Totals.InvalidLines > 0 {
		v.Cards = append(v.Cards, card{"invalid lines", formatCount(m.Totals.InvalidLines), "warn"})
	}
	if t := d.traffic; t != nil {
		var accept, reject int64
		for _, w := range t.windows {
			accept, reject = accept+w[0], reject+w[1]
		}
		v.Period = formatRange(unixTime(t.first), unixTime(t.last))
		v.Cards = append(v.Cards, card{"bytes accepted", formatBytes(accept), ""}, card{"bytes rejected", formatBytes(reject), ""})
		v.BytesOverTime = bytesOverTime(t)
		v.Spaces = addressSpaces(t)
		v.SpaceRows = spaceRows(t)
	}
	if f := d.findings; f != nil {
		v.Findings, v.FindingsTotal = true, f.total
		for _, s := range []detect.Severity{detect.High, detect.Medium, detect.Low} {
			v.Cards = append(v.Cards, card{"findings " + s.String(), formatCount(int64(f.bySeverity[s])), "sev-" + strings.ToLower(s.String())})
		}
		var from, to int64
		if d.traffic != nil {
			from, to = d.traffic.first, d.traffic.last
		} else if len(f.shown) > 0 {
			from, to = f.shown[0].FirstSeen.Unix(), f.shown[0].LastSeen.Unix()
		}
		v.Timeline = findingsTimeline(f, from, to)
		for _, x := range f.shown {
			v.FindingRows = append(v.FindingRows, newFindingRow(x))
		}
	}
	v.Talkers = hbarChart{chart: "top-talkers", label: "bytes sent and received per address",
		classes: [2]string{"sent", "received"}, names: [2]string{"sent", "received"}, format: formatBytes}.draw(d.talkers)
	v.TalkersNote = rankingNote(d.talkers, "addresses")
	v.Ports = hbarChart{chart: "rejected-ports", label: "rejected records per destination port",
		classes: [2]string{"rejected", ""}, names: [2]string{"rejected", ""}, format: formatCount}.draw(d.ports)
	v.PortsNote = rankingNote(d.ports, "ports with rejected records")
	v.Gaps = hbarChart{chart: "interface-gaps", label: "NODATA and SKIPDATA records per interface",
		classes: [2]string{"nodata", "skipdata"}, names: [2]string{"NODATA", "SKIPDATA"}, format: formatCount}.draw(d.gaps)
	v.GapsNote = rankingNote(d.gaps, "interfaces with gaps")
	dataQuality(v, d)
	return pageTemplate.Execute(w, v)
}

// rankingNote says how many keys a ranking chose from, and whether its
// sums are exact.
func rankingNote(r *ranking, what string) string {
	switch {
	case r == nil:
		return ""
	case r.approx:
		return fmt.Sprintf("More than %s %s: figures are upper bounds (the grey part of a bar may belong to others).", formatCount(int64(r.keys)), what)
	}
	return fmt.Sprintf("%s %s in all.", formatCount(int64(r.keys)), what)
}

func spaceRows(t *traffic) []spaceRow {
	total := t.spaces[0][0] + t.spaces[0][1] + t.spaces[1][0] + t.spaces[1][1]
	var rows []spaceRow
	for from := range 2 {
		for to := range 2 {
			n := t.spaces[from][to]
			share := "-"
			if total > 0 {
				share = fmt.Sprintf("%.1f %%", 100*float64(n)/float64(total))
			}
			rows = append(rows, spaceRow{spaceNames[from], spaceNames[to], formatBytes(n), share})
		}
	}
	return rows
}

func newFindingRow(x detect.Finding) findingRow {
	r := findingRow{ID: x.ID, Severity: x.Severity.String(), Class: "sev-" + strings.ToLower(x.Severity.String()),
		Kind: x.Kind, Technique: x.Technique, Source: x.Source, Region: x.Region,
		First: formatTime(x.FirstSeen.Unix()), Last: formatTime(x.LastSeen.Unix()), Explanation: x.Explanation,
		Records: formatCount(x.Records), Bytes: formatBytes(x.Bytes)}
	r.Targets = x.Targets[:min(len(x.Targets), targetsInline)]
	r.MoreTargets = x.Targets[len(r.Targets):]
	r.Ports = portRanges(x.Ports)
	for _, e := range x.Evidence {
		r.Evidence = append(r.Evidence, fmt.Sprintf("%s %s (threshold %s)", e.Name, significant(e.Value), significant(e.Threshold)))
	}
	return r
}

// portRanges lists sorted ports with runs of consecutive ones as ranges:
// 22, 1000–1019.
func portRanges(ports []int32) string {
	var parts []string
	for i := 0; i < len(ports); {
		j := i
		for j+1 < len(ports) && ports[j+1] == ports[j]+1 {
			j++
		}
		if j > i {
			parts = append(parts, fmt.Sprintf("%d–%d", ports[i], ports[j]))
		} else {
			parts = append(parts, fmt.Sprint(ports[i]))
		}
		i = j + 1
	}
	return strings.Join(parts, ", ")
}

// dataQuality fills in the facts of the run and the inputs that failed or
// had invalid lines.
func dataQuality(v *view, d *data) {
	m := d.manifest
	v.Facts = []card{
		{"inputs", formatCount(int64(m.Totals.Inputs)), ""},
		{"failed inputs", formatCount(int64(m.Totals.FailedInputs)), ""},
		{"records", formatCount(m.Totals.Records), ""},
		{"invalid lines", formatCount(m.Totals.InvalidLines), ""},
		{"text read", formatBytes(m.Totals.TextBytes), ""},
		{"output", fmt.Sprintf("%s in %s files", formatBytes(m.Totals.OutputBytes), formatCount(int64(m.Totals.OutputFiles))), ""},
	}
	if late, ok := m.Extra["late_records"].(float64); ok {
		v.Facts = append(v.Facts, card{"records late for their window", formatCount(int64(late)), ""})
	}
	var invalid []athena.InputManifest
	for _, in := range m.Inputs {
		if in.Error != "" {
			if len(v.Failed) < maxFailedListed {
				v.Failed = append(v.Failed, inputRow{Path: in.Path, Error: in.Error})
			} else {
				v.FailedMore++
			}
		}
		for _, w := range in.Warnings {
			if len(v.Warned) < maxFailedListed {
				v.Warned = append(v.Warned, inputRow{Path: in.Path, Error: w})
			} else {
				v.WarnedMore++
			}
		}
		if in.InvalidLines > 0 {
			invalid = append(invalid, in)
		}
	}
	v.InvalidInputs = len(invalid)
	slices.SortStableFunc(invalid, func(a, b athena.InputManifest) int { return cmp.Compare(b.InvalidLines, a.InvalidLines) })
	for _, in := range invalid[:min(len(invalid), maxInvalidListed)] {
		v.Invalid = append(v.Invalid, inputRow{Path: in.Path, Records: formatCount(in.Records), Invalid: formatCount(in.InvalidLines)})
	}
}
