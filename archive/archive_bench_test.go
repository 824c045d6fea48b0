package archive_test

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/flowlens/flowlens/archive"
	"github.com/flowlens/flowlens/bench"
	"github.com/flowlens/flowlens/parser"
)

const benchRecords = 200_000

func benchText(b *testing.B, format string) []byte {
	b.Helper()
	fm, err := parser.ParseLogFormat(format)
	if err != nil {
		b.Fatal(err)
	}
	var sb strings.Builder
	sb.WriteString(fm.Header() + "\n")
	for _, l := range bench.NewGenerator(fm, 1).Lines(benchRecords) {
		sb.WriteString(l)
		sb.WriteByte('\n')
	}
	return []byte(sb.String())
}

// fileSource writes data to a temporary file: the benchmark reads what a
// run reads, a local file (from the page cache).
func fileSource(b *testing.B, data []byte) archive.Source {
	path := filepath.Join(b.TempDir(), "input.log.gz")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		b.Fatal(err)
	}
	return archive.FileSource(path, int64(len(data)))
}

// runOnce reads src through archive.Run and returns the records parsed.
func runOnce(b *testing.B, src archive.Source) int64 {
	res, err := archive.Run(context.Background(), []archive.Source{src}, archive.Options{Jobs: 1},
		func(_ int, batch *parser.Batch) error { batch.Release(); return nil })
	if err != nil || res[0].Err != nil || res[0].Stats.Invalid != 0 {
		b.Fatalf("run: %v %v %+v", err, res[0].Err, res[0].Stats.Samples)
	}
	return res[0].Stats.Records
}

// gunzipOnce inflates gz with the decompressor Run uses, the ceiling of a
// read.
func gunzipOnce(b *testing.B, gz []byte, buf []byte) {
	zr, err := archive.Gunzip(bytes.NewReader(gz))
	if err != nil {
		b.Fatal(err)
	}
	for {
		_, err := zr.Read(buf)
		if err == io.EOF {
			zr.Close()
			return
		}
		if err != nil {
			b.Fatal(err)
		}
	}
}

// benchRead measures the whole streaming read (open, gunzip when
// compressed, cut blocks, parse) in MB/s of decompressed text, records/s and
// allocations per record. For gzip input it also times bare gunzip of the
// same data in the same loop and reports parse+gunzip throughput as a share
// of it ("x-gunzip").
func benchRead(b *testing.B, format string, compressed bool) {
	text := benchText(b, format)
	data := text
	if compressed {
		data = gzipBytes(b, string(text))
	}
	buf := make([]byte, 1<<20)
	src := fileSource(b, data)
	runOnce(b, src)
	b.SetBytes(int64(len(text)))
	b.ReportAllocs()
	var records int64
	var gunzipTime, runTime time.Duration
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for b.Loop() {
		t0 := time.Now()
		records += runOnce(b, src)
		runTime += time.Since(t0)
		if compressed {
			b.StopTimer()
			t1 := time.Now()
			gunzipOnce(b, data, buf)
			gunzipTime += time.Since(t1)
			b.StartTimer()
		}
	}
	runtime.ReadMemStats(&after)
	b.ReportMetric(float64(records)/runTime.Seconds(), "records/s")
	b.ReportMetric(float64(after.Mallocs-before.Mallocs)/float64(records), "allocs/record")
	if compressed {
		b.ReportMetric(gunzipTime.Seconds()/runTime.Seconds(), "x-gunzip")
		b.ReportMetric(float64(len(text))*float64(b.N)/gunzipTime.Seconds()/1e6, "gunzip-MB/s")
	}
}

const v5Format = "${version} ${srcaddr} ${dstaddr} ${srcport} ${dstport} ${protocol} ${start} ${end} ${type} ${packets} ${bytes} ${account-id} ${vpc-id} ${subnet-id} ${instance-id} ${interface-id} ${region} ${az-id} ${sublocation-type} ${sublocation-id} ${action} ${tcp-flags} ${pkt-srcaddr} ${pkt-dstaddr} ${pkt-src-aws-service} ${pkt-dst-aws-service} ${traffic-path} ${flow-direction} ${log-status}"

func BenchmarkReadDefaultPlain(b *testing.B) { benchRead(b, parser.DefaultLogFormat, false) }
func BenchmarkReadDefaultGzip(b *testing.B)  { benchRead(b, parser.DefaultLogFormat, true) }
func BenchmarkReadV5Plain(b *testing.B)      { benchRead(b, v5Format, false) }
func BenchmarkReadV5Gzip(b *testing.B)       { benchRead(b, v5Format, true) }
