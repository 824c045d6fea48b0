package detect

import (
	"fmt"
	"slices"

	"github.com/flowlens/flowlens/aggregate"
)

// exactTargets is how many distinct ports or hosts a window's sets count
// exactly before a sketch takes over: well above every threshold.
const exactTargets = 256

// window is the state of the window being read, reused from window to
// window.
type window struct {
	ws, we  int64
	rows    int64
	sources map[addr]int32         // index in list
	list    []sourceWin            // reused from window to window
	volumes map[volumeKey][]volume // external traffic, by interface
}

func (w *window) reset(ws int64) {
	w.ws, w.we, w.rows = ws, ws, 0
	if w.sources == nil {
		w.sources, w.volumes = map[addr]int32{}, map[volumeKey][]volume{}
	}
	clear(w.sources)
	w.list = w.list[:0]
	clear(w.volumes)
}

// counts are the record, packet and byte counts of what a finding covers,
// and its time span.
type counts struct {
	records, packets, bytes int64
	first, last             int64
}

func (c *counts) add(r *row) {
	c.merge(&counts{records: r.records, packets: r.packets, bytes: r.bytes, first: r.first, last: r.last})
}

// sourceWin is what one source did in the window.
type sourceWin struct {
	src                 addr
	region              string
	rejected, sensitive counts
	sensitivePorts      []int32
	ifaces              []string
	failures
	logins map[loginKey]*loginWin // by destination and login port
}

// failures are one source's failed contacts, by destination host and by
// destination port, each bounded by MaxTargets entries (the rest are only
// counted by the Detector's stats). The entries live in slices indexed by
// maps, so that a new one allocates nothing of its own, and are reused
// from window to window.
type failures struct {
	hostIdx map[addr]int32
	hosts   []hostWin
	portIdx map[portProto]int32
	ports   []portWin
}

// reset empties f, keeping its storage.
func (f *failures) reset() {
	clear(f.hostIdx)
	clear(f.portIdx)
	f.hosts, f.ports = f.hosts[:0], f.ports[:0]
}

// add counts a failed contact; false when a bound left it untracked.
func (f *failures) add(r *row, maxTargets int) bool {
	if f.hostIdx == nil {
		f.hostIdx, f.portIdx = map[addr]int32{}, map[portProto]int32{}
	}
	var h *hostWin
	if i, ok := f.hostIdx[r.dst]; ok {
		h = &f.hosts[i]
	} else if len(f.hosts) < maxTargets {
		f.hostIdx[r.dst] = int32(len(f.hosts))
		f.hosts = append(f.hosts, hostWin{dst: r.dst})
		h = &f.hosts[len(f.hosts)-1]
	}
	pk := portProto{r.dport, r.proto}
	var p *portWin
	if i, ok := f.portIdx[pk]; ok {
		p = &f.ports[i]
	} else if len(f.ports) < maxTargets {
		f.portIdx[pk] = int32(len(f.ports))
		f.ports = append(f.ports, portWin{port: pk})
		p = &f.ports[len(f.ports)-1]
	}
	if h != nil {
		h.add(r)
		h.failed.Add(uint64(uint32(r.dport))<<8|uint64(uint8(r.proto)), exactTargets)
		h.failedPorts = appendListed(h.failedPorts, r.dport)
	}
	if p != nil {
		p.add(r)
		p.failed.Add(r.dst.hash(), exactTargets)
		p.failedHosts = appendListedFunc(p.failedHosts, r.dst, compareAddr)
	}
	return h != nil && p != nil
}

type portProto struct{ port, proto int32 }

// hostWin is one source's traffic to one destination: the failed ports.
type hostWin struct {
	dst         addr
	failed      aggregate.Distinct
	failedPorts []int32
	counts
}

// portWin is one source's traffic to one port: the hosts it failed on.
type portWin struct {
	port        portProto
	failed      aggregate.Distinct
	failedHosts []addr
	counts
}

type loginKey struct {
	dst  addr
	port int32
}

// loginWin is one source's short connections to one login service.
type loginWin struct {
	accepted int64
	counts
}

