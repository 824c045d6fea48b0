// Package detect finds what a security analyst hunts for in flow logs:
// reject storms, rejected traffic to sensitive ports, vertical, horizontal
// and slow port scans, brute force, exfiltration volumes and beaconing, for
// IPv4 and IPv6 alike.
//
// It reads the conversations table of package aggregate (one row per
// window, interface, source, destination, port, protocol and action, with
// records, packets, bytes and the OR of tcp_flags) rather than the flows:
// every detector here is a question about conversations, the table is a
// small fraction of the records, and its windows arrive closed and in time
// order. Short-window detectors judge each window as it arrives; slow
// scans keep per-source state for one horizon (SlowWindow); exfiltration
// and beaconing keep per-internal-host state for the run, bounded by
// MaxTargets endpoints per host. Findings of the same kind, source and
// target merge across windows.
//
// Failure, the heart of scan detection, is read from the records
// themselves: a REJECT, or a TCP conversation whose side never sent an ACK
// (SYN or SYN+RST only: a probe), or, in formats without tcp_flags, a TCP
// conversation of at most two packets per record to a port below the
// ephemeral range (peers.md §4c). Answers (SYN+ACK, RST+ACK) carry ACK, so
// a server replying to many client ports is not a scanner.
package detect

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"fmt"
	"math"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
)

// Detector runs every detector over the conversations it is given. It is
// not safe for concurrent use.
type Detector struct {
	cfg                            Config
	sensitive, brute, beaconIgnore *portSet
	extraInternal                  []netip.Prefix

	win    window               // the window being read
	slow   map[int64]*slowEpoch // slow-scan state by horizon start
	judged map[int64]bool       // horizons judged and forgotten
	hosts  map[addr]*hostState  // exfiltration and beaconing state of internal hosts sending out
	// received is the external bytes each internal host received: most
	// hosts of a network facing the internet only receive, and need no
	// more state than this.
	received map[addr]int64
	// beaconsSwept is the hour (of beaconSweep seconds) of the last
	// expireBeacons.
	beaconsSwept int64
	// beaconDue lists the hosts with endpoints by the hour (Unix seconds
	// / beaconSweep) from which their least recently contacted endpoint
	// may be stale: a sweep visits those hosts alone, where visiting every
	// host each hour took a tenth of a run over a million internal hosts.
	beaconDue map[int64][]*hostState
	findings  map[string]*Finding // by key
	strs      map[string]string   // interned interface ids and regions
	stats     Stats
}

// Stats count what a Detector read and what its bounds left out.
type Stats struct {
	Conversations int64 // rows read
	Windows       int64 // windows judged
	Untracked     int64 // targets not tracked individually because a source reached MaxTargets
	TooLate       int64 // failed contacts that arrived after their slow-scan horizon was judged
}

// New returns a Detector with cfg's thresholds (defaults where zero).
func New(cfg Config) (*Detector, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.Defaults()
	d := &Detector{
		cfg:           cfg,
		sensitive:     newPortSet(cfg.SensitivePorts),
		brute:         newPortSet(cfg.BruteForcePorts),
		beaconIgnore:  newPortSet(cfg.BeaconIgnorePorts),
		extraInternal: cfg.Internal,
		slow:          map[int64]*slowEpoch{},
		judged:        map[int64]bool{},
		hosts:         map[addr]*hostState{},
		received:      map[addr]int64{},
		findings:      map[string]*Finding{},
		strs:          map[string]string{},
		beaconsSwept:  math.MinInt64 / 2,
		beaconDue:     map[int64][]*hostState{},
	}
	d.win.reset(math.MinInt64)
	return d, nil
}

// Stats returns the counts so far.
func (d *Detector) Stats() Stats { return d.stats }

// addr is a 16-byte address (IPv4 mapped into IPv6).
type addr [16]byte

func (a addr) String() string { return netip.AddrFrom16(a).Unmap().String() }

func (a addr) hash() uint64 {
	return binary.BigEndian.Uint64(a[:8])*0x9e3779b97f4a7c15 ^ binary.BigEndian.Uint64(a[8:])
}

