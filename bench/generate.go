// Package bench generates realistic synthetic flow logs and measures the
// pipeline's throughput on them.
package bench

import (
	"encoding/binary"
	"math/rand/v2"
	"net/netip"
	"strconv"
	"strings"

	"github.com/flowlens/flowlens/parser"
)

// Generator produces deterministic synthetic flow-log records for any
// format: many interfaces and hosts, mostly IPv4 with some IPv6, ephemeral
// client ports, heavy-tailed packet and byte counts, 60 s and 600 s
// aggregation windows, and a few NODATA and SKIPDATA records (every field "-"
// but the identity, times and log status).
type Generator struct {
	Format *parser.Format
	// Start is the Unix time of the earliest record window.
	Start int64
	// Span is how many seconds after Start record windows may begin.
	Span int64
	// Account and Region, when set, are the account-id and region of every
	// record, as in the files of one flow log.
	Account, Region string

	rng     *rand.Rand
	hosts   *rand.Zipf // a few busy hosts, a long tail of quiet ones
	peers   *rand.Zipf // each host's peers, popular first
	version []byte
	noData  []bool
}

// NewGenerator returns a generator of records of format f, the same for the
// same seed.
func NewGenerator(f *parser.Format, seed uint64) *Generator {
	rng := rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15))
	g := &Generator{
		Format:  f,
		Start:   1793491200, // 2026-11-01T00:00:00Z
		Span:    300,
		rng:     rng,
		hosts:   rand.NewZipf(rng, 1.3, 1, numHosts-1),
		peers:   rand.NewZipf(rng, 1.8, 1, numPeers-1),
		version: strconv.AppendInt(nil, int64(f.Version()), 10),
		noData:  make([]bool, len(f.Fields)),
	}
	for i, fld := range f.Fields {
		g.noData[i] = !keepsValueInNoData(fld.ID)
	}
	return g
}

func keepsValueInNoData(id parser.FieldID) bool {
	switch id {
	case parser.FieldVersion, parser.FieldAccountID, parser.FieldInterfaceID, parser.FieldStart, parser.FieldEnd,
		parser.FieldLogStatus, parser.FieldResourceType, parser.FieldTGWID, parser.FieldRegion:
		return true
	}
	return false
}

// record is the state shared by the fields of one record.
type record struct {
	noData  bool
	v6      bool
	egress  bool
	start   int64
	host    uint32 // the interface's own host number
	peer    uint32
	service bool // the peer port is a well-known service port
	port    int  // the service port
}

// Lines returns n records as strings.
func (g *Generator) Lines(n int) []string {
	out := make([]string, n)
	var buf []byte
	for i := range out {
		buf = g.AppendRecord(buf[:0])
		out[i] = string(buf)
	}
	return out
}

// AppendRecord appends one record (without newline) to dst.
func (g *Generator) AppendRecord(dst []byte) []byte {
	r := g.rng
	window := int64(60)
	if r.IntN(4) == 0 {
		window = 600
	}
	// Traffic repeats as in real logs: busy hosts talk to their usual peers
	// on their usual service port, each connection from a new ephemeral port.
	host, rank := g.hosts.Uint64(), g.peers.Uint64()
	rec := record{
		noData: r.IntN(200) == 0,
		v6:     r.IntN(20) == 0,
		egress: r.IntN(2) == 0,
		start:  g.Start + r.Int64N(max(g.Span, 1)),
		host:   uint32(host),
		peer:   uint32((host*7919 + rank*104729) % numPeers),
		port:   wellKnown[(host*31+rank)%uint64(len(wellKnown))],
	}
	if r.IntN(5) == 0 {
		rec.port = wellKnown[r.IntN(len(wellKnown))]
	}
	rec.start -= rec.start % window
	for i, fld := range g.Format.Fields {
		if i > 0 {
			dst = append(dst, ' ')
		}
		if rec.noData && g.noData[i] {
			dst = append(dst, '-')
			continue
		}
		dst = g.appendValue(dst, fld, &rec, window)
	}
	return dst
}

