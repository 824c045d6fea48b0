package detect

import (
	"bytes"
	"cmp"
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/flowlens/flowlens/internal/saturate"
)

// volumeKey is external traffic between an internal and an external
// address, on one port.
type volumeKey struct {
	src, dst     addr
	dport, proto int32
}

// volume is that traffic as one interface logged it: the same packets are
// logged by every interface they cross (an instance's and a NAT gateway's),
// so the interface that saw most stands for them all.
type volume struct {
	iface, region string
	counts
}

// addVolume reads accepted external traffic.
func (w *window) addVolume(r *row) {
	k := volumeKey{r.src, r.dst, r.dport, r.proto}
	vs := w.volumes[k]
	for i := range vs {
		if vs[i].iface == r.iface {
			vs[i].add(r)
			return
		}
	}
	v := volume{iface: r.iface, region: r.region}
	v.add(r)
	w.volumes[k] = append(vs, v)
}

// flushVolumes feeds the window's external traffic to the internal hosts'
// states.
func (w *window) flushVolumes(d *Detector) {
	sent := map[*hostState]int64{}
	// In key order: the space-saving top-K and the MaxTargets bound depend
	// on the order volumes arrive in, and results must not.
	type entry struct {
		k  volumeKey
		vs []volume
	}
	entries := make([]entry, 0, len(w.volumes))
	for k, vs := range w.volumes {
		entries = append(entries, entry{k, vs})
	}
	slices.SortFunc(entries, func(a, b entry) int {
		if a.k.src != b.k.src {
			return compareAddr(a.k.src, b.k.src)
		}
		if a.k.dst != b.k.dst {
			return compareAddr(a.k.dst, b.k.dst)
		}
		return cmp.Or(cmp.Compare(a.k.dport, b.k.dport), cmp.Compare(a.k.proto, b.k.proto))
	})
	for _, e := range entries {
		k, vs := e.k, e.vs
		v := slices.MaxFunc(vs, func(a, b volume) int {
			if c := cmp.Compare(a.bytes, b.bytes); c != 0 {
				return c
			}
			return strings.Compare(b.iface, a.iface) // ties: the first interface by name
		})
		if d.internal(k.src) {
			h := d.host(k.src, v.region)
			h.sent = saturate.Add(h.sent, v.bytes)
			sent[h] = saturate.Add(sent[h], v.bytes)
			h.addTop(k.dst, k.dport, &v.counts)
			if k.proto >= 0 && !d.beaconIgnore.has(k.dport) {
				h.addBeacon(d, beaconKey{k.dst, k.dport, k.proto}, w.ws, &v.counts)
			}
		} else {
			d.received[k.dst] = saturate.Add(d.received[k.dst], v.bytes)
		}
	}
	for h, b := range sent {
		h.windows.add(float64(b))
		h.peak = max(h.peak, float64(b))
	}
}

// hostState is an internal host's external traffic over the run.
type hostState struct {
	addr    addr
	region  string
	sent    int64
	windows logHistogram // outbound external bytes per window with any
	peak    float64
	top     []topDest // the heaviest destinations (space-saving)
	beacons map[beaconKey]*beacon
	sweptAt int64 // the window of the last forgetStaleBeacons
	dueHour int64 // the hour h is listed under in the Detector's beaconDue, when listed
	listed  bool  // h is in a beaconDue list: it has endpoints, or had at its last listing
}

func (d *Detector) host(a addr, region string) *hostState {
	h := d.hosts[a]
	if h == nil {
		h = &hostState{addr: a, region: region}
		d.hosts[a] = h
	}
	return h
}

func sortedHosts(m map[addr]*hostState) []*hostState {
	return slices.SortedFunc(maps.Values(m), func(a, b *hostState) int { return bytes.Compare(a.addr[:], b.addr[:]) })
}

// topK is the number of destinations tracked per host by the space-saving
// algorithm: any destination taking more than 1/topK of the host's
// external bytes is among them, its bytes overestimated by at most err.
const topK = 16

type topDest struct {
	dst   addr
	err   int64
	ports []int32
	counts
}

func (h *hostState) addTop(dst addr, port int32, c *counts) {
	i := slices.IndexFunc(h.top, func(t topDest) bool { return t.dst == dst })
	if i < 0 {
		if len(h.top) < topK {
			h.top = append(h.top, topDest{dst: dst})
			i = len(h.top) - 1
		} else {
			i = 0
			for j := range h.top {
				if h.top[j].bytes < h.top[i].bytes {
					i = j
				}
			}
			floor := h.top[i].bytes
			h.top[i] = topDest{dst: dst, err: floor, counts: counts{bytes: floor}}
		}
	}
	t := &h.top[i]
	t.counts.merge(c)
	if port >= 0 {
		t.ports = appendListed(t.ports, port)
	}
}

