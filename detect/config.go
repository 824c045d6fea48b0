package detect

import (
	"fmt"
	"net/netip"
	"time"
)

// Config holds every threshold of the detectors. Zero values take the
// defaults; each default names the anchor it follows (peers.md §4).
type Config struct {
	// Internal lists address ranges counted as internal besides RFC 1918
	// (10/8, 172.16/12, 192.168/16) and RFC 4193 (fc00::/7).
	Internal []netip.Prefix

	// ScanPorts is the number of distinct destination ports one source must
	// fail to reach on one host within one window for a vertical port scan.
	// Default 15: Zeek scan.zeek's port-scan threshold (15 failed ports on
	// one host per 5-minute epoch), between Panther's 10 per hour and
	// Elastic's 50 per minute.
	ScanPorts int
	// SweepHosts is the number of distinct hosts one source must fail to
	// reach on one port within one window for a horizontal scan. Default
	// 25: Zeek's address-scan threshold (25 hosts per 5-minute epoch);
	// Elastic asks 100 over nine minutes.
	SweepHosts int
	// SlowWindow is the horizon of slow scans: the same two patterns,
	// counted over this long a window, fire when no short window did.
	// Default 24 hours: the timeframe of SigmaHQ's "Network Scans Count By
	// Destination Port/IP" rules.
	SlowWindow time.Duration
	// SlowMaxSources bounds the sources followed over a horizon (default
	// 100,000): when full, sources that failed once and not for an hour
	// make room; internet background noise is mostly such one-off probes.
	SlowMaxSources int
	// SlowScanPorts and SlowSweepHosts are the slow-scan thresholds over
	// SlowWindow. Defaults 15 and 25, as in a short window: a scanner
	// that spreads the same probes over hours is caught at the same count.
	SlowScanPorts, SlowSweepHosts int

	// RejectRecords is the number of rejected records from one source in
	// one window that makes a reject storm. Default 200: twenty times
	// Sigma's "more than 10 denied" per source, so that the occasional
	// internet scanner grazing a security group stays below it.
	RejectRecords int
	// SensitiveRejects is the number of rejected records from one source to
	// SensitivePorts in one window that makes a finding. Default 10: Sigma's
	// "count by src_ip > 10" on denied traffic.
	SensitiveRejects int
	// SensitivePorts are the administration and database ports whose
	// rejected traffic is reported on its own. Default: SSH, Telnet, SMB,
	// RDP, WinRM, VNC, MSSQL, MySQL, PostgreSQL, Redis, Elasticsearch and
	// MongoDB (GuardDuty's PortProbeUnprotectedPort set and Elastic's
	// sensitive-port list).
	SensitivePorts []int32

	// BruteForcePorts are the login services whose connection storms are
	// brute force: SSH, RDP, WinRM (5985-5986), Telnet, FTP and the
	// database ports GuardDuty's brute-force findings and Panther's rules
	// name.
	BruteForcePorts []int32
	// BruteForceConnections is the number of short connections (records)
	// from one source to one such port of one host in one window. Default
	// 20: Zeek flags 30 password guesses; 20 in a 5-minute window is four
	// times the rate of a once-a-minute monitoring probe.
	BruteForceConnections int
	// BruteForceMaxPackets is the most packets per connection that still
	// counts as short (a failed login exchange). Default 40.
	BruteForceMaxPackets int

	// ExfilMinBytes is the least an internal host must send to one
	// external address over the run before its volume is judged. Default
	// 500 MiB: Turbot's single-flow cap.
	ExfilMinBytes int64
	// ExfilCapBytes fires whatever the baseline. Default 10 GiB: Panther's
	// cold-start CRITICAL volume.
	ExfilCapBytes int64
	// ExfilZ is the z-score of the host's busiest window of outbound
	// external bytes against its usual window. Default 3: Panther's bytes
	// z-score; we take it robustly (median and MAD instead of mean and
	// standard deviation) so that a transfer spread over many windows does
	// not hide in the baseline it inflates.
	ExfilZ float64
	// ExfilPCR is the least producer/consumer ratio (sent−received over
	// sent+received, toward external addresses) of an exfiltrating host.
	// Default 0.4: Bullard and Gerth's "email-like export" reference; 0
	// takes the default, -1 accepts any ratio.
	ExfilPCR float64
	// ExfilBaselineWindows is the number of other windows a host needs for
	// a baseline; fewer is a cold start, judged by PCR and volume alone.
	// Default 6.
	ExfilBaselineWindows int

	// BeaconMinWindows is the least number of windows an internal host must
	// contact one external endpoint in to be judged. Default 12 (an hour of
	// 5-minute windows): Elastic's beaconing transform asks 7 non-empty
	// buckets and 6 periods; flow windows are coarser, so we ask more.
	BeaconMinWindows int
	// BeaconIntervalCV is the highest coefficient of variation of the gaps
	// between those windows. Default 0.2.
	BeaconIntervalCV float64
	// BeaconSizeCV is the highest coefficient of variation of the bytes
	// per connection across those windows. Default 0.1: twice Elastic's
	// 0.05 per 60-second bucket, since a flow window mixes whole beacons.
	BeaconSizeCV float64
	// BeaconIgnorePorts are destination ports whose regular traffic is
	// infrastructure (DNS, NTP). Default 53 and 123.
	BeaconIgnorePorts []int32
	// BeaconMaxPeers bounds the external endpoints tracked for beaconing
	// per internal host (default 512): a web server answering thousands of
	// clients must not hold state for each. When it is full, endpoints seen
	// in a single window, or not for BeaconMaxGap, make room first.
	BeaconMaxPeers int
	// BeaconMaxGap is the longest gap a tracked beacon may show (default 6
	// hours: RITA's longest scoring interval).
	BeaconMaxGap time.Duration

	// MaxTargets bounds the destinations (and ports) tracked per source in
	// a window or slow-scan horizon, and the external endpoints tracked per
	// internal host: a scanner touching a million hosts holds this many
	// entries, its distinct counts continuing in sketches. Default 4,096.
	MaxTargets int
}

