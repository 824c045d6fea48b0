package archive_test

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/klauspost/compress/gzip"

	"github.com/flowlens/flowlens/archive"
	"github.com/flowlens/flowlens/bench"
	"github.com/flowlens/flowlens/parser"
)

var update = flag.Bool("update", false, "rewrite the golden files under archive/testdata/golden")

// collect runs srcs and returns the rendered records of each input, in order.
func collect(t *testing.T, srcs []archive.Source, opts archive.Options) ([]archive.Result, []string) {
	t.Helper()
	return collectWith(t, srcs, opts, nil)
}

// collectWith is collect, calling see (if not nil) with each batch first.
func collectWith(t *testing.T, srcs []archive.Source, opts archive.Options, see func(int, *parser.Batch)) ([]archive.Result, []string) {
	t.Helper()
	var mu sync.Mutex
	out := make([]strings.Builder, len(srcs))
	results, err := archive.Run(context.Background(), srcs, opts, func(i int, b *parser.Batch) error {
		defer b.Release()
		if see != nil {
			see(i, b)
		}
		var buf []byte
		for r := 0; r < b.Len(); r++ {
			buf = append(b.AppendText(buf, r), '\n')
		}
		mu.Lock()
		out[i].Write(buf)
		mu.Unlock()
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	texts := make([]string, len(srcs))
	for i := range out {
		texts[i] = out[i].String()
	}
	return results, texts
}

// TestGolden parses every sample input under testdata/ (a directory that
// mixes S3 text of several formats, Transit Gateway logs, a CloudWatch export,
// a subscription payload and headerless records) and compares the decoded
// records and counts with archive/testdata/golden/. Run with -update to
// rewrite them.
func TestGolden(t *testing.T) {
	srcs, err := archive.Expand([]string{"../testdata/s3", "../testdata/cloudwatch", "../testdata/firehose"})
	if err != nil {
		t.Fatal(err)
	}
	if len(srcs) != 9 {
		t.Fatalf("%d inputs under testdata, want 9", len(srcs))
	}
	results, texts := collect(t, srcs, archive.Options{})
	for i, r := range results {
		if r.Err != nil {
			t.Errorf("%s: %v", r.Source, r.Err)
			continue
		}
		var g strings.Builder
		fmt.Fprintf(&g, "# kind: %s\n# format (%s): %s\n", r.Kind, r.Format.Source, r.Format.Header())
		fmt.Fprintf(&g, "# lines %d, records %d, invalid %d, headers %d, blank %d, compressed %v, text bytes %d\n",
			r.Stats.Lines, r.Stats.Records, r.Stats.Invalid, r.Stats.Headers, r.Stats.Blank, r.Compressed, r.TextBytes)
		for _, w := range r.Warnings {
			fmt.Fprintf(&g, "# warning: %s\n", w)
		}
		for _, s := range r.Stats.Samples {
			fmt.Fprintf(&g, "# invalid %s\n", s.Error())
		}
		g.WriteString(texts[i])
		name := strings.ReplaceAll(strings.TrimPrefix(r.Source, "../testdata/"), "/", "_") + ".txt"
		path := filepath.Join("testdata/golden", name)
		if *update {
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, []byte(g.String()), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (run go test ./archive -run TestGolden -update)", err)
		}
		if g.String() != string(want) {
			t.Errorf("%s differs from %s:\n%s", r.Source, path, firstDiff(g.String(), string(want)))
		}
	}
	total := archive.Sum(results, 10)
	if total.Stats.Records != 291 || total.Stats.Invalid != 4 || total.Failed != 0 {
		t.Errorf("totals: %d records, %d invalid, %d failed; want 291, 4, 0", total.Stats.Records, total.Stats.Invalid, total.Failed)
	}
}

func firstDiff(got, want string) string {
	g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
	for i := 0; i < len(g) || i < len(w); i++ {
		var a, b string
		if i < len(g) {
			a = g[i]
		}
		if i < len(w) {
			b = w[i]
		}
		if a != b {
			return fmt.Sprintf("line %d:\n got %s\nwant %s", i+1, a, b)
		}
	}
	return ""
}

func gzipBytes(t testing.TB, parts ...string) []byte {
	t.Helper()
	var buf bytes.Buffer
	for _, p := range parts {
		w := gzip.NewWriter(&buf)
		if _, err := w.Write([]byte(p)); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
	}
	return buf.Bytes()
}

func writeFile(t *testing.T, dir, name string, data []byte) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

const header = "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status\n"

func records(n int, seed uint64) string {
	return strings.Join(bench.NewGenerator(parser.DefaultFormat(), seed).Lines(n), "\n") + "\n"
}

// TestFaultyInputs: a missing, a truncated and a corrupt gzip file each fail
// with an error naming the file, while the good files complete with exact
// counts. Gzip is recognised by content whatever the name, and every member
// of a multi-member file is read.
func TestFaultyInputs(t *testing.T) {
	dir := t.TempDir()
	good := gzipBytes(t, header+records(3000, 1))
	truncated := good[:len(good)/2]
	small := gzipBytes(t, header+records(200, 5)) // under the first block: it failed before any was read
	smallTruncated := small[:len(small)*3/4]
	corrupt := append([]byte(nil), good...)
	for i := 100; i < 140; i++ {
		corrupt[i] ^= 0x5a
	}
	srcs := []archive.Source{
		archive.FileSource(writeFile(t, dir, "a-good.log.gz", good), 0),
		archive.FileSource(writeFile(t, dir, "b-truncated.log.gz", truncated), 0),
		archive.FileSource(writeFile(t, dir, "c-corrupt.log.gz", corrupt), 0),
		archive.FileSource(filepath.Join(dir, "d-missing.log.gz"), 0),
		archive.FileSource(writeFile(t, dir, "e-gzip-named-plain.log", good), 0),
		archive.FileSource(writeFile(t, dir, "f-plain-named-gzip.gz", []byte(header+records(3000, 1))), 0),
		archive.FileSource(writeFile(t, dir, "g-multi-member.log.gz", gzipBytes(t, header+records(1000, 2), records(500, 3), records(1500, 4))), 0),
		archive.FileSource(writeFile(t, dir, "h-empty.log", nil), 0),
		archive.FileSource(writeFile(t, dir, "i-header-only.log.gz", gzipBytes(t, header)), 0),
		archive.FileSource(writeFile(t, dir, "j-duplicate-field.log", []byte("version srcaddr dstaddr SRCADDR\n2 1.1.1.1 2.2.2.2 3.3.3.3\n")), 0),
		archive.FileSource(writeFile(t, dir, "k-not-a-flow-log.parquet", []byte("PAR1\x15\x04\x15\x80\n\x00\x01 binary\nPAR1")), 0),
		archive.FileSource(writeFile(t, dir, "l-small-truncated.log.gz", smallTruncated), 0),
		archive.FileSource(writeFile(t, dir, "m-not-a-flow-log.dat", []byte("\x01\x02 x\nnot a record\n1 2 3\n")), 0),
	}
	results, texts := collect(t, srcs, archive.Options{Jobs: 3, BlockBytes: 64 << 10})
	want := []struct {
		records int64
		fails   string
	}{{3000, ""}, {-1, "truncated"}, {-1, "corrupt"}, {0, "missing"}, {3000, ""}, {3000, ""}, {3000, ""}, {0, ""}, {0, ""}, {0, "duplicate"}, {0, "not a flow log"}, {-1, "truncated"}, {0, "not a flow log"}}
	for i, w := range want {
		r := results[i]
		if w.fails != "" {
			if r.Err == nil || !strings.Contains(r.Err.Error(), srcs[i].Name) || (w.fails == "duplicate" && !strings.Contains(r.Err.Error(), "duplicate field")) {
				t.Errorf("%s: error %v, want one naming the file", srcs[i].Name, r.Err)
			}
			continue
		}
		if r.Err != nil || r.Stats.Records != w.records || r.Stats.Invalid != 0 {
			t.Errorf("%s: %d records, %d invalid, err %v; want %d", srcs[i].Name, r.Stats.Records, r.Stats.Invalid, r.Err, w.records)
		}
	}
	// A file no line of which is a record fails, whatever its lines; a
	// Parquet file fails saying so.
	if r := results[12]; r.Err == nil || !strings.Contains(r.Err.Error(), "no line is a flow-log record (3 invalid lines); a file without a header line is read in the default format: give its fields with --format") {
		t.Errorf("not a flow log: error %v", r.Err)
	}
	if r := results[10]; r.Err == nil || !strings.Contains(r.Err.Error(), "a Parquet file") {
		t.Errorf("Parquet: error %v", r.Err)
	}
	// The truncated file keeps every complete line decoded before the
	// truncation, the lines of its last, partial block included (they
	// were dropped with the block).
	for _, c := range []struct {
		i    int
		data []byte
		min  int64
	}{{1, truncated, 1000}, {11, smallTruncated, 100}} {
		z, err := archive.Gunzip(bytes.NewReader(c.data))
		if err != nil {
			t.Fatal(err)
		}
		prefix, err := io.ReadAll(z)
		if !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Fatalf("reading %s: %v", srcs[c.i].Name, err)
		}
		if want := int64(bytes.Count(prefix, []byte{'\n'})) - 1; results[c.i].Stats.Records != want || want < c.min {
			t.Errorf("%s: %d records kept, want the %d complete lines before the truncation", srcs[c.i].Name, results[c.i].Stats.Records, want)
		}
		// The error says where the text stopped: the line it cut, and
		// the bytes decoded from the start of the file.
		lines := bytes.Count(prefix, []byte{'\n'})
		if want := fmt.Sprintf("%s: line %d: cannot read after %d bytes of text: unexpected EOF", srcs[c.i].Name, lines+1, len(prefix)); results[c.i].Err == nil || results[c.i].Err.Error() != want {
			t.Errorf("error %v, want %s", results[c.i].Err, want)
		}
	}
	if texts[0] != texts[4] || texts[0] != texts[5] {
		t.Error("the same records read differently through gzip and plain text")
	}
	if !results[0].Compressed || results[5].Compressed || !results[4].Compressed {
		t.Error("gzip detection by name instead of content")
	}
	if results[0].TextBytes != int64(len(header+records(3000, 1))) {
		t.Errorf("text bytes %d", results[0].TextBytes)
	}
	if results[6].Stats.Lines != 3001 || results[6].Stats.Headers != 1 {
		t.Errorf("multi-member: %+v", results[6].Stats)
	}
	if results[8].Kind != parser.InputS3Text || results[7].Kind != parser.InputEmpty {
		t.Errorf("kinds %v %v", results[7].Kind, results[8].Kind)
	}
}

// TestOtherCompressionsNamed: a file in a compression flowlens does not
// read fails naming it and the tool that reads it, not as invalid lines.
func TestOtherCompressionsNamed(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		"a.log.bz2": "BZh91AY&SY\x8f\x1e", "a.log.zst": "\x28\xb5\x2f\xfd\x00\x58",
		"a.log.xz": "\xfd7zXZ\x00\x00", "a.zip": "PK\x03\x04\x14\x00",
	}
	var srcs []archive.Source
	for name, data := range files {
		srcs = append(srcs, archive.FileSource(writeFile(t, dir, name, []byte(data+"\n2 1 eni-1 10.0.0.1\n")), 0))
	}
	results, _ := collect(t, srcs, archive.Options{})
	want := map[string]string{"a.log.bz2": "a bzip2 file", "a.log.zst": "a zstd file", "a.log.xz": "an xz file", "a.zip": "a zip archive"}
	for i, r := range results {
		name := filepath.Base(srcs[i].Name)
		if r.Err == nil || !strings.Contains(r.Err.Error(), want[name]) || r.Stats.Invalid != 0 {
			t.Errorf("%s: %v, %d invalid lines", name, r.Err, r.Stats.Invalid)
		}
	}
}

