package pipeline_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/flowlens/flowlens/aggregate"
	"github.com/flowlens/flowlens/archive"
	"github.com/flowlens/flowlens/athena"
	"github.com/flowlens/flowlens/bench"
	"github.com/flowlens/flowlens/detect"
	"github.com/flowlens/flowlens/internal/s3test"
	"github.com/flowlens/flowlens/pipeline"
	"github.com/flowlens/flowlens/report"
)

// s3Corpus generates a one-hour labelled corpus, uploads it under
// s3://logs/archive/ and returns its local sources.
func s3Corpus(t *testing.T, srv *s3test.Server) []archive.Source {
	t.Helper()
	dir := t.TempDir()
	if _, err := bench.GenerateCorpus(bench.CorpusConfig{Dir: dir, Seed: 5, Hours: 1}); err != nil {
		t.Fatal(err)
	}
	srcs, err := archive.Expand([]string{filepath.Join(dir, "AWSLogs")})
	if err != nil {
		t.Fatal(err)
	}
	srv.CreateBucket(t, "logs")
	objects := map[string][]byte{}
	for _, s := range srcs {
		data, err := os.ReadFile(s.Name)
		if err != nil {
			t.Fatal(err)
		}
		rel, _ := filepath.Rel(dir, s.Name)
		objects["archive/"+filepath.ToSlash(rel)] = data
	}
	srv.PutMany(t, "logs", objects)
	return srcs
}

