package detect

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/flowlens/flowlens/internal/saturate"
)

// The kinds of finding.
const (
	KindRejectStorm      = "reject_storm"
	KindSensitiveRejects = "sensitive_port_rejects"
	KindPortScan         = "port_scan"
	KindSweep            = "horizontal_scan"
	KindSlowScan         = "slow_scan"
	KindBruteForce       = "brute_force"
	KindExfiltration     = "exfiltration"
	KindBeaconing        = "beaconing"
)

// Kinds lists every kind of finding, in the order detectors are described.
var Kinds = []string{KindRejectStorm, KindSensitiveRejects, KindPortScan, KindSweep, KindSlowScan,
	KindBruteForce, KindExfiltration, KindBeaconing}

// Severity ranks findings.
type Severity int

// The severities, lowest first.
const (
	Low Severity = iota + 1
	Medium
	High
)

// String returns HIGH, MEDIUM or LOW.
func (s Severity) String() string {
	switch s {
	case Low:
		return "LOW"
	case Medium:
		return "MEDIUM"
	case High:
		return "HIGH"
	}
	return "UNKNOWN"
}

// MarshalText writes the severity's name.
func (s Severity) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText reads a severity's name.
func (s *Severity) UnmarshalText(b []byte) error {
	for _, v := range []Severity{Low, Medium, High} {
		if string(b) == v.String() {
			*s = v
			return nil
		}
	}
	return fmt.Errorf("unknown severity %q", b)
}

// Evidence is one threshold a finding crossed.
type Evidence struct {
	Name      string  `json:"name"`
	Value     float64 `json:"value"`
	Threshold float64 `json:"threshold"`
}

// Finding is one thing an analyst should look at.
type Finding struct {
	ID          string     `json:"id"` // stable: the same finding in a rerun has the same id
	Kind        string     `json:"kind"`
	Severity    Severity   `json:"severity"`
	Technique   string     `json:"mitre_technique"` // MITRE ATT&CK id and name
	Source      string     `json:"source"`
	Region      string     `json:"region,omitempty"` // where it was seen first
	Targets     []string   `json:"targets,omitempty"`
	Ports       []int32    `json:"ports,omitempty"`
	Interfaces  []string   `json:"interfaces,omitempty"`
	FirstSeen   time.Time  `json:"first_seen"`
	LastSeen    time.Time  `json:"last_seen"`
	Windows     int        `json:"windows"` // windows the detector fired in
	Records     int64      `json:"records"`
	Packets     int64      `json:"packets"`
	Bytes       int64      `json:"bytes"`
	Score       float64    `json:"score"` // how far past its thresholds, ≥ 1; comparable within a kind
	Explanation string     `json:"explanation"`
	Evidence    []Evidence `json:"evidence"`

	key string // kind, source and target: findings with the same key merge
}

// maxListed bounds the targets, ports and interfaces listed in a finding.
const maxListed = 20

// techniques maps kinds to MITRE ATT&CK techniques.
var techniques = map[string]string{
	KindRejectStorm:      "T1595 Active Scanning",
	KindSensitiveRejects: "T1595 Active Scanning",
	KindPortScan:         "T1046 Network Service Discovery",
	KindSweep:            "T1046 Network Service Discovery",
	KindSlowScan:         "T1046 Network Service Discovery",
	KindBruteForce:       "T1110 Brute Force",
	KindExfiltration:     "T1048 Exfiltration Over Alternative Protocol",
	KindBeaconing:        "T1071 Application Layer Protocol",
}

// merge folds a later firing of the same finding into f.
func (f *Finding) merge(o *Finding) {
	if o.FirstSeen.Before(f.FirstSeen) {
		f.FirstSeen = o.FirstSeen
	}
	if o.LastSeen.After(f.LastSeen) {
		f.LastSeen = o.LastSeen
	}
	f.Windows += o.Windows
	f.Records += o.Records
	f.Packets = saturate.Add(f.Packets, o.Packets)
	f.Bytes = saturate.Add(f.Bytes, o.Bytes)
	f.Severity = max(f.Severity, o.Severity)
	if o.Score > f.Score || o.Score == f.Score && o.Explanation < f.Explanation {
		f.Score, f.Explanation, f.Evidence = o.Score, o.Explanation, o.Evidence
	}
	f.Targets = mergeList(f.Targets, o.Targets, strings.Compare)
	f.Ports = mergeList(f.Ports, o.Ports, cmp.Compare[int32])
	f.Interfaces = mergeList(f.Interfaces, o.Interfaces, strings.Compare)
}

// mergeList returns the sorted union of two sorted lists, at most
// maxListed long.
func mergeList[T comparable](a, b []T, compare func(T, T) int) []T {
	out := slices.Concat(a, b)
	slices.SortFunc(out, compare)
	out = slices.Compact(out)
	if len(out) > maxListed {
		out = out[:maxListed]
	}
	return out
}

// finish sets the id and technique and sorts the lists.
func (f *Finding) finish() {
	f.Technique = techniques[f.Kind]
	sum := sha256.Sum256([]byte(f.key + "|" + f.FirstSeen.UTC().Format(time.RFC3339)))
	f.ID = f.Kind + "-" + hex.EncodeToString(sum[:8])
}

// sortFindings orders findings by severity (highest first), kind, first
// seen, source and id.
func sortFindings(fs []*Finding) {
	slices.SortFunc(fs, func(a, b *Finding) int {
		if c := cmp.Compare(b.Severity, a.Severity); c != 0 {
			return c
		}
		if c := cmp.Compare(slices.Index(Kinds, a.Kind), slices.Index(Kinds, b.Kind)); c != 0 {
			return c
		}
		if c := a.FirstSeen.Compare(b.FirstSeen); c != 0 {
			return c
		}
		if c := strings.Compare(a.Source, b.Source); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
}
