package parser

import (
	"fmt"
	"math/rand/v2"
	"strings"
)

// genRecords returns n deterministic records of format f with realistic
// values: mostly IPv4 with some IPv6, heavy-tailed counters, ephemeral ports,
// a few NODATA and SKIPDATA records (every field but the identity and times
// "-"). It is the test and benchmark corpus of this package.
func genRecords(f *Format, n int, seed uint64) []string {
	rng := rand.New(rand.NewPCG(seed, 99))
	out := make([]string, n)
	toks := make([]string, len(f.Fields))
	for i := range out {
		nodata := rng.IntN(200) == 0
		v6 := rng.IntN(20) == 0
		start := 1795564700 + int64(rng.IntN(600))
		for j, fld := range f.Fields {
			toks[j] = genValue(rng, fld, v6, start, f.Version())
			if nodata && !keepsValueInNoData(fld.ID) {
				toks[j] = "-"
			}
		}
		if nodata {
			toks[f.indexOr(FieldLogStatus)] = pick(rng, "NODATA", "SKIPDATA")
		}
		out[i] = strings.Join(toks, " ")
	}
	return out
}

func (f *Format) indexOr(id FieldID) int {
	if i := f.Index(id); i >= 0 {
		return i
	}
	return 0
}

func keepsValueInNoData(id FieldID) bool {
	switch id {
	case FieldVersion, FieldAccountID, FieldInterfaceID, FieldStart, FieldEnd, FieldLogStatus, FieldResourceType, FieldTGWID:
		return true
	}
	return false
}

func pick(rng *rand.Rand, vals ...string) string { return vals[rng.IntN(len(vals))] }

func genIP(rng *rand.Rand, v6 bool) string {
	if v6 {
		return fmt.Sprintf("2001:db8:%x:%x::%x", rng.IntN(0x10000), rng.IntN(0x10000), rng.IntN(0x10000)+1)
	}
	if rng.IntN(2) == 0 {
		return fmt.Sprintf("10.%d.%d.%d", rng.IntN(256), rng.IntN(256), rng.IntN(254)+1)
	}
	return fmt.Sprintf("%d.%d.%d.%d", rng.IntN(223)+1, rng.IntN(256), rng.IntN(256), rng.IntN(254)+1)
}

func genValue(rng *rand.Rand, fld Field, v6 bool, start int64, version int) string {
	switch fld.ID {
	case FieldVersion:
		return fmt.Sprint(version)
	case FieldAccountID, FieldTGWSrcVPCAccountID, FieldTGWDstVPCAccountID:
		return fmt.Sprintf("%012d", rng.Int64N(1e12))
	case FieldSrcAddr, FieldDstAddr, FieldPktSrcAddr, FieldPktDstAddr:
		return genIP(rng, v6)
	case FieldSrcPort, FieldDstPort:
		if rng.IntN(2) == 0 {
			return pick(rng, "22", "80", "443", "3306", "53", "123")
		}
		return fmt.Sprint(32768 + rng.IntN(28232))
	case FieldProtocol:
		return pick(rng, "6", "6", "6", "17", "1")
	case FieldPackets:
		return fmt.Sprint(1 + int64(rng.ExpFloat64()*20))
	case FieldBytes:
		return fmt.Sprint(40 + int64(rng.ExpFloat64()*rng.ExpFloat64()*8000))
	case FieldStart:
		return fmt.Sprint(start)
	case FieldEnd:
		return fmt.Sprint(start + int64(rng.IntN(60)))
	case FieldAction:
		return pick(rng, "ACCEPT", "ACCEPT", "ACCEPT", "REJECT")
	case FieldLogStatus:
		return "OK"
	case FieldTCPFlags:
		return pick(rng, "0", "2", "3", "18", "19")
	case FieldType:
		if v6 {
			return "IPv6"
		}
		return "IPv4"
	case FieldTrafficPath:
		return pick(rng, "-", "1", "2", "8")
	case FieldFlowDirection:
		return pick(rng, "ingress", "egress")
	case FieldRegion:
		return pick(rng, "us-east-1", "eu-west-1")
	case FieldResourceType:
		return "TransitGateway"
	case FieldPacketsLostNoRoute, FieldPacketsLostBlackhole, FieldPacketsLostMTUExceeded, FieldPacketsLostTTLExpired:
		return fmt.Sprint(rng.IntN(3))
	}
	switch fld.Kind {
	case KindInt32, KindInt64:
		return fmt.Sprint(rng.IntN(1000))
	case KindIP:
		return genIP(rng, v6)
	}
	prefix := strings.SplitN(fld.Name, "-", 2)[0]
	return fmt.Sprintf("%s-%08x%09x", prefix, rng.Uint32(), rng.Uint64()&0xfffffffff)
}
