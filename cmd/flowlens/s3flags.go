package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"math"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/flowlens/flowlens/archive"
	"github.com/flowlens/flowlens/athena"
	"github.com/flowlens/flowlens/parser"
)

// s3Flags are analyze's flags for S3 input and output and for sharding.
type s3Flags struct {
	start, end      string
	accounts        string
	regions         string
	awsRegion       string
	profile         string
	endpoint        string
	pathStyle       bool
	attempts        int
	sse, sseKMSKey  string
	shard           string
	shardI, shardN  int
	startT, endT    time.Time
	client          *s3.Client
	accountList     []string
	regionFilterSet []string
}

// s3Error marks errors of S3 itself (listing, credentials), which are
// failures rather than usage errors.
type s3Error struct{ error }

func (e s3Error) Unwrap() error { return e.error }

func addS3Flags(fs *flag.FlagSet) *s3Flags {
	f := &s3Flags{}
	fs.StringVar(&f.start, "start", "", "with s3:// inputs, the first time to read (UTC: 2026-11-01, 2026-11-01T00:00Z or RFC 3339)")
	fs.StringVar(&f.end, "end", "", "with s3:// inputs, the time to read up to, excluded (default now); files up to 15 minutes later are read for delivery lag, and only records whose start is in [--start, --end) are kept")
	fs.StringVar(&f.accounts, "account", "", "with s3:// inputs, only these account ids (comma-separated)")
	fs.StringVar(&f.regions, "region", "", "with s3:// inputs, only these flow-log regions (comma-separated)")
	fs.StringVar(&f.awsRegion, "s3-region", "", "the buckets' AWS region (default: AWS_REGION or the profile's, else us-east-1)")
	fs.StringVar(&f.profile, "profile", "", "AWS shared config profile (default: AWS_PROFILE or default); credentials come from the standard chain")
	fs.StringVar(&f.endpoint, "endpoint-url", "", "an S3-compatible store instead of AWS, e.g. http://127.0.0.1:7070")
	fs.BoolVar(&f.pathStyle, "path-style", false, "address buckets as endpoint/bucket (most S3-compatible stores need it)")
	fs.IntVar(&f.attempts, "s3-attempts", archive.DefaultS3MaxAttempts, "attempts per S3 request (throttling, 5xx and broken connections are retried with backoff)")
	fs.StringVar(&f.sse, "sse", "", "with --out s3://..., server-side encryption of the files written: AES256 or aws:kms")
	fs.StringVar(&f.sseKMSKey, "sse-kms-key-id", "", "with --sse aws:kms, the KMS key (default the AWS managed key)")
	fs.StringVar(&f.shard, "shard", "", "process shard I of N of the objects (I/N, 0-based), or N with I from AWS_BATCH_JOB_ARRAY_INDEX or JOB_COMPLETION_INDEX")
	return f
}

// validate checks the flags that need no network.
func (f *s3Flags) validate() error {
	var err error
	if f.start != "" {
		if f.startT, err = parseTime(f.start); err != nil {
			return fmt.Errorf("--start: %w", err)
		}
	}
	if f.end != "" {
		if f.endT, err = parseTime(f.end); err != nil {
			return fmt.Errorf("--end: %w", err)
		}
		if f.startT.IsZero() {
			return fmt.Errorf("--end needs --start")
		}
		if !f.endT.After(f.startT) {
			return fmt.Errorf("--end %s is not after --start %s", f.end, f.start)
		}
	}
	if f.attempts < 1 {
		return fmt.Errorf("--s3-attempts must be at least 1")
	}
	if err := athena.ValidateSSE(f.sse, f.sseKMSKey); err != nil {
		return fmt.Errorf("--sse: %w", err)
	}
	if f.shard != "" {
		if f.shardI, f.shardN, err = archive.ParseShard(f.shard, nil); err != nil {
			return err
		}
	}
	f.accountList, f.regionFilterSet = splitList(f.accounts), splitList(f.regions)
	return nil
}

// starts is the range of record start times to keep: [--start, --end),
// with no end when --end is not given; none without --start.
func (f *s3Flags) starts() parser.TimeRange {
	if f.startT.IsZero() {
		return parser.TimeRange{}
	}
	r := parser.TimeRange{From: f.startT.Unix(), To: math.MaxInt64}
	if !f.endT.IsZero() {
		r.To = f.endT.Unix()
	}
	return r
}

// shardLabel is the shard's label for file names, or "".
func (f *s3Flags) shardLabel() string {
	if f.shard == "" {
		return ""
	}
	return athena.ShardLabel(f.shardI, f.shardN)
}

