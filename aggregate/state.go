package aggregate

import (
	"encoding/binary"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/flowlens/flowlens/internal/arrowstr"
	"github.com/flowlens/flowlens/internal/saturate"
)

// addr is a 16-byte IP address as two big-endian words, so that comparing
// the words compares the addresses.
type addr struct{ hi, lo uint64 }

func addrOf(b []byte) addr {
	return addr{binary.BigEndian.Uint64(b[:8]), binary.BigEndian.Uint64(b[8:])}
}

func (a addr) hash() uint64 { return a.hi*0x9e3779b97f4a7c15 ^ a.lo }

// rec is one flow record as the tables see it. Ids are interned strings,
// 0 for NULL.
type rec struct {
	start, end                         int64
	region, account, iface, action     uint32
	logStatus, direction               uint32
	src, dst, ifSrc, ifDst             addr
	hasSrc, hasDst, hasIfSrc, hasIfDst bool
	dstport, proto                     int32 // -1 for NULL
	flags                              int32 // tcp_flags, flagsKnown set when not NULL
	packets, bytes                     int64 // 0 for NULL
	accepted, rejected                 bool
	ingress, egress, ok, nodata, skipd bool
}

// columns are the fields of a record batch the tables use; any may be
// missing (nil).
type columns struct {
	start, end, packets, bytes                    *array.Int64
	dstport, proto, flags                         *array.Int32
	region, account, iface, action, status, direc strCol
	src, dst, pktSrc, pktDst                      *array.FixedSizeBinary
}

// strCol is a string column with its offsets and bytes at hand; a nil
// array when the batch lacks the field.
type strCol struct {
	a    *array.String
	offs []int32
	data []byte
}

func bindStr(a arrow.Array) strCol {
	s, ok := a.(*array.String)
	if !ok {
		return strCol{}
	}
	return strCol{s, s.ValueOffsets(), arrowstr.Data(s)}
}

// view returns row i without copying; it is valid while the array is.
func (c *strCol) view(i int) string {
	b := c.data[c.offs[i]:c.offs[i+1]]
	return unsafe.String(unsafe.SliceData(b), len(b))
}

func bindColumns(r arrow.RecordBatch) *columns {
	c := &columns{}
	get := func(name string) arrow.Array {
		if idx := r.Schema().FieldIndices(name); len(idx) > 0 {
			return r.Column(idx[0])
		}
		return nil
	}
	c.start, _ = get("start").(*array.Int64)
	c.end, _ = get("end").(*array.Int64)
	c.packets, _ = get("packets").(*array.Int64)
	c.bytes, _ = get("bytes").(*array.Int64)
	c.dstport, _ = get("dstport").(*array.Int32)
	c.proto, _ = get("protocol").(*array.Int32)
	c.flags, _ = get("tcp_flags").(*array.Int32)
	c.region = bindStr(get("region"))
	c.account = bindStr(get("account_id"))
	c.iface = bindStr(get("interface_id"))
	c.action = bindStr(get("action"))
	c.status = bindStr(get("log_status"))
	c.direc = bindStr(get("flow_direction"))
	c.src, _ = get("srcaddr").(*array.FixedSizeBinary)
	c.dst, _ = get("dstaddr").(*array.FixedSizeBinary)
	c.pktSrc, _ = get("pkt_srcaddr").(*array.FixedSizeBinary)
	c.pktDst, _ = get("pkt_dstaddr").(*array.FixedSizeBinary)
	return c
}

func i64(a *array.Int64, i int) (int64, bool) {
	if a == nil || a.IsNull(i) {
		return 0, false
	}
	return a.Value(i), true
}

func i32(a *array.Int32, i int) int32 {
	if a == nil || a.IsNull(i) {
		return -1
	}
	return a.Value(i)
}

func ip(a *array.FixedSizeBinary, i int) (addr, bool) {
	if a == nil || a.IsNull(i) {
		return addr{}, false
	}
	return addrOf(a.Value(i)), true
}

