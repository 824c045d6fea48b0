package gunzip

import (
	"bytes"
	stdgzip "compress/gzip"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math/rand/v2"
	"testing"
	"testing/iotest"

	kgzip "github.com/klauspost/compress/gzip"
)

// flowText returns n default-format flow-log lines, the data this package
// is tuned for.
func flowText(n int, seed uint64) []byte {
	rng := rand.New(rand.NewPCG(seed, 1))
	var b bytes.Buffer
	b.WriteString("version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status\n")
	for i := range n {
		start := 1795564741 + i/40
		fmt.Fprintf(&b, "2 123456789012 eni-%017x 10.0.%d.%d 172.31.%d.%d %d %d 6 %d %d %d %d %s OK\n",
			rng.IntN(50), rng.IntN(4), rng.IntN(256), rng.IntN(8), rng.IntN(256), rng.IntN(65536), []int{443, 80, 22, 53}[rng.IntN(4)],
			rng.IntN(100)+1, rng.IntN(100000), start, start+rng.IntN(60), []string{"ACCEPT", "REJECT"}[rng.IntN(2)])
	}
	return b.Bytes()
}

// inputs are texts of every shape deflate treats differently: long
// matches, short distances, incompressible bytes, empty.
func inputs() map[string][]byte {
	rng := rand.New(rand.NewPCG(3, 4))
	random := make([]byte, 300<<10)
	for i := range random {
		random[i] = byte(rng.Uint32())
	}
	letters := make([]byte, 200<<10)
	for i := range letters {
		letters[i] = "abcab"[rng.IntN(5)]
	}
	return map[string][]byte{
		"empty":    nil,
		"one":      []byte("x"),
		"flows":    flowText(6000, 1), // 700 KB: past the input buffer and the output chunk
		"zeros":    make([]byte, 1<<20+17),
		"random":   random,
		"letters":  letters,
		"repeated": bytes.Repeat([]byte("0123456789abcdef-"), 40000),
	}
}

func compressStd(t testing.TB, data []byte, level int) []byte {
	var b bytes.Buffer
	w, err := stdgzip.NewWriterLevel(&b, level)
	if err != nil {
		t.Fatal(err)
	}
	w.Name = "flows.log" // FNAME
	w.Extra = []byte{1, 2, 3}
	w.Write(data)
	w.Close()
	return b.Bytes()
}

func compressKlauspost(t testing.TB, data []byte, level int) []byte {
	var b bytes.Buffer
	w, err := kgzip.NewWriterLevel(&b, level)
	if err != nil {
		t.Fatal(err)
	}
	w.Write(data)
	w.Close()
	return b.Bytes()
}

// reused is the Reader the tests decode with, Reset for each stream as the
// archive package does with its pooled ones (tests run one at a time).
var reused Reader

func gunzip(r io.Reader) ([]byte, error) {
	if err := reused.Reset(r); err != nil {
		return nil, err
	}
	return io.ReadAll(&reused)
}

// TestRoundTrip decodes what the standard library and klauspost/compress
// write at every level (stored blocks, Huffman only, fixed and dynamic
// codes), whole and through one-byte reads.
func TestRoundTrip(t *testing.T) {
	for name, data := range inputs() {
		for _, level := range []int{0, 1, 2, 6, 9, -2} {
			for who, gz := range map[string][]byte{"std": compressStd(t, data, level), "klauspost": compressKlauspost(t, data, level)} {
				got, err := gunzip(bytes.NewReader(gz))
				if err != nil || !bytes.Equal(got, data) {
					t.Errorf("%s level %d by %s: %d bytes (want %d), %v", name, level, who, len(got), len(data), err)
				}
				if len(gz) < 200<<10 {
					got, err = gunzip(iotest.OneByteReader(bytes.NewReader(gz)))
					if err != nil || !bytes.Equal(got, data) {
						t.Errorf("%s level %d by %s, byte by byte: %d bytes, %v", name, level, who, len(got), err)
					}
				}
			}
		}
	}
}

// TestMembers reads every member of a multi-member stream, and reuses a
// Reader through Reset.
func TestMembers(t *testing.T) {
	a, b := flowText(3000, 5), []byte("tail\n")
	gz := append(append(compressStd(t, a, 6), compressKlauspost(t, nil, 6)...), compressKlauspost(t, b, 1)...)
	z := &Reader{}
	for range 2 {
		if err := z.Reset(bytes.NewReader(gz)); err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(iotest.HalfReader(z))
		if want := append(append([]byte{}, a...), b...); err != nil || !bytes.Equal(got, want) {
			t.Fatalf("got %d bytes, %v; want %d", len(got), err, len(want))
		}
	}
}

