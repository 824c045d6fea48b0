package archive_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/flowlens/flowlens/archive"
	"github.com/flowlens/flowlens/internal/s3test"
	"github.com/flowlens/flowlens/parser"
)

// BenchmarkS3Read reads the same 16 gzip flow-log objects (20,000
// default-format records each) through archive.Run, 4 at a time, from disk
// and from a local versitygw: MB/s of stored (gzip) bytes, objects/s and
// records/s.
func BenchmarkS3Read(b *testing.B) {
	const objects, perObject, jobs = 16, 20_000, 4
	srv := s3test.Start(b)
	srv.CreateBucket(b, "bench")
	dir := b.TempDir()
	stored := map[string][]byte{}
	var files []archive.Source
	var total int64
	for i := range objects {
		data := gzipBytes(b, header+records(perObject, uint64(i+1)))
		name := fmt.Sprintf("%s_vpcflowlogs_us-east-1_fl-0123_20261101T%02d%02dZ_%08x.log.gz", acct1, i/12, i%12*5, i)
		stored["bench/"+name] = data
		files = append(files, archive.FileSource(writeFileTB(b, dir, name, data), int64(len(data))))
		total += int64(len(data))
	}
	srv.PutMany(b, "bench", stored)
	client, err := archive.NewS3Client(context.Background(), archive.S3Config{
		Region: s3test.Region, EndpointURL: srv.Endpoint, PathStyle: true, Credentials: s3test.Credentials(), Concurrency: jobs,
	})
	if err != nil {
		b.Fatal(err)
	}
	remote, err := archive.ListS3(context.Background(), client, archive.S3Query{Bucket: "bench", Prefix: "bench/"})
	if err != nil || len(remote) != objects {
		b.Fatalf("list: %v, %d objects", err, len(remote))
	}
	for _, c := range []struct {
		name string
		srcs []archive.Source
	}{{"disk", files}, {"versitygw", remote}} {
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(total)
			b.ReportAllocs()
			var recs int64
			for b.Loop() {
				res, err := archive.Run(context.Background(), c.srcs, archive.Options{Jobs: jobs},
					func(_ int, batch *parser.Batch) error { batch.Release(); return nil })
				if err != nil {
					b.Fatal(err)
				}
				for _, r := range res {
					if r.Err != nil || r.Stats.Records != perObject {
						b.Fatalf("%s: %v, %d records", r.Source, r.Err, r.Stats.Records)
					}
					recs += r.Stats.Records
				}
			}
			b.ReportMetric(float64(objects*b.N)/b.Elapsed().Seconds(), "objects/s")
			b.ReportMetric(float64(recs)/b.Elapsed().Seconds(), "records/s")
		})
	}
}

func writeFileTB(b *testing.B, dir, name string, data []byte) string {
	b.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		b.Fatal(err)
	}
	return path
}