func splitList(s string) []string {
	var out []string
	for _, v := range strings.Split(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}

// parseTime reads a UTC date, date and minute, or RFC 3339 time.
func parseTime(s string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339, "2006-01-02T15:04Z07:00", "2006-01-02T15Z07:00", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not a time such as 2026-11-01, 2026-11-01T00:00Z or 2026-11-01T00:00:00Z", s)
}

// s3Client returns the client, made at first use with a connection pool
// for downloads transfers at once.
func (f *s3Flags) s3Client(ctx context.Context, downloads int) (*s3.Client, error) {
	if f.client != nil {
		return f.client, nil
	}
	c, err := archive.NewS3Client(ctx, archive.S3Config{Region: f.awsRegion, Profile: f.profile, EndpointURL: f.endpoint,
		PathStyle: f.pathStyle, Concurrency: downloads, MaxAttempts: f.attempts})
	if err != nil {
		return nil, err
	}
	f.client = c
	return c, nil
}

// sources turns the arguments into sources: local files, directories and
// globs (less the directories skip), and s3:// locations enumerated for the
// date range, an object reached by two of them once (as Expand does for
// files); then keeps this run's shard.
func (f *s3Flags) sources(ctx context.Context, args []string, downloads int, log *slog.Logger, skip ...string) ([]archive.Source, error) {
	var local []string
	var out []archive.Source
	seen := map[string]bool{}
	repeated := 0
	for _, arg := range args {
		if !archive.IsS3URL(arg) {
			local = append(local, arg)
			continue
		}
		u, err := archive.ParseS3URL(arg)
		if err != nil {
			return nil, err
		}
		client, err := f.s3Client(ctx, downloads)
		if err != nil {
			return nil, s3Error{err}
		}
		began := time.Now()
		log.Info("listing", "location", arg, "start", f.start, "end", f.end)
		srcs, err := archive.ListS3(ctx, client, archive.S3Query{Bucket: u.Bucket, Prefix: u.Key, Start: f.startT, End: f.endT,
			Accounts: f.accountList, Regions: f.regionFilterSet})
		if err != nil {
			return nil, s3Error{err}
		}
		var size int64
		for _, s := range srcs {
			size += s.Size
		}
		log.Info("listed", "location", arg, "objects", len(srcs), "stored_mb", float64(size)/1e6, "seconds", time.Since(began).Seconds())
		if len(srcs) == 0 && f.startT.IsZero() {
			return nil, fmt.Errorf("no flow-log object in %s", arg)
		}
		if len(srcs) == 0 {
			rng := "--start " + f.start
			if f.end != "" {
				rng += " --end " + f.end
			}
			return nil, fmt.Errorf("no flow-log object in %s for %s", arg, rng)
		}
		for _, s := range srcs {
			if seen[s.Name] {
				repeated++
				continue
			}
			seen[s.Name] = true
			out = append(out, s)
		}
	}
	if repeated > 0 {
		log.Warn("objects reached by more than one input are read once", "objects", repeated)
	}
	if len(local) > 0 {
		if !f.startT.IsZero() || len(f.accountList) > 0 || len(f.regionFilterSet) > 0 {
			return nil, fmt.Errorf("--start, --end, --account and --region select S3 objects; local inputs are taken whole")
		}
		srcs, outputs, err := archive.ExpandInputs(local, skip...)
		if err != nil {
			return nil, err
		}
		for _, o := range outputs {
			log.Warn("not read: a flowlens output, not flow logs", "directory", o)
		}
		out = append(out, srcs...)
	}
	if f.shard != "" {
		out = archive.Shard(out, f.shardI, f.shardN)
	}
	return out, nil
}

// store returns the S3 store of an s3:// --out, or nil for a directory.
func (f *s3Flags) store(ctx context.Context, out string, downloads int) (athena.Store, error) {
	if !archive.IsS3URL(out) {
		if f.sse != "" {
			return nil, fmt.Errorf("--sse applies to --out s3://... only")
		}
		return nil, nil
	}
	u, err := archive.ParseS3URL(out)
	if err != nil {
		return nil, err
	}
	if u.Key != "" && !strings.HasSuffix(u.Key, "/") {
		u.Key += "/"
	}
	client, err := f.s3Client(ctx, downloads)
	if err != nil {
		return nil, s3Error{err}
	}
	return &athena.S3Store{Client: client, Bucket: u.Bucket, Prefix: u.Key, SSE: f.sse, KMSKeyID: f.sseKMSKey}, nil
}