// row reads row i. Records without start or end time are skipped (false).
// The record's addresses are the packet addresses when present and
// different (NAT gateways, load balancers), the interface's in their own.
func (c *columns) row(i int, w *Worker, defRegion uint32, r *rec) bool {
	*r = rec{}
	var okS, okE bool
	r.start, okS = i64(c.start, i)
	r.end, okE = i64(c.end, i)
	switch {
	case !okS && !okE:
		return false
	case !okS:
		r.start = r.end
	case !okE:
		r.end = r.start
	}
	r.packets, _ = i64(c.packets, i)
	r.bytes, _ = i64(c.bytes, i)
	r.dstport, r.proto = i32(c.dstport, i), i32(c.proto, i)
	if f := i32(c.flags, i); f >= 0 {
		r.flags = f | flagsKnown
	}
	r.region = defRegion
	if id := w.str(&c.region, i, slotRegion); id != 0 {
		r.region = id
	}
	r.account, r.iface = w.str(&c.account, i, slotAccount), w.str(&c.iface, i, slotIface)
	r.action, r.logStatus = w.str(&c.action, i, slotAction), w.str(&c.status, i, slotStatus)
	r.direction = w.str(&c.direc, i, slotDirection)
	r.ifSrc, r.hasIfSrc = ip(c.src, i)
	r.ifDst, r.hasIfDst = ip(c.dst, i)
	r.src, r.hasSrc = r.ifSrc, r.hasIfSrc
	if p, ok := ip(c.pktSrc, i); ok {
		r.src, r.hasSrc = p, true
	}
	r.dst, r.hasDst = r.ifDst, r.hasIfDst
	if p, ok := ip(c.pktDst, i); ok {
		r.dst, r.hasDst = p, true
	}
	k := &w.known
	r.accepted, r.rejected = r.action == k.accept, r.action == k.reject
	r.ingress, r.egress = r.direction == k.ingress, r.direction == k.egress
	r.ok, r.nodata, r.skipd = r.logStatus == k.ok, r.logStatus == k.nodata, r.logStatus == k.skipdata
	return true
}

// The string columns, each with a one-entry cache of its last value: in a
// flow-log file consecutive records mostly share account, interface,
// action, status and direction.
const (
	slotRegion = iota
	slotAccount
	slotIface
	slotAction
	slotStatus
	slotDirection
	numSlots
)

// str interns row i of a (0 when a is missing or the value NULL).
func (w *Worker) str(a *strCol, i int, slot int) uint32 {
	if a.a == nil || a.a.IsNull(i) {
		return 0
	}
	v := a.view(i)
	c := &w.last[slot]
	if c.id != 0 && v == c.s {
		return c.id
	}
	e := &w.recent[recentSlot(v)]
	if e.id == 0 || e.s != v {
		e.id = w.intern(v)
		e.s = w.names[e.id]
	}
	c.id, c.s = e.id, e.s
	return c.id
}

// recentStrings is the size of a worker's cache of strings.
const recentStrings = 4096

// recentSlot hashes the length and last eight bytes of s, where interface
// ids and the like differ.
func recentSlot(s string) int {
	var x uint64
	for i := max(len(s)-8, 0); i < len(s); i++ {
		x = x<<8 | uint64(s[i])
	}
	return int(((x ^ uint64(len(s))) * 0x9e3779b97f4a7c15) >> (64 - 12))
}

// knownIDs are the interned ids of the values the tables test for.
type knownIDs struct{ accept, reject, ingress, egress, ok, nodata, skipdata uint32 }

type convKey struct {
	region, account, iface, action uint32
	src, dst, ifSrc, ifDst         addr
	dstport, proto                 int32
	ifMask                         uint8 // which interface addresses are present
}

// convVal are a conversation's counters; flags is the OR of its records'
// tcp_flags, with flagsKnown set when any record had them.
type convVal struct {
	records, packets, bytes, first, last int64
	flags                                int32
}

// flagsKnown marks a flags value as present: tcp_flags use 8 bits.
const flagsKnown = 1 << 30

type talkerVal struct {
	bytesOut, packetsOut, bytesIn, packetsIn, accepted, rejected, records int64
	peers, ports                                                          Distinct
}

type talkerKey struct {
	region uint32
	a      addr
}

type portKey struct {
	region      uint32
	port, proto int32
}

type portVal struct {
	records, bytes, rejected int64
	sources                  Distinct
}

type ifaceKey struct{ region, account, iface uint32 }

// ifaceVal holds the counters of an interface, in the order of the
// interfaces table's columns, so that merging is a loop.
type ifaceVal [numIfaceCounters]int64

const (
	ifBytesIn = iota
	ifBytesOut
	ifBytesOther
	ifRecords
	ifAccepted
	ifRejected
	ifNoAction
	ifOK
	ifNoData
	ifSkipData
	numIfaceCounters
)

