package aggregate

import (
	"cmp"
	"slices"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/flowlens/flowlens/parser"
)

// The tables, in the order they are emitted for a window.
const (
	Conversations = "conversations"
	Talkers       = "talkers"
	Ports         = "ports"
	Interfaces    = "interfaces"
)

// Tables lists the tables an Aggregator emits.
var Tables = []string{Conversations, Talkers, Ports, Interfaces}

var (
	i64T = arrow.PrimitiveTypes.Int64
	i32T = arrow.PrimitiveTypes.Int32
	strT = arrow.BinaryTypes.String
	f64T = arrow.PrimitiveTypes.Float64
)

func fields(specs ...any) *arrow.Schema {
	var fs []arrow.Field
	for i := 0; i < len(specs); i += 2 {
		f := arrow.Field{Name: specs[i].(string), Type: specs[i+1].(arrow.DataType), Nullable: true}
		if f.Type == parser.IPType {
			f.Metadata = arrow.NewMetadata([]string{parser.KindMetadataKey}, []string{parser.KindIP.String()})
		}
		fs = append(fs, f)
	}
	return arrow.NewSchema(fs, nil)
}

// The schemas of the tables. Times are Unix seconds, as in the flows.
var (
	ConversationsSchema = fields("window_start", i64T, "window_end", i64T, "region", strT, "account_id", strT,
		"interface_id", strT, "srcaddr", parser.IPType, "dstaddr", parser.IPType, "dstport", i32T, "protocol", i32T,
		"action", strT, "interface_srcaddr", parser.IPType, "interface_dstaddr", parser.IPType,
		"records", i64T, "packets", i64T, "bytes", i64T, "first_start", i64T, "last_end", i64T, "tcp_flags", i32T)
	TalkersSchema = fields("window_start", i64T, "window_end", i64T, "region", strT, "addr", parser.IPType,
		"bytes_sent", i64T, "packets_sent", i64T, "bytes_received", i64T, "packets_received", i64T,
		"distinct_peers", i64T, "distinct_dst_ports", i64T, "records", i64T, "records_accepted", i64T, "records_rejected", i64T)
	PortsSchema = fields("window_start", i64T, "window_end", i64T, "region", strT, "dstport", i32T, "protocol", i32T,
		"records", i64T, "bytes", i64T, "distinct_sources", i64T, "records_rejected", i64T, "rejected_share", f64T)
	InterfacesSchema = fields("window_start", i64T, "window_end", i64T, "region", strT, "account_id", strT,
		"interface_id", strT, "bytes_in", i64T, "bytes_out", i64T, "bytes_unknown_direction", i64T, "records", i64T,
		"records_accepted", i64T, "records_rejected", i64T, "records_no_action", i64T, "records_ok", i64T,
		"records_nodata", i64T, "records_skipdata", i64T)
)

// Schemas maps each table to its schema.
var Schemas = map[string]*arrow.Schema{Conversations: ConversationsSchema, Talkers: TalkersSchema,
	Ports: PortsSchema, Interfaces: InterfacesSchema}

// emitLocked emits the four tables of window ws (a.mu held).
func (a *Aggregator) emitLocked(ws int64, st *state) error {
	if a.err != nil {
		return a.err
	}
	a.rankStrings()
	we := ws + int64(a.cfg.Window.Seconds())
	recs := [...]arrow.RecordBatch{a.conversations(ws, we, st), a.talkers(ws, we, st), a.ports(ws, we, st), a.interfaces(ws, we, st)}
	for i, rec := range recs {
		if rec.NumRows() == 0 || a.err != nil {
			rec.Release()
			continue
		}
		if err := a.emit(Tables[i], rec); err != nil {
			a.err = err
		}
	}
	return a.err
}

// builder appends the cells of one table.
type builder struct{ *array.RecordBuilder }

func (a *Aggregator) builder(schema *arrow.Schema, rows int) builder {
	b := array.NewRecordBuilder(a.mem, schema)
	b.Reserve(rows)
	return builder{b}
}

func (b builder) i64(col int, v int64) { b.Field(col).(*array.Int64Builder).Append(v) }
func (b builder) str(col int, s string, ok bool) {
	if !ok {
		b.Field(col).AppendNull()
		return
	}
	b.Field(col).(*array.StringBuilder).Append(s)
}

