package bench

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"time"

	"github.com/klauspost/compress/gzip"

	"github.com/flowlens/flowlens/parser"
)

// A labelled corpus is a small archive of realistic traffic in which
// attacks were injected, next to legitimate look-alikes that fool naive
// detectors: detection is scored against its labels.

// Attack is one injected attack: what a detector should report.
type Attack struct {
	Kind   string `json:"kind"`   // the detect kind that should report it
	Source string `json:"source"` // the attacking address
	Target string `json:"target"` // the address attacked or contacted, or "" for many
	Port   int    `json:"port"`   // the port attacked, or 0 for many
	Note   string `json:"note"`
}

// LookAlike is legitimate traffic that resembles an attack: nothing
// should report its source.
type LookAlike struct {
	Name    string `json:"name"`
	Address string `json:"address"`
	Note    string `json:"note"`
}

// Labels describe a labelled corpus.
type Labels struct {
	Start      time.Time   `json:"start"`
	Hours      int         `json:"hours"`
	Records    int64       `json:"records"`
	Files      int         `json:"files"`
	Attacks    []Attack    `json:"attacks"`
	LookAlikes []LookAlike `json:"look_alikes"`
}

// CorpusConfig sizes a labelled corpus. Zero values take defaults.
type CorpusConfig struct {
	Dir   string    // where AWSLogs/ and labels.json go
	Seed  uint64    // the same seed gives the same corpus
	Start time.Time // default 2026-11-01T00:00Z
	Hours int       // default 6: long enough for slow scans and beacons
	Hosts int       // internal hosts, default 200
}

// Two flow logs: the default format on some interfaces, and a v5 custom
// format with tcp-flags and packet addresses on the others, as in a real
// organisation where flow logs were created at different times.
var corpusLogs = []FlowLog{
	{ID: "fl-0c0c0c0c0c0c0c0c0", Format: parser.DefaultLogFormat},
	{ID: "fl-0c5c5c5c5c5c5c5c5", Format: V5LogFormat},
}

const (
	corpusAccount = "123456789012"
	corpusRegion  = "us-east-1"
	tcpProto      = 6
	udpProto      = 17
)

// TCP flags of whole connections as one direction logs them.
const (
	flagsClient = 0x1b // SYN, FIN, PSH, ACK: a client's side of a finished connection
	flagsServer = 0x1b // the server's side sends SYN+ACK, so it ORs to the same
	flagsProbe  = 0x02 // SYN only: nobody answered, or it was refused
	flagsReset  = 0x14 // RST+ACK: a closed port's answer
)

// flow is one connection in one 60-second capture window.
type flow struct {
	start                    int64
	src, dst                 netip.Addr
	sport, dport, proto      int
	packets, bytes           int64
	rejected                 bool
	flags                    int // the initiator's tcp-flags
	reply                    bool
	replyPackets, replyBytes int64
	replyFlags               int
	pktSrc, pktDst           netip.Addr // set when a NAT gateway's interface logs it
}

// corpus accumulates the records of every interface.
type corpus struct {
	rng    *rand.Rand
	cfg    CorpusConfig
	start  int64
	ifaces map[netip.Addr]int // internal address → flow log index
	eni    map[netip.Addr]string
	lines  map[fileKey][][]byte
	labels Labels
	logs   []*parser.Format // of corpusLogs
}

type fileKey struct {
	log    int
	window int64
}

// GenerateCorpus writes a labelled corpus and its labels.json.
func GenerateCorpus(cfg CorpusConfig) (Labels, error) {
	if cfg.Start.IsZero() {
		cfg.Start = time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	}
	cfg.Hours = cmp.Or(cfg.Hours, 6)
	cfg.Hosts = cmp.Or(cfg.Hosts, 200)
	c := &corpus{rng: rand.New(rand.NewPCG(cfg.Seed, 0xc0ffee)), cfg: cfg, start: cfg.Start.Unix(),
		ifaces: map[netip.Addr]int{}, eni: map[netip.Addr]string{}, lines: map[fileKey][][]byte{}}
	c.labels.Start, c.labels.Hours = cfg.Start.UTC(), cfg.Hours
	for _, l := range corpusLogs {
		f, err := parser.ParseLogFormat(l.Format)
		if err != nil {
			return Labels{}, err
		}
		c.logs = append(c.logs, f)
	}
	c.background()
	c.lookAlikes()
	c.attacks()
	return c.labels, c.write()
}