func s3Client(t *testing.T, endpoint string) *s3.Client {
	t.Helper()
	c, err := archive.NewS3Client(context.Background(), archive.S3Config{Region: s3test.Region, EndpointURL: endpoint,
		PathStyle: true, Credentials: s3test.Credentials(), Concurrency: 8, MaxBackoff: 5 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// listS3 enumerates the corpus from S3 by its date range.
func listS3(t *testing.T, client archive.S3API) []archive.Source {
	t.Helper()
	srcs, err := archive.ListS3(context.Background(), client, archive.S3Query{Bucket: "logs", Prefix: "archive/",
		Start: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), End: time.Date(2026, 11, 1, 1, 0, 0, 0, time.UTC),
		Read: archive.S3ReadOptions{BaseDelay: time.Millisecond, MaxDelay: 5 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	return srcs
}

// download copies every object under prefix into a local directory.
func download(t *testing.T, client *s3.Client, bucket, prefix string) (string, []string) {
	t.Helper()
	dir := t.TempDir()
	var keys []string
	p := s3.NewListObjectsV2Paginator(client, &s3.ListObjectsV2Input{Bucket: &bucket, Prefix: &prefix})
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range page.Contents {
			key := aws.ToString(o.Key)
			keys = append(keys, strings.TrimPrefix(key, prefix))
			out, err := client.GetObject(context.Background(), &s3.GetObjectInput{Bucket: &bucket, Key: &key})
			if err != nil {
				t.Fatal(err)
			}
			data, err := io.ReadAll(out.Body)
			out.Body.Close()
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(dir, filepath.FromSlash(strings.TrimPrefix(key, prefix)))
			os.MkdirAll(filepath.Dir(path), 0o755)
			if err := os.WriteFile(path, data, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	slices.Sort(keys)
	return dir, keys
}

// tableRows reads the manifest's files and renders each table's rows,
// sorted, by table name.
func tableRows(t *testing.T, dir string, m *athena.Manifest) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	for _, tm := range m.Tables {
		one := *m
		one.Tables = []athena.TableManifest{tm}
		rows := readOutput(t, dir, &one)
		var cols []string
		for c := range rowsColumns(rows) {
			cols = append(cols, c)
		}
		slices.Sort(cols)
		out[tm.Name] = append(out[tm.Name], canonical(rows, cols)...)
		slices.Sort(out[tm.Name])
	}
	return out
}

func rowsColumns(rows []map[string]string) map[string]bool {
	cols := map[string]bool{}
	for _, r := range rows {
		for c := range r {
			cols[c] = true
		}
	}
	return cols
}

// TestS3InAndOut reads a date range of an archive from S3 through a proxy
// that throttles, resets and truncates downloads, and writes the tables
// back to S3 with multipart uploads: the output equals a clean local run
// of the same files, every object under the output prefix is listed in the
// manifest (plus athena.sql and the manifest), and large files went up in
// parts.
func TestS3InAndOut(t *testing.T) {
	srv := s3test.Start(t)
	local := s3Corpus(t, srv)
	srv.CreateBucket(t, "out")
	cfg := pipeline.Config{Aggregate: &aggregate.Config{}, Detect: &detect.Config{}, Read: archive.Options{Jobs: 4}, Report: true}

	clean := cfg
	clean.Inputs, clean.OutDir = local, t.TempDir()
	want, err := pipeline.Analyze(context.Background(), clean)
	if err != nil {
		t.Fatal(err)
	}

	var faults []s3test.Action
	for i := range 40 {
		switch i % 4 {
		case 0:
			faults = append(faults, s3test.Action{Fault: s3test.SlowDown})
		case 1:
			faults = append(faults, s3test.Action{Fault: s3test.Truncate, After: int64(200 + 17*i)})
		case 2:
			faults = append(faults, s3test.Action{Fault: s3test.ResetBody, After: int64(50 * i)})
		}
	}
	proxy := s3test.NewProxy(t, srv.Endpoint, s3test.Script((*s3test.Request).IsGetObject, faults...))
	client := s3Client(t, proxy.URL)
	srcs := listS3(t, client)
	if len(srcs) != len(local) {
		t.Fatalf("listed %d objects, the corpus has %d", len(srcs), len(local))
	}
	proxy.SetSchedule(s3test.Script((*s3test.Request).IsGetObject, faults...))
	run := cfg
	run.Inputs = srcs
	run.Store = &athena.S3Store{Client: client, Bucket: "out", Prefix: "flowlens/", PartSize: 5 << 20,
		MultipartAbove: 256 << 10, SSE: "AES256"}
	got, err := pipeline.Analyze(context.Background(), run)
	if err != nil {
		t.Fatal(err)
	}
	if got.Totals.Stats.Records != want.Totals.Stats.Records || got.Totals.Failed != 0 {
		t.Fatalf("S3 run read %d records (%d inputs failed), local %d", got.Totals.Stats.Records, got.Totals.Failed, want.Totals.Stats.Records)
	}
	dir, keys := download(t, srv.Client, "out", "flowlens/")
	wantKeys := []string{athena.DDLName, athena.ManifestName, report.Name}
	for _, tm := range got.Manifest.Tables {
		for _, f := range tm.Files {
			wantKeys = append(wantKeys, f.Path)
		}
	}
	for _, f := range got.Manifest.Files {
		wantKeys = append(wantKeys, f.Path)
	}
	slices.Sort(wantKeys)
	if !slices.Equal(keys, wantKeys) {
		t.Fatalf("objects under the output prefix:\n%v\nmanifest lists:\n%v", keys, wantKeys)
	}
	m, err := athena.ReadManifest(dir)
	if err != nil || m.RunID != got.RunID {
		t.Fatalf("manifest in S3: %v, %+v", err, m)
	}
	gotRows, wantRows := tableRows(t, dir, m), tableRows(t, clean.OutDir, want.Manifest)
	if len(gotRows) != 6 {
		t.Fatalf("%d tables", len(gotRows))
	}
	for name, rows := range wantRows {
		if !slices.Equal(gotRows[name], rows) {
			t.Errorf("table %s: %d rows from S3, %d locally, or different values", name, len(gotRows[name]), len(rows))
		}
	}
	// The report put beside the output is the one flowlens report makes
	// of the committed output.
	put, err := os.ReadFile(filepath.Join(dir, report.Name))
	if err != nil || got.Report != "s3://out/flowlens/"+report.Name {
		t.Fatalf("report %q: %v", got.Report, err)
	}
	if _, err := report.Write(dir); err != nil {
		t.Fatal(err)
	}
	put = bytes.ReplaceAll(put, []byte(run.Store.Location()), []byte(dir)) // where each thinks the output is
	if made, _ := os.ReadFile(filepath.Join(dir, report.Name)); !bytes.Equal(put, made) || !bytes.Contains(put, []byte("<svg")) {
		t.Errorf("the report in S3 (%d bytes) is not the report of the output in S3 (%d bytes)", len(put), len(made))
	}
	gotFindings, _ := os.ReadFile(filepath.Join(dir, pipeline.FindingsFile))
	wantFindings, _ := os.ReadFile(filepath.Join(clean.OutDir, pipeline.FindingsFile))
	if len(wantFindings) == 0 || string(gotFindings) != string(wantFindings) {
		t.Errorf("findings differ: %d and %d bytes", len(gotFindings), len(wantFindings))
	}
	var parts, gets int
	for _, r := range proxy.Requests() {
		if r.Method == "PUT" && r.Query.Has("partNumber") {
			parts++
		}
		if r.IsGetObject() {
			gets++
		}
	}
	if parts < 1 || gets <= len(srcs) {
		t.Errorf("%d parts uploaded, %d GETs for %d objects: want multipart uploads and resumed downloads", parts, gets, len(srcs))
	}
}

// cancellingClient cancels the run's context during the first part upload.
type cancellingClient struct {
	athena.S3Client
	cancel context.CancelFunc
	parts  atomic.Int32
}

func (c *cancellingClient) UploadPart(ctx context.Context, in *s3.UploadPartInput, opts ...func(*s3.Options)) (*s3.UploadPartOutput, error) {
	if c.parts.Add(1) == 1 {
		c.cancel()
	}
	return c.S3Client.UploadPart(ctx, in, opts...)
}

// TestS3CommitCancelled: a run cancelled while uploading aborts its
// multipart uploads, deletes what it had put and leaves no manifest; over
// a previous output, it leaves that output as it was.
func TestS3CommitCancelled(t *testing.T) {
	srv := s3test.Start(t)
	local := s3Corpus(t, srv)
	srv.CreateBucket(t, "out")
	run := func(prefix string, client athena.S3Client, ctx context.Context) (*pipeline.Result, error) {
		return pipeline.Analyze(ctx, pipeline.Config{Inputs: local, Aggregate: &aggregate.Config{},
			Store: &athena.S3Store{Client: client, Bucket: "out", Prefix: prefix, MultipartAbove: 256 << 10}})
	}
	list := func(prefix string) []string {
		_, keys := download(t, srv.Client, "out", prefix)
		return keys
	}
	uploads := func() int {
		out, err := srv.Client.ListMultipartUploads(context.Background(), &s3.ListMultipartUploadsInput{Bucket: aws.String("out")})
		if err != nil {
			t.Fatal(err)
		}
		return len(out.Uploads)
	}

	ctx, cancel := context.WithCancel(context.Background())
	_, err := run("fresh/", &cancellingClient{S3Client: srv.Client, cancel: cancel}, ctx)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled run: %v", err)
	}
	if keys := list("fresh/"); len(keys) != 0 || uploads() != 0 {
		t.Fatalf("after a cancelled run: objects %v, %d multipart uploads in progress", keys, uploads())
	}

	first, err := run("kept/", srv.Client, context.Background())
	if err != nil {
		t.Fatal(err)
	}
	before := list("kept/")
	ctx, cancel = context.WithCancel(context.Background())
	if _, err := run("kept/", &cancellingClient{S3Client: srv.Client, cancel: cancel}, ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled rerun: %v", err)
	}
	dir, after := download(t, srv.Client, "out", "kept/")
	m, err := athena.ReadManifest(dir)
	if err != nil || m.RunID != first.RunID || !slices.Equal(before, after) || uploads() != 0 {
		t.Fatalf("after a cancelled rerun: manifest %v (run %v, want %s), objects %d then %d, %d uploads in progress",
			err, m, first.RunID, len(before), len(after), uploads())
	}
}

// TestShardsUnion: three shards of a job write into one S3 output; the
// union of their files holds exactly the rows of a single run, and a
// rerun of one shard replaces only that shard's files.
func TestShardsUnion(t *testing.T) {
	srv := s3test.Start(t)
	local := s3Corpus(t, srv)
	srv.CreateBucket(t, "out")
	singleDir := t.TempDir()
	single, err := pipeline.Analyze(context.Background(), pipeline.Config{Inputs: local, OutDir: singleDir})
	if err != nil {
		t.Fatal(err)
	}
	wantRows := tableRows(t, singleDir, single.Manifest)[athena.FlowsTable]
	srcs := listS3(t, srv.Client)
	const n = 3
	runShard := func(i int) *pipeline.Result {
		res, err := pipeline.Analyze(context.Background(), pipeline.Config{Inputs: archive.Shard(srcs, i, n),
			Store: &athena.S3Store{Client: srv.Client, Bucket: "out", Prefix: "job/"}, Shard: athena.ShardLabel(i, n)})
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	union := func() []string {
		dir, keys := download(t, srv.Client, "out", "job/")
		var rows []string
		manifests := 0
		for _, k := range keys {
			if !strings.HasPrefix(k, "_manifest.") {
				continue
			}
			manifests++
			data, err := os.ReadFile(filepath.Join(dir, k))
			if err != nil {
				t.Fatal(err)
			}
			m := &athena.Manifest{}
			if err := json.Unmarshal(data, m); err != nil {
				t.Fatal(err)
			}
			rows = append(rows, tableRows(t, dir, m)[athena.FlowsTable]...)
		}
		if manifests != n {
			t.Fatalf("%d shard manifests: %v", manifests, keys)
		}
		slices.Sort(rows)
		return rows
	}
	var records int64
	for i := range n {
		records += runShard(i).Totals.Stats.Records
	}
	if records != single.Totals.Stats.Records {
		t.Fatalf("shards read %d records, a single run %d", records, single.Totals.Stats.Records)
	}
	if got := union(); !slices.Equal(got, wantRows) {
		t.Fatalf("the shards' union has %d flow rows, a single run %d", len(got), len(wantRows))
	}
	runShard(1)
	if got := union(); !slices.Equal(got, wantRows) {
		t.Fatalf("after rerunning shard 1 the union has %d flow rows, a single run %d", len(got), len(wantRows))
	}
	// Shards rerun at once see each other's uploads and clean-ups in the
	// middle of their commits: none takes them for a stranger's files.
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			_, errs[i] = pipeline.Analyze(context.Background(), pipeline.Config{Inputs: archive.Shard(srcs, i, n),
				Store: &athena.S3Store{Client: srv.Client, Bucket: "out", Prefix: "job/"}, Shard: athena.ShardLabel(i, n)})
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatalf("shards rerun at once: %v", err)
	}
	if got := union(); !slices.Equal(got, wantRows) {
		t.Fatalf("after rerunning the shards at once the union has %d flow rows, a single run %d", len(got), len(wantRows))
	}
	// A shard of a job split another way, or an unsharded run, would count
	// the same records again: both are refused, and the union is intact.
	store := &athena.S3Store{Client: srv.Client, Bucket: "out", Prefix: "job/"}
	_, err = pipeline.Analyze(context.Background(), pipeline.Config{Inputs: archive.Shard(srcs, 0, 2), Store: store, Shard: athena.ShardLabel(0, 2)})
	if err == nil || !strings.Contains(err.Error(), "split another way") {
		t.Errorf("shard 0 of 2 beside 3 shards: %v", err)
	}
	if _, err = pipeline.Analyze(context.Background(), pipeline.Config{Inputs: srcs, Store: store}); err == nil || !strings.Contains(err.Error(), "output of a sharded job") {
		t.Errorf("an unsharded run beside 3 shards: %v", err)
	}
	if got := union(); !slices.Equal(got, wantRows) {
		t.Fatalf("after the refused runs the union has %d flow rows, a single run %d", len(got), len(wantRows))
	}
}

// TestS3OutputCheckedFirst: a run into a bucket it cannot write fails
// before reading any input (it read everything and failed at its commit),
// naming the location; a writable one is left without the check's object.
func TestS3OutputCheckedFirst(t *testing.T) {
	srv := s3test.Start(t)
	srv.CreateBucket(t, "out")
	client := s3Client(t, srv.Endpoint)
	srcs, err := archive.Expand([]string{"../testdata"})
	if err != nil {
		t.Fatal(err)
	}
	var read atomic.Int64
	for i := range srcs {
		open := srcs[i].Open
		srcs[i].Open = func(ctx context.Context) (io.ReadCloser, error) { read.Add(1); return open(ctx) }
	}
	res, err := pipeline.Analyze(context.Background(), pipeline.Config{Inputs: srcs,
		Store: &athena.S3Store{Client: client, Bucket: "missing-bucket", Prefix: "x/"}})
	if err == nil || !strings.Contains(err.Error(), "cannot write to s3://missing-bucket/x/") || read.Load() != 0 || res != nil {
		t.Fatalf("run into a missing bucket: %v, %d inputs read", err, read.Load())
	}
	if _, err := pipeline.Analyze(context.Background(), pipeline.Config{Inputs: srcs,
		Store: &athena.S3Store{Client: client, Bucket: "out", Prefix: "y/"}}); err != nil {
		t.Fatal(err)
	}
	if read.Load() != int64(len(srcs)) {
		t.Errorf("%d inputs read, want %d", read.Load(), len(srcs))
	}
	out, err := client.ListObjectsV2(context.Background(), &s3.ListObjectsV2Input{Bucket: aws.String("out"), Prefix: aws.String("y/")})
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range out.Contents {
		if strings.Contains(*o.Key, "write-check") {
			t.Errorf("the check's object %s was left", *o.Key)
		}
	}
	// A file under a table's prefix that no manifest lists would be read
	// by Athena with the table: the next run refuses the location before
	// reading anything; a console "folder" object and hidden files are no
	// such file.
	srv.Put(t, "out", "y/flows/", nil)
	srv.Put(t, "out", "y/flows/region=us-east-1/_SUCCESS", nil)
	rerun := func() error {
		_, err := pipeline.Analyze(context.Background(), pipeline.Config{Inputs: srcs,
			Store: &athena.S3Store{Client: client, Bucket: "out", Prefix: "y/"}})
		return err
	}
	if err := rerun(); err != nil {
		t.Fatalf("a folder object and a hidden file: %v", err)
	}
	read.Store(0)
	srv.Put(t, "out", "y/flows/region=us-east-1/date=2026-01-01/copied.parquet", []byte("PAR1"))
	err = rerun()
	if err == nil || !strings.Contains(err.Error(), "s3://out/y/flows/region=us-east-1/date=2026-01-01/copied.parquet was not written by flowlens") || read.Load() != 0 {
		t.Fatalf("a foreign file under the flows table: %v, %d inputs read", err, read.Load())
	}
}

// racingStore is an S3 store on which another run puts its lease just
// after this run puts its own, within the pause before reading it back.
type racingStore struct {
	*athena.S3Store
	srv *s3test.Server
	t   *testing.T
}

func (s *racingStore) Put(ctx context.Context, rel, path string) error {
	err := s.S3Store.Put(ctx, rel, path)
	if rel == "_run-in-progress.json" {
		s.srv.Put(s.t, s.Bucket, s.Prefix+rel, fmt.Appendf(nil, `{"run_id":"other","host":"h2","pid":7,"refreshed":%q}`, time.Now().UTC().Format(time.RFC3339Nano)))
	}
	return err
}

// TestS3OneRunAtATime: a run into an S3 location another live run holds
// fails before reading anything, naming that run; once it is gone, or its
// lease has gone unrefreshed for minutes (killed), a run proceeds. Of two
// runs that put their leases at once, the one whose lease was overwritten
// gives way.
func TestS3OneRunAtATime(t *testing.T) {
	srv := s3test.Start(t)
	srv.CreateBucket(t, "out")
	srcs, err := archive.Expand([]string{"../testdata"})
	if err != nil {
		t.Fatal(err)
	}
	store := &athena.S3Store{Client: srv.Client, Bucket: "out", Prefix: "x/", LeaseSettle: 20 * time.Millisecond}
	analyze := func(st athena.Store) error {
		_, err := pipeline.Analyze(context.Background(), pipeline.Config{Inputs: srcs, Store: st})
		return err
	}
	holder, err := athena.OpenStoreOutput(store, "holder", "")
	if err != nil {
		t.Fatal(err)
	}
	if err := holder.TakeLease(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := analyze(store); !errors.Is(err, athena.ErrOutputBusy) || !strings.Contains(err.Error(), "run holder") {
		t.Fatalf("beside a live run: %v", err)
	}
	holder.Abort()
	if err := analyze(store); err != nil {
		t.Fatalf("after the other run: %v", err)
	}
	srv.Put(t, "out", "x/_run-in-progress.json", fmt.Appendf(nil, `{"run_id":"killed","refreshed":%q}`, time.Now().Add(-time.Hour).UTC().Format(time.RFC3339Nano)))
	if err := analyze(store); err != nil {
		t.Fatalf("beside a killed run's lease: %v", err)
	}
	if err := analyze(&racingStore{S3Store: store, srv: srv, t: t}); !errors.Is(err, athena.ErrOutputBusy) || !strings.Contains(err.Error(), "run other") {
		t.Fatalf("racing another run: %v", err)
	}
	leaseLeft := func() bool {
		_, err := store.Read(context.Background(), "_run-in-progress.json")
		return err == nil
	}
	// The other run's lease stays; the run that gave way deleted nothing.
	if data, err := store.Read(context.Background(), "_run-in-progress.json"); err != nil || !strings.Contains(string(data), `"run_id":"other"`) {
		t.Fatalf("after giving way: lease %s, %v", data, err)
	}
	store.Delete(context.Background(), []string{"_run-in-progress.json"})

	// Cancelled while it waits to read its lease back, a run leaves none.
	slow := *store
	slow.LeaseSettle = time.Second
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	cut, _ := athena.OpenStoreOutput(&slow, "cut", "")
	if err := cut.TakeLease(ctx); !errors.Is(err, context.DeadlineExceeded) || leaseLeft() {
		t.Fatalf("cancelled while settling: %v, lease left %v", err, leaseLeft())
	}
	cut.Abort()

	// A run whose lease another run took over commits nothing.
	over, _ := athena.OpenStoreOutput(store, "over", "")
	if err := over.TakeLease(context.Background()); err != nil {
		t.Fatal(err)
	}
	srv.Put(t, "out", "x/_run-in-progress.json", fmt.Appendf(nil, `{"run_id":"newer","refreshed":%q}`, time.Now().UTC().Format(time.RFC3339Nano)))
	before, _ := store.Read(context.Background(), athena.ManifestName)
	if err := over.Commit(context.Background(), &athena.Manifest{RunID: "over"}, "ddl"); !errors.Is(err, athena.ErrOutputBusy) || !strings.Contains(err.Error(), "run newer") {
		t.Fatalf("commit after losing the lease: %v", err)
	}
	over.Abort()
	if after, _ := store.Read(context.Background(), athena.ManifestName); !bytes.Equal(before, after) {
		t.Fatal("a run that lost its lease changed the manifest")
	}

	// A shard beside a running unsharded run (no manifest yet) is refused.
	fresh := &athena.S3Store{Client: srv.Client, Bucket: "out", Prefix: "fresh/", LeaseSettle: 20 * time.Millisecond}
	whole, _ := athena.OpenStoreOutput(fresh, "whole", "")
	if err := whole.TakeLease(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer whole.Abort()
	_, err = pipeline.Analyze(context.Background(), pipeline.Config{Inputs: srcs, Store: fresh, Shard: athena.ShardLabel(0, 2)})
	if err == nil || !strings.Contains(err.Error(), "_run-in-progress.json") {
		t.Fatalf("a shard beside a running unsharded run: %v", err)
	}
}