// source returns the state of source a, made when new; its maps are made
// when first needed, since most sources fail nothing and log in nowhere.
func (w *window) source(a addr) *sourceWin {
	i, ok := w.sources[a]
	if !ok {
		i = int32(len(w.list))
		w.sources[a] = i
		if len(w.list) < cap(w.list) { // keep the previous window's lists and maps
			w.list = w.list[:i+1]
			s := &w.list[i]
			s.failures.reset()
			clear(s.logins)
			*s = sourceWin{src: a, sensitivePorts: s.sensitivePorts[:0], ifaces: s.ifaces[:0],
				failures: s.failures, logins: s.logins}
		} else {
			w.list = append(w.list, sourceWin{src: a})
		}
	}
	return &w.list[i]
}

// add reads one conversation into the window.
func (w *window) add(d *Detector, r *row) {
	w.rows++
	w.we = max(w.we, r.we)
	s := w.source(r.src)
	if s.region == "" {
		s.region = r.region
	}
	if r.iface != "" {
		s.ifaces = appendListed(s.ifaces, r.iface)
	}
	if r.rejected {
		s.rejected.add(r)
		if d.sensitive.has(r.dport) {
			s.sensitive.add(r)
			s.sensitivePorts = appendListed(s.sensitivePorts, r.dport)
		}
	}
	if r.proto == tcp && d.brute.has(r.dport) && r.packets <= int64(d.cfg.BruteForceMaxPackets)*r.records {
		if s.logins == nil {
			s.logins = map[loginKey]*loginWin{}
		}
		k := loginKey{r.dst, r.dport}
		l := s.logins[k]
		if l == nil && len(s.logins) < d.cfg.MaxTargets {
			l = &loginWin{}
			s.logins[k] = l
		}
		if l != nil {
			l.add(r)
			if r.accepted {
				l.accepted += r.records
			}
		}
	}
	if !failed(r) {
		return
	}
	if !s.failures.add(r, d.cfg.MaxTargets) {
		d.stats.Untracked++
	}
}

// scanRules say how failed contacts are judged: the kinds of finding, the
// thresholds of distinct ports on one host and of distinct hosts on one
// port, the severities for an internal and an external source, and when,
// in words.
type scanRules struct {
	hostKind, portKind string
	ports, hosts       int
	in, out            Severity
	hostWhen, portWhen string
}

// judgeScans fires a finding for every host of f failed on as many ports as
// the rules ask, and for every port failed on as many hosts; it reports
// whether any fired.
func (d *Detector) judgeScans(src addr, region string, ifaces []string, f *failures, rules scanRules) bool {
	fired := false
	sev := actorSeverity(d.internal(src), rules.in, rules.out)
	for i := range f.hosts {
		h := &f.hosts[i]
		n := h.failed.Count()
		if n < int64(rules.ports) {
			continue
		}
		fired = true
		d.fire(&Finding{
			key: rules.hostKind + "|" + src.String() + "|" + h.dst.String(), Kind: rules.hostKind,
			Severity: sev, Source: src.String(), Region: region, Targets: []string{h.dst.String()},
			Ports: slices.Clone(h.failedPorts), Interfaces: slices.Clone(ifaces),
			FirstSeen: unix(h.first), LastSeen: unix(h.last), Records: h.records, Packets: h.packets, Bytes: h.bytes,
			Score:       float64(n) / float64(rules.ports),
			Explanation: fmt.Sprintf("%s failed to reach %d distinct ports of %s %s", src, n, h.dst, rules.hostWhen),
			Evidence:    []Evidence{{"distinct_failed_ports", float64(n), float64(rules.ports)}},
		})
	}
	for i := range f.ports {
		p := &f.ports[i]
		n := p.failed.Count()
		if n < int64(rules.hosts) {
			continue
		}
		fired = true
		d.fire(&Finding{
			key:  rules.portKind + "|" + src.String() + "|" + fmt.Sprintf("%d/%d", p.port.port, p.port.proto),
			Kind: rules.portKind, Severity: sev, Source: src.String(), Region: region,
			Targets: addrStrings(p.failedHosts), Ports: []int32{p.port.port}, Interfaces: slices.Clone(ifaces),
			FirstSeen: unix(p.first), LastSeen: unix(p.last), Records: p.records, Packets: p.packets, Bytes: p.bytes,
			Score:       float64(n) / float64(rules.hosts),
			Explanation: fmt.Sprintf("%s failed to reach port %d on %d distinct hosts %s", src, p.port.port, n, rules.portWhen),
			Evidence:    []Evidence{{"distinct_failed_hosts", float64(n), float64(rules.hosts)}},
		})
	}
	return fired
}

