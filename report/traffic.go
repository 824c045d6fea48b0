package report

import (
	"net/netip"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/flowlens/flowlens/athena"
	"github.com/flowlens/flowlens/internal/saturate"
)

// traffic sums the conversations: bytes per window and action, and bytes
// between internal and external address space.
type traffic struct {
	window      int64               // seconds, from the rows
	first, last int64               // earliest window start, latest window end
	windows     map[int64]*[2]int64 // window start → bytes accepted, rejected
	spaces      [2][2]int64         // [source external][destination external] → bytes
}

// Address spaces, as indexes of traffic.spaces.
const (
	internalSpace = 0
	externalSpace = 1
)

// internalPrefixes are the private ranges: RFC 1918 and RFC 4193.
var internalPrefixes = []netip.Prefix{
	netip.MustParsePrefix("10.0.0.0/8"),
	netip.MustParsePrefix("172.16.0.0/12"),
	netip.MustParsePrefix("192.168.0.0/16"),
	netip.MustParsePrefix("fc00::/7"),
}

// extraInternal reads the run's own internal ranges from the manifest.
func extraInternal(m *athena.Manifest) []netip.Prefix {
	list, _ := m.Extra[athena.ExtraInternalCIDRs].([]any)
	var out []netip.Prefix
	for _, v := range list {
		if s, ok := v.(string); ok {
			if p, err := netip.ParsePrefix(s); err == nil {
				out = append(out, p)
			}
		}
	}
	return out
}

// space returns the address space of an address's text, ok false when it
// is not an address.
func space(s string, extra []netip.Prefix) (int, bool) {
	a, err := netip.ParseAddr(s)
	if err != nil {
		return 0, false
	}
	a = a.Unmap()
	for _, p := range append(internalPrefixes[:len(internalPrefixes):len(internalPrefixes)], extra...) {
		if p.Contains(a) {
			return internalSpace, true
		}
	}
	return externalSpace, true
}

var conversationColumns = []column{
	{"window_start", arrow.INT64}, {"window_end", arrow.INT64}, {"srcaddr", arrow.STRING},
	{"dstaddr", arrow.STRING}, {"action", arrow.STRING}, {"bytes", arrow.INT64},
}

func loadTraffic(dir string, tm athena.TableManifest, extra []netip.Prefix) (*traffic, error) {
	t := &traffic{windows: map[int64]*[2]int64{}}
	err := scan(dir, tm, conversationColumns, func(rec arrow.RecordBatch) {
		ws := rec.Column(0).(*array.Int64)
		we := rec.Column(1).(*array.Int64)
		src := rec.Column(2).(*array.String)
		dst := rec.Column(3).(*array.String)
		action := rec.Column(4).(*array.String)
		bytes := rec.Column(5).(*array.Int64)
		for i := range int(rec.NumRows()) {
			if ws.IsNull(i) || we.IsNull(i) {
				continue
			}
			start, end := ws.Value(i), we.Value(i)
			if len(t.windows) == 0 {
				t.window, t.first, t.last = end-start, start, end
			}
			t.first, t.last = min(t.first, start), max(t.last, end)
			w := t.windows[start]
			if w == nil {
				w = new([2]int64)
				t.windows[start] = w
			}
			if bytes.IsNull(i) {
				continue
			}
			n := bytes.Value(i)
			switch {
			case action.IsNull(i):
			case action.Value(i) == "ACCEPT":
				w[0] = saturate.Add(w[0], n)
			case action.Value(i) == "REJECT":
				w[1] = saturate.Add(w[1], n)
			}
			if src.IsNull(i) || dst.IsNull(i) {
				continue
			}
			s, ok1 := space(src.Value(i), extra)
			d, ok2 := space(dst.Value(i), extra)
			if ok1 && ok2 {
				t.spaces[s][d] = saturate.Add(t.spaces[s][d], n)
			}
		}
	})
	if err != nil {
		return nil, err
	}
	return t, nil
}
