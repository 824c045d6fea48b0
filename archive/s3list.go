package archive

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"golang.org/x/sync/errgroup"
)

// DefaultLagPad is how much later than a time range's end flow-log files
// are still looked for: AWS delivers a window's records best effort, about
// ten minutes late, sometimes in later files.
const DefaultLagPad = 15 * time.Minute

// fileWindow is the span of a flow-log file: one named T holds records
// whose end is in [T, T+5m).
const fileWindow = 5 * time.Minute

// DefaultS3ListConcurrency is the number of listings ListS3 runs at once.
const DefaultS3ListConcurrency = 8

// S3Query selects the objects ListS3 returns.
type S3Query struct {
	Bucket string
	// Prefix is where to look: "" (the bucket), a folder ("logs/"), a
	// folder inside the AWS layout ("logs/AWSLogs/123456789012/"), or the
	// key of one object, which is returned alone whatever the other fields
	// say. A prefix without a final "/" that is not a key is taken as a
	// folder.
	Prefix string
	// Start and End select the records whose end time is in [Start, End)
	// (UTC): the files that may hold them, a superset, since a file holds
	// records of its 5-minute window and, delivered late, of earlier ones.
	// Both zero means no date range; End zero means now.
	Start, End time.Time
	// Accounts and Regions, when not empty, keep only the objects whose key
	// names one of them.
	Accounts, Regions []string
	// LagPad widens the range's end for late delivery (default
	// DefaultLagPad; negative means none).
	LagPad time.Duration
	// Concurrency is the number of listings run at once (default
	// DefaultS3ListConcurrency).
	Concurrency int
	// Read tunes the reads of the returned sources.
	Read S3ReadOptions
}

