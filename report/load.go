package report

import (
	"github.com/flowlens/flowlens/aggregate"
	"github.com/flowlens/flowlens/athena"
)

// data is what the report shows. A summary is nil when the run did not
// write its table (analyze --aggregate=false, --detect=false).
type data struct {
	dir      string
	manifest *athena.Manifest
	shards   int       // manifests merged into manifest, 0 for a job not sharded
	traffic  *traffic  // conversations
	talkers  *ranking  // talkers: bytes sent and received per address
	ports    *ranking  // ports: rejected records per port and protocol
	gaps     *ranking  // interfaces: NODATA and SKIPDATA records per interface
	findings *findings // findings.jsonl
}

// load reads the tables and files the manifest m of dir lists.
func load(dir string, m *athena.Manifest) (*data, error) {
	d := &data{dir: dir, manifest: m}
	var err error
	for _, tm := range m.Tables {
		switch tm.Name {
		case aggregate.Conversations:
			d.traffic, err = loadTraffic(dir, tm, extraInternal(m))
		case aggregate.Talkers:
			d.talkers, err = loadTalkers(dir, tm)
		case aggregate.Ports:
			d.ports, err = loadPorts(dir, tm)
		case aggregate.Interfaces:
			d.gaps, err = loadGaps(dir, tm)
		}
		if err != nil {
			return nil, err
		}
	}
	d.findings, err = loadFindings(dir, m)
	return d, err
}