// judge runs the short-window detectors over every source of the window.
func (w *window) judge(d *Detector) {
	cfg := &d.cfg
	for i := range w.list {
		s := &w.list[i]
		src := s.src
		srcIn := d.internal(src)
		scanned := d.judgeScans(src, s.region, s.ifaces, &s.failures, scanRules{
			hostKind: KindPortScan, portKind: KindSweep, ports: cfg.ScanPorts, hosts: cfg.SweepHosts,
			in: High, out: Medium, hostWhen: "within one window", portWhen: "within one window",
		})
		if e := d.slowEpoch(w.ws); scanned && e != nil {
			e.scanned[src] = true
		}
		if n := s.rejected.records; n >= int64(cfg.RejectRecords) {
			d.fire(&Finding{
				key: KindRejectStorm + "|" + src.String(), Kind: KindRejectStorm,
				Severity: actorSeverity(srcIn, Medium, Low), Source: src.String(), Region: s.region, Interfaces: slices.Clone(s.ifaces),
				FirstSeen: unix(s.rejected.first), LastSeen: unix(s.rejected.last),
				Records: n, Packets: s.rejected.packets, Bytes: s.rejected.bytes,
				Score:       float64(n) / float64(cfg.RejectRecords),
				Explanation: fmt.Sprintf("%d rejected records from %s within one window", n, src),
				Evidence:    []Evidence{{"rejected_records", float64(n), float64(cfg.RejectRecords)}},
			})
		}
		if n := s.sensitive.records; n >= int64(cfg.SensitiveRejects) {
			d.fire(&Finding{
				key: KindSensitiveRejects + "|" + src.String(), Kind: KindSensitiveRejects,
				Severity: Medium, Source: src.String(), Region: s.region, Ports: slices.Clone(s.sensitivePorts), Interfaces: slices.Clone(s.ifaces),
				FirstSeen: unix(s.sensitive.first), LastSeen: unix(s.sensitive.last),
				Records: n, Packets: s.sensitive.packets, Bytes: s.sensitive.bytes,
				Score:       float64(n) / float64(cfg.SensitiveRejects),
				Explanation: fmt.Sprintf("%d rejected records from %s to administration or database ports within one window", n, src),
				Evidence:    []Evidence{{"rejected_sensitive_records", float64(n), float64(cfg.SensitiveRejects)}},
			})
		}
		for k, l := range s.logins {
			if l.records < int64(cfg.BruteForceConnections) {
				continue
			}
			sev := Low // the host is the target; GuardDuty: Low as target, High as actor
			switch {
			case srcIn:
				sev = High
			case l.accepted > 0:
				sev = Medium
			}
			d.fire(&Finding{
				key:  KindBruteForce + "|" + src.String() + "|" + k.dst.String() + "|" + fmt.Sprint(k.port),
				Kind: KindBruteForce, Severity: sev, Source: src.String(), Region: s.region, Targets: []string{k.dst.String()},
				Ports: []int32{k.port}, Interfaces: slices.Clone(s.ifaces),
				FirstSeen: unix(l.first), LastSeen: unix(l.last), Records: l.records, Packets: l.packets, Bytes: l.bytes,
				Score: float64(l.records) / float64(cfg.BruteForceConnections),
				Explanation: fmt.Sprintf("%d short connections from %s to port %d of %s within one window (%d accepted)",
					l.records, src, k.port, k.dst, l.accepted),
				Evidence: []Evidence{{"short_connections", float64(l.records), float64(cfg.BruteForceConnections)}},
			})
		}
	}
}

// actorSeverity is the severity of a finding whose source is internal (an
// instance acting: GuardDuty raises those) or external.
func actorSeverity(internal bool, in, out Severity) Severity {
	if internal {
		return in
	}
	return out
}

func addrStrings(as []addr) []string {
	out := make([]string, len(as))
	for i, a := range as {
		out[i] = a.String()
	}
	return out
}