// TestZeroPadding: zero bytes after the last member end the stream (any
// number of them, read in any pieces); a byte other than zero after them is
// an invalid header.
func TestZeroPadding(t *testing.T) {
	data := flowText(300, 4)
	gz := compressStd(t, data, 6)
	for _, pad := range []int{1, 7, 512, 70000} {
		padded := append(append([]byte{}, gz...), make([]byte, pad)...)
		got, err := io.ReadAll(mustReader(t, iotest.OneByteReader(bytes.NewReader(padded))))
		if err != nil || !bytes.Equal(got, data) {
			t.Errorf("%d zero bytes of padding: %d bytes, %v", pad, len(got), err)
		}
		if _, err := gunzip(bytes.NewReader(append(padded, 1))); err != ErrHeader {
			t.Errorf("%d zero bytes, then 0x01: %v, want ErrHeader", pad, err)
		}
	}
	if _, err := gunzip(bytes.NewReader(make([]byte, 20))); err != ErrHeader {
		t.Errorf("zeros alone: %v, want ErrHeader", err)
	}
}

func mustReader(t *testing.T, r io.Reader) *Reader {
	t.Helper()
	z := &Reader{}
	if err := z.Reset(r); err != nil {
		t.Fatal(err)
	}
	return z
}

// TestTruncated: every prefix of a stream fails with io.ErrUnexpectedEOF
// after yielding only bytes of the original text.
func TestTruncated(t *testing.T) {
	data := flowText(400, 9)
	gz := compressKlauspost(t, data, 6)
	for n := range len(gz) {
		got, err := gunzip(bytes.NewReader(gz[:n]))
		if !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Fatalf("prefix of %d of %d bytes: error %v", n, len(gz), err)
		}
		if !bytes.HasPrefix(data, got) {
			t.Fatalf("prefix of %d bytes: yielded %d bytes that are not the text's", n, len(got))
		}
	}
}

// TestCorrupt: a byte changed anywhere gives what the standard library
// gives: the same text when the change is harmless (a header's time), an
// error otherwise; never a panic.
func TestCorrupt(t *testing.T) {
	data := flowText(300, 11)
	gz := compressStd(t, data, 6)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 3000 {
		bad := bytes.Clone(gz)
		pos := i % len(bad)
		bad[pos] ^= byte(rng.IntN(255) + 1)
		compare(t, bad)
	}
	compare(t, []byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0, 0x07}) // reserved block type
}

// compare checks gunzip against compress/gzip on gz.
func compare(t *testing.T, gz []byte) {
	t.Helper()
	want, wantErr := stdRead(gz)
	got, err := gunzip(bytes.NewReader(gz))
	// compress/gzip refuses zero padding after the last member: it must
	// read the stream without it as gunzip reads the whole.
	for n := len(gz); err == nil && wantErr != nil && n > 0 && gz[n-1] == 0; n-- {
		want, wantErr = stdRead(gz[:n-1])
	}
	if (err == nil) != (wantErr == nil) || err == nil && !bytes.Equal(got, want) {
		t.Fatalf("input %x...: got %d bytes, %v; compress/gzip %d bytes, %v", gz[:min(len(gz), 16)], len(got), err, len(want), wantErr)
	}
}

func stdRead(gz []byte) ([]byte, error) {
	z, err := stdgzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		return nil, err
	}
	return io.ReadAll(z)
}

// FuzzGunzip compares gunzip with compress/gzip on arbitrary input.
func FuzzGunzip(f *testing.F) {
	for _, level := range []int{0, 1, 6, -2} {
		f.Add(compressStd(f, flowText(50, uint64(level+3)), level))
	}
	f.Add(compressKlauspost(f, []byte("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab"), 9))
	f.Fuzz(func(t *testing.T, gz []byte) {
		compare(t, gz)
	})
}

// BenchmarkGunzip measures decompression of a gzipped flow log (MB/s of
// text), against klauspost/compress/gzip on the same bytes.
func BenchmarkGunzip(b *testing.B) {
	data := flowText(200000, 21)
	gz := compressStd(b, data, 6)
	buf := make([]byte, 1<<20)
	b.Run("flowlens", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		b.ReportAllocs()
		z := &Reader{}
		for b.Loop() {
			if err := z.Reset(bytes.NewReader(gz)); err != nil {
				b.Fatal(err)
			}
			drain(b, z, buf, len(data))
		}
	})
	b.Run("klauspost", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		b.ReportAllocs()
		z := &kgzip.Reader{}
		for b.Loop() {
			if err := z.Reset(bytes.NewReader(gz)); err != nil {
				b.Fatal(err)
			}
			drain(b, z, buf, len(data))
		}
	})
}

func drain(b *testing.B, r io.Reader, buf []byte, want int) {
	n := 0
	for {
		m, err := r.Read(buf)
		n += m
		if err == io.EOF {
			break
		}
		if err != nil {
			b.Fatal(err)
		}
	}
	if n != want {
		b.Fatalf("%d bytes, want %d", n, want)
	}
}