// internal reports whether a is in RFC 1918 or RFC 4193 space or in one of
// the configured ranges.
func (d *Detector) internal(a addr) bool {
	if [12]byte(a[:12]) == [12]byte{10: 0xff, 11: 0xff} { // IPv4, mapped
		switch {
		case a[12] == 10, a[12] == 172 && a[13]&0xf0 == 16, a[12] == 192 && a[13] == 168:
			return true
		}
	} else if a[0]&0xfe == 0xfc {
		return true
	}
	if len(d.extraInternal) == 0 {
		return false
	}
	ip := netip.AddrFrom16(a).Unmap()
	for _, p := range d.extraInternal {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// row is one conversation.
type row struct {
	ws, we                  int64
	iface, region           string
	src, dst                addr
	dport, proto            int32 // -1 for NULL
	flags                   int32 // OR of tcp_flags, -1 for NULL
	accepted, rejected      bool
	records, packets, bytes int64
	first, last             int64
}

// conversation columns, bound by name.
type convColumns struct {
	ws, we, records, packets, bytes, first, last *array.Int64
	dport, proto, flags                          *array.Int32
	iface, action, region                        *array.String
	src, dst                                     *array.FixedSizeBinary
}

func bind(rec arrow.RecordBatch) (*convColumns, error) {
	c := &convColumns{}
	var missing []string
	get := func(name string) arrow.Array {
		if idx := rec.Schema().FieldIndices(name); len(idx) > 0 {
			return rec.Column(idx[0])
		}
		missing = append(missing, name)
		return nil
	}
	var ok [15]bool
	c.ws, ok[0] = get("window_start").(*array.Int64)
	c.we, ok[1] = get("window_end").(*array.Int64)
	c.records, ok[2] = get("records").(*array.Int64)
	c.packets, ok[3] = get("packets").(*array.Int64)
	c.bytes, ok[4] = get("bytes").(*array.Int64)
	c.first, ok[5] = get("first_start").(*array.Int64)
	c.last, ok[6] = get("last_end").(*array.Int64)
	c.dport, ok[7] = get("dstport").(*array.Int32)
	c.proto, ok[8] = get("protocol").(*array.Int32)
	c.flags, ok[9] = get("tcp_flags").(*array.Int32)
	c.iface, ok[10] = get("interface_id").(*array.String)
	c.action, ok[11] = get("action").(*array.String)
	c.src, ok[12] = get("srcaddr").(*array.FixedSizeBinary)
	c.dst, ok[13] = get("dstaddr").(*array.FixedSizeBinary)
	c.region, ok[14] = get("region").(*array.String)
	if len(missing) > 0 {
		return nil, fmt.Errorf("detect: not a conversations batch: missing %s", strings.Join(missing, ", "))
	}
	if slices.Contains(ok[:], false) {
		return nil, fmt.Errorf("detect: not a conversations batch: a column has the wrong type")
	}
	return c, nil
}

// intern returns a copy of s that outlives the batch s points into.
func (d *Detector) intern(s string) string {
	if v, ok := d.strs[s]; ok {
		return v
	}
	v := strings.Clone(s)
	d.strs[v] = v
	return v
}

func (c *convColumns) row(d *Detector, i int, r *row) {
	num := func(a *array.Int64) int64 {
		if a.IsNull(i) {
			return 0
		}
		return a.Value(i)
	}
	small := func(a *array.Int32) int32 {
		if a.IsNull(i) {
			return -1
		}
		return a.Value(i)
	}
	r.ws, r.we = num(c.ws), num(c.we)
	r.records, r.packets, r.bytes = num(c.records), num(c.packets), num(c.bytes)
	r.first, r.last = num(c.first), num(c.last)
	r.dport, r.proto, r.flags = small(c.dport), small(c.proto), small(c.flags)
	r.iface, r.region = "", ""
	if c.iface.IsValid(i) {
		r.iface = d.intern(c.iface.Value(i))
	}
	if c.region.IsValid(i) {
		r.region = d.intern(c.region.Value(i))
	}
	action := ""
	if c.action.IsValid(i) {
		action = c.action.Value(i)
	}
	r.accepted, r.rejected = action == "ACCEPT", action == "REJECT"
	r.src, r.dst = addr{}, addr{}
	if c.src.IsValid(i) {
		r.src = addr(c.src.Value(i))
	}
	if c.dst.IsValid(i) {
		r.dst = addr(c.dst.Value(i))
	}
}

// TCP flags (flowlog-spec.md §1.4).
const (
	tcpSYN = 0x02
	tcpACK = 0x10
	tcp    = 6
	// ephemeralLow is where Linux's ephemeral port range starts: replies go
	// to ports at or above it.
	ephemeralLow = 32768
)

// failed reports whether a conversation is a failed or unanswered contact
// (see the package comment).
func failed(r *row) bool {
	switch {
	case r.rejected:
		return true
	case !r.accepted || r.proto != tcp:
		return false
	case r.flags >= 0:
		return r.flags&tcpSYN != 0 && r.flags&tcpACK == 0
	default:
		return r.packets <= 2*r.records && r.dport >= 0 && r.dport < ephemeralLow
	}
}

// Add reads a batch of conversations (aggregate.ConversationsSchema). The
// aggregator emits each window's conversations in one batch, windows in
// time order; rows of a window that arrive late are judged on their own.
func (d *Detector) Add(rec arrow.RecordBatch) error {
	c, err := bind(rec)
	if err != nil {
		return err
	}
	var r row
	for i := range int(rec.NumRows()) {
		c.row(d, i, &r)
		if r.ws != d.win.ws {
			d.closeWindow()
			d.win.reset(r.ws)
		}
		d.stats.Conversations++
		d.add(&r)
	}
	d.closeWindow()
	return nil
}

// add reads one conversation into the window and the long-horizon states.
func (d *Detector) add(r *row) {
	srcIn, dstIn := d.internal(r.src), d.internal(r.dst)
	d.win.add(d, r)
	if failed(r) {
		if e := d.slowEpoch(r.ws); e != nil {
			e.add(d, r)
		} else {
			d.stats.TooLate++
		}
	}
	if r.accepted && srcIn != dstIn {
		d.win.addVolume(r)
	}
}

// closeWindow judges the window read so far and feeds its volumes to the
// hosts' states.
func (d *Detector) closeWindow() {
	if d.win.rows == 0 {
		return
	}
	d.stats.Windows++
	d.win.judge(d)
	d.win.flushVolumes(d)
	d.expireSlow(d.win.ws)
	d.expireBeacons(d.win.ws)
	d.win.reset(math.MinInt64)
}

// fire records a finding, merging it with an earlier one of the same key.
func (d *Detector) fire(f *Finding) {
	slices.Sort(f.Ports)
	slices.Sort(f.Targets)
	slices.Sort(f.Interfaces)
	f.Windows = max(f.Windows, 1)
	if g := d.findings[f.key]; g != nil {
		g.merge(f)
		return
	}
	d.findings[f.key] = f
}

// Findings judges the long-horizon detectors and returns every finding,
// highest severity first. Call it once, after the last Add.
func (d *Detector) Findings() []Finding {
	d.closeWindow()
	for start := range d.slow {
		d.judgeSlow(start)
	}
	clear(d.slow)
	for _, h := range sortedHosts(d.hosts) {
		d.judgeExfiltration(h)
		d.judgeBeacons(h)
	}
	fs := make([]*Finding, 0, len(d.findings))
	for _, f := range d.findings {
		f.finish()
		fs = append(fs, f)
	}
	sortFindings(fs)
	out := make([]Finding, len(fs))
	for i, f := range fs {
		out[i] = *f
	}
	return out
}

func unix(s int64) time.Time { return time.Unix(s, 0).UTC() }

// appendListed adds v to a sorted list that keeps the maxListed smallest
// values, so that what a finding lists does not depend on arrival order.
func appendListed[T cmp.Ordered](list []T, v T) []T {
	return appendListedFunc(list, v, cmp.Compare[T])
}

// appendListedFunc is appendListed with a comparison function.
func appendListedFunc[T any](list []T, v T, compare func(T, T) int) []T {
	i, found := slices.BinarySearchFunc(list, v, compare)
	if found || i >= maxListed {
		return list
	}
	if len(list) == maxListed {
		list = list[:maxListed-1]
	}
	return slices.Insert(list, i, v)
}

func compareAddr(a, b addr) int { return bytes.Compare(a[:], b[:]) }
