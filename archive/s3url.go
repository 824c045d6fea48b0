package archive

import (
	"fmt"
	"strings"
)

// S3URL is an S3 location: a bucket and a key or key prefix.
type S3URL struct {
	Bucket string
	Key    string // a key, a prefix ending in "/", or "" for the whole bucket
}

// String returns the location as s3://bucket/key.
func (u S3URL) String() string { return s3Name(u.Bucket, u.Key) }

// s3Name is how objects are named in sources, reports and errors.
func s3Name(bucket, key string) string { return "s3://" + bucket + "/" + key }

// IsS3URL reports whether s names an S3 location (s3://…).
func IsS3URL(s string) bool { return strings.HasPrefix(s, "s3://") }

// ParseS3URL splits "s3://bucket/prefix/" into its bucket and key prefix.
// The key is taken as written (S3 URLs are not percent-encoded): "s3://b"
// and "s3://b/" name the whole bucket.
func ParseS3URL(s string) (S3URL, error) {
	rest, ok := strings.CutPrefix(s, "s3://")
	if !ok {
		return S3URL{}, fmt.Errorf("%q is not an s3:// URL", s)
	}
	bucket, key, _ := strings.Cut(rest, "/")
	if bucket == "" {
		return S3URL{}, fmt.Errorf("%q names no bucket", s)
	}
	if !validBucket(bucket) {
		return S3URL{}, fmt.Errorf("%q: %q is not a valid bucket name", s, bucket)
	}
	return S3URL{Bucket: bucket, Key: key}, nil
}

// validBucket checks the characters and length of a bucket name (3 to 63
// characters of lowercase letters, digits, dots and hyphens; legacy buckets
// may also hold uppercase letters and underscores).
func validBucket(b string) bool {
	if len(b) < 3 || len(b) > 255 {
		return false
	}
	for _, c := range b {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '.', c == '-', c == '_':
		default:
			return false
		}
	}
	return true
}
