package detect_test

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/flowlens/flowlens/detect"
)

// TestOrderIndependentVolumes: a host sending to more external addresses
// than the top-K tracks gives the same findings whatever the order of the
// rows in each window.
func TestOrderIndependentVolumes(t *testing.T) {
	var windows [][]conv
	for w := range int64(12) {
		var rows []conv
		for d := range 20 {
			b := int64(1 << 20)
			if d == 7 && w >= 10 {
				b = 400 << 20 // a burst to one of them at the end
			}
			rows = append(rows, conv{ws: w * 300, src: "10.0.0.9", dst: fmt.Sprintf("198.51.100.%d", d+1), dport: 443, proto: 6,
				flags: 0x1b, action: "ACCEPT", records: 3, packets: 30, bytess: b})
		}
		windows = append(windows, rows)
	}
	var first string
	for seed := range uint64(8) {
		r := rand.New(rand.NewPCG(seed, 1))
		shuffled := make([][]conv, len(windows))
		for i, rows := range windows {
			shuffled[i] = append([]conv(nil), rows...)
			r.Shuffle(len(rows), func(a, b int) { shuffled[i][a], shuffled[i][b] = shuffled[i][b], shuffled[i][a] })
		}
		fs, _ := detectRows(t, detect.Config{}, shuffled...)
		js, _ := json.Marshal(fs)
		if seed == 0 {
			first = string(js)
			exfil := kinds(fs, detect.KindExfiltration)
			if len(exfil) != 1 || exfil[0].Targets[0] != "198.51.100.8" {
				t.Fatalf("findings: %s", js)
			}
		} else if string(js) != first {
			t.Fatalf("order %d gives other findings:\n%s\n%s", seed, js, first)
		}
	}
}

// TestSteadyVolumeIsNoOutlier: a host sending the same large volume every
// window is not an exfiltration (its busiest window is its usual one).
func TestSteadyVolumeIsNoOutlier(t *testing.T) {
	var windows [][]conv
	for w := range int64(48) {
		b := int64(45_969_613) + int64(w%3)*700_000 // ±1.5 %
		windows = append(windows, []conv{{ws: w * 300, src: "10.0.0.4", dst: "203.0.113.50", dport: 443, proto: 6,
			flags: 0x1b, action: "ACCEPT", records: 10, packets: 40000, bytess: b}})
	}
	fs, _ := detectRows(t, detect.Config{}, windows...)
	if exfil := kinds(fs, detect.KindExfiltration); len(exfil) != 0 {
		t.Fatalf("steady traffic reported: %+v", exfil[0])
	}
}

// TestLateRowsAfterTheHorizon: failed contacts that arrive after their
// slow-scan horizon was judged are counted, not judged on their own.
func TestLateRowsAfterTheHorizon(t *testing.T) {
	probe := func(ws int64, port int32) conv {
		return conv{ws: ws, src: "192.0.2.77", dst: "10.0.0.5", dport: port, proto: 6, flags: -1, action: "REJECT", records: 1, packets: 1, bytess: 44}
	}
	day := int64(86400)
	var early, late []conv
	for p := range int32(10) {
		early = append(early, probe(10*3600, 1000+p))
		late = append(late, probe(day-300, 2000+p))
	}
	next := []conv{probe(day+5400, 9)} // 01:30 the next day: the first day is judged
	fs, st := detectRows(t, detect.Config{}, early, next, late)
	if len(fs) != 0 || st.TooLate != 10 {
		t.Fatalf("findings %+v, stats %+v", fs, st)
	}
	fs, _ = detectRows(t, detect.Config{}, early, late, next)
	if len(fs) != 1 || fs[0].Kind != detect.KindSlowScan {
		t.Fatalf("in order: %+v", fs)
	}
}

func TestConfigRejectsSubsecondSlowWindow(t *testing.T) {
	if _, err := detect.New(detect.Config{SlowWindow: 500 * time.Millisecond}); err == nil {
		t.Fatal("a 500 ms slow window was accepted")
	}
}

// kinds returns the findings of one kind.
func kinds(fs []detect.Finding, kind string) []detect.Finding {
	var out []detect.Finding
	for _, f := range fs {
		if f.Kind == kind {
			out = append(out, f)
		}
	}
	return out
}

// TestBeaconStateIsBounded: a host contacting thousands of external
// addresses once each keeps at most BeaconMaxPeers of them, and its one
// regular beacon is still found.
func TestBeaconStateIsBounded(t *testing.T) {
	var windows [][]conv
	peer := 0
	for w := range int64(36) {
		rows := []conv{{ws: w * 300, src: "10.0.0.8", dst: "203.0.113.66", dport: 443, proto: 6, flags: 0x1b,
			action: "ACCEPT", records: 5, packets: 30, bytess: 2100}}
		for range 200 { // 7,200 one-off peers in all
			peer++
			rows = append(rows, conv{ws: w * 300, src: "10.0.0.8", dst: fmt.Sprintf("198.18.%d.%d", peer/250, peer%250+1),
				dport: 443, proto: 6, flags: 0x1b, action: "ACCEPT", records: 1, packets: 10, bytess: int64(1000 + peer%977)})
		}
		windows = append(windows, rows)
	}
	fs, st := detectRows(t, detect.Config{BeaconMaxPeers: 512}, windows...)
	b := kinds(fs, detect.KindBeaconing)
	if len(b) != 1 || b[0].Targets[0] != "203.0.113.66" || st.Untracked == 0 {
		t.Fatalf("beacons %+v, stats %+v", b, st)
	}
}

