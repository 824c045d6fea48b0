package athena

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"golang.org/x/sync/errgroup"
)

// S3Client is the part of *s3.Client that committing to S3 uses.
type S3Client interface {
	GetObject(ctx context.Context, in *s3.GetObjectInput, optFns ...func(*s3.Options)) (*s3.GetObjectOutput, error)
	PutObject(ctx context.Context, in *s3.PutObjectInput, optFns ...func(*s3.Options)) (*s3.PutObjectOutput, error)
	CreateMultipartUpload(ctx context.Context, in *s3.CreateMultipartUploadInput, optFns ...func(*s3.Options)) (*s3.CreateMultipartUploadOutput, error)
	UploadPart(ctx context.Context, in *s3.UploadPartInput, optFns ...func(*s3.Options)) (*s3.UploadPartOutput, error)
	CompleteMultipartUpload(ctx context.Context, in *s3.CompleteMultipartUploadInput, optFns ...func(*s3.Options)) (*s3.CompleteMultipartUploadOutput, error)
	AbortMultipartUpload(ctx context.Context, in *s3.AbortMultipartUploadInput, optFns ...func(*s3.Options)) (*s3.AbortMultipartUploadOutput, error)
	DeleteObjects(ctx context.Context, in *s3.DeleteObjectsInput, optFns ...func(*s3.Options)) (*s3.DeleteObjectsOutput, error)
	ListObjectsV2(ctx context.Context, in *s3.ListObjectsV2Input, optFns ...func(*s3.Options)) (*s3.ListObjectsV2Output, error)
}

// DefaultPartSize is the size of multipart upload parts; by default files up
// to it go up in one PUT.
const DefaultPartSize = 16 << 20

// S3Store commits an output under an S3 prefix: files above PartSize as
// multipart uploads (an upload is visible only once completed, and is
// aborted on any failure or cancellation), smaller ones in one PUT, with
// optional server-side encryption.
type S3Store struct {
	Client   S3Client
	Bucket   string
	Prefix   string // "" or ending in '/'
	SSE      string // "", "AES256" or "aws:kms"
	KMSKeyID string // with SSE aws:kms, the key; "" for the AWS managed key
	PartSize int64  // default DefaultPartSize; at least 5 MiB on AWS
	// MultipartAbove is the size above which files go up in parts
	// (default PartSize).
	MultipartAbove int64
	// LeaseSettle is how long a run waits between putting its lease and
	// reading it back (default DefaultLeaseSettle).
	LeaseSettle time.Duration
}

// ValidateSSE reports an unsupported encryption setting.
func ValidateSSE(sse, kmsKeyID string) error {
	switch sse {
	case "", "AES256", "aws:kms":
	default:
		return fmt.Errorf("server-side encryption %q is not AES256 or aws:kms", sse)
	}
	if kmsKeyID != "" && sse != "aws:kms" {
		return fmt.Errorf("a KMS key id needs server-side encryption aws:kms")
	}
	return nil
}

func (s *S3Store) key(rel string) string { return s.Prefix + rel }

func (s *S3Store) leaseSettle() time.Duration { return cmp.Or(s.LeaseSettle, DefaultLeaseSettle) }

// Location returns s3://bucket/prefix/.
func (s *S3Store) Location() string { return "s3://" + s.Bucket + "/" + s.Prefix }

// List returns the names of the objects directly under the prefix (not
// under a further '/') that start with prefix.
func (s *S3Store) List(ctx context.Context, prefix string) ([]string, error) {
	return s.names(ctx, prefix, aws.String("/"))
}

// Walk returns the objects whose key is path or begins with path and '/'.
// Zero-byte "folder" objects (keys ending in '/', as the S3 console makes)
// are not files and are left out.
func (s *S3Store) Walk(ctx context.Context, path string) ([]string, error) {
	names, err := s.names(ctx, path, nil)
	return slices.DeleteFunc(names, func(rel string) bool {
		return rel != path && !strings.HasPrefix(rel, path+"/") || strings.HasSuffix(rel, "/")
	}), err
}

// names lists the objects whose key, relative to the store, starts with
// prefix (with delimiter, none under a further one).
func (s *S3Store) names(ctx context.Context, prefix string, delimiter *string) ([]string, error) {
	var out []string
	p := s3.NewListObjectsV2Paginator(s.Client, &s3.ListObjectsV2Input{Bucket: &s.Bucket, Prefix: aws.String(s.key(prefix)), Delimiter: delimiter})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("cannot list %s%s: %w", s.Location(), prefix, err)
		}
		for _, o := range page.Contents {
			out = append(out, strings.TrimPrefix(aws.ToString(o.Key), s.Prefix))
		}
	}
	return out, nil
}

// Read returns a committed object. A download cut off midway (the SDK
// retries requests, not bodies) is tried again, up to readAttempts times.
func (s *S3Store) Read(ctx context.Context, rel string) ([]byte, error) {
	var err error
	for range readAttempts {
		var out *s3.GetObjectOutput
		out, err = s.Client.GetObject(ctx, &s3.GetObjectInput{Bucket: &s.Bucket, Key: aws.String(s.key(rel))})
		if err != nil {
			if notFound(err) {
				return nil, fmt.Errorf("%s%s: %w", s.Location(), rel, fs.ErrNotExist)
			}
			return nil, fmt.Errorf("%s%s: %w", s.Location(), rel, err)
		}
		var data []byte
		data, err = io.ReadAll(out.Body)
		out.Body.Close()
		if err == nil || ctx.Err() != nil {
			return data, err
		}
	}
	return nil, fmt.Errorf("%s%s: %w", s.Location(), rel, err)
}