// failingReader yields the first n bytes of b, then fails with err, or
// returns (0, nil) forever when err is nil.
type failingReader struct {
	b   []byte
	n   int
	err error
}

func (r *failingReader) Read(p []byte) (int, error) {
	if r.n == 0 {
		return 0, r.err
	}
	k := copy(p[:min(len(p), r.n)], r.b)
	r.b, r.n = r.b[k:], r.n-k
	return k, nil
}

// TestSourceErrors: the source's own error comes out wherever the stream
// breaks, not io.ErrUnexpectedEOF in its place, after the text its bytes
// held; a source that returns nothing forever is io.ErrNoProgress, not a
// hang.
func TestSourceErrors(t *testing.T) {
	data := flowText(8000, 4)
	gz := compressStd(t, data, 6)
	reset := errors.New("connection reset by peer")
	for n := 10; n < len(gz); n += 1499 {
		got, err := gunzip(&failingReader{b: gz, n: n, err: reset})
		if !errors.Is(err, reset) {
			t.Fatalf("source failing after %d bytes: %v", n, err)
		}
		// What came before the failure is decoded, as far as compress/gzip
		// decodes it.
		var std []byte
		if zr, err := stdgzip.NewReader(&failingReader{b: gz, n: n, err: reset}); err == nil {
			std, _ = io.ReadAll(zr)
		}
		if !bytes.HasPrefix(data, got) || len(got) < len(std) {
			t.Fatalf("source failing after %d of %d bytes: %d bytes of text yielded, compress/gzip %d", n, len(gz), len(got), len(std))
		}
	}
	if _, err := gunzip(&failingReader{b: gz, n: len(gz) - 4}); !errors.Is(err, io.ErrNoProgress) {
		t.Fatalf("source returning nothing: %v", err)
	}
}

// TestHeaderFields: FEXTRA, FNAME, FCOMMENT and FHCRC are read as
// compress/gzip reads them: a wrong header CRC or a name of 512 bytes or
// more is ErrHeader, reserved flags are ignored.
func TestHeaderFields(t *testing.T) {
	body := compressStd(t, []byte("hello, world\n"), 6)[10+2+3+len("flows.log")+1:] // past FEXTRA and FNAME
	header := func(flags byte, fields ...[]byte) []byte {
		h := []byte{0x1f, 0x8b, 8, flags, 0, 0, 0, 0, 0, 0xff}
		for _, f := range fields {
			h = append(h, f...)
		}
		return h
	}
	crc := func(h []byte) []byte {
		c := crc32.ChecksumIEEE(h)
		return append(h, byte(c), byte(c>>8))
	}
	long := append(bytes.Repeat([]byte("n"), 511), 0)
	for name, gz := range map[string][]byte{
		"extra, name, comment, crc": append(crc(header(0x1e, []byte{2, 0, 'a', 'b'}, []byte("name\x00"), []byte("comment\x00"))), body...),
		"wrong crc":                 append(header(0x02, []byte{0xde, 0xad}), body...),
		"reserved flag":             append(header(0x20), body...),
		"511-byte name":             append(header(0x08, long[1:]), body...),
		"512-byte name":             append(header(0x08, long), body...),
	} {
		t.Run(name, func(t *testing.T) { compare(t, gz) })
	}
	if _, err := gunzip(bytes.NewReader(append(header(0x02, []byte{0xde, 0xad}), body...))); err != ErrHeader {
		t.Errorf("wrong header CRC: %v", err)
	}
}

// TestTruncatedYieldsWhatItHolds: a stream cut anywhere yields exactly the
// bytes whose codes end before the cut, no fewer (the archive keeps the
// complete lines of a truncated file) and no more, on random streams of
// every block type and code shape, including pairs of literals in one
// table entry cut after the first.
func TestTruncatedYieldsWhatItHolds(t *testing.T) {
	for seed := range uint64(120) { // about 10 s under -race
		gz, data, ends := genStream(rand.New(rand.NewPCG(seed, 77)))
		if got, err := gunzip(bytes.NewReader(gz)); err != nil || !bytes.Equal(got, data) {
			t.Fatalf("seed %d: %d bytes (want %d), %v", seed, len(got), len(data), err)
		}
		if std, err := stdRead(gz); err != nil || !bytes.Equal(std, data) {
			t.Fatalf("seed %d: compress/gzip: %d bytes (want %d), %v", seed, len(std), len(data), err)
		}
		for cut := range len(gz) {
			got, err := gunzip(bytes.NewReader(gz[:cut]))
			held := 0
			for held < len(ends) && ends[held] <= cut*8 {
				held++
			}
			if !errors.Is(err, io.ErrUnexpectedEOF) || len(got) != held || !bytes.Equal(got, data[:held]) {
				t.Fatalf("seed %d, cut at %d of %d bytes: %d bytes, %v; want the %d held, io.ErrUnexpectedEOF", seed, cut, len(gz), len(got), err, held)
			}
		}
	}
}