// TestOtherHeaderInside: S3 objects whose headers list the fields in
// different orders, concatenated into one file, are each read with their
// own header's fields, whether a header falls at a block's start or inside
// it, and back again; each switch is a warning naming its line. A repeat of
// the current header is skipped.
func TestOtherHeaderInside(t *testing.T) {
	dir := t.TempDir()
	swapped := "version account-id interface-id dstaddr srcaddr srcport dstport protocol bytes packets start end action log-status\n"
	swappedFormat, err := parser.ParseHeader([]byte(strings.TrimSpace(swapped)))
	if err != nil {
		t.Fatal(err)
	}
	swappedRecords := func(n int, seed uint64) string {
		return strings.Join(bench.NewGenerator(swappedFormat, seed).Lines(n), "\n") + "\n"
	}
	for _, c := range []struct {
		name     string
		parts    []string // header and records of each object
		gzip     bool
		switches []int64
	}{
		{"two-formats.log.gz", []string{header + records(1000, 2), swapped + swappedRecords(500, 3)}, true, []int64{1002}},
		{"same-header-twice.log.gz", []string{header + records(1000, 2), header + records(500, 3)}, true, nil},
		{"two-formats-plain.log", []string{header + records(70000, 2), swapped + swappedRecords(500, 3)}, false, []int64{70002}},
		{"and-back.log.gz", []string{header + records(3000, 2), swapped + swappedRecords(2000, 3), swapped + swappedRecords(10, 4), header + records(700, 5)}, true, []int64{3002, 5014}},
	} {
		var data []byte
		if c.gzip {
			data = gzipBytes(t, c.parts...)
		} else {
			data = []byte(strings.Join(c.parts, ""))
		}
		src := archive.FileSource(writeFile(t, dir, c.name, data), 0)
		results, texts := collect(t, []archive.Source{src}, archive.Options{BlockBytes: 64 << 10})
		r := results[0]
		// The records, in the order of each object's own fields.
		var want strings.Builder
		for _, part := range c.parts {
			_, recs, _ := strings.Cut(part, "\n")
			want.WriteString(recs)
		}
		wantRecords := int64(strings.Count(want.String(), "\n"))
		if r.Err != nil || r.Stats.Records != wantRecords || r.Stats.Invalid != 0 || r.Stats.Headers != int64(len(c.parts)) {
			t.Errorf("%s: %d records, %d invalid, %d headers, error %v; want %d, 0, %d, none", c.name, r.Stats.Records, r.Stats.Invalid, r.Stats.Headers, r.Err, wantRecords, len(c.parts))
		}
		if texts[0] != want.String() {
			t.Errorf("%s: the records read differ from those written", c.name)
		}
		var lines []int64
		for _, w := range r.Warnings {
			var line int64
			if _, err := fmt.Sscanf(w, "line %d: a header naming other fields", &line); err == nil {
				lines = append(lines, line)
			}
		}
		if !slices.Equal(lines, c.switches) || r.Switches != int64(len(c.switches)) {
			t.Errorf("%s: format switches reported at lines %v, want %v (warnings %q)", c.name, lines, c.switches, r.Warnings)
		}
	}
}

