package report

import (
	"cmp"
	"strconv"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/flowlens/flowlens/athena"
)

// How many rows each ranking shows.
const (
	topTalkers    = 15
	topPorts      = 15
	topInterfaces = 20
)

// ranking is the heaviest keys of a table over the whole run.
type ranking struct {
	rows   []rankRow // heaviest first
	keys   int       // distinct keys held (all of them unless approx)
	approx bool      // more keys than a counter holds: sums are upper bounds
}

// rankRow is one key of a ranking.
type rankRow struct {
	label string
	sum   int64
	parts [2]int64 // what the sum is made of, in the table's two measures
	err   int64    // how much of sum may belong to other keys (approx)
}

func newRanking[K comparable](c *counter[K], n int, label func(K) string) *ranking {
	r := &ranking{keys: len(c.entries), approx: c.evicted}
	for _, e := range c.top(n) {
		r.rows = append(r.rows, rankRow{label: label(e.key), sum: e.sum, parts: e.parts, err: e.err})
	}
	return r
}

var talkerColumns = []column{{"addr", arrow.STRING}, {"bytes_sent", arrow.INT64}, {"bytes_received", arrow.INT64}}

// loadTalkers ranks addresses by the bytes they sent and received.
func loadTalkers(dir string, tm athena.TableManifest) (*ranking, error) {
	c := newCounter(counterCapacity, strings.Compare)
	err := scan(dir, tm, talkerColumns, func(rec arrow.RecordBatch) {
		addr := rec.Column(0).(*array.String)
		sent := rec.Column(1).(*array.Int64)
		recv := rec.Column(2).(*array.Int64)
		for i := range int(rec.NumRows()) {
			if !addr.IsNull(i) {
				c.add(addr.Value(i), [2]int64{sent.Value(i), recv.Value(i)}, strings.Clone)
			}
		}
	})
	if err != nil {
		return nil, err
	}
	return newRanking(c, topTalkers, func(s string) string { return s }), nil
}

// portKey is a destination port and protocol; -1 stands for NULL.
type portKey struct{ port, proto int32 }

var portColumns = []column{{"dstport", arrow.INT32}, {"protocol", arrow.INT32}, {"records_rejected", arrow.INT64}}

// loadPorts ranks destination ports and protocols by rejected records.
func loadPorts(dir string, tm athena.TableManifest) (*ranking, error) {
	c := newCounter(counterCapacity, func(a, b portKey) int {
		return cmp.Or(cmp.Compare(a.port, b.port), cmp.Compare(a.proto, b.proto))
	})
	err := scan(dir, tm, portColumns, func(rec arrow.RecordBatch) {
		port := rec.Column(0).(*array.Int32)
		proto := rec.Column(1).(*array.Int32)
		rejected := rec.Column(2).(*array.Int64)
		for i := range int(rec.NumRows()) {
			k := portKey{-1, -1}
			if !port.IsNull(i) {
				k.port = port.Value(i)
			}
			if !proto.IsNull(i) {
				k.proto = proto.Value(i)
			}
			c.add(k, [2]int64{rejected.Value(i), 0}, nil)
		}
	})
	if err != nil {
		return nil, err
	}
	return newRanking(c, topPorts, portLabel), nil
}

// portLabel names a port and protocol as in 22/tcp.
func portLabel(k portKey) string {
	port := "-"
	if k.port >= 0 {
		port = strconv.Itoa(int(k.port))
	}
	switch k.proto {
	case 1:
		return port + "/icmp"
	case 6:
		return port + "/tcp"
	case 17:
		return port + "/udp"
	case 58:
		return port + "/icmpv6"
	case -1:
		return port
	}
	return port + "/proto " + strconv.Itoa(int(k.proto))
}

var interfaceColumns = []column{{"interface_id", arrow.STRING}, {"records_nodata", arrow.INT64}, {"records_skipdata", arrow.INT64}}

// loadGaps ranks interfaces by their NODATA and SKIPDATA records.
func loadGaps(dir string, tm athena.TableManifest) (*ranking, error) {
	c := newCounter(counterCapacity, strings.Compare)
	err := scan(dir, tm, interfaceColumns, func(rec arrow.RecordBatch) {
		iface := rec.Column(0).(*array.String)
		nodata := rec.Column(1).(*array.Int64)
		skipdata := rec.Column(2).(*array.Int64)
		for i := range int(rec.NumRows()) {
			if !iface.IsNull(i) {
				c.add(iface.Value(i), [2]int64{nodata.Value(i), skipdata.Value(i)}, strings.Clone)
			}
		}
	})
	if err != nil {
		return nil, err
	}
	return newRanking(c, topInterfaces, func(s string) string { return s }), nil
}