// internal returns internal host n (10.1.x.y, or fd00:1::n for v6) and
// gives it an interface in one of the two flow logs.
func (c *corpus) internal(n int, v6 bool) netip.Addr {
	var a netip.Addr
	if v6 {
		a = netip.AddrFrom16([16]byte{0xfd, 0, 0, 1, 14: byte(n >> 8), 15: byte(n)})
	} else {
		a = netip.AddrFrom4([4]byte{10, 1, byte(n >> 8), byte(n)})
	}
	if _, ok := c.ifaces[a]; !ok {
		c.ifaces[a] = n % 2
		c.eni[a] = fmt.Sprintf("eni-0%016x", uint64(n)*2654435761+boolBit(v6))
	}
	return a
}

func boolBit(b bool) uint64 {
	if b {
		return 1 << 40
	}
	return 0
}

// external returns external address n: 100 spread-out public /16s.
func external(n int) netip.Addr {
	return netip.AddrFrom4([4]byte{byte(20 + n%100), byte(n >> 8), byte(n), byte(1 + n%250)})
}

func external6(n int) netip.Addr {
	return netip.AddrFrom16([16]byte{0x26, 0x00, 0x3c, 0x00, 14: byte(n >> 8), 15: byte(n)})
}

func (c *corpus) ephemeral() int { return 32768 + c.rng.IntN(28232) }

// at returns a time within hour h and minute m of the corpus, aligned to
// the 60-second capture window.
func (c *corpus) at(sec int64) int64 { return c.start + sec - sec%60 }

// scale places minute m of a six-hour corpus in this one, so that every
// attack and look-alike happens within the corpus's hours.
func (c *corpus) scale(m int64) int64 { return m * int64(c.cfg.Hours) / 6 }

// emit logs a flow on every internal interface it crosses, and its reply.
func (c *corpus) emit(f flow) {
	fwd := c.record(f.start, f.src, f.dst, f.sport, f.dport, f.proto, f.packets, f.bytes, f.rejected, f.flags, f.pktSrc, f.pktDst)
	c.log(f.src, fwd, "egress")
	c.log(f.dst, fwd, "ingress")
	if f.reply && !f.rejected {
		rev := c.record(f.start, f.dst, f.src, f.dport, f.sport, f.proto, f.replyPackets, f.replyBytes, false, f.replyFlags, f.pktDst, f.pktSrc)
		c.log(f.dst, rev, "egress")
		c.log(f.src, rev, "ingress")
	}
}

// rec holds one record's values before it is written in a format.
type rec struct {
	start, end          int64
	src, dst            netip.Addr
	pktSrc, pktDst      netip.Addr
	sport, dport, proto int
	packets, bytes      int64
	rejected            bool
	flags               int
}

func (c *corpus) record(start int64, src, dst netip.Addr, sport, dport, proto int, packets, bytes int64, rejected bool, flags int, pktSrc, pktDst netip.Addr) rec {
	return rec{start: start, end: start + 59, src: src, dst: dst, pktSrc: pktSrc, pktDst: pktDst, sport: sport, dport: dport,
		proto: proto, packets: max(packets, 1), bytes: max(bytes, 40), rejected: rejected, flags: flags}
}

// log writes r in the flow log of interface a, if a is internal.
func (c *corpus) log(a netip.Addr, r rec, direction string) {
	li, ok := c.ifaces[a]
	if !ok {
		return
	}
	format := c.logs[li]
	var b []byte
	for i, fld := range format.Fields {
		if i > 0 {
			b = append(b, ' ')
		}
		b = appendCorpusValue(b, fld.ID, &r, c.eni[a], direction, format.Version())
	}
	k := fileKey{li, r.start - (r.start-c.start)%300}
	c.lines[k] = append(c.lines[k], b)
	c.labels.Records++
}