// TestHeaderSwitchesBounded: a file switching formats at every other line
// is read whole, with a warning for each of the first MaxSamples switches
// and one that counts the rest.
func TestHeaderSwitchesBounded(t *testing.T) {
	swapped := "version account-id interface-id dstaddr srcaddr srcport dstport protocol bytes packets start end action log-status\n"
	var text strings.Builder
	for i := range 30 {
		h := header
		if i%2 == 1 {
			h = swapped
		}
		text.WriteString(h + records(1, uint64(i)))
	}
	src := archive.FileSource(writeFile(t, t.TempDir(), "switching.log", []byte(text.String())), 0)
	results, _ := collect(t, []archive.Source{src}, archive.Options{MaxSamples: 5})
	r := results[0]
	if r.Err != nil || r.Stats.Records != 30 || r.Stats.Invalid != 0 || r.Switches != 29 {
		t.Fatalf("%d records, %d invalid, error %v", r.Stats.Records, r.Stats.Invalid, r.Err)
	}
	if len(r.Warnings) != 6 || !strings.HasPrefix(r.Warnings[4], "line 11: a header naming other fields") || r.Warnings[5] != "24 more headers naming other fields, the last at line 59" {
		t.Errorf("warnings %q", r.Warnings)
	}
}

// TestLongLines: a line longer than a block is skipped and reported at its
// line number; a line over MaxLineBytes but within a block likewise; the
// records around them are intact. Lines longer than bufio.Scanner's 64 KiB
// limit are fine.
func TestLongLines(t *testing.T) {
	fm, _ := parser.ParseLogFormat("${version} ${srcaddr} ${instance-tag}")
	long := strings.Repeat("x", 100<<10) // a 100 KiB tag value: valid
	text := "2 10.0.0.1 a\n" +
		"2 10.0.0.2 " + strings.Repeat("y", 300<<10) + "\n" + // longer than a block
		"2 10.0.0.3 " + long + "\n" +
		"2 10.0.0.4 " + strings.Repeat("z", 150<<10) + "\n" + // over MaxLineBytes
		"2 10.0.0.5 b"
	dir := t.TempDir()
	srcs := []archive.Source{archive.FileSource(writeFile(t, dir, "long.log", []byte(text)), 0)}
	results, texts := collect(t, srcs, archive.Options{Format: fm, BlockBytes: 256 << 10, MaxLineBytes: 128 << 10})
	r := results[0]
	if r.Err != nil || r.Stats.Records != 3 || r.Stats.Invalid != 2 || r.Stats.ByReason[parser.ReasonLineTooLong] != 2 || r.Stats.Lines != 5 {
		t.Fatalf("stats %+v err %v", r.Stats, r.Err)
	}
	if r.Stats.Samples[0].Line != 2 || r.Stats.Samples[1].Line != 4 {
		t.Errorf("long lines reported at %d and %d, want 2 and 4", r.Stats.Samples[0].Line, r.Stats.Samples[1].Line)
	}
	if want := "2 10.0.0.1 a\n2 10.0.0.3 " + long + "\n2 10.0.0.5 b\n"; texts[0] != want {
		t.Errorf("records around long lines damaged")
	}
}