// readAttempts bounds the downloads of an object that Read tries.
const readAttempts = 5

func notFound(err error) bool {
	var nsk *types.NoSuchKey
	var re *awshttp.ResponseError
	return errors.As(err, &nsk) || errors.As(err, &re) && re.HTTPStatusCode() == http.StatusNotFound
}

func (s *S3Store) sse() (types.ServerSideEncryption, *string) {
	var key *string
	if s.KMSKeyID != "" {
		key = aws.String(s.KMSKeyID)
	}
	return types.ServerSideEncryption(s.SSE), key
}

// cancelGrace is how long a request already sent may still run once the
// run is cancelled.
const cancelGrace = 30 * time.Second

// withGrace returns a context for requests: cancelled cancelGrace after
// ctx is, so that a request in flight can finish (its outcome known, for
// the undo) but a stalled one does not hold a cancelled run for ever.
func withGrace(ctx context.Context) (context.Context, context.CancelFunc) {
	g, cancel := context.WithCancel(context.WithoutCancel(ctx))
	stop := context.AfterFunc(ctx, func() { time.AfterFunc(cancelGrace, cancel) })
	return g, func() { stop(); cancel() }
}

// Put uploads the file at path as rel. Cancelling ctx stops the upload
// between requests: a request already sent is let finish for up to
// cancelGrace, so that whatever the store has is known to the caller, which
// can then delete it (a request abandoned midway may still complete on the
// server after the caller's clean-up).
func (s *S3Store) Put(ctx context.Context, rel, path string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	req, done := withGrace(ctx)
	defer done()
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	part := s.PartSize
	if part <= 0 {
		part = DefaultPartSize
	}
	above := s.MultipartAbove
	if above <= 0 {
		above = part
	}
	sse, kmsKey := s.sse()
	if st.Size() <= above {
		_, err := s.Client.PutObject(req, &s3.PutObjectInput{Bucket: &s.Bucket, Key: aws.String(s.key(rel)), Body: f,
			ContentLength: aws.Int64(st.Size()), ServerSideEncryption: sse, SSEKMSKeyId: kmsKey})
		return err
	}
	return s.multipart(ctx, req, s.key(rel), f, st.Size(), part)
}

// multipart uploads f in parts, four at a time, and completes the upload,
// or aborts it; requests run under req (see Put), ctx says when to stop.
func (s *S3Store) multipart(ctx, req context.Context, key string, f *os.File, size, part int64) (err error) {
	sse, kmsKey := s.sse()
	up, err := s.Client.CreateMultipartUpload(req, &s3.CreateMultipartUploadInput{Bucket: &s.Bucket, Key: &key,
		ServerSideEncryption: sse, SSEKMSKeyId: kmsKey})
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			abort, cancel := context.WithTimeout(context.WithoutCancel(ctx), cancelGrace)
			defer cancel()
			_, aerr := s.Client.AbortMultipartUpload(abort,
				&s3.AbortMultipartUploadInput{Bucket: &s.Bucket, Key: &key, UploadId: up.UploadId})
			if aerr != nil {
				err = errors.Join(err, fmt.Errorf("cannot abort the upload: %w", aerr))
			}
		}
	}()
	n := int((size + part - 1) / part)
	parts := make([]types.CompletedPart, n)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(4)
	for i := range n {
		g.Go(func() error {
			if err := gctx.Err(); err != nil {
				return err
			}
			off := int64(i) * part
			length := min(part, size-off)
			out, err := s.Client.UploadPart(req, &s3.UploadPartInput{Bucket: &s.Bucket, Key: &key, UploadId: up.UploadId,
				PartNumber: aws.Int32(int32(i + 1)), Body: io.NewSectionReader(f, off, length), ContentLength: aws.Int64(length)})
			if err != nil {
				return fmt.Errorf("part %d: %w", i+1, err)
			}
			// ETags only: completing with checksums the upload did not
			// declare is refused (aws-sdk-go-v2#3005).
			parts[i] = types.CompletedPart{ETag: out.ETag, PartNumber: aws.Int32(int32(i + 1))}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	_, err = s.Client.CompleteMultipartUpload(req, &s3.CompleteMultipartUploadInput{Bucket: &s.Bucket, Key: &key,
		UploadId: up.UploadId, MultipartUpload: &types.CompletedMultipartUpload{Parts: parts}})
	return err
}

// Delete removes objects, a thousand per request.
func (s *S3Store) Delete(ctx context.Context, rels []string) error {
	for len(rels) > 0 {
		n := min(len(rels), 1000)
		ids := make([]types.ObjectIdentifier, n)
		for i, rel := range rels[:n] {
			ids[i] = types.ObjectIdentifier{Key: aws.String(s.key(rel))}
		}
		out, err := s.Client.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: &s.Bucket,
			Delete: &types.Delete{Objects: ids, Quiet: aws.Bool(true)}})
		if err != nil {
			return err
		}
		if len(out.Errors) > 0 {
			var msgs []string
			for _, e := range out.Errors {
				msgs = append(msgs, aws.ToString(e.Key)+": "+aws.ToString(e.Message))
			}
			return fmt.Errorf("cannot delete %s", strings.Join(msgs, "; "))
		}
		rels = rels[n:]
	}
	return nil
}