// TestSlowScanStateIsBounded: thousands of one-off probers over a day keep
// at most SlowMaxSources sources in the horizon, and a slow scanner among
// them is still found.
func TestSlowScanStateIsBounded(t *testing.T) {
	var windows [][]conv
	noise := 0
	for w := range int64(72) { // six hours
		var rows []conv
		if w%2 == 0 { // the slow scanner: a new port every ten minutes
			rows = append(rows, conv{ws: w * 300, src: "192.0.2.99", dst: "10.0.0.5", dport: int32(2000 + w), proto: 6,
				flags: -1, action: "REJECT", records: 1, packets: 1, bytess: 44})
		}
		for range 100 {
			noise++
			rows = append(rows, conv{ws: w * 300, src: fmt.Sprintf("198.18.%d.%d", noise/250, noise%250+1), dst: "10.0.0.5",
				dport: 22, proto: 6, flags: -1, action: "REJECT", records: 1, packets: 1, bytess: 44})
		}
		windows = append(windows, rows)
	}
	fs, st := detectRows(t, detect.Config{SlowMaxSources: 1000}, windows...)
	slow := kinds(fs, detect.KindSlowScan)
	if len(slow) != 1 || slow[0].Source != "192.0.2.99" || st.Untracked == 0 { // the bound was reached, and the scanner kept
		t.Fatalf("slow scans %+v, stats %+v", slow, st)
	}
}

// TestBeaconEndpointsExpire: over two days, thousands of hosts each
// contacting an external address once leave only the last hours' endpoints
// tracked (not every pair of the run), a two-hourly beacon is still found,
// and so is one that beat every five minutes for two hours and then
// stopped (judged when it is forgotten).
func TestBeaconEndpointsExpire(t *testing.T) {
	for _, start := range []int64{0, -72 * 3600} { // and before 1970, where hours are negative
		beaconEndpointsExpire(t, start)
	}
}

func beaconEndpointsExpire(t *testing.T, start int64) {
	d, err := detect.New(detect.Config{})
	if err != nil {
		t.Fatal(err)
	}
	const windows, perWindow = 48 * 12, 20
	oneOff := 0
	for w := range int64(windows) {
		ws := start + w*300
		var rows []conv
		for range perWindow {
			oneOff++
			rows = append(rows, conv{ws: ws, src: fmt.Sprintf("10.1.%d.%d", oneOff/250, oneOff%250+1),
				dst: fmt.Sprintf("198.18.%d.%d", oneOff/250, oneOff%250+1), dport: 443, proto: 6, flags: 0x1b,
				action: "ACCEPT", records: 1, packets: 10, bytess: 4000})
		}
		if w%24 == 0 { // every two hours, all run long
			rows = append(rows, conv{ws: ws, src: "10.9.0.1", dst: "203.0.113.7", dport: 443, proto: 6, flags: 0x1b,
				action: "ACCEPT", records: 2, packets: 12, bytess: 3000})
		}
		if w < 24 { // every window of the first two hours
			rows = append(rows, conv{ws: ws, src: "10.9.0.2", dst: "203.0.113.8", dport: 8443, proto: 6, flags: 0x1b,
				action: "ACCEPT", records: 1, packets: 8, bytess: 900})
		}
		rec := batch(t, rows)
		if err := d.Add(rec); err != nil {
			t.Fatal(err)
		}
		rec.Release()
	}
	// The last BeaconMaxGap (6 h) and at most one sweep period (1 h) of
	// one-off pairs, and the two-hourly beacon.
	if n, most := detect.TrackedEndpoints(d), 7*12*perWindow+1; n > most || n < 6*12*perWindow {
		t.Errorf("start %d: %d endpoints tracked after %d one-off pairs; want between %d and %d", start, n, oneOff, 6*12*perWindow, most)
	}
	var got []string
	for _, f := range kinds(d.Findings(), detect.KindBeaconing) {
		got = append(got, f.Source+">"+f.Targets[0])
	}
	slices.Sort(got)
	if want := []string{"10.9.0.1>203.0.113.7", "10.9.0.2>203.0.113.8"}; !slices.Equal(got, want) {
		t.Errorf("start %d: beacons %v, want %v", start, got, want)
	}
}

// TestBeaconPeriodBound: an endpoint contacted at intervals just under
// BeaconMaxGap (6 h) is a beacon and one just over it is not, whatever the
// window the run starts at (the hourly sweep of stale endpoints once made
// the second depend on it).
func TestBeaconPeriodBound(t *testing.T) {
	run := func(period, start int64) int {
		var windows [][]conv
		for ws := start; ws < 14*period; ws += 300 {
			rows := []conv{{ws: ws, src: "10.1.0.1", dst: "10.1.0.2", dport: 5432, proto: 6, flags: 0x1b,
				action: "ACCEPT", records: 1, packets: 10, bytess: 1000}}
			if ws >= 0 && ws%period == 0 {
				rows = append(rows, conv{ws: ws, src: "10.9.0.1", dst: "203.0.113.7", dport: 443, proto: 6, flags: 0x1b,
					action: "ACCEPT", records: 2, packets: 12, bytess: 3000})
			}
			windows = append(windows, rows)
		}
		fs, _ := detectRows(t, detect.Config{}, windows...)
		return len(kinds(fs, detect.KindBeaconing))
	}
	for _, tc := range []struct {
		period int64
		want   int
	}{{21000, 1}, {22800, 0}} {
		for _, start := range []int64{0, -600, -1800} {
			if got := run(tc.period, start); got != tc.want {
				t.Errorf("period %d s, run starting at %d s: %d beacon findings, want %d", tc.period, start, got, tc.want)
			}
		}
	}
}