// ListS3 returns the objects q selects as sources named s3://bucket/key,
// sorted by key, with their sizes; each source streams its object with
// OpenS3. Nothing selected is an empty list, not an error.
//
// Under the AWS layouts (AWSLogs/[o-org/]{account}/vpcflowlogs/{region}/
// YYYY/MM/DD/[HH/], or its Hive-compatible form aws-account-id=…/
// aws-service=…/aws-region=…/year=…/month=…/day=…[/hour=…]) accounts and
// regions are discovered with delimiter listings and, for a date range, one
// prefix is listed per day, or per hour where the day holds hour folders,
// and files are kept by the time in their names. Without a date range each
// region's folder is listed whole. A prefix without the layout is listed
// whole, its files filtered by the time in their names when they have one.
// The bucket's root is never listed whole, except for a query of the whole
// bucket without a date range where it holds no AWSLogs/ folder.
func ListS3(ctx context.Context, client S3API, q S3Query) ([]Source, error) {
	l, err := newS3Lister(client, q)
	if err != nil {
		return nil, err
	}
	var cancel context.CancelCauseFunc
	l.ctx, cancel = context.WithCancelCause(ctx)
	defer cancel(nil)
	l.cancel = cancel
	single, err := l.start()
	if err != nil {
		return nil, err
	}
	if single != nil {
		return []Source{*single}, nil
	}
	l.walks.Wait() // before the leaves: walks start leaves
	l.leaves.Wait()
	if err := context.Cause(l.ctx); err != nil {
		return nil, err // the first failure, or ctx's
	}
	keys := make([]string, 0, len(l.found))
	for k := range l.found {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	out := make([]Source, len(keys))
	for i, k := range keys {
		out[i] = S3Source(client, q.Bucket, k, l.found[k], q.Read)
	}
	return out, nil
}

type s3Lister struct {
	client   S3API
	q        S3Query
	dated    bool
	lo, hi   time.Time // file-name times wanted: lo < T < hi
	accounts map[string]bool
	regions  map[string]bool
	sem      chan struct{} // requests in flight
	ctx      context.Context
	cancel   context.CancelCauseFunc // with the first error
	// walks discover accounts and regions (a few goroutines); leaves list
	// folders, days and hours (at most Concurrency goroutines). Walks start
	// leaves, leaves never wait for a leaf: no deadlock.
	walks, leaves errgroup.Group
	mu            sync.Mutex
	found         map[string]int64 // key → size
}

func newS3Lister(client S3API, q S3Query) (*s3Lister, error) {
	if !validBucket(q.Bucket) {
		return nil, fmt.Errorf("%q is not a valid bucket name", q.Bucket)
	}
	l := &s3Lister{client: client, q: q, found: map[string]int64{}}
	if !q.Start.IsZero() || !q.End.IsZero() {
		if q.Start.IsZero() {
			return nil, fmt.Errorf("a time range needs a start")
		}
		end := q.End
		if end.IsZero() {
			end = time.Now()
		}
		if !q.Start.Before(end) {
			return nil, fmt.Errorf("time range is empty: start %s is not before end %s", q.Start.UTC().Format(time.RFC3339), end.UTC().Format(time.RFC3339))
		}
		pad := q.LagPad
		if pad == 0 {
			pad = DefaultLagPad
		}
		pad = max(pad, 0)
		l.dated = true
		l.lo = q.Start.UTC().Add(-fileWindow)
		l.hi = end.UTC().Add(pad)
	}
	l.accounts = set(q.Accounts)
	l.regions = set(q.Regions)
	n := q.Concurrency
	if n <= 0 {
		n = DefaultS3ListConcurrency
	}
	l.sem = make(chan struct{}, n)
	l.leaves.SetLimit(n)
	return l, nil
}

func set(list []string) map[string]bool {
	if len(list) == 0 {
		return nil
	}
	m := make(map[string]bool, len(list))
	for _, s := range list {
		m[s] = true
	}
	return m
}

// start resolves the query's prefix and sets off the listings, or returns
// the single object it names.
func (l *s3Lister) start() (*Source, error) {
	prefix := l.q.Prefix
	if prefix != "" && !strings.HasSuffix(prefix, "/") {
		src, err := l.single(prefix)
		if src != nil || err != nil {
			return src, err
		}
		prefix += "/"
	}
	if i := awsLogsIndex(prefix); i >= 0 {
		base := prefix[:i+len("AWSLogs/")]
		rest := strings.Split(strings.TrimSuffix(prefix[len(base):], "/"), "/")
		if rest[0] == "" {
			rest = nil
		}
		l.goWalk(func() error { return l.walk(s3Walk{prefix: base, user: rest, full: prefix}) })
		return nil, nil
	}
	// Probe for the layout below the prefix, which also lists its first level.
	base := prefix + "AWSLogs/"
	segs, files, err := l.children(base)
	if err != nil {
		return nil, err
	}
	if len(segs) > 0 || len(files) > 0 {
		l.goWalk(func() error { return l.descend(s3Walk{prefix: base}, segs) })
		return nil, nil
	}
	if prefix == "" && l.dated {
		return nil, fmt.Errorf("%s holds no AWSLogs/ folder: name the prefix to read", s3Name(l.q.Bucket, ""))
	}
	l.goLeaf(func() error { return l.listAll(prefix) })
	return nil, nil
}

// awsLogsIndex returns where the AWSLogs/ folder starts in prefix, or -1.
func awsLogsIndex(prefix string) int {
	if strings.HasPrefix(prefix, "AWSLogs/") {
		return 0
	}
	if i := strings.LastIndex(prefix, "/AWSLogs/"); i >= 0 {
		return i + 1
	}
	return -1
}

// single returns the object whose key is exactly key, or nil.
func (l *s3Lister) single(key string) (*Source, error) {
	var out *s3.ListObjectsV2Output
	err := l.limit(func() (err error) {
		out, err = l.client.ListObjectsV2(l.ctx, &s3.ListObjectsV2Input{Bucket: &l.q.Bucket, Prefix: &key, MaxKeys: aws.Int32(1)})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("cannot list %s: %w", s3Name(l.q.Bucket, key), err)
	}
	if len(out.Contents) > 0 && aws.ToString(out.Contents[0].Key) == key {
		src := S3Source(l.client, l.q.Bucket, key, aws.ToInt64(out.Contents[0].Size), l.q.Read)
		return &src, nil
	}
	return nil, nil
}

// goWalk runs a walk in a goroutine of its own.
func (l *s3Lister) goWalk(f func() error) { l.walks.Go(func() error { return l.check(f()) }) }

// goLeaf runs a listing in a goroutine of its own, once fewer than
// Concurrency run. Only walks may call it.
func (l *s3Lister) goLeaf(f func() error) { l.leaves.Go(func() error { return l.check(f()) }) }

// tryLeaf runs a listing in a goroutine of its own if fewer than
// Concurrency run, else right away.
func (l *s3Lister) tryLeaf(f func() error) {
	g := func() error { return l.check(f()) }
	if !l.leaves.TryGo(g) {
		g()
	}
}

// check cancels the listing on the first error.
func (l *s3Lister) check(err error) error {
	if err != nil {
		l.cancel(err)
	}
	return err
}

// limit runs one request within the concurrency limit.
func (l *s3Lister) limit(f func() error) error {
	select {
	case l.sem <- struct{}{}:
	case <-l.ctx.Done():
		return l.ctx.Err()
	}
	defer func() { <-l.sem }()
	return f()
}

// pages lists prefix, page by page, with delimiter "/" or none.
func (l *s3Lister) pages(prefix string, delimit bool, each func(*s3.ListObjectsV2Output)) error {
	in := &s3.ListObjectsV2Input{Bucket: &l.q.Bucket, Prefix: aws.String(prefix)}
	if delimit {
		in.Delimiter = aws.String("/")
	}
	p := s3.NewListObjectsV2Paginator(l.client, in)
	for p.HasMorePages() {
		var out *s3.ListObjectsV2Output
		err := l.limit(func() (err error) {
			out, err = p.NextPage(l.ctx)
			return err
		})
		if err != nil {
			return fmt.Errorf("cannot list %s: %w", s3Name(l.q.Bucket, prefix), err)
		}
		each(out)
	}
	return nil
}

// children lists the folder prefix with delimiter "/": the names of its
// subfolders (without the "/") and the objects right in it.
func (l *s3Lister) children(prefix string) (segs []string, files []s3Object, err error) {
	err = l.pages(prefix, true, func(out *s3.ListObjectsV2Output) {
		for _, cp := range out.CommonPrefixes {
			seg := strings.TrimSuffix(strings.TrimPrefix(aws.ToString(cp.Prefix), prefix), "/")
			if seg != "" {
				segs = append(segs, seg)
			}
		}
		for _, o := range out.Contents {
			files = append(files, s3Object{aws.ToString(o.Key), aws.ToInt64(o.Size)})
		}
	})
	return segs, files, err
}

type s3Object struct {
	key  string
	size int64
}

// listAll lists everything under prefix and keeps what the query selects.
func (l *s3Lister) listAll(prefix string) error {
	return l.pages(prefix, false, func(out *s3.ListObjectsV2Output) {
		for _, o := range out.Contents {
			l.keep(aws.ToString(o.Key), aws.ToInt64(o.Size))
		}
	})
}

// keep records an object found if the query selects it: not a folder
// marker, of a wanted account and region, and named with a time in range
// (or without a time in its name).
func (l *s3Lister) keep(key string, size int64) {
	if key == "" || strings.HasSuffix(key, "/") {
		return
	}
	if l.accounts != nil || l.regions != nil {
		k := ParseKey(key)
		if l.accounts != nil && !l.accounts[k.Account] || l.regions != nil && !l.regions[k.Region] {
			return
		}
	}
	if l.dated {
		if t, ok := nameTime(key); ok && (!t.After(l.lo) || !t.Before(l.hi)) {
			return
		}
	}
	l.mu.Lock()
	l.found[key] = size
	l.mu.Unlock()
}

// nameTime returns the time in a flow-log file name, if it has one.
func nameTime(key string) (time.Time, bool) {
	m := fileName.FindStringSubmatch(key[strings.LastIndexByte(key, '/')+1:])
	if m == nil {
		return time.Time{}, false
	}
	t, err := time.Parse("20060102T1504Z", m[3])
	return t, err == nil
}