func appendCorpusValue(b []byte, id parser.FieldID, r *rec, eni, direction string, version int) []byte {
	addr := func(a, fallback netip.Addr) []byte {
		if !a.IsValid() {
			a = fallback
		}
		return a.AppendTo(b)
	}
	switch id {
	case parser.FieldVersion:
		return strconv.AppendInt(b, int64(version), 10)
	case parser.FieldAccountID:
		return append(b, corpusAccount...)
	case parser.FieldInterfaceID:
		return append(b, eni...)
	case parser.FieldSrcAddr:
		return r.src.AppendTo(b)
	case parser.FieldDstAddr:
		return r.dst.AppendTo(b)
	case parser.FieldPktSrcAddr:
		return addr(r.pktSrc, r.src)
	case parser.FieldPktDstAddr:
		return addr(r.pktDst, r.dst)
	case parser.FieldSrcPort:
		return strconv.AppendInt(b, int64(r.sport), 10)
	case parser.FieldDstPort:
		return strconv.AppendInt(b, int64(r.dport), 10)
	case parser.FieldProtocol:
		return strconv.AppendInt(b, int64(r.proto), 10)
	case parser.FieldPackets:
		return strconv.AppendInt(b, r.packets, 10)
	case parser.FieldBytes:
		return strconv.AppendInt(b, r.bytes, 10)
	case parser.FieldStart:
		return strconv.AppendInt(b, r.start, 10)
	case parser.FieldEnd:
		return strconv.AppendInt(b, r.end, 10)
	case parser.FieldAction:
		if r.rejected {
			return append(b, "REJECT"...)
		}
		return append(b, "ACCEPT"...)
	case parser.FieldLogStatus:
		return append(b, "OK"...)
	case parser.FieldTCPFlags:
		if r.proto != tcpProto {
			return append(b, '0')
		}
		return strconv.AppendInt(b, int64(r.flags), 10)
	case parser.FieldType:
		if r.src.Is6() {
			return append(b, "IPv6"...)
		}
		return append(b, "IPv4"...)
	case parser.FieldFlowDirection:
		return append(b, direction...)
	case parser.FieldRegion:
		return append(b, corpusRegion...)
	}
	return append(b, '-')
}

// connection logs a finished client/server connection.
func (c *corpus) connection(t int64, client, server netip.Addr, port, proto int, sent, received int64) {
	c.emit(flow{start: t, src: client, dst: server, sport: c.ephemeral(), dport: port, proto: proto,
		packets: 4 + sent/1200, bytes: sent, flags: flagsClient, reply: true,
		replyPackets: 3 + received/1200, replyBytes: received, replyFlags: flagsServer})
}

// background is ordinary traffic: web servers answering internet clients,
// application servers calling databases, hosts calling external APIs and
// internet noise grazing the security groups.
func (c *corpus) background() {
	r := c.rng
	hosts := c.cfg.Hosts
	minutes := int64(c.cfg.Hours) * 60
	for m := range minutes {
		t := c.at(m * 60)
		for range 6 { // web servers 0-9 behind the internet, a few IPv6
			web := r.IntN(10)
			client := external(1000 + r.IntN(5000))
			if web < 2 {
				client = external6(1000 + r.IntN(5000))
			}
			c.connection(t, client, c.internal(web, web < 2), 443, tcpProto, 600+r.Int64N(2000), 2000+r.Int64N(60000))
		}
		for range 8 { // application servers call databases 20-29
			app := 30 + r.IntN(hosts-30)
			c.connection(t, c.internal(app, false), c.internal(20+r.IntN(10), false), []int{5432, 3306, 6379}[r.IntN(3)], tcpProto,
				200+r.Int64N(3000), 500+r.Int64N(30000))
		}
		for range 4 { // hosts call external APIs, bytes heavy-tailed
			app := 30 + r.IntN(hosts-30)
			c.connection(t, c.internal(app, false), external(r.IntN(300)), 443, tcpProto,
				300+int64(r.ExpFloat64()*4000), 1000+int64(r.ExpFloat64()*50000))
		}
		if r.IntN(3) == 0 { // DNS to an external resolver
			c.emit(flow{start: t, src: c.internal(30+r.IntN(hosts-30), false), dst: external(7), sport: c.ephemeral(), dport: 53,
				proto: udpProto, packets: 1, bytes: 70, reply: true, replyPackets: 1, replyBytes: 130})
		}
		if r.IntN(2) == 0 { // internet noise: a probe or two at a web server, rejected
			src := external(20000 + r.IntN(50000))
			for range 1 + r.IntN(2) {
				c.emit(flow{start: t, src: src, dst: c.internal(r.IntN(10), false), sport: c.ephemeral(),
					dport: []int{22, 23, 3389, 8080, 445, 1433}[r.IntN(6)], proto: tcpProto, packets: 1, bytes: 44, rejected: true, flags: flagsProbe})
			}
		}
	}
}

