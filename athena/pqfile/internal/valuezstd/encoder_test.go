package valuezstd

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"
)

// addressPage returns a PLAIN page of n addresses, as flow logs hold them:
// private IPv4 on one side, random public IPv4 and some IPv6 on the other.
func addressPage(rng *rand.Rand, n int) []byte {
	var page []byte
	for range n {
		var a netip.Addr
		switch rng.IntN(10) {
		case 0:
			var b [16]byte
			copy(b[:], []byte{0x26, 0x00, 0x1f, 0x18})
			for i := 4; i < 16; i++ {
				b[i] = byte(rng.IntN(256))
			}
			a = netip.AddrFrom16(b)
		case 1, 2, 3, 4:
			a = netip.AddrFrom4([4]byte{10, byte(rng.IntN(256)), byte(rng.IntN(256)), byte(rng.IntN(256))})
		default:
			a = netip.AddrFrom4([4]byte{byte(rng.IntN(256)), byte(rng.IntN(256)), byte(rng.IntN(256)), byte(rng.IntN(256))})
		}
		s := a.String()
		page = binary.LittleEndian.AppendUint32(page, uint32(len(s)))
		page = append(page, s...)
	}
	return page
}

func roundTrip(t testing.TB, e *Encoder, src []byte, valuesAt int) []byte {
	t.Helper()
	frame, err := e.Encode(nil, src, valuesAt)
	if err != nil {
		t.Fatal(err)
	}
	d, err := zstd.NewReader(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	got, err := d.DecodeAll(frame, nil)
	if err != nil {
		t.Fatalf("decoding %d bytes (from %d): %v", len(frame), len(src), err)
	}
	if !bytes.Equal(got, src) {
		t.Fatalf("decoded %d bytes differ from the %d encoded", len(got), len(src))
	}
	return frame
}

func TestRoundTripAddresses(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var e Encoder
	for _, n := range []int{0, 1, 5, 60, 100, 1000, 20000, 70000} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			levels := []byte{3, 0, 0, 0, 0x80, 0x10, 1}
			page := append(levels, addressPage(rng, n)...)
			frame := roundTrip(t, &e, page, len(levels))
			enc, _ := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithEncoderCRC(false), zstd.WithAllLitEntropyCompression(true))
			fast := enc.EncodeAll(page, nil)
			t.Logf("%d addresses: %d bytes to %d (%.3fx); fastest zstd %d (%.3fx)", n, len(page), len(frame), float64(len(page))/float64(len(frame)), len(fast), float64(len(page))/float64(len(fast)))
		})
	}
}

func plainPage(values ...string) []byte {
	var page []byte
	for _, v := range values {
		page = binary.LittleEndian.AppendUint32(page, uint32(len(v)))
		page = append(page, v...)
	}
	return page
}

// TestRoundTripShapes covers what addresses do not: one value repeated
// (one code per table: RLE tables), empty and long values, values across
// blocks, pages that are not values at all, and many sequences in a block.
func TestRoundTripShapes(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	repeat := func(v string, n int) []string {
		var vs []string
		for range n {
			vs = append(vs, v)
		}
		return vs
	}
	random := make([]byte, 300000)
	for i := range random {
		random[i] = byte(rng.IntN(256))
	}
	var mixed []string
	for i := range 5000 {
		mixed = append(mixed, strings.Repeat(string(rune('a'+i%26)), rng.IntN(40)), fmt.Sprint("eni-", rng.Uint64()))
	}
	var sameCodes []string // every sequence coded alike: RLE tables
	for i := range 20000 {
		sameCodes = append(sameCodes, fmt.Sprintf("eni-0abc%c%07x", 'a'+i%2, rng.IntN(1<<28)))
	}
	cases := map[string]struct {
		page     []byte
		valuesAt int
	}{
		"one value repeated":     {plainPage(repeat("10.0.0.1", 20000)...), 0},
		"same codes":             {plainPage(sameCodes...), 0},
		"empty values":           {plainPage(repeat("", 50000)...), 0},
		"one-byte values":        {plainPage(repeat("x", 40000)...), 0},
		"value over 128 KiB":     {plainPage("a", strings.Repeat("0123456789", 30000), "b", strings.Repeat("0123456789", 30000)), 0},
		"mixed lengths":          {plainPage(mixed...), 0},
		"random bytes":           {random, 0},
		"random bytes, no value": {random, len(random)},
		"values from past end":   {plainPage("x", "y"), 100},
		"lengths past the end":   {append(plainPage(repeat("abcdefgh", 1000)...), 0xff, 0xff, 0xff, 0x7f, 'a', 'b', 'c', 'd', 'e'), 0},
	}
	var e Encoder
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) { roundTrip(t, &e, tc.page, tc.valuesAt) })
	}
}

// FuzzEncode checks that any page, with values starting anywhere, decodes
// to itself.
func FuzzEncode(f *testing.F) {
	f.Add(plainPage("10.1.2.3", "10.1.2.4", "2600:1f18::1", "10.1.2.3"), 0)
	f.Add([]byte("no values here at all, just text text text text"), 3)
	var e Encoder
	f.Fuzz(func(t *testing.T, page []byte, valuesAt int) {
		if valuesAt < 0 {
			valuesAt = -valuesAt
		}
		roundTrip(t, &e, page, valuesAt%(len(page)+2))
	})
}

// BenchmarkEncode compresses 1 MiB pages of addresses; zstd's fastest
// level, as the writer used it for every page, is the baseline.
func BenchmarkEncode(b *testing.B) {
	page := addressPage(rand.New(rand.NewPCG(3, 4)), 56000)
	b.Run("valuezstd", func(b *testing.B) {
		var e Encoder
		var dst []byte
		b.SetBytes(int64(len(page)))
		b.ReportAllocs()
		for b.Loop() {
			dst, _ = e.Encode(dst[:0], page, 0)
		}
		b.ReportMetric(float64(len(page))/float64(len(dst)), "ratio")
	})
	b.Run("fastest", func(b *testing.B) {
		enc, _ := zstd.NewWriter(nil, zstd.WithEncoderConcurrency(1), zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithEncoderCRC(false), zstd.WithAllLitEntropyCompression(true))
		var dst []byte
		b.SetBytes(int64(len(page)))
		b.ReportAllocs()
		for b.Loop() {
			dst = enc.EncodeAll(page, dst[:0])
		}
		b.ReportMetric(float64(len(page))/float64(len(dst)), "ratio")
	})
}
