package s3test_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"

	"github.com/flowlens/flowlens/internal/s3test"
)

// TestServerAndProxy checks that the server stores and lists objects and
// that each fault of the proxy reaches the client as S3 would send it.
func TestServerAndProxy(t *testing.T) {
	srv := s3test.Start(t)
	srv.CreateBucket(t, "bkt")
	data := bytes.Repeat([]byte("0123456789"), 1000)
	etag := srv.Put(t, "bkt", "a/b.log.gz", data)
	if etag == "" {
		t.Fatal("no ETag")
	}
	ctx := context.Background()
	list, err := srv.Client.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("bkt"), Prefix: aws.String("a/")})
	if err != nil || len(list.Contents) != 1 || aws.ToString(list.Contents[0].Key) != "a/b.log.gz" || aws.ToInt64(list.Contents[0].Size) != 10000 {
		t.Fatalf("list: %v %+v", err, list)
	}

	proxy := s3test.NewProxy(t, srv.Endpoint, s3test.Script((*s3test.Request).IsGetObject,
		s3test.Action{Fault: s3test.SlowDown},
		s3test.Action{Fault: s3test.Truncate, After: 1234},
		s3test.Action{Fault: s3test.ResetBody, After: 10},
		s3test.Action{Fault: s3test.Reset},
	))
	client := s3.New(s3.Options{Region: s3test.Region, BaseEndpoint: aws.String(proxy.URL), UsePathStyle: true,
		Credentials: s3test.Credentials(), RetryMaxAttempts: 1})
	get := func() ([]byte, error) {
		out, err := client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("bkt"), Key: aws.String("a/b.log.gz")})
		if err != nil {
			return nil, err
		}
		defer out.Body.Close()
		return io.ReadAll(out.Body)
	}
	_, err = get()
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "SlowDown" {
		t.Fatalf("want SlowDown, got %v", err)
	}
	b, err := get()
	if !errors.Is(err, io.ErrUnexpectedEOF) || len(b) != 1234 || !bytes.Equal(b, data[:1234]) {
		t.Fatalf("truncated: %d bytes, %v", len(b), err)
	}
	b, err = get()
	if err == nil || len(b) != 10 || !strings.Contains(err.Error(), "reset") {
		t.Fatalf("reset in body: %d bytes, %v", len(b), err)
	}
	if _, err = get(); err == nil {
		t.Fatal("reset before response: no error")
	}
	if b, err = get(); err != nil || !bytes.Equal(b, data) {
		t.Fatalf("pass: %d bytes, %v", len(b), err)
	}
	reqs := proxy.Requests()
	if len(reqs) != 5 {
		t.Fatalf("%d requests, want 5: %+v", len(reqs), reqs)
	}
	for i, r := range reqs {
		if r.N != i || !r.IsGetObject() || r.Bucket != "bkt" || r.Key != "a/b.log.gz" {
			t.Fatalf("request %d: %+v", i, r)
		}
	}
}
