package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/flowlens/flowlens/detect"
)

// detectFlags are analyze's detection flags.
type detectFlags struct {
	enabled      bool
	findingsOnly bool
	cfg          detect.Config
	names        map[string]bool // of the flags above, for validate
}

// addDetectFlags registers the detection flags, every threshold with its
// default (the anchors are in the detect package's Config comments).
func addDetectFlags(fs *flag.FlagSet) *detectFlags {
	f := &detectFlags{cfg: detect.Config{}.Defaults(), names: map[string]bool{}}
	before := map[string]bool{}
	fs.VisitAll(func(fl *flag.Flag) { before[fl.Name] = true })
	defer fs.VisitAll(func(fl *flag.Flag) {
		if !before[fl.Name] {
			f.names[fl.Name] = true
		}
	})
	c := &f.cfg
	fs.BoolVar(&f.enabled, "detect", true, "run the detectors and write DIR/findings.jsonl and DIR/findings/")
	fs.BoolVar(&f.findingsOnly, "findings-only", false, "with --out, skip writing DIR/flows/ (findings and aggregates only)")
	fs.Var(prefixList{&c.Internal}, "internal-cidr", "extra internal address ranges besides RFC 1918 and fc00::/7, comma-separated (repeatable)")
	fs.IntVar(&c.ScanPorts, "scan-ports", c.ScanPorts, "vertical scan: distinct failed ports on one host per window (Zeek)")
	fs.IntVar(&c.SweepHosts, "sweep-hosts", c.SweepHosts, "horizontal scan: distinct failed hosts on one port per window (Zeek)")
	fs.DurationVar(&c.SlowWindow, "slow-window", c.SlowWindow, "slow scans: the horizon the same counts are taken over (Sigma)")
	fs.IntVar(&c.SlowScanPorts, "slow-scan-ports", c.SlowScanPorts, "slow vertical scan: distinct failed ports on one host per horizon")
	fs.IntVar(&c.SlowSweepHosts, "slow-sweep-hosts", c.SlowSweepHosts, "slow horizontal scan: distinct failed hosts on one port per horizon")
	fs.IntVar(&c.SlowMaxSources, "slow-max-sources", c.SlowMaxSources, "sources followed per slow-scan horizon (bounds memory; one-off probers make room)")
	fs.IntVar(&c.RejectRecords, "reject-records", c.RejectRecords, "reject storm: rejected records from one source per window")
	fs.IntVar(&c.SensitiveRejects, "sensitive-rejects", c.SensitiveRejects, "rejected records from one source to --sensitive-ports per window (Sigma)")
	fs.Var(portList{&c.SensitivePorts}, "sensitive-ports", "administration and database ports, comma-separated")
	fs.Var(portList{&c.BruteForcePorts}, "brute-force-ports", "login ports watched for brute force, comma-separated")
	fs.IntVar(&c.BruteForceConnections, "brute-force-connections", c.BruteForceConnections, "brute force: short connections to one login port of one host per window")
	fs.IntVar(&c.BruteForceMaxPackets, "brute-force-max-packets", c.BruteForceMaxPackets, "most packets per connection that still count as short")
	fs.Int64Var(&c.ExfilMinBytes, "exfil-min-bytes", c.ExfilMinBytes, "exfiltration: least bytes to one external address before it is judged (Turbot)")
	fs.Int64Var(&c.ExfilCapBytes, "exfil-cap-bytes", c.ExfilCapBytes, "exfiltration: bytes to one external address that fire whatever the baseline (Panther)")
	fs.Float64Var(&c.ExfilZ, "exfil-z", c.ExfilZ, "exfiltration: z-score of the host's busiest window against its others (Panther)")
	fs.Float64Var(&c.ExfilPCR, "exfil-pcr", c.ExfilPCR, "exfiltration: least producer/consumer ratio of the host (Bullard and Gerth); -1 accepts any")
	fs.IntVar(&c.ExfilBaselineWindows, "exfil-baseline-windows", c.ExfilBaselineWindows, "windows a host needs for a baseline; fewer is a cold start")
	fs.IntVar(&c.BeaconMinWindows, "beacon-min-windows", c.BeaconMinWindows, "beaconing: least windows with contact (Elastic asks 7 buckets)")
	fs.Float64Var(&c.BeaconIntervalCV, "beacon-interval-cv", c.BeaconIntervalCV, "beaconing: highest variation of the gaps between contacts")
	fs.Float64Var(&c.BeaconSizeCV, "beacon-size-cv", c.BeaconSizeCV, "beaconing: highest variation of bytes per connection (Elastic 0.05)")
	fs.Var(portList{&c.BeaconIgnorePorts}, "beacon-ignore-ports", "ports whose regular traffic is infrastructure, comma-separated")
	fs.IntVar(&c.BeaconMaxPeers, "beacon-max-peers", c.BeaconMaxPeers, "external endpoints tracked per internal host for beaconing (bounds memory)")
	fs.DurationVar(&c.BeaconMaxGap, "beacon-max-gap", c.BeaconMaxGap, "an endpoint not contacted for this long is no beacon candidate any more")
	fs.IntVar(&c.MaxTargets, "max-targets", c.MaxTargets, "targets tracked one by one per source (bounds memory; the rest are sketched)")
	return f
}