// TestParallelRunsAgree: many inputs cut into many blocks give the same
// records and counts with one job and with eight.
func TestParallelRunsAgree(t *testing.T) {
	dir := t.TempDir()
	var srcs []archive.Source
	for i := 0; i < 24; i++ {
		body := header + records(500+97*i, uint64(i))
		if i%5 == 0 {
			body += "garbage line\n"
		}
		data := []byte(body)
		if i%2 == 0 {
			data = gzipBytes(t, body)
		}
		srcs = append(srcs, archive.FileSource(writeFile(t, dir, fmt.Sprintf("f%02d.log", i), data), 0))
	}
	r1, t1 := collect(t, srcs, archive.Options{Jobs: 1, BlockBytes: 16 << 10})
	r8, t8 := collect(t, srcs, archive.Options{Jobs: 8, BlockBytes: 16 << 10, BatchesPerInput: 1})
	var total int64
	for i := range srcs {
		if t1[i] != t8[i] || r1[i].Stats.Records != r8[i].Stats.Records || r1[i].Stats.Invalid != r8[i].Stats.Invalid {
			t.Fatalf("%s differs between 1 and 8 jobs", srcs[i].Name)
		}
		if want := int64(500 + 97*i); r1[i].Stats.Records != want {
			t.Fatalf("%s: %d records, want %d", srcs[i].Name, r1[i].Stats.Records, want)
		}
		total += r8[i].Stats.Records
	}
	if s := archive.Sum(r8, 10); s.Stats.Records != total || s.Stats.Invalid != 5 {
		t.Fatalf("totals %+v", s.Stats)
	}
}

