package pipeline_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/klauspost/compress/gzip"

	"github.com/flowlens/flowlens/archive"
	"github.com/flowlens/flowlens/athena"
	"github.com/flowlens/flowlens/athena/pqfile"
	"github.com/flowlens/flowlens/bench"
	"github.com/flowlens/flowlens/parser"
	"github.com/flowlens/flowlens/pipeline"
)

// writeGzipInput writes n generated default-format records as an S3-style
// gzip file and returns its path and text size.
func writeGzipInput(b *testing.B, dir string, n int) (string, int64) {
	b.Helper()
	f := parser.DefaultFormat()
	var text bytes.Buffer
	text.WriteString(f.Header() + "\n")
	gen := bench.NewGenerator(f, 7)
	var line []byte
	for i := 0; i < n; i++ {
		line = append(gen.AppendRecord(line[:0]), '\n')
		text.Write(line)
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(text.Bytes())
	zw.Close()
	path := filepath.Join(dir, "AWSLogs/123456789012/vpcflowlogs/us-east-1/2026/11/01/123456789012_vpcflowlogs_us-east-1_fl-1234abcd_20261101T0000Z_fe123456.log.gz")
	os.MkdirAll(filepath.Dir(path), 0o755)
	if err := os.WriteFile(path, gz.Bytes(), 0o644); err != nil {
		b.Fatal(err)
	}
	return path, int64(text.Len())
}

// BenchmarkAnalyze runs the whole pass, gzip text in and Parquet out, on
// 500,000 default-format records per codec: MB/s of decompressed text,
// records/s and allocations per record. Run it with -cpu 1 for per-core
// figures and with -cpuprofile to see where the time goes.
func BenchmarkAnalyze(b *testing.B) {
	const n = 500_000
	in, textBytes := writeGzipInput(b, b.TempDir(), n)
	srcs, _ := archive.Expand([]string{in})
	for _, codec := range []pqfile.Codec{pqfile.Zstd, pqfile.Snappy, pqfile.Gzip, pqfile.None} {
		b.Run(string(codec), func(b *testing.B) {
			out := b.TempDir()
			b.SetBytes(textBytes)
			b.ReportAllocs()
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			var size int64
			for b.Loop() {
				res, err := pipeline.Analyze(context.Background(), pipeline.Config{
					Inputs: srcs, OutDir: out, Table: athena.TableOptions{Codec: codec},
				})
				if err != nil || res.Totals.Stats.Records != n {
					b.Fatalf("%v, %d records", err, res.Totals.Stats.Records)
				}
				size = res.Manifest.Totals.OutputBytes
			}
			runtime.ReadMemStats(&after)
			b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "records/s")
			b.ReportMetric(float64(after.Mallocs-before.Mallocs)/float64(n*b.N), "allocs/record")
			b.ReportMetric(float64(size)/float64(n), "out-bytes/record")
		})
	}
}