// validate rejects the thresholds given on the command line that the
// detect package would silently replace by their defaults: zero or
// negative counts, sizes, ratios and durations (its Config takes a zero
// value for "the default").
func (f *detectFlags) validate(fs *flag.FlagSet) error {
	var errs []error
	fs.Visit(func(fl *flag.Flag) {
		g, ok := fl.Value.(flag.Getter)
		if !ok || !f.names[fl.Name] {
			return // lists, and the flags of other concerns
		}
		var bad bool
		switch v := g.Get().(type) {
		case int:
			bad = v < 1
		case int64:
			bad = v < 1
		case time.Duration:
			bad = v <= 0
		case float64:
			if fl.Name == "exfil-pcr" { // a ratio in [-1, 1], which Validate checks; only 0 is the default
				if v == 0 {
					errs = append(errs, fmt.Errorf("--exfil-pcr 0 would take the default (%s): give -1 to accept any ratio, or a small positive one", fl.DefValue))
				}
				return
			}
			bad = v <= 0
		}
		if bad {
			errs = append(errs, fmt.Errorf("--%s %s: must be positive", fl.Name, fl.Value))
		}
	})
	return errors.Join(errs...)
}

// config returns the detection configuration, or nil when detection is off.
func (f *detectFlags) config() *detect.Config {
	if !f.enabled {
		return nil
	}
	return &f.cfg
}

// portList is a comma-separated list of ports as a flag.
type portList struct{ ports *[]int32 }

func (p portList) String() string {
	if p.ports == nil {
		return ""
	}
	s := make([]string, len(*p.ports))
	for i, v := range *p.ports {
		s[i] = strconv.Itoa(int(v))
	}
	return strings.Join(s, ",")
}

func (p portList) Set(v string) error {
	out := []int32{} // empty, not nil: an empty list is no list, not the default
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s == "" {
			continue
		}
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 || n > 65535 {
			return fmt.Errorf("%q is not a port (0-65535)", s)
		}
		out = append(out, int32(n))
	}
	*p.ports = out
	return nil
}

// prefixList is a comma-separated, repeatable list of CIDR ranges.
type prefixList struct{ prefixes *[]netip.Prefix }

func (p prefixList) String() string {
	if p.prefixes == nil {
		return ""
	}
	s := make([]string, len(*p.prefixes))
	for i, v := range *p.prefixes {
		s[i] = v.String()
	}
	return strings.Join(s, ",")
}

func (p prefixList) Set(v string) error {
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s == "" {
			continue
		}
		pre, err := netip.ParsePrefix(s)
		if err != nil {
			return fmt.Errorf("%q is not a CIDR range like 100.64.0.0/10", s)
		}
		*p.prefixes = append(*p.prefixes, pre.Masked())
	}
	return nil
}

// printFindings prints the count of findings by severity and the first few.
func printFindings(w io.Writer, fs []detect.Finding, shown int) {
	bySeverity := map[detect.Severity]int{}
	for _, f := range fs {
		bySeverity[f.Severity]++
	}
	fmt.Fprintf(w, "findings: %d HIGH, %d MEDIUM, %d LOW\n", bySeverity[detect.High], bySeverity[detect.Medium], bySeverity[detect.Low])
	for i := range min(shown, len(fs)) {
		f := &fs[i]
		fmt.Fprintf(w, "  %-6s %-22s %s\n", f.Severity, f.Kind, f.Explanation)
	}
	if len(fs) > shown && shown > 0 {
		fmt.Fprintf(w, "  ... and %d more\n", len(fs)-shown)
	}
}