// state is the partial or merged aggregate of one window. Conversations,
// the largest table, keep their rows in slices indexed by the map, so that
// a new row allocates nothing of its own.
type state struct {
	records    int64
	conv       keyIndex[convKey]
	convKeys   []convKey
	convVals   []convVal
	talkers    keyIndex[talkerKey]
	talkerKeys []talkerKey
	talkerVals []talkerVal
	ports      keyIndex[portKey]
	portKeys   []portKey
	portVals   []portVal
	ifaces     keyIndex[ifaceKey]
	ifaceKeys  []ifaceKey
	ifaceVals  []ifaceVal
}

// stateSize counts the rows of a state's tables.
type stateSize struct{ conv, talkers, ports, ifaces int }

// atLeast raises each count to st's.
func (z *stateSize) atLeast(st *state) {
	z.conv = max(z.conv, len(st.convKeys))
	z.talkers = max(z.talkers, len(st.talkerKeys))
	z.ports = max(z.ports, len(st.portKeys))
	z.ifaces = max(z.ifaces, len(st.ifaceKeys))
}

// newState returns an empty state sized for the rows of hint: a window is
// about as large as the one before, and growing its tables row by row
// copied them over and over.
func newState(hint stateSize) *state {
	st := &state{
		convKeys: make([]convKey, 0, hint.conv), convVals: make([]convVal, 0, hint.conv),
		talkerKeys: make([]talkerKey, 0, hint.talkers), talkerVals: make([]talkerVal, 0, hint.talkers),
		portKeys: make([]portKey, 0, hint.ports), portVals: make([]portVal, 0, hint.ports),
		ifaceKeys: make([]ifaceKey, 0, hint.ifaces), ifaceVals: make([]ifaceVal, 0, hint.ifaces),
	}
	st.conv.init(hint.conv)
	st.talkers.init(hint.talkers)
	st.ports.init(hint.ports)
	st.ifaces.init(hint.ifaces)
	return st
}

func (s *state) add(r *rec, exact int, tables which) {
	s.records++
	if tables.ifaces && r.iface != 0 {
		v := s.iface(ifaceKey{r.region, r.account, r.iface})
		v[ifRecords]++
		switch {
		case r.ingress:
			v[ifBytesIn] = saturate.Add(v[ifBytesIn], r.bytes)
		case r.egress:
			v[ifBytesOut] = saturate.Add(v[ifBytesOut], r.bytes)
		default:
			v[ifBytesOther] = saturate.Add(v[ifBytesOther], r.bytes)
		}
		switch {
		case r.accepted:
			v[ifAccepted]++
		case r.rejected:
			v[ifRejected]++
		case r.action == 0:
			v[ifNoAction]++
		}
		switch {
		case r.ok:
			v[ifOK]++
		case r.nodata:
			v[ifNoData]++
		case r.skipd:
			v[ifSkipData]++
		}
	}
	if !r.hasSrc || !r.hasDst {
		return // NODATA and SKIPDATA records have no traffic to summarise
	}
	ck := convKey{region: r.region, account: r.account, iface: r.iface, action: r.action, src: r.src, dst: r.dst,
		dstport: r.dstport, proto: r.proto}
	if r.hasIfSrc && r.ifSrc != r.src {
		ck.ifSrc, ck.ifMask = r.ifSrc, ck.ifMask|1
	}
	if r.hasIfDst && r.ifDst != r.dst {
		ck.ifDst, ck.ifMask = r.ifDst, ck.ifMask|2
	}
	if tables.conv {
		s.addConv(&ck, convVal{records: 1, packets: r.packets, bytes: r.bytes, first: r.start, last: r.end, flags: r.flags})
	}
	if tables.talkers {
		s.addTalkers(r, exact)
	}
	if tables.ports && r.dstport >= 0 {
		pk := portKey{r.region, r.dstport, r.proto}
		pv := s.port(pk)
		pv.records++
		pv.bytes = saturate.Add(pv.bytes, r.bytes)
		if r.rejected {
			pv.rejected++
		}
		pv.sources.Add(r.src.hash(), exact)
	}
}

