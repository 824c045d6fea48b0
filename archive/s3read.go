package archive

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// ErrObjectChanged is wrapped by the error of a read that was resumed and
// found the object replaced since it was opened (another ETag): the bytes
// read so far and the rest would belong to different versions.
var ErrObjectChanged = errors.New("object changed while being read")

// S3ReadOptions tune how objects are read. Zero values take the defaults.
type S3ReadOptions struct {
	// MaxResumes bounds the resumptions in a row that receive no byte: a
	// body that breaks again before delivering anything counts against it,
	// one that delivers resets the count (default 5).
	MaxResumes int
	// BaseDelay is the longest wait before the first resumption; it doubles
	// with each failure in a row up to MaxDelay, and the wait is drawn at
	// random below it (full jitter). Defaults 100 ms and 5 s.
	BaseDelay, MaxDelay time.Duration
	// OnResume, if set, is called before each resumption with the object's
	// name (s3://bucket/key), the offset the read resumes from and the error
	// that broke the previous body: for logs and tests.
	OnResume func(name string, offset int64, err error)
}

func (o S3ReadOptions) withDefaults() S3ReadOptions {
	if o.MaxResumes <= 0 {
		o.MaxResumes = 5
	}
	if o.BaseDelay <= 0 {
		o.BaseDelay = 100 * time.Millisecond
	}
	if o.MaxDelay <= 0 {
		o.MaxDelay = 5 * time.Second
	}
	return o
}

// S3Source returns the Source of one object, named s3://bucket/key, whose
// Open streams it with OpenS3.
func S3Source(client S3API, bucket, key string, size int64, ro S3ReadOptions) Source {
	return Source{
		Name: s3Name(bucket, key),
		Size: size,
		Open: func(ctx context.Context) (io.ReadCloser, error) {
			return OpenS3(ctx, client, bucket, key, ro)
		},
	}
}

// OpenS3 starts a GetObject and returns its body as a stream. When the body
// breaks before its Content-Length (reset, timeout, early end), the stream
// resumes with a ranged GET from the first byte not yet delivered, on
// condition that the object still has the ETag of the first response
// (If-Match): a replaced object fails with ErrObjectChanged rather than
// splicing two versions. Every byte is delivered exactly once. Requests are
// retried by the client's retryer (throttling, 5xx, resets before a
// response); a request that still fails ends the read, as do
// ro.MaxResumes resumptions in a row that receive nothing. ctx bounds the
// whole read, resumptions included. Errors name the object.
func OpenS3(ctx context.Context, client S3API, bucket, key string, ro S3ReadOptions) (io.ReadCloser, error) {
	r := &s3Reader{ctx: ctx, client: client, bucket: bucket, key: key, name: s3Name(bucket, key), ro: ro.withDefaults(), size: -1}
	out, err := client.GetObject(ctx, &s3.GetObjectInput{Bucket: &bucket, Key: &key})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", r.name, err)
	}
	r.body = out.Body
	r.etag = aws.ToString(out.ETag)
	if out.ContentLength != nil {
		r.size = *out.ContentLength
	}
	return r, nil
}

// s3Reader is the resumable body of one object.
type s3Reader struct {
	ctx         context.Context
	client      S3API
	bucket, key string
	name        string
	ro          S3ReadOptions
	body        io.ReadCloser // nil between a break and the resumption
	off         int64         // bytes delivered
	size        int64         // the object's size, -1 when unknown
	etag        string        // of the first response
	failures    int           // breaks in a row without a byte received
	broke       error         // what broke the last body
	err         error         // sticky: the stream is over
}

func (r *s3Reader) Read(p []byte) (int, error) {
	if r.err != nil {
		return 0, r.err
	}
	if len(p) == 0 {
		return 0, nil
	}
	for {
		if r.body == nil {
			if err := r.resume(); err != nil {
				r.err = err
				return 0, err
			}
		}
		n, err := r.body.Read(p)
		r.off += int64(n)
		if n > 0 {
			r.failures = 0
		}
		if err == nil {
			return n, nil
		}
		if errors.Is(err, io.EOF) {
			if r.size < 0 || r.off == r.size {
				r.err = io.EOF
				return n, io.EOF
			}
			if r.off > r.size {
				r.err = fmt.Errorf("%s: %d bytes received, more than its %d", r.name, r.off, r.size)
				return n, r.err
			}
			err = io.ErrUnexpectedEOF
		}
		if cerr := r.ctx.Err(); cerr != nil {
			r.err = cerr
			return n, r.err
		}
		if r.size >= 0 && r.off >= r.size {
			// Every byte arrived and the body still failed (a checksum
			// mismatch, say): reading again would not help.
			r.err = fmt.Errorf("%s: %w", r.name, err)
			return n, r.err
		}
		r.body.Close()
		r.body = nil
		r.broke = err
		r.failures++
		if n > 0 {
			return n, nil
		}
	}
}