func (c *counts) merge(o *counts) {
	if c.records == 0 || o.first < c.first {
		c.first = o.first
	}
	c.last = max(c.last, o.last)
	c.records += o.records
	c.packets = saturate.Add(c.packets, o.packets)
	c.bytes = saturate.Add(c.bytes, o.bytes)
}

// logHistogram counts values in buckets an eighth of a power of two wide
// (a resolution of 9 %): enough for the median and MAD of a host's window
// volumes in at most 2 KiB, whatever the number of windows. It starts as a
// short list of the buckets used, since most hosts of a large network send
// outside in few windows, and becomes an array once that list grows.
type logHistogram struct {
	n      int64
	sparse []histCount // the buckets used, in order, while few
	dense  *[histBuckets]uint32
}

type histCount struct {
	bucket uint16
	n      uint32
}

const (
	histSub     = 8
	histBuckets = 64 * histSub
	// histSparseMax is the number of buckets listed before the array
	// (a quarter of its size) takes over.
	histSparseMax = 128
)

func histBucket(x float64) int {
	if x < 1 {
		return 0
	}
	e := math.Floor(math.Log2(x))
	frac := x/math.Exp2(e) - 1 // in [0, 1)
	return min(int(e)*histSub+int(frac*histSub), histBuckets-1)
}

// histValue is the middle of bucket i.
func histValue(i int) float64 {
	if i == 0 {
		return 0
	}
	e, sub := i/histSub, i%histSub
	return math.Exp2(float64(e)) * (1 + (float64(sub)+0.5)/histSub)
}

func (h *logHistogram) add(x float64) {
	h.n++
	b := histBucket(x)
	if h.dense != nil {
		h.dense[b]++
		return
	}
	i, found := slices.BinarySearchFunc(h.sparse, b, func(c histCount, b int) int { return cmp.Compare(int(c.bucket), b) })
	if found {
		h.sparse[i].n++
		return
	}
	if len(h.sparse) < histSparseMax {
		h.sparse = slices.Insert(h.sparse, i, histCount{uint16(b), 1})
		return
	}
	h.dense = new([histBuckets]uint32)
	for _, c := range h.sparse {
		h.dense[c.bucket] = c.n
	}
	h.dense[b]++
	h.sparse = nil
}

// used yields the buckets counted, in order, with their counts.
func (h *logHistogram) used(yield func(bucket int, n uint32) bool) {
	if h.dense == nil {
		for _, c := range h.sparse {
			if !yield(int(c.bucket), c.n) {
				return
			}
		}
		return
	}
	for i, n := range h.dense {
		if n > 0 && !yield(i, n) {
			return
		}
	}
}

// medianMAD returns the median and the median absolute deviation.
func (h *logHistogram) medianMAD() (median, mad float64) {
	half := (h.n + 1) / 2
	var seen int64
	for i, c := range h.used {
		if seen += int64(c); seen >= half {
			median = histValue(i)
			break
		}
	}
	type dev struct {
		d float64
		n uint32
	}
	var devs []dev
	for i, c := range h.used {
		devs = append(devs, dev{math.Abs(histValue(i) - median), c})
	}
	slices.SortFunc(devs, func(a, b dev) int { return cmp.Compare(a.d, b.d) })
	seen = 0
	for _, d := range devs {
		if seen += int64(d.n); seen >= half {
			return median, d.d
		}
	}
	return median, 0
}

// welford keeps a running mean and variance.
type welford struct {
	n        int64
	mean, m2 float64
}

func (w *welford) add(x float64) {
	w.n++
	d := x - w.mean
	w.mean += d / float64(w.n)
	w.m2 += d * (x - w.mean)
}

// cv is the coefficient of variation (population standard deviation over
// mean).
func (w *welford) cv() float64 {
	if w.n == 0 || w.mean == 0 {
		return 0
	}
	return math.Sqrt(w.m2/float64(w.n)) / math.Abs(w.mean)
}

