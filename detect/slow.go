package detect

import (
	"fmt"
)

// slowEpoch is the slow-scan state of one horizon (Config.SlowWindow):
// every source's failed contacts, and which sources a short window already
// reported.
type slowEpoch struct {
	start, end int64
	scanned    map[addr]bool
	sources    map[addr]*slowSource
	sweptAt    int64 // the window of the last forgetOneOffs
}

// slowSource is one source's failed contacts over a horizon.
type slowSource struct {
	region string
	last   int64 // the window of its latest failed contact
	failures
	ifaces []string
}

// slowEpoch returns the horizon that holds window ws, made when new.
func (d *Detector) slowEpoch(ws int64) *slowEpoch {
	n := int64(d.cfg.SlowWindow.Seconds())
	start := ws - ((ws%n)+n)%n
	e := d.slow[start]
	if e == nil && d.judged[start] {
		return nil // judged already: rows this late are counted, not judged again
	}
	if e == nil {
		e = &slowEpoch{start: start, end: start + n, scanned: map[addr]bool{}, sources: map[addr]*slowSource{}}
		d.slow[start] = e
	}
	return e
}

// add reads a failed contact.
func (e *slowEpoch) add(d *Detector, r *row) {
	s := e.sources[r.src]
	if s == nil {
		if len(e.sources) >= d.cfg.SlowMaxSources && e.sweptAt != r.ws {
			e.forgetOneOffs(r.ws)
		}
		if len(e.sources) >= d.cfg.SlowMaxSources {
			d.stats.Untracked++
			return
		}
		s = &slowSource{}
		e.sources[r.src] = s
	}
	s.last = max(s.last, r.ws)
	if s.region == "" {
		s.region = r.region
	}
	if r.iface != "" {
		s.ifaces = appendListed(s.ifaces, r.iface)
	}
	s.failures.add(r, d.cfg.MaxTargets)
}

// forgetOneOffs makes room among a horizon's sources, at most once per
// window: a source that failed on one host and one port only, and not for
// an hour, is background noise (a slow scanner keeps probing).
func (e *slowEpoch) forgetOneOffs(ws int64) {
	e.sweptAt = ws
	for a, s := range e.sources {
		if len(s.hosts) <= 1 && len(s.ports) <= 1 && ws-s.last > 3600 {
			delete(e.sources, a)
		}
	}
}

// slowGrace is how long after its end a horizon stays open for late rows.
const slowGrace = 3600

// expireSlow judges and forgets the horizons that ended well before ws.
func (d *Detector) expireSlow(ws int64) {
	for start, e := range d.slow {
		if e.end+slowGrace <= ws {
			d.judgeSlow(start)
			delete(d.slow, start)
			d.judged[start] = true
		}
	}
}

// judgeSlow reports the sources of a horizon that reached a scan threshold
// over it without any short window doing so.
func (d *Detector) judgeSlow(start int64) {
	e := d.slow[start]
	hours := d.cfg.SlowWindow.Hours()
	for src, s := range e.sources {
		if e.scanned[src] {
			continue
		}
		d.judgeScans(src, s.region, s.ifaces, &s.failures, scanRules{
			hostKind: KindSlowScan, portKind: KindSlowScan, ports: d.cfg.SlowScanPorts, hosts: d.cfg.SlowSweepHosts,
			in: Medium, out: Low,
			hostWhen: fmt.Sprintf("over %g hours, never enough in one window to be a fast scan", hours),
			portWhen: fmt.Sprintf("over %g hours, never enough in one window to be a fast sweep", hours),
		})
	}
}