// TestSubscriptionErrors: a payload whose JSON breaks off is an error naming
// the file; the events before the break were counted.
func TestSubscriptionErrors(t *testing.T) {
	dir := t.TempDir()
	env := `{"messageType":"DATA_MESSAGE","owner":"1","logGroup":"g","logStream":"s","subscriptionFilters":[],"logEvents":[` +
		`{"id":"1","timestamp":1,"message":"2 1 eni-1 10.0.0.1 10.0.0.2 1 2 6 1 1 1 2 ACCEPT OK"},` +
		`{"id":"2","timestamp":1,"message":"2 1 eni-1 10.0.0.1 10.0.0.2 1 2 6 1 1 1 ACCEPT OK"}]}`
	path := writeFile(t, dir, "broken.gz", gzipBytes(t, env, `{"messageType":"DATA_MESSAGE","logEvents":[{"id":`))
	results, _ := collect(t, []archive.Source{archive.FileSource(path, 0)}, archive.Options{})
	r := results[0]
	if r.Err == nil || !strings.Contains(r.Err.Error(), "broken.gz") || r.Kind != parser.InputSubscription {
		t.Fatalf("err %v kind %v", r.Err, r.Kind)
	}
	if r.Stats.Records != 1 || r.Stats.Invalid != 1 || r.Stats.Samples[0].Line != 2 {
		t.Fatalf("stats %+v", r.Stats)
	}
}

// TestSinkErrorStopsRun: an error from the sink ends Run with that error.
func TestSinkErrorStopsRun(t *testing.T) {
	dir := t.TempDir()
	var srcs []archive.Source
	for i := 0; i < 6; i++ {
		srcs = append(srcs, archive.FileSource(writeFile(t, dir, fmt.Sprintf("f%d.log", i), []byte(header+records(2000, uint64(i)))), 0))
	}
	boom := errors.New("disk full")
	_, err := archive.Run(context.Background(), srcs, archive.Options{Jobs: 2, BlockBytes: 8 << 10}, func(_ int, b *parser.Batch) error {
		b.Release()
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Run returned %v, want the sink's error", err)
	}
}

func TestExpand(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"b.log", "a.log.gz", "sub/c.log", ".hidden/d.log", "sub/.e.log"} {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755); err != nil {
			t.Fatal(err)
		}
		writeFile(t, dir, name, []byte("x"))
	}
	srcs, err := archive.Expand([]string{dir, filepath.Join(dir, "*.log"), filepath.Join(dir, "sub", "c.log")})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, s := range srcs {
		names = append(names, strings.TrimPrefix(s.Name, dir+"/"))
	}
	if got := strings.Join(names, ","); got != "a.log.gz,b.log,sub/c.log" {
		t.Fatalf("Expand = %s", got)
	}
	for _, bad := range []string{filepath.Join(dir, "nope"), filepath.Join(dir, "*.csv")} {
		if _, err := archive.Expand([]string{bad}); err == nil {
			t.Errorf("Expand(%s) accepted", bad)
		}
	}

	// Links to files and directories are followed (they were skipped
	// silently), a directory reached twice is walked once, a link to an
	// ancestor does not loop; a/./b is a/b; the skipped directory (an
	// output inside the inputs) is not read.
	other := t.TempDir()
	writeFile(t, other, "linked.log", []byte("x"))
	os.MkdirAll(filepath.Join(dir, "out", "flows"), 0o755)
	writeFile(t, dir, "out/flows/part.parquet", []byte("x"))
	for link, target := range map[string]string{"sub/f.log": filepath.Join(other, "linked.log"), "linkdir": other, "sub/up": dir, "sub/again": filepath.Join(dir, "sub")} {
		if err := os.Symlink(target, filepath.Join(dir, link)); err != nil {
			t.Fatal(err)
		}
	}
	srcs, err = archive.Expand([]string{dir, filepath.Join(dir, ".", "b.log"), filepath.Join(dir, "linkdir")}, filepath.Join(dir, "out"))
	if err != nil {
		t.Fatal(err)
	}
	names = names[:0]
	for _, s := range srcs {
		names = append(names, strings.TrimPrefix(s.Name, dir+"/"))
	}
	if got := strings.Join(names, ","); got != "a.log.gz,b.log,linkdir/linked.log,sub/c.log" {
		t.Fatalf("Expand with links = %s", got)
	}
	// A directory whose files were all named already (by another argument
	// or through links) is no error: it holds files.
	latest := filepath.Join(t.TempDir(), "latest")
	os.MkdirAll(latest, 0o755)
	os.Symlink(filepath.Join(other, "linked.log"), filepath.Join(latest, "l.log"))
	for _, args := range [][]string{{other, latest}, {latest, other}, {filepath.Join(other, "linked.log"), other}} {
		if srcs, err := archive.Expand(args); err != nil || len(srcs) != 1 {
			t.Errorf("Expand(%v) = %d sources, %v; want the one file", args, len(srcs), err)
		}
	}

	// The files of an earlier run's output under the inputs (a shard's
	// too), as its manifest names them, are left out and the output named;
	// logs beside an output are read, and a file named _manifest.json that
	// is no flowlens manifest changes nothing. A directory holding only an
	// output is an error saying so.
	files := map[string]string{
		"prev/_manifest.json":                     `{"run_id":"r1","tables":[{"dir":"flows"}]}`,
		"prev/flows/part.parquet":                 "x",
		"prev/athena.sql":                         "x",
		"prev/AWSLogs/beside.log":                 "x",
		"shard/_manifest.shard-0000-of-0002.json": `{"run_id":"r2","tables":[],"files":[{"path":"findings.shard-0000-of-0002.jsonl"}]}`,
		"shard/findings.shard-0000-of-0002.jsonl": "x",
		"shard/report.html":                       "x",
		"logs/_manifest.json":                     `{"entries":[]}`,
		"logs/l.log":                              "x",
	}
	for name, data := range files {
		os.MkdirAll(filepath.Join(dir, filepath.Dir(name)), 0o755)
		writeFile(t, dir, name, []byte(data))
	}
	srcs, outputs, err := archive.ExpandInputs([]string{dir}, filepath.Join(dir, "out"))
	names = names[:0]
	for _, s := range srcs {
		names = append(names, strings.TrimPrefix(s.Name, dir+"/"))
	}
	want := "a.log.gz,b.log,linkdir/linked.log,logs/_manifest.json,logs/l.log,prev/AWSLogs/beside.log,sub/c.log"
	if err != nil || strings.Join(names, ",") != want || !slices.Equal(outputs, []string{filepath.Join(dir, "prev"), filepath.Join(dir, "shard")}) {
		t.Errorf("beside earlier outputs: %v, outputs %v, %v; want %s", names, outputs, err, want)
	}
	if _, err := archive.Expand([]string{filepath.Join(dir, "shard")}); err == nil || !strings.Contains(err.Error(), "holds a flowlens output and no flow logs") {
		t.Errorf("an output as the input: %v", err)
	}
}