// lookAlikes are legitimate activities that resemble attacks.
func (c *corpus) lookAlikes() {
	r := c.rng
	minutes := int64(c.cfg.Hours) * 60
	sc := c.scale
	add := func(name string, a netip.Addr, note string) {
		c.labels.LookAlikes = append(c.labels.LookAlikes, LookAlike{Name: name, Address: a.String(), Note: note})
	}
	backup, store := c.internal(40, false), c.internal(41, false)
	add("backup", backup, "a nightly backup moving tens of GB inside the VPC")
	for m := sc(60); m < sc(60)+60; m++ { // 60 minutes at 500 MB a minute: 30 GB
		c.connection(c.at(m*60), backup, store, 443, tcpProto, 500<<20, 64<<10)
	}
	monitor := c.internal(42, false)
	add("monitoring", monitor, "polls 150 hosts every minute on 9100 and SSH every 5 minutes")
	for m := range minutes {
		for h := 50; h < 200; h++ {
			c.connection(c.at(m*60), monitor, c.internal(h, false), 9100, tcpProto, 300, 9000+int64(h))
			if m%5 == 0 {
				c.connection(c.at(m*60), monitor, c.internal(h, false), 22, tcpProto, 2500, 3000)
			}
		}
	}
	nat := c.internal(250, false)
	c.ifaces[nat] = 1 // the NAT gateway's interface logs the v5 format, with packet addresses
	add("nat-gateway", nat, "a NAT gateway: thousands of client ports toward the internet")
	for m := range minutes {
		for range 30 {
			inst := c.internal(60+r.IntN(100), false)
			c.ifaces[inst] = 1
			dst := external(100000 + r.IntN(20000))
			port := c.ephemeral()
			// The instance's own interface and the NAT gateway's both log it.
			c.emit(flow{start: c.at(m * 60), src: inst, dst: nat, pktSrc: inst, pktDst: dst, sport: c.ephemeral(), dport: 443,
				proto: tcpProto, packets: 8, bytes: 1500, flags: flagsClient, reply: true, replyPackets: 10, replyBytes: 9000, replyFlags: flagsServer})
			c.emit(flow{start: c.at(m * 60), src: nat, dst: dst, pktSrc: nat, pktDst: dst, sport: port, dport: 443,
				proto: tcpProto, packets: 8, bytes: 1500, flags: flagsClient, reply: true, replyPackets: 10, replyBytes: 9000, replyFlags: flagsServer})
		}
	}
	lb := c.internal(251, false)
	add("load-balancer", lb, "a load balancer: thousands of clients on 443, health checks and requests to 40 targets")
	for m := range minutes {
		for range 40 {
			c.connection(c.at(m*60), external(200000+r.IntN(30000)), lb, 443, tcpProto, 800, 20000)
		}
		for tgt := 60; tgt < 100; tgt++ {
			c.connection(c.at(m*60), lb, c.internal(tgt, false), 8080, tcpProto, 900, 21000)
		}
	}
	mirror := c.internal(43, false)
	add("package-mirror", mirror, "downloads 8 GB of packages from the internet: a consumer, not a producer")
	for m := sc(200); m < sc(200)+16; m++ {
		c.connection(c.at(m*60), mirror, external(9), 443, tcpProto, 2<<20, 500<<20)
	}
	ntp := c.internal(44, false)
	add("ntp-client", ntp, "asks an external NTP server every minute: regular, but infrastructure")
	for m := range minutes {
		c.emit(flow{start: c.at(m * 60), src: ntp, dst: external(11), sport: 123, dport: 123, proto: udpProto,
			packets: 1, bytes: 76, reply: true, replyPackets: 1, replyBytes: 76})
	}
}