// The numbers of interfaces (hosts) and of peer addresses of generated traffic.
const (
	numHosts = 2000
	numPeers = 50000
)

// wellKnown are the service ports of generated flows; 0 stands for ICMP.
var wellKnown = []int{443, 443, 443, 443, 80, 22, 53, 123, 3306, 5432, 6379, 8080, 3389, 0}

func (g *Generator) appendValue(dst []byte, fld parser.Field, rec *record, window int64) []byte {
	r := g.rng
	switch fld.ID {
	case parser.FieldVersion:
		return append(dst, g.version...)
	case parser.FieldAccountID:
		if g.Account != "" {
			return append(dst, g.Account...)
		}
		return appendPadded(dst, 123456789010+uint64(rec.host%7)*11111111, 12)
	case parser.FieldTGWSrcVPCAccountID, parser.FieldTGWDstVPCAccountID:
		return appendPadded(dst, 123456789010+uint64(rec.host%7)*11111111, 12)
	case parser.FieldInterfaceID:
		dst = append(dst, "eni-0"...)
		return appendHex(dst, uint64(rec.host)*2654435761, 16)
	case parser.FieldSrcAddr, parser.FieldPktSrcAddr:
		if rec.egress {
			return appendAddr(dst, rec.v6, true, rec.host)
		}
		return appendAddr(dst, rec.v6, false, rec.peer)
	case parser.FieldDstAddr, parser.FieldPktDstAddr:
		if rec.egress {
			return appendAddr(dst, rec.v6, false, rec.peer)
		}
		return appendAddr(dst, rec.v6, true, rec.host)
	case parser.FieldSrcPort:
		if rec.port == 0 {
			return append(dst, '0')
		}
		if rec.egress {
			return strconv.AppendInt(dst, int64(32768+r.IntN(28232)), 10)
		}
		return strconv.AppendInt(dst, int64(rec.port), 10)
	case parser.FieldDstPort:
		if rec.port == 0 {
			return append(dst, '0')
		}
		if rec.egress {
			return strconv.AppendInt(dst, int64(rec.port), 10)
		}
		return strconv.AppendInt(dst, int64(32768+r.IntN(28232)), 10)
	case parser.FieldProtocol:
		switch {
		case rec.port == 0 && rec.v6:
			return append(dst, "58"...) // ICMPv6
		case rec.port == 0:
			return append(dst, "1"...) // ICMP
		case rec.port == 53 || rec.port == 123:
			return append(dst, "17"...)
		}
		return append(dst, "6"...)
	case parser.FieldPackets:
		return strconv.AppendInt(dst, 1+int64(r.ExpFloat64()*r.ExpFloat64()*20), 10)
	case parser.FieldBytes:
		return strconv.AppendInt(dst, 40+int64(r.ExpFloat64()*r.ExpFloat64()*r.ExpFloat64()*6000), 10)
	case parser.FieldStart:
		return strconv.AppendInt(dst, rec.start+r.Int64N(window/2), 10)
	case parser.FieldEnd:
		return strconv.AppendInt(dst, rec.start+window/2+r.Int64N(window/2), 10)
	case parser.FieldAction:
		if r.IntN(6) == 0 {
			return append(dst, "REJECT"...)
		}
		return append(dst, "ACCEPT"...)
	case parser.FieldLogStatus:
		if rec.noData {
			if r.IntN(4) == 0 {
				return append(dst, "SKIPDATA"...)
			}
			return append(dst, "NODATA"...)
		}
		return append(dst, "OK"...)
	case parser.FieldTCPFlags:
		return strconv.AppendInt(dst, int64(tcpFlags[r.IntN(len(tcpFlags))]), 10)
	case parser.FieldType:
		if rec.v6 {
			return append(dst, "IPv6"...)
		}
		return append(dst, "IPv4"...)
	case parser.FieldTrafficPath:
		if !rec.egress {
			return append(dst, '-')
		}
		return strconv.AppendInt(dst, int64(1+r.IntN(8)), 10)
	case parser.FieldFlowDirection:
		if rec.egress {
			return append(dst, "egress"...)
		}
		return append(dst, "ingress"...)
	case parser.FieldRegion:
		if g.Region != "" {
			return append(dst, g.Region...)
		}
		return append(dst, regions[rec.host%uint32(len(regions))]...)
	case parser.FieldResourceType:
		return append(dst, "TransitGateway"...)
	case parser.FieldEncryptionStatus: // 0 to 3, or - (flowlog-spec.md §1.7)
		if n := r.IntN(5); n < 4 {
			return strconv.AppendInt(dst, int64(n), 10)
		}
		return append(dst, '-')
	case parser.FieldInterfaceType, parser.FieldNextHopInterfaceType:
		return append(dst, interfaceTypes[r.IntN(len(interfaceTypes))]...)
	case parser.FieldPktSrcAWSService, parser.FieldPktDstAWSService, parser.FieldRejectReason,
		parser.FieldSublocationType, parser.FieldSublocationID, parser.FieldECSSecondContainerID:
		if r.IntN(8) != 0 {
			return append(dst, '-')
		}
	}
	switch fld.Kind {
	case parser.KindInt32, parser.KindInt64:
		return strconv.AppendInt(dst, int64(r.IntN(4)), 10)
	case parser.KindIP:
		return appendAddr(dst, rec.v6, false, rec.peer)
	}
	prefix, _, _ := strings.Cut(fld.Name, "-")
	dst = append(dst, prefix...)
	dst = append(dst, "-0"...)
	return appendHex(dst, uint64(rec.host)*0x9e3779b1+uint64(fld.ID), 16)
}