func (s *state) addTalkers(r *rec, exact int) {
	si := s.talker(r.region, r.src)
	di := s.talker(r.region, r.dst)
	src, dst := &s.talkerVals[si], &s.talkerVals[di] // after both lookups: the slice may have grown
	src.bytesOut = saturate.Add(src.bytesOut, r.bytes)
	src.packetsOut = saturate.Add(src.packetsOut, r.packets)
	dst.bytesIn = saturate.Add(dst.bytesIn, r.bytes)
	dst.packetsIn = saturate.Add(dst.packetsIn, r.packets)
	src.peers.Add(r.dst.hash(), exact)
	dst.peers.Add(r.src.hash(), exact)
	talkers := [...]*talkerVal{src, dst}
	if si == di { // an address talking to itself: one record, not two
		talkers[1] = nil
	}
	for _, t := range talkers {
		if t == nil {
			continue
		}
		t.records++
		if r.accepted {
			t.accepted++
		} else if r.rejected {
			t.rejected++
		}
	}
	if r.dstport >= 0 {
		src.ports.Add(uint64(r.dstport)<<8|uint64(uint8(r.proto)), exact)
	}
}

// addConv adds v to the conversation of k.
func (s *state) addConv(k *convKey, v convVal) {
	i, found := s.conv.find(k, s.convKeys)
	if !found {
		s.conv.insert(k, int32(len(s.convKeys)), s.convKeys)
		s.convKeys = append(s.convKeys, *k)
		s.convVals = append(s.convVals, v)
		return
	}
	g := &s.convVals[i]
	g.records += v.records
	g.packets = saturate.Add(g.packets, v.packets)
	g.bytes = saturate.Add(g.bytes, v.bytes)
	g.first = min(g.first, v.first)
	g.last = max(g.last, v.last)
	g.flags |= v.flags
}

// talker returns the index of the talker row of a, made when new.
func (s *state) talker(region uint32, a addr) int32 {
	return lookupOrAdd(&s.talkers, &s.talkerKeys, &s.talkerVals, talkerKey{region, a})
}

// port returns the row of k in the ports table, made when new.
func (s *state) port(k portKey) *portVal {
	return &s.portVals[lookupOrAdd(&s.ports, &s.portKeys, &s.portVals, k)]
}

// iface returns the row of k in the interfaces table, made when new.
func (s *state) iface(k ifaceKey) *ifaceVal {
	return &s.ifaceVals[lookupOrAdd(&s.ifaces, &s.ifaceKeys, &s.ifaceVals, k)]
}

// merge adds o into s.
func (s *state) merge(o *state, exact int) {
	s.records += o.records
	for i := range o.convKeys {
		s.addConv(&o.convKeys[i], o.convVals[i])
	}
	for i, k := range o.talkerKeys {
		v := &o.talkerVals[i]
		if j, ok := s.talkers.find(&k, s.talkerKeys); ok {
			g := &s.talkerVals[j]
			g.bytesOut = saturate.Add(g.bytesOut, v.bytesOut)
			g.packetsOut = saturate.Add(g.packetsOut, v.packetsOut)
			g.bytesIn = saturate.Add(g.bytesIn, v.bytesIn)
			g.packetsIn = saturate.Add(g.packetsIn, v.packetsIn)
			g.accepted += v.accepted
			g.rejected += v.rejected
			g.records += v.records
			g.peers.Merge(&v.peers, exact)
			g.ports.Merge(&v.ports, exact)
		} else {
			s.talkers.insert(&k, int32(len(s.talkerKeys)), s.talkerKeys)
			s.talkerKeys = append(s.talkerKeys, k)
			s.talkerVals = append(s.talkerVals, *v)
		}
	}
	for i := range o.portKeys {
		k, v := &o.portKeys[i], &o.portVals[i]
		if j, ok := s.ports.find(k, s.portKeys); ok {
			g := &s.portVals[j]
			g.records += v.records
			g.bytes = saturate.Add(g.bytes, v.bytes)
			g.rejected += v.rejected
			g.sources.Merge(&v.sources, exact)
		} else {
			s.ports.insert(k, int32(len(s.portKeys)), s.portKeys)
			s.portKeys = append(s.portKeys, *k)
			s.portVals = append(s.portVals, *v)
		}
	}
	for i := range o.ifaceKeys {
		g, v := s.iface(o.ifaceKeys[i]), &o.ifaceVals[i]
		for j := range g {
			g[j] = saturate.Add(g[j], v[j])
		}
	}
}