// attacks injects the labelled attacks.
func (c *corpus) attacks() {
	r := c.rng
	minutes := int64(c.cfg.Hours) * 60
	sc := c.scale
	label := func(kind string, src, dst netip.Addr, port int, note string) {
		t := ""
		if dst.IsValid() {
			t = dst.String()
		}
		c.labels.Attacks = append(c.labels.Attacks, Attack{Kind: kind, Source: src.String(), Target: t, Port: port, Note: note})
	}
	probe := func(t int64, src, dst netip.Addr, port int, rejected bool) {
		f := flow{start: t, src: src, dst: dst, sport: c.ephemeral(), dport: port, proto: tcpProto, packets: 1, bytes: 44,
			rejected: rejected, flags: flagsProbe}
		if !rejected { // a closed port answers with a reset
			f.reply, f.replyPackets, f.replyBytes, f.replyFlags = true, 1, 40, flagsReset
		}
		c.emit(f)
	}
	none := netip.Addr{}

	// Vertical scans: from the internet at a web server (rejected), and
	// from a compromised instance at a database (accepted, reset).
	scanner, web := external(60001), c.internal(3, false)
	label("port_scan", scanner, web, 0, "1,000 ports of a web server in two minutes, rejected")
	for p := range 1000 {
		probe(c.at(sc(30)*60+int64(p)/8), scanner, web, 1+p*7, true)
	}
	inside, db := c.internal(170, false), c.internal(21, false)
	label("port_scan", inside, db, 0, "a compromised instance probes 300 ports of a database host")
	for p := range 300 {
		probe(c.at(sc(90)*60+int64(p)/5), inside, db, 1000+p, false)
	}
	scanner6, web6 := external6(60002), c.internal(1, true)
	label("port_scan", scanner6, web6, 0, "an IPv6 vertical scan")
	for p := range 200 {
		probe(c.at(sc(150)*60+int64(p)/4), scanner6, web6, 1+p*3, true)
	}

	// Horizontal scans: SMB across the subnet from inside, SSH over IPv6.
	sweeper := c.internal(171, false)
	label("horizontal_scan", sweeper, none, 445, "SMB on 120 hosts in three minutes")
	for h := range 120 {
		probe(c.at(sc(200)*60+int64(h)*3/2), sweeper, c.internal(50+h, false), 445, h%3 == 0)
	}
	sweeper6 := external6(60003)
	label("horizontal_scan", sweeper6, none, 22, "SSH over IPv6 on 40 hosts")
	for h := range 40 {
		probe(c.at(sc(220)*60+int64(h)), sweeper6, c.internal(100+h, true), 22, true)
	}

	// Slow scans: one port every 12 minutes, one host every 8 minutes.
	slow := external(60004)
	label("slow_scan", slow, web, 0, "a port every 12 minutes for the whole run")
	for i := int64(0); i*12 < minutes; i++ {
		probe(c.at(i*12*60+5), slow, web, int(2000+i*13), true)
	}
	slowSweep := external(60005)
	label("slow_scan", slowSweep, none, 3389, "RDP on a new host every 8 minutes")
	for i := int64(0); i*8 < minutes; i++ {
		probe(c.at(i*8*60+7), slowSweep, c.internal(50+int(i), false), 3389, true)
	}

	// Brute force: SSH from the internet, RDP from a compromised instance.
	brute, target := external(60006), c.internal(5, false)
	label("brute_force", brute, target, 22, "90 SSH logins a minute for 15 minutes")
	for m := int64(0); m < 15; m++ {
		for range 90 {
			c.emit(flow{start: c.at(sc(100)*60 + m*60), src: brute, dst: target, sport: c.ephemeral(), dport: 22, proto: tcpProto,
				packets: 12 + r.Int64N(8), bytes: 2200 + r.Int64N(400), flags: flagsClient, reply: true,
				replyPackets: 11, replyBytes: 2600, replyFlags: flagsServer})
		}
	}
	bruteIn, rdp := c.internal(172, false), c.internal(25, false)
	label("brute_force", bruteIn, rdp, 3389, "RDP password spraying from inside")
	for m := int64(0); m < 10; m++ {
		for range 8 {
			c.emit(flow{start: c.at(sc(250)*60 + m*60), src: bruteIn, dst: rdp, sport: c.ephemeral(), dport: 3389, proto: tcpProto,
				packets: 20, bytes: 4000, flags: flagsClient, reply: true, replyPackets: 18, replyBytes: 5000, replyFlags: flagsServer})
		}
	}

	// Reject storms: a noisy source hammering web servers; another trying
	// database ports.
	noisy := external(60007)
	label("reject_storm", noisy, none, 0, "1,500 rejected packets at web ports in five minutes")
	for i := range 1500 {
		c.emit(flow{start: c.at(sc(300)*60 + int64(i)/5), src: noisy, dst: c.internal(i%2, false), sport: c.ephemeral(), dport: 80,
			proto: tcpProto, packets: 1, bytes: 60, rejected: true, flags: flagsProbe})
	}
	dbProber := external(60008)
	label("sensitive_port_rejects", dbProber, none, 0, "rejected tries at database ports")
	for i := range 24 {
		c.emit(flow{start: c.at(sc(170)*60 + int64(i)*10), src: dbProber, dst: c.internal(7, false), sport: c.ephemeral(),
			dport: []int{1433, 3306, 5432, 27017}[i%4], proto: tcpProto, packets: 2, bytes: 120, rejected: true, flags: flagsProbe})
	}

	// Exfiltration: a quiet host uploads 4 GB in 20 minutes; an IPv6 host
	// with no history pushes 1 GB.
	quiet, drop := c.internal(173, false), external(60009)
	label("exfiltration", quiet, drop, 443, "4 GB to one address after hours of small traffic")
	for m := range minutes {
		if r.IntN(3) == 0 {
			c.connection(c.at(m*60), quiet, external(400+r.IntN(50)), 443, tcpProto, 500+int64(r.ExpFloat64()*3000), 8000+r.Int64N(20000))
		}
	}
	for m := sc(240); m < sc(240)+20; m++ {
		c.connection(c.at(m*60), quiet, drop, 443, tcpProto, 200<<20, 1<<20)
	}
	drip, dripDrop := c.internal(177, false), external(60013)
	label("exfiltration", drip, dripDrop, 443, "6 GB in a steady drip over two hours: it must not hide in the baseline it inflates")
	for m := range minutes {
		if r.IntN(3) == 0 {
			c.connection(c.at(m*60), drip, external(500+r.IntN(50)), 443, tcpProto, 500+int64(r.ExpFloat64()*3000), 8000+r.Int64N(20000))
		}
	}
	for m := sc(60); m < sc(180); m++ {
		c.connection(c.at(m*60), drip, dripDrop, 443, tcpProto, 50<<20, 1<<18)
	}
	quiet6, drop6 := c.internal(174, true), external6(60010)
	label("exfiltration", quiet6, drop6, 8443, "1 GB over IPv6 from a host with no history")
	for m := sc(180); m < sc(180)+10; m++ {
		c.connection(c.at(m*60), quiet6, drop6, 8443, tcpProto, 100<<20, 1<<19)
	}

	// Beaconing: every minute for the whole run, and every ten minutes
	// over IPv6.
	implant, c2 := c.internal(175, false), external(60011)
	label("beaconing", implant, c2, 443, "a 420-byte check-in every minute")
	for m := range minutes {
		c.emit(flow{start: c.at(m*60 + 20), src: implant, dst: c2, sport: c.ephemeral(), dport: 443, proto: tcpProto,
			packets: 6, bytes: 420, flags: flagsClient, reply: true, replyPackets: 5, replyBytes: 310, replyFlags: flagsServer})
	}
	implant6, c26 := c.internal(176, true), external6(60012)
	label("beaconing", implant6, c26, 8080, "a check-in every ten minutes over IPv6")
	for m := int64(3); m < minutes; m += 10 {
		c.emit(flow{start: c.at(m * 60), src: implant6, dst: c26, sport: c.ephemeral(), dport: 8080, proto: tcpProto,
			packets: 6, bytes: 512, flags: flagsClient, reply: true, replyPackets: 5, replyBytes: 300, replyFlags: flagsServer})
	}
}

