package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/flowlens/flowlens/internal/s3test"
)

// TestAnalyzeS3 runs the command on the shipped S3-layout sample uploaded
// to a real S3-compatible server, credentials from the environment as the
// AWS chain reads them, output to S3: every object in the range is read
// (the same counts as from disk), the manifest is uploaded, and the secret
// appears nowhere in what the command prints.
func TestAnalyzeS3(t *testing.T) {
	srv := s3test.Start(t)
	srv.CreateBucket(t, "logs")
	srv.CreateBucket(t, "lake")
	root := filepath.Join("..", "..", "testdata", "s3")
	objects := map[string][]byte{}
	filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			data, _ := os.ReadFile(path)
			rel, _ := filepath.Rel(root, path)
			objects["flowlogs/"+filepath.ToSlash(rel)] = data
		}
		return err
	})
	srv.PutMany(t, "logs", objects)
	t.Setenv("AWS_ACCESS_KEY_ID", s3test.AccessKey)
	t.Setenv("AWS_SECRET_ACCESS_KEY", s3test.SecretKey)
	t.Setenv("AWS_REGION", s3test.Region)
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))

	var disk bytes.Buffer
	if code := run([]string{"analyze", "--quiet", root}, &disk, &disk); code != exitOK {
		t.Fatalf("from disk: exit %d\n%s", code, disk.String())
	}
	var diskInputs, diskRecords int
	fmt.Sscanf(disk.String()[strings.Index(disk.String(), "total: "):], "total: %d inputs (0 failed), %d records", &diskInputs, &diskRecords)

	var out, errb bytes.Buffer
	code := run([]string{"analyze", "s3://logs/flowlogs/", "--start", "2026-11-01", "--end", "2026-11-02",
		"--endpoint-url", srv.Endpoint, "--path-style", "--out", "s3://lake/flowlens/", "--sse", "AES256", "--quiet"}, &out, &errb)
	printed := out.String() + errb.String()
	// The records the S3 run keeps and those it skips for a start outside
	// the day are the records read from disk.
	var inputs, records, skipped int
	fmt.Sscanf(out.String()[strings.Index(out.String(), "total: "):], "total: %d inputs (0 failed), %d records", &inputs, &records)
	if i := strings.Index(out.String(), "start outside --start/--end: "); i >= 0 {
		fmt.Sscanf(out.String()[i:], "start outside --start/--end: %d", &skipped)
	}
	if code != exitOK || inputs != diskInputs || records+skipped != diskRecords || skipped == 0 || records == 0 {
		t.Fatalf("exit %d, %d inputs, %d records and %d skipped; from disk %d inputs, %d records\n%s", code, inputs, records, skipped, diskInputs, diskRecords, printed)
	}
	if strings.Contains(printed, s3test.SecretKey) {
		t.Fatal("the secret key was printed")
	}
	got, err := srv.Client.GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String("lake"), Key: aws.String("flowlens/_manifest.json")})
	if err != nil {
		t.Fatalf("no manifest uploaded: %v", err)
	}
	got.Body.Close()

	// An object reached by two inputs (a prefix and a deeper one, or one
	// key twice) is read once, and the run says so.
	out.Reset()
	errb.Reset()
	code = run([]string{"analyze", "s3://logs/flowlogs/", "s3://logs/flowlogs/AWSLogs/", "--start", "2026-11-01", "--end", "2026-11-02",
		"--endpoint-url", srv.Endpoint, "--path-style", "--quiet"}, &out, &errb)
	var twiceInputs, twiceRecords int
	fmt.Sscanf(out.String()[strings.Index(out.String(), "total: "):], "total: %d inputs (0 failed), %d records", &twiceInputs, &twiceRecords)
	if code != exitOK || twiceInputs != inputs || twiceRecords != records || !strings.Contains(errb.String(), "objects reached by more than one input are read once") {
		t.Fatalf("inputs named twice: exit %d, %d inputs, %d records; want %d, %d\n%s%s", code, twiceInputs, twiceRecords, inputs, records, out.String(), errb.String())
	}

	// An unreachable store is a failure (exit 1) naming the bucket, not a usage error.
	out.Reset()
	errb.Reset()
	code = run([]string{"analyze", "s3://logs/flowlogs/", "--start", "2026-11-01", "--endpoint-url", "http://127.0.0.1:1", "--path-style", "--s3-attempts", "1"}, &out, &errb)
	if code != exitFailed || !strings.Contains(errb.String(), "s3://logs/") || strings.Contains(errb.String(), s3test.SecretKey) {
		t.Fatalf("unreachable store: exit %d\n%s%s", code, out.String(), errb.String())
	}
	// Usage errors stay usage errors.
	for _, args := range [][]string{
		{"analyze", "s3://logs/", "--start", "yesterday"},
		{"analyze", "s3://logs/", "--start", "2026-11-02", "--end", "2026-11-01"},
		{"analyze", "s3://logs/", "--start", "2026-11-01", "--shard", "3/3"},
		{"analyze", root, "--out", t.TempDir(), "--sse", "AES256"},
		{"analyze", root, "--start", "2026-11-01"},
	} {
		if code := run(args, &out, &errb); code != exitUsage {
			t.Errorf("%v: exit %d, want %d", args, code, exitUsage)
		}
	}
}