// TestArrowBatchesReleased: batches handed to a consumer goroutine as Arrow
// record batches and released there all go back to the pool, and every byte
// goes back to the allocator at the end of the run.
func TestArrowBatchesReleased(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	dir := t.TempDir()
	var srcs []archive.Source
	for i := 0; i < 8; i++ {
		srcs = append(srcs, archive.FileSource(writeFile(t, dir, fmt.Sprintf("f%d.log", i), gzipBytes(t, header+records(3000, uint64(i)))), 0))
	}
	recs := make(chan arrow.RecordBatch, 4)
	var rows, bytesSum int64
	done := make(chan struct{})
	go func() {
		defer close(done)
		for rec := range recs {
			rows += rec.NumRows()
			col := rec.Column(9).(*array.Int64)
			for i := 0; i < col.Len(); i++ {
				bytesSum += col.Value(i)
			}
			rec.Release()
		}
	}()
	schema := parser.DefaultFormat().ArrowSchema()
	results, err := archive.Run(context.Background(), srcs, archive.Options{Jobs: 3, BlockBytes: 32 << 10, Allocator: mem},
		func(_ int, b *parser.Batch) error {
			recs <- b.NewRecordBatch(schema)
			return nil
		})
	close(recs)
	<-done
	if err != nil || rows != 24000 || archive.Sum(results, 0).Stats.Records != 24000 {
		t.Fatalf("err %v, %d rows", err, rows)
	}
	// The same sum straight from the text.
	var want int64
	for i := 0; i < 8; i++ {
		for _, l := range strings.Split(strings.TrimSpace(records(3000, uint64(i))), "\n") {
			var v int64
			if f := strings.Fields(l)[9]; f != "-" {
				fmt.Sscan(f, &v)
			}
			want += v
		}
	}
	if bytesSum != want {
		t.Fatalf("sum of bytes %d, want %d", bytesSum, want)
	}
}

// TestSinkErrorWithLongLines: when the sink fails while overlong-line markers
// (which carry no buffer) are in flight, the run ends with the error and the
// shared block pool stays sound for later runs (a nil buffer put back in the
// pool used to crash the next read).
func TestSinkErrorWithLongLines(t *testing.T) {
	dir := t.TempDir()
	var sb strings.Builder
	sb.WriteString(header + records(50, 1))
	for i := 0; i < 200; i++ {
		sb.WriteString(strings.Repeat("x", 5000) + "\n")
	}
	src := archive.FileSource(writeFile(t, dir, "long.log", []byte(sb.String())), 0)
	boom := errors.New("disk full")
	for run := 0; run < 3; run++ {
		_, err := archive.Run(context.Background(), []archive.Source{src}, archive.Options{BlockBytes: 4096},
			func(_ int, b *parser.Batch) error { b.Release(); return boom })
		if !errors.Is(err, boom) {
			t.Fatalf("run %d: %v", run, err)
		}
	}
	results, _ := collect(t, []archive.Source{src}, archive.Options{BlockBytes: 4096})
	if r := results[0]; r.Stats.Records != 50 || r.Stats.ByReason[parser.ReasonLineTooLong] != 200 {
		t.Fatalf("after the failed runs: %+v", r.Stats)
	}
}