// judgeExfiltration reports the host's heavy external destinations when
// the volume, the host's push ratio and its own baseline all say so, or the
// volume alone passes the cap.
func (d *Detector) judgeExfiltration(h *hostState) {
	cfg := &d.cfg
	if h.sent == 0 {
		return
	}
	recv := d.received[h.addr]
	pcr := float64(h.sent-recv) / float64(h.sent+recv)
	// The busiest window against the host's usual one: a robust z-score
	// (median and median absolute deviation), so that an exfiltration
	// lasting many windows does not raise its own baseline.
	others := h.windows.n - 1
	cold := others < int64(cfg.ExfilBaselineWindows)
	var z float64
	if !cold {
		// The peak is taken at its bucket's middle, as the median is, and
		// the deviation is at least half a bucket: values that all fall in
		// one bucket (steady traffic) are no outlier.
		median, mad := h.windows.medianMAD()
		peak := histValue(histBucket(h.peak))
		z = (peak - median) / max(1.4826*mad, median/(2*histSub), 1)
	}
	for _, t := range h.top {
		sure := t.bytes - t.err // a lower bound
		if sure < cfg.ExfilMinBytes {
			continue
		}
		capped := sure >= cfg.ExfilCapBytes
		anomalous := pcr >= cfg.ExfilPCR && (cold || z >= cfg.ExfilZ)
		if !capped && !anomalous {
			continue
		}
		sev := Medium
		if capped || !cold && z >= cfg.ExfilZ+1 {
			sev = High
		}
		ev := []Evidence{{"bytes_to_destination", float64(sure), float64(cfg.ExfilMinBytes)},
			{"producer_consumer_ratio", pcr, cfg.ExfilPCR}}
		why := fmt.Sprintf("%s sent %s to external %s; it sent %s and received %s from external addresses (PCR %.2f)",
			h.addr, sizeOf(sure), t.dst, sizeOf(h.sent), sizeOf(recv), pcr)
		switch {
		case capped:
			ev = append(ev, Evidence{"absolute_cap_bytes", float64(sure), float64(cfg.ExfilCapBytes)})
			why += fmt.Sprintf(", above the absolute cap of %s", sizeOf(cfg.ExfilCapBytes))
		case cold:
			ev = append(ev, Evidence{"baseline_windows", float64(others), float64(cfg.ExfilBaselineWindows)})
			why += ", with no baseline of its own to compare (cold start)"
		default:
			ev = append(ev, Evidence{"peak_window_z", z, cfg.ExfilZ})
			why += fmt.Sprintf("; its busiest window was %.1f robust standard deviations above its usual one", z)
		}
		d.fire(&Finding{
			key: KindExfiltration + "|" + h.addr.String() + "|" + t.dst.String(), Kind: KindExfiltration,
			Severity: sev, Source: h.addr.String(), Region: h.region, Targets: []string{t.dst.String()}, Ports: slices.Clone(t.ports),
			FirstSeen: unix(t.first), LastSeen: unix(t.last), Records: t.records, Packets: t.packets, Bytes: sure,
			Score: float64(sure) / float64(cfg.ExfilMinBytes), Explanation: why, Evidence: ev,
		})
	}
}

// sizeOf formats a byte count.
func sizeOf(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	v, i := float64(n), 0
	for v >= unit && i < 4 {
		v /= unit
		i++
	}
	return fmt.Sprintf("%.1f %ciB", v, "KMGT"[i-1])
}

type beaconKey struct {
	dst         addr
	port, proto int32
}

// beacon is an internal host's contact with one external endpoint across
// windows: how regular the gaps between windows and the bytes per
// connection are.
type beacon struct {
	windows int64
	lastWS  int64
	gaps    welford
	size    welford // bytes per record in each window
	counts
}

func (h *hostState) addBeacon(d *Detector, k beaconKey, ws int64, c *counts) {
	b := h.beacons[k]
	if b != nil && ws-b.lastWS > int64(d.cfg.BeaconMaxGap/time.Second) {
		// Stale whether or not a sweep has come by: judged and started
		// afresh, so that the sweeps' phase does not change findings.
		d.judgeBeacon(h, k, b)
		delete(h.beacons, k)
		b = nil
	}
	if b == nil {
		if len(h.beacons) >= d.cfg.BeaconMaxPeers && h.sweptAt != ws {
			h.forgetStaleBeacons(d, ws, true)
		}
		if len(h.beacons) >= d.cfg.BeaconMaxPeers {
			d.stats.Untracked++
			return
		}
		b = &beacon{lastWS: math.MinInt64}
		if h.beacons == nil {
			h.beacons = map[beaconKey]*beacon{}
		}
		h.beacons[k] = b
		d.listBeacons(h, ws) // a late window's endpoint may be due before the others
	}
	b.counts.merge(c)
	if ws <= b.lastWS { // late rows of a window already counted
		return
	}
	if b.windows > 0 {
		b.gaps.add(float64(ws - b.lastWS))
	}
	b.windows++
	b.lastWS = ws
	if c.records > 0 {
		b.size.add(float64(c.bytes) / float64(c.records))
	}
}