// write puts each flow log's records in 5-minute gzip files in the S3
// layout, records shuffled within a file as AWS does not sort them, and
// the labels next to AWSLogs/.
func (c *corpus) write() error {
	keys := slices.SortedFunc(func(yield func(fileKey) bool) {
		for k := range c.lines {
			if !yield(k) {
				return
			}
		}
	}, func(a, b fileKey) int { return cmp.Or(cmp.Compare(a.window, b.window), cmp.Compare(a.log, b.log)) })
	for _, k := range keys {
		lines := c.lines[k]
		c.rng.Shuffle(len(lines), func(i, j int) { lines[i], lines[j] = lines[j], lines[i] })
		l, format := corpusLogs[k.log], c.logs[k.log]
		w := time.Unix(k.window, 0).UTC()
		dir := filepath.Join(c.cfg.Dir, "AWSLogs", corpusAccount, "vpcflowlogs", corpusRegion, w.Format("2006/01/02"))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
		var buf bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&buf, gzip.BestSpeed)
		zw.Write([]byte(format.Header() + "\n"))
		for _, line := range lines {
			zw.Write(line)
			zw.Write([]byte{'\n'})
		}
		if err := zw.Close(); err != nil {
			return err
		}
		name := fmt.Sprintf("%s_vpcflowlogs_%s_%s_%s_%08x.log.gz", corpusAccount, corpusRegion, l.ID, w.Format("20060102T1504Z"), uint32(k.window)^uint32(k.log))
		if err := os.WriteFile(filepath.Join(dir, name), buf.Bytes(), 0o644); err != nil {
			return err
		}
		c.labels.Files++
	}
	js, err := json.MarshalIndent(c.labels, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(c.cfg.Dir, "labels.json"), append(js, '\n'), 0o644)
}