// resume waits, then opens the rest of the object from r.off.
func (r *s3Reader) resume() error {
	if r.failures > r.ro.MaxResumes {
		return fmt.Errorf("%s: gave up after %d failed resumptions at byte %d of %d: %w", r.name, r.ro.MaxResumes, r.off, r.size, r.broke)
	}
	if r.ro.OnResume != nil {
		r.ro.OnResume(r.name, r.off, r.broke)
	}
	if err := sleepCtx(r.ctx, jitter(r.ro.BaseDelay, r.ro.MaxDelay, r.failures)); err != nil {
		return err
	}
	in := &s3.GetObjectInput{Bucket: &r.bucket, Key: &r.key, Range: aws.String("bytes=" + strconv.FormatInt(r.off, 10) + "-")}
	if r.etag != "" {
		in.IfMatch = aws.String(r.etag)
	}
	out, err := r.client.GetObject(r.ctx, in)
	if err != nil {
		var re *awshttp.ResponseError
		if errors.As(err, &re) && re.HTTPStatusCode() == 412 {
			return r.changed("")
		}
		return fmt.Errorf("%s: cannot resume at byte %d after %v: %w", r.name, r.off, r.broke, err)
	}
	if etag := aws.ToString(out.ETag); r.etag != "" && etag != "" && etag != r.etag {
		out.Body.Close()
		return r.changed(etag)
	}
	start, total, ok := parseContentRange(aws.ToString(out.ContentRange))
	switch {
	case ok && (start != r.off || (r.size >= 0 && total != r.size)):
		out.Body.Close()
		return fmt.Errorf("%s: asked for bytes from %d of %d, got Content-Range %q", r.name, r.off, r.size, aws.ToString(out.ContentRange))
	case !ok:
		// The store ignored the range and sent the whole object: skip
		// what was delivered already.
		if _, err := io.CopyN(io.Discard, out.Body, r.off); err != nil {
			out.Body.Close()
			r.broke = err
			r.failures++
			return r.resume()
		}
	}
	r.body = out.Body
	return nil
}

func (r *s3Reader) changed(etag string) error {
	now := ""
	if etag != "" {
		now = ", now " + etag
	}
	return fmt.Errorf("%s: %w (ETag %s when opened%s; %d of %d bytes read)", r.name, ErrObjectChanged, r.etag, now, r.off, r.size)
}

func (r *s3Reader) Close() error {
	if r.err == nil {
		r.err = fmt.Errorf("%s: read after close", r.name)
	}
	if r.body != nil {
		err := r.body.Close()
		r.body = nil
		return err
	}
	return nil
}

// parseContentRange reads "bytes start-end/total".
func parseContentRange(s string) (start, total int64, ok bool) {
	s, ok = strings.CutPrefix(s, "bytes ")
	if !ok {
		return 0, 0, false
	}
	rng, tot, ok := strings.Cut(s, "/")
	if !ok {
		return 0, 0, false
	}
	first, _, ok := strings.Cut(rng, "-")
	if !ok {
		return 0, 0, false
	}
	start, err1 := strconv.ParseInt(first, 10, 64)
	total, err2 := strconv.ParseInt(tot, 10, 64)
	if tot == "*" {
		total, err2 = -1, nil
	}
	return start, total, err1 == nil && err2 == nil
}

// jitter returns a random wait below min(base*2^(n-1), max).
func jitter(base, max time.Duration, n int) time.Duration {
	d := base
	for i := 1; i < n && d < max; i++ {
		d *= 2
	}
	d = min(d, max)
	return time.Duration(rand.Int64N(int64(d) + 1))
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