// forgetStaleBeacons forgets the host's endpoints not contacted for longer
// than BeaconMaxGap, which can no longer be regular beacons, after judging
// them. Making room for a new endpoint (at most once per window), it
// also forgets those seen in a single window an hour ago or more. It
// returns the window of the least recent contact kept.
func (h *hostState) forgetStaleBeacons(d *Detector, ws int64, makeRoom bool) (oldest int64) {
	if makeRoom {
		h.sweptAt = ws
	}
	gap := int64(d.cfg.BeaconMaxGap / time.Second)
	oldest = math.MaxInt64
	for k, b := range h.beacons {
		if ws-b.lastWS > gap || makeRoom && b.windows == 1 && ws-b.lastWS > 3600 {
			d.judgeBeacon(h, k, b)
			delete(h.beacons, k)
			continue
		}
		oldest = min(oldest, b.lastWS)
	}
	if len(h.beacons) == 0 {
		h.beacons = nil
	}
	return oldest
}

// beaconSweep is how often (seconds of log time) stale endpoints are
// forgotten, so that the endpoints tracked are those of the last
// BeaconMaxGap, however long the run.
const beaconSweep = 3600

// listBeacons lists h in beaconDue under the hour from which its endpoint
// last contacted in window lastWS may be stale, unless h is listed under
// that hour or an earlier one already (whose sweep lists it again). A
// host listed again leaves its old place in a list, skipped when swept.
func (d *Detector) listBeacons(h *hostState, lastWS int64) {
	stale := lastWS + int64(d.cfg.BeaconMaxGap/time.Second) + 1 // the first window it is stale in
	due := sweepHour(stale + beaconSweep - 1)                   // the first hour it is stale all through
	if h.listed && h.dueHour <= due {
		return
	}
	h.dueHour, h.listed = due, true
	d.beaconDue[due] = append(d.beaconDue[due], h)
}

// sweepHour returns the hour (of beaconSweep seconds) window ws lies in.
func sweepHour(ws int64) int64 {
	if ws < 0 {
		return (ws+1)/beaconSweep - 1
	}
	return ws / beaconSweep
}

// expireBeacons forgets, in the first window of each hour, the stale
// endpoints of the hosts due by then, and lists each again under the hour
// its oldest remaining endpoint is due.
func (d *Detector) expireBeacons(ws int64) {
	now := sweepHour(ws)
	if now <= d.beaconsSwept {
		return
	}
	d.beaconsSwept = now
	for hour, hosts := range d.beaconDue {
		if hour > now {
			continue
		}
		delete(d.beaconDue, hour)
		for _, h := range hosts {
			if !h.listed || h.dueHour != hour { // listed again since
				continue
			}
			h.listed = false
			if h.beacons == nil {
				continue
			}
			if oldest := h.forgetStaleBeacons(d, ws, false); h.beacons != nil {
				d.listBeacons(h, oldest)
			}
		}
	}
}

// judgeBeacons reports the host's regular contacts with external
// endpoints.
func (d *Detector) judgeBeacons(h *hostState) {
	for k, b := range h.beacons {
		d.judgeBeacon(h, k, b)
	}
}

// judgeBeacon reports a regular contact of a host with an external
// endpoint.
func (d *Detector) judgeBeacon(h *hostState, k beaconKey, b *beacon) {
	cfg := &d.cfg
	if b.windows < int64(cfg.BeaconMinWindows) {
		return
	}
	gapCV, sizeCV := b.gaps.cv(), b.size.cv()
	if gapCV > cfg.BeaconIntervalCV || sizeCV > cfg.BeaconSizeCV {
		return
	}
	d.fire(&Finding{
		key:  KindBeaconing + "|" + h.addr.String() + "|" + k.dst.String() + "|" + fmt.Sprintf("%d/%d", k.port, k.proto),
		Kind: KindBeaconing, Severity: Medium, Source: h.addr.String(), Region: h.region, Targets: []string{k.dst.String()},
		Ports: []int32{k.port}, FirstSeen: unix(b.first), LastSeen: unix(b.last),
		Records: b.records, Packets: b.packets, Bytes: b.bytes,
		Score: float64(b.windows) / float64(cfg.BeaconMinWindows),
		Explanation: fmt.Sprintf("%s contacted %s port %d in %d windows, every %s on average (variation %.2f), %.0f bytes per connection (variation %.2f)",
			h.addr, k.dst, k.port, b.windows, seconds(b.gaps.mean), gapCV, b.size.mean, sizeCV),
		Evidence: []Evidence{{"windows", float64(b.windows), float64(cfg.BeaconMinWindows)},
			{"interval_cv", gapCV, cfg.BeaconIntervalCV}, {"size_cv", sizeCV, cfg.BeaconSizeCV}},
	})
}

func seconds(s float64) string {
	if s >= 3600 {
		return fmt.Sprintf("%.1f h", s/3600)
	}
	return fmt.Sprintf("%.0f min", s/60)
}
