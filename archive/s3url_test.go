package archive_test

import (
	"context"
	"strings"
	"testing"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"

	"github.com/flowlens/flowlens/archive"
)

func TestParseS3URL(t *testing.T) {
	for _, c := range []struct{ in, bucket, key string }{
		{"s3://bucket", "bucket", ""},
		{"s3://bucket/", "bucket", ""},
		{"s3://my.bucket-1/logs/AWSLogs/", "my.bucket-1", "logs/AWSLogs/"},
		{"s3://b_legacy/a b/c?d#e", "b_legacy", "a b/c?d#e"}, // keys are not URL-decoded
	} {
		u, err := archive.ParseS3URL(c.in)
		if err != nil || u.Bucket != c.bucket || u.Key != c.key {
			t.Errorf("ParseS3URL(%q) = %+v, %v; want %q %q", c.in, u, err, c.bucket, c.key)
		}
		if u.String() != "s3://"+c.bucket+"/"+c.key {
			t.Errorf("String() = %q", u.String())
		}
	}
	for _, in := range []string{"", "bucket/key", "http://bucket/key", "s3://", "s3:///key", "s3://ab/k", "s3://bad*name/k"} {
		if _, err := archive.ParseS3URL(in); err == nil {
			t.Errorf("ParseS3URL(%q): no error", in)
		}
	}
	if !archive.IsS3URL("s3://b/k") || archive.IsS3URL("/tmp/s3://x") {
		t.Error("IsS3URL")
	}
}

// TestNewS3ClientEndpoint: a malformed endpoint or one holding credentials
// is refused without repeating the secret.
func TestNewS3ClientEndpoint(t *testing.T) {
	ctx := context.Background()
	for _, ep := range []string{"ftp://host", "not a url", "http://user:sekrit@host:9000"} {
		_, err := archive.NewS3Client(ctx, archive.S3Config{EndpointURL: ep, Region: "us-east-1"})
		if err == nil {
			t.Fatalf("endpoint %q accepted", ep)
		}
		if strings.Contains(err.Error(), "sekrit") {
			t.Fatalf("error shows the secret: %v", err)
		}
	}
	c, err := archive.NewS3Client(ctx, archive.S3Config{EndpointURL: "http://127.0.0.1:9", Region: "eu-west-1", PathStyle: true, Concurrency: 7})
	if err != nil {
		t.Fatal(err)
	}
	if o := c.Options(); o.Region != "eu-west-1" || !o.UsePathStyle || *o.BaseEndpoint != "http://127.0.0.1:9" || o.Retryer.MaxAttempts() != archive.DefaultS3MaxAttempts {
		t.Fatalf("options: region %s, path style %v, endpoint %s, attempts %d", o.Region, o.UsePathStyle, *o.BaseEndpoint, o.Retryer.MaxAttempts())
	}
	bc, ok := c.Options().HTTPClient.(*awshttp.BuildableClient)
	if !ok {
		t.Fatalf("HTTP client %T", c.Options().HTTPClient)
	}
	if tr := bc.GetTransport(); tr.MaxConnsPerHost != 7 || tr.MaxIdleConnsPerHost != 7 {
		t.Fatalf("transport: %d connections per host, %d idle; want 7 and 7", tr.MaxConnsPerHost, tr.MaxIdleConnsPerHost)
	}
}