// rankStrings orders the interned strings by their text (NULL first), so
// that rows sort by integer comparisons; ids are in arrival order, which
// differs from run to run.
func (a *Aggregator) rankStrings() {
	n := len(a.strings.strs)
	if len(a.ranks) == n {
		return
	}
	ids := make([]uint32, n)
	for i := range ids {
		ids[i] = uint32(i)
	}
	slices.SortFunc(ids, func(x, y uint32) int { return cmp.Compare(a.strings.strs[x], a.strings.strs[y]) })
	a.ranks = make([]uint32, n)
	for r, id := range ids {
		a.ranks[id] = uint32(r)
	}
}

// compare orders interned strings by their text, NULL first.
func (a *Aggregator) compare(x, y uint32) int { return cmp.Compare(a.ranks[x], a.ranks[y]) }

func cmpAddr(x, y addr) int { return cmp.Or(cmp.Compare(x.hi, y.hi), cmp.Compare(x.lo, y.lo)) }

// convOrder is what sorting the conversations needs, close together: the
// ranks of region, account and interface packed in one word, the source,
// and the row.
type convOrder struct {
	prefix uint64
	src    addr
	row    int32
}

// rankBits is the width of each rank in convOrder.prefix.
const rankBits = 21

// conversationOrder returns the rows of st in key order: region, account,
// interface, source, destination, port, protocol, action, interface
// addresses (strings by their text).
func (a *Aggregator) conversationOrder(st *state) []int32 {
	r := a.ranks
	keys := st.convKeys
	full := func(x, y *convKey) int {
		if x.region != y.region {
			return cmp.Compare(r[x.region], r[y.region])
		}
		if x.account != y.account {
			return cmp.Compare(r[x.account], r[y.account])
		}
		if x.iface != y.iface {
			return cmp.Compare(r[x.iface], r[y.iface])
		}
		if x.src != y.src {
			return cmpAddr(x.src, y.src)
		}
		if x.dst != y.dst {
			return cmpAddr(x.dst, y.dst)
		}
		if x.dstport != y.dstport {
			return cmp.Compare(x.dstport, y.dstport)
		}
		if x.proto != y.proto {
			return cmp.Compare(x.proto, y.proto)
		}
		if x.action != y.action {
			return cmp.Compare(r[x.action], r[y.action])
		}
		if x.ifMask != y.ifMask {
			return cmp.Compare(x.ifMask, y.ifMask)
		}
		if x.ifSrc != y.ifSrc {
			return cmpAddr(x.ifSrc, y.ifSrc)
		}
		return cmpAddr(x.ifDst, y.ifDst)
	}
	order := make([]int32, len(keys))
	if grouped := a.orderByInterface(keys, order, full); grouped {
		return order
	}
	if len(r) >= 1<<rankBits { // too many strings to pack: compare the keys
		for i := range order {
			order[i] = int32(i)
		}
		slices.SortFunc(order, func(i, j int32) int { return full(&keys[i], &keys[j]) })
		return order
	}
	// Most comparisons are settled by the packed prefix or the source,
	// read from a contiguous array rather than from the keys.
	tmp := make([]convOrder, len(keys))
	for i := range keys {
		k := &keys[i]
		tmp[i] = convOrder{uint64(r[k.region])<<(2*rankBits) | uint64(r[k.account])<<rankBits | uint64(r[k.iface]), k.src, int32(i)}
	}
	slices.SortFunc(tmp, func(x, y convOrder) int {
		if x.prefix != y.prefix {
			return cmp.Compare(x.prefix, y.prefix)
		}
		if x.src != y.src {
			return cmpAddr(x.src, y.src)
		}
		return full(&keys[x.row], &keys[y.row])
	})
	for i := range tmp {
		order[i] = tmp[i].row
	}
	return order
}