// TestStartsAndLateFiles: with a range of starts, a file read for delivery
// lag keeps only its records in range, and one with only records out of
// range and a bad line is no failure (its records were read); a file named
// later than the range's start by more than the lag pad, which no earlier
// range's run read, keeps its late records of earlier starts too.
func TestStartsAndLateFiles(t *testing.T) {
	dir := t.TempDir()
	from := time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC)
	rec := func(start time.Time) string {
		return fmt.Sprintf("2 123456789012 eni-1 10.0.0.1 10.0.0.2 443 40000 6 1 100 %d %d ACCEPT OK\n", start.Unix(), start.Unix()+30)
	}
	name := func(fileTime time.Time) string {
		return "123456789012_vpcflowlogs_us-east-1_fl-0123456789abcdef0_" + fileTime.Format("20060102T1504Z") + "_0a1b2c3d.log"
	}
	early, inRange := from.Add(-3*time.Minute), from.Add(2*time.Minute)
	srcs := []archive.Source{
		archive.FileSource(writeFile(t, dir, name(from.Add(5*time.Minute)), []byte(header+rec(early)+rec(inRange))), 0),
		archive.FileSource(writeFile(t, dir, name(from.Add(-5*time.Minute)), []byte(header+rec(early)+rec(early)+"2 not a record\n")), 0),
		archive.FileSource(writeFile(t, dir, name(from.Add(20*time.Minute)), []byte(header+rec(early)+rec(inRange))), 0),
	}
	results, _ := collect(t, srcs, archive.Options{Starts: parser.TimeRange{From: from.Unix(), To: from.Add(24 * time.Hour).Unix()}})
	for i, want := range []struct{ records, outOfRange int64 }{{1, 1}, {0, 2}, {2, 0}} {
		r := results[i]
		if r.Err != nil || r.Stats.Records != want.records || r.Stats.OutOfRange != want.outOfRange {
			t.Errorf("%s: %d records, %d out of range, %v; want %d, %d", srcs[i].Name, r.Stats.Records, r.Stats.OutOfRange, r.Err, want.records, want.outOfRange)
		}
	}
}

// TestBlankLinesBeforeHeader: a file that starts with blank lines has its
// header after them read as its header (its fields in its order), and its
// lines keep their numbers.
func TestBlankLinesBeforeHeader(t *testing.T) {
	dir := t.TempDir()
	swapped := "version account-id interface-id dstaddr srcaddr srcport dstport protocol bytes packets start end action log-status\n"
	text := "\n \r\n" + swapped + records(10, 2) + "2 bad\n"
	src := archive.FileSource(writeFile(t, dir, "blank-first.log", []byte(text)), 0)
	results, _ := collect(t, []archive.Source{src}, archive.Options{})
	r := results[0]
	if r.Err != nil || r.Stats.Records != 10 || r.Stats.Invalid != 1 || r.Stats.Blank != 2 || r.Format.Header() != strings.TrimSpace(swapped) {
		t.Fatalf("%d records, %d invalid, %d blank, format %s, %v", r.Stats.Records, r.Stats.Invalid, r.Stats.Blank, r.Format.Header(), r.Err)
	}
	if s := r.Stats.Samples[0]; s.Line != 14 {
		t.Errorf("the bad line is reported at line %d, want 14", s.Line)
	}
}