// Defaults returns the configuration with every default filled in.
func (c Config) Defaults() Config {
	setInt := func(p *int, v int) {
		if *p <= 0 {
			*p = v
		}
	}
	setInt(&c.ScanPorts, 15)
	setInt(&c.SweepHosts, 25)
	setInt(&c.SlowScanPorts, 15)
	setInt(&c.SlowSweepHosts, 25)
	setInt(&c.RejectRecords, 200)
	setInt(&c.SensitiveRejects, 10)
	setInt(&c.BruteForceConnections, 20)
	setInt(&c.BruteForceMaxPackets, 40)
	setInt(&c.ExfilBaselineWindows, 6)
	setInt(&c.BeaconMinWindows, 12)
	setInt(&c.MaxTargets, 4096)
	setInt(&c.BeaconMaxPeers, 512)
	setInt(&c.SlowMaxSources, 100_000)
	if c.BeaconMaxGap <= 0 {
		c.BeaconMaxGap = 6 * time.Hour
	}
	if c.SlowWindow <= 0 {
		c.SlowWindow = 24 * time.Hour
	}
	if c.SensitivePorts == nil {
		c.SensitivePorts = []int32{21, 22, 23, 445, 1433, 3306, 3389, 5432, 5900, 5985, 5986, 6379, 9200, 9300, 27017}
	}
	if c.BruteForcePorts == nil {
		c.BruteForcePorts = []int32{21, 22, 23, 1433, 3306, 3389, 5432, 5985, 5986}
	}
	if c.BeaconIgnorePorts == nil {
		c.BeaconIgnorePorts = []int32{53, 123}
	}
	if c.ExfilMinBytes <= 0 {
		c.ExfilMinBytes = 500 << 20
	}
	if c.ExfilCapBytes <= 0 {
		c.ExfilCapBytes = 10 << 30
	}
	if c.ExfilZ <= 0 {
		c.ExfilZ = 3
	}
	if c.ExfilPCR == 0 {
		c.ExfilPCR = 0.4
	}
	if c.BeaconIntervalCV <= 0 {
		c.BeaconIntervalCV = 0.2
	}
	if c.BeaconSizeCV <= 0 {
		c.BeaconSizeCV = 0.1
	}
	return c
}

// Validate reports a setting that cannot work.
func (c Config) Validate() error {
	c = c.Defaults()
	if c.ExfilPCR < -1 || c.ExfilPCR > 1 {
		return fmt.Errorf("exfiltration PCR %g is outside [-1, 1]", c.ExfilPCR)
	}
	if c.SlowWindow < time.Second || c.SlowWindow%time.Second != 0 {
		return fmt.Errorf("slow-scan window %v is not a whole number of seconds", c.SlowWindow)
	}
	if c.ExfilMinBytes > c.ExfilCapBytes {
		return fmt.Errorf("exfiltration minimum %d bytes is above the cap %d", c.ExfilMinBytes, c.ExfilCapBytes)
	}
	for _, p := range [][]int32{c.SensitivePorts, c.BruteForcePorts, c.BeaconIgnorePorts} {
		for _, port := range p {
			if port < 0 || port > 65535 {
				return fmt.Errorf("port %d is outside 0-65535", port)
			}
		}
	}
	return nil
}

// portSet is a set of ports as a bitmap.
type portSet [65536 / 64]uint64

func newPortSet(ports []int32) *portSet {
	var s portSet
	for _, p := range ports {
		s[p>>6] |= 1 << (p & 63)
	}
	return &s
}

func (s *portSet) has(p int32) bool { return p >= 0 && p < 65536 && s[p>>6]&(1<<(p&63)) != 0 }