// orderByInterface fills order when every interface's conversations share
// one region and account, as they do in flow logs: a counting sort by
// interface, the interfaces ordered by region, account and interface, then
// a sort of each interface's few rows by source and key. It reports false,
// leaving order to the general sort, when an interface spans regions or
// accounts.
func (a *Aggregator) orderByInterface(keys []convKey, order []int32, full func(x, y *convKey) int) bool {
	r := a.ranks
	type group struct {
		region, account, iface uint32 // ranks
		start, n               int32
	}
	groups := make([]group, len(r)) // by interface id
	for i := range keys {
		k := &keys[i]
		g := &groups[k.iface]
		if g.n == 0 {
			g.region, g.account, g.iface = r[k.region], r[k.account], r[k.iface]
		} else if g.region != r[k.region] || g.account != r[k.account] {
			return false
		}
		g.n++
	}
	used := make([]*group, 0, 64)
	for i := range groups {
		if groups[i].n > 0 {
			used = append(used, &groups[i])
		}
	}
	slices.SortFunc(used, func(x, y *group) int {
		return cmp.Or(cmp.Compare(x.region, y.region), cmp.Compare(x.account, y.account), cmp.Compare(x.iface, y.iface))
	})
	at := int32(0)
	for _, g := range used {
		g.start, at = at, at+g.n
		g.n = 0
	}
	type entry struct {
		src addr
		row int32
	}
	tmp := make([]entry, len(keys))
	for i := range keys {
		g := &groups[keys[i].iface]
		tmp[g.start+g.n] = entry{keys[i].src, int32(i)}
		g.n++
	}
	for _, g := range used {
		part := tmp[g.start : g.start+g.n]
		if len(part) > 1 {
			slices.SortFunc(part, func(x, y entry) int {
				if x.src != y.src {
					return cmpAddr(x.src, y.src)
				}
				return full(&keys[x.row], &keys[y.row])
			})
		}
	}
	for i := range tmp {
		order[i] = tmp[i].row
	}
	return true
}

func (a *Aggregator) conversations(ws, we int64, st *state) arrow.RecordBatch {
	order := a.conversationOrder(st)
	n := len(order)
	c := columnsOf(a.mem, n)
	starts, ends := c.int64s(), c.int64s()
	regions, accounts, ifaces, actions := c.strs(), c.strs(), c.strs(), c.strs()
	srcs, dsts, ifSrcs, ifDsts := c.addrs(), c.addrs(), c.addrs(), c.addrs()
	ports, protos, flags := c.int32s(), c.int32s(), c.int32s()
	records, packets, bytes, firsts, lasts := c.int64s(), c.int64s(), c.int64s(), c.int64s(), c.int64s()
	for j, i := range order {
		k := &st.convKeys[i]
		starts.set(j, ws)
		ends.set(j, we)
		regions.set(j, k.region)
		accounts.set(j, k.account)
		ifaces.set(j, k.iface)
		srcs.set(j, k.src, true)
		dsts.set(j, k.dst, true)
		ports.set(j, k.dstport)
		protos.set(j, k.proto)
		actions.set(j, k.action)
		ifSrcs.set(j, k.ifSrc, k.ifMask&1 != 0)
		ifDsts.set(j, k.ifDst, k.ifMask&2 != 0)
	}
	// The counters are read in their own order and scattered to their
	// rows: stores do not stall as the loads of a gather do.
	pos := make([]int32, n)
	for j, i := range order {
		pos[i] = int32(j)
	}
	for i := range st.convVals {
		v, j := &st.convVals[i], int(pos[i])
		records.set(j, v.records)
		packets.set(j, v.packets)
		bytes.set(j, v.bytes)
		firsts.set(j, v.first)
		lasts.set(j, v.last)
		f := int32(-1) // NULL: no record of the conversation had tcp_flags
		if v.flags&flagsKnown != 0 {
			f = v.flags &^ flagsKnown
		}
		flags.set(j, f)
	}
	cols := []arrow.Array{starts.array(), ends.array(), regions.array(a.strings.strs), accounts.array(a.strings.strs),
		ifaces.array(a.strings.strs), srcs.array(), dsts.array(), ports.array(), protos.array(), actions.array(a.strings.strs),
		ifSrcs.array(), ifDsts.array(), records.array(), packets.array(), bytes.array(), firsts.array(), lasts.array(), flags.array()}
	return newRecord(ConversationsSchema, cols, n)
}