// TestBatchesSpanBlocks: a batch takes the lines of several blocks, up to
// BatchBytes of text, and ends early at a header naming other fields and at
// the end of the input; records, counts, rejected lines and the lines they
// are reported at are the same as with a batch a block.
func TestBatchesSpanBlocks(t *testing.T) {
	swapped := "version account-id interface-id dstaddr srcaddr srcport dstport protocol bytes packets start end action log-status\n"
	body := header + records(700, 1) + "garbage line\n" + records(300, 2) + swapped + records(900, 3) + "2 too few\n" + records(50, 4)
	dir := t.TempDir()
	srcs := []archive.Source{
		archive.FileSource(writeFile(t, dir, "a.log.gz", gzipBytes(t, body)), 0),
		archive.FileSource(writeFile(t, dir, "b.log", []byte(header+records(40, 5))), 0),
	}
	var mu sync.Mutex
	type batch struct{ records, text int }
	var batches [2][]batch
	var bytesSum [2]int64 // of the bytes column: each line read with its format's fields
	run := func(batchBytes int) ([]archive.Result, []string, [2]int64) {
		batches, bytesSum = [2][]batch{}, [2]int64{}
		results, texts := collectWith(t, srcs, archive.Options{Jobs: 1, BlockBytes: 8 << 10, BatchBytes: batchBytes}, func(i int, b *parser.Batch) {
			mu.Lock()
			defer mu.Unlock()
			n := 0
			col := b.Column(parser.FieldBytes)
			for r := 0; r < b.Len(); r++ {
				n += len(b.AppendText(nil, r)) + 1
				bytesSum[i] += col.Int64(r)
			}
			batches[i] = append(batches[i], batch{b.Len(), n})
		})
		return results, texts, bytesSum
	}
	perBlock, perBlockText, perBlockSum := run(8 << 10)
	blocks := len(batches[0])
	spanning, spanningText, spanningSum := run(40 << 10)
	for i := range srcs {
		a, b := perBlock[i], spanning[i]
		if perBlockText[i] != spanningText[i] || perBlockSum[i] != spanningSum[i] || a.Stats.Records != b.Stats.Records ||
			a.Stats.Invalid != b.Stats.Invalid || a.Switches != b.Switches || !slices.Equal(sampleLines(a), sampleLines(b)) {
			t.Fatalf("%s: batches of one block and of several differ: %+v / %+v", srcs[i].Name, a.Stats, b.Stats)
		}
	}
	if r := spanning[0]; r.Stats.Records != 1950 || r.Stats.Invalid != 2 || r.Switches != 1 || !slices.Equal(sampleLines(r), []int64{702, 1904}) {
		t.Fatalf("stats %+v, switches %d, rejected at %v", r.Stats, r.Switches, sampleLines(r))
	}
	// Input 0: the 1,000 records before the switch end a batch; every
	// batch but that one and the last holds 40 KiB of text or nearly (the
	// header and the rejected lines are not records).
	got := batches[0]
	if len(got) < 4 || 2*len(got) > blocks {
		t.Fatalf("input 0: %d batches %v, %d with a batch a block", len(got), got, blocks)
	}
	records, switchAt := 0, -1
	for k, b := range got {
		if records += b.records; records == 1000 {
			switchAt = k
		}
	}
	if switchAt < 0 {
		t.Fatalf("no batch ends at the format switch: %v", got)
	}
	for k, b := range got {
		if k != switchAt && k != len(got)-1 && b.text < 39<<10 {
			t.Errorf("input 0, batch %d: %d bytes of text, want 40 KiB (batches %v)", k, b.text, got)
		}
	}
	if len(batches[1]) != 1 {
		t.Errorf("input 1: %d batches, want 1", len(batches[1]))
	}
}

func sampleLines(r archive.Result) []int64 {
	var lines []int64
	for _, s := range r.Stats.Samples {
		lines = append(lines, s.Line)
	}
	return lines
}

// TestFailedRunReleasesBatches: when the sink fails, the batches other
// inputs were filling across blocks, never sent, still go back to the
// allocator.
func TestFailedRunReleasesBatches(t *testing.T) {
	for trial := range 10 {
		mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
		dir := t.TempDir()
		var srcs []archive.Source
		for i := range 6 {
			srcs = append(srcs, archive.FileSource(writeFile(t, dir, fmt.Sprintf("f%d.log", i), gzipBytes(t, header+records(4000, uint64(i)))), 0))
		}
		var calls atomic.Int64
		failAt := int64(1 + trial%4)
		_, err := archive.Run(context.Background(), srcs, archive.Options{Jobs: 3, CPU: 2, BlockBytes: 8 << 10, BatchBytes: 64 << 10, Allocator: mem},
			func(_ int, b *parser.Batch) error {
				defer b.Release()
				if calls.Add(1) == failAt {
					return errors.New("sink failed")
				}
				return nil
			})
		if err == nil || !strings.Contains(err.Error(), "sink failed") {
			t.Fatalf("trial %d: err %v", trial, err)
		}
		mem.AssertSize(t, 0)
	}
}

// TestSinkWithinCPU: the sink runs within Options.CPU however many inputs
// are open, for the batches an input sends at its end too (a small input's
// only one).
func TestSinkWithinCPU(t *testing.T) {
	dir := t.TempDir()
	var srcs []archive.Source
	for i := range 8 {
		srcs = append(srcs, archive.FileSource(writeFile(t, dir, fmt.Sprintf("f%d.log", i), []byte(header+records(200, uint64(i)))), 0))
	}
	var running, peak atomic.Int64
	_, err := archive.Run(context.Background(), srcs, archive.Options{Jobs: 8, CPU: 1}, func(_ int, b *parser.Batch) error {
		defer b.Release()
		n := running.Add(1)
		for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
		}
		time.Sleep(20 * time.Millisecond)
		running.Add(-1)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if peak.Load() != 1 {
		t.Errorf("CPU 1, and %d sink calls ran at once", peak.Load())
	}
}