var (
	interfaceTypes = []string{"-", "nat_gateway", "network_load_balancer", "vpc_endpoint", "transit_gateway"}
	tcpFlags       = []int{0, 2, 3, 18, 19, 1, 4}
	regions        = []string{"us-east-1", "eu-west-1", "ap-southeast-2"}
)

// appendAddr appends a host's address: internal ones in 10.0.0.0/8 or
// fd00::/8, external ones spread over public space.
func appendAddr(dst []byte, v6, internal bool, n uint32) []byte {
	if v6 {
		a := [16]byte{0xfd, 0x00, 0x0e, 0xc2}
		if !internal {
			a = [16]byte{0x26, 0x00, 0x1f, 0x18, 0x40, 0x00}
		}
		binary.BigEndian.PutUint32(a[12:], n+1)
		return netip.AddrFrom16(a).AppendTo(dst) // RFC 5952 form
	}
	a, b, c, d := byte(10), byte(n>>16), byte(n>>8), byte(n)
	if !internal {
		h := n * 2654435761
		a, b, c = byte(h>>24)%200+13, byte(h>>16), byte(h>>8)
	}
	if d == 0 {
		d = 1
	}
	dst = strconv.AppendUint(dst, uint64(a), 10)
	dst = append(dst, '.')
	dst = strconv.AppendUint(dst, uint64(b), 10)
	dst = append(dst, '.')
	dst = strconv.AppendUint(dst, uint64(c), 10)
	dst = append(dst, '.')
	return strconv.AppendUint(dst, uint64(d), 10)
}

func appendPadded(dst []byte, v uint64, width int) []byte {
	var buf [20]byte
	s := strconv.AppendUint(buf[:0], v, 10)
	for i := len(s); i < width; i++ {
		dst = append(dst, '0')
	}
	return append(dst, s...)
}

func appendHex(dst []byte, v uint64, width int) []byte {
	const digits = "0123456789abcdef"
	for i := width - 1; i >= 0; i-- {
		dst = append(dst, digits[(v>>(4*uint(i)))&0xf])
	}
	return dst
}