func (a *Aggregator) talkers(ws, we int64, st *state) arrow.RecordBatch {
	r := a.ranks
	type order struct {
		region uint32 // rank
		a      addr
		row    int32
	}
	rows := make([]order, len(st.talkerKeys))
	for i := range st.talkerKeys {
		k := &st.talkerKeys[i]
		rows[i] = order{r[k.region], k.a, int32(i)}
	}
	slices.SortFunc(rows, func(x, y order) int {
		if x.region != y.region {
			return cmp.Compare(x.region, y.region)
		}
		return cmpAddr(x.a, y.a)
	})
	n := len(rows)
	c := columnsOf(a.mem, n)
	starts, ends, regions, addrs := c.int64s(), c.int64s(), c.strs(), c.addrs()
	var counts [9]*int64Column
	for j := range counts {
		counts[j] = c.int64s()
	}
	pos := make([]int32, n)
	for j, o := range rows {
		k := &st.talkerKeys[o.row]
		starts.set(j, ws)
		ends.set(j, we)
		regions.set(j, k.region)
		addrs.set(j, k.a, true)
		pos[o.row] = int32(j)
	}
	for i := range st.talkerVals { // read in order, scattered to the rows
		v, j := &st.talkerVals[i], int(pos[i])
		for m, x := range [...]int64{v.bytesOut, v.packetsOut, v.bytesIn, v.packetsIn, v.peers.Count(), v.ports.Count(), v.records, v.accepted, v.rejected} {
			counts[m].set(j, x)
		}
	}
	cols := []arrow.Array{starts.array(), ends.array(), regions.array(a.strings.strs), addrs.array()}
	for _, col := range counts {
		cols = append(cols, col.array())
	}
	return newRecord(TalkersSchema, cols, n)
}

func (a *Aggregator) ports(ws, we int64, st *state) arrow.RecordBatch {
	r := a.ranks
	type row struct {
		k portKey
		v *portVal
	}
	rows := make([]row, len(st.portKeys))
	for i := range st.portKeys {
		rows[i] = row{st.portKeys[i], &st.portVals[i]}
	}
	slices.SortFunc(rows, func(x, y row) int {
		return cmp.Or(cmp.Compare(r[x.k.region], r[y.k.region]), cmp.Compare(x.k.port, y.k.port), cmp.Compare(x.k.proto, y.k.proto))
	})
	n := len(rows)
	c := columnsOf(a.mem, n)
	starts, ends, regions, ports, protos := c.int64s(), c.int64s(), c.strs(), c.int32s(), c.int32s()
	records, bytes, sources, rejected, share := c.int64s(), c.int64s(), c.int64s(), c.int64s(), c.float64s()
	for j, x := range rows {
		starts.set(j, ws)
		ends.set(j, we)
		regions.set(j, x.k.region)
		ports.set(j, x.k.port)
		protos.set(j, x.k.proto)
		records.set(j, x.v.records)
		bytes.set(j, x.v.bytes)
		sources.set(j, x.v.sources.Count())
		rejected.set(j, x.v.rejected)
		share.set(j, float64(x.v.rejected)/float64(x.v.records))
	}
	return newRecord(PortsSchema, []arrow.Array{starts.array(), ends.array(), regions.array(a.strings.strs), ports.array(), protos.array(),
		records.array(), bytes.array(), sources.array(), rejected.array(), share.array()}, n)
}

// newRecord makes a batch of the arrays and lets go of them.
func newRecord(schema *arrow.Schema, cols []arrow.Array, n int) arrow.RecordBatch {
	rec := array.NewRecordBatch(schema, cols, int64(n))
	for _, col := range cols {
		col.Release()
	}
	return rec
}

func (a *Aggregator) interfaces(ws, we int64, st *state) arrow.RecordBatch {
	order := make([]int32, len(st.ifaceKeys))
	for i := range order {
		order[i] = int32(i)
	}
	slices.SortFunc(order, func(i, j int32) int {
		x, y := &st.ifaceKeys[i], &st.ifaceKeys[j]
		if x.region != y.region {
			return a.compare(x.region, y.region)
		}
		if x.account != y.account {
			return a.compare(x.account, y.account)
		}
		return a.compare(x.iface, y.iface)
	})
	b := a.builder(InterfacesSchema, len(order))
	defer b.Release()
	for _, i := range order {
		k, v := &st.ifaceKeys[i], &st.ifaceVals[i]
		b.i64(0, ws)
		b.i64(1, we)
		b.str(2, a.str(k.region), k.region != 0)
		b.str(3, a.str(k.account), k.account != 0)
		b.str(4, a.str(k.iface), true)
		for j, x := range v { // the counters are in column order
			b.i64(5+j, x)
		}
	}
	return b.NewRecordBatch()
}
