package archive_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/flowlens/flowlens/archive"
	"github.com/flowlens/flowlens/internal/s3test"
)

// flowObject is a gzip flow-log file of n records.
func flowObject(t testing.TB, n int, seed uint64) []byte {
	return gzipBytes(t, header+records(n, seed))
}

// TestS3ReadResumes reads an object through every fault of the proxy: the
// bytes read equal the object's, each break in the body is resumed once
// with a ranged GET from the first missing byte pinned to the ETag, and
// throttling, 500s and resets before a response are retried by the client.
func TestS3ReadResumes(t *testing.T) {
	srv := s3test.Start(t)
	srv.CreateBucket(t, "bkt")
	data := flowObject(t, 3000, 1)
	key := "AWSLogs/" + acct1 + "/vpcflowlogs/us-east-1/2026/11/01/" + acct1 + "_vpcflowlogs_us-east-1_fl-0123_20261101T0000Z_00000001.log.gz"
	etag := srv.Put(t, "bkt", key, data)
	proxy := s3test.NewProxy(t, srv.Endpoint, s3test.Script((*s3test.Request).IsGetObject,
		s3test.Action{Fault: s3test.SlowDown},
		s3test.Action{Fault: s3test.Truncate, After: 1000}, // resumption 1, at 1000
		s3test.Action{Fault: s3test.Reset},
		s3test.Action{Fault: s3test.ResetBody, After: 5000}, // resumption 2, at 6000
		s3test.Action{Fault: s3test.InternalError},
		s3test.Action{Fault: s3test.Truncate, After: 1}, // resumption 3, at 6001
		s3test.Action{Fault: s3test.Truncate, After: 0}, // resumption 4, at 6001, nothing received
	))
	client := s3Client(t, proxy.URL)
	var resumes []int64
	ro := fastRead
	ro.OnResume = func(name string, off int64, err error) {
		if name != "s3://bkt/"+key || err == nil {
			t.Errorf("OnResume(%q, %d, %v)", name, off, err)
		}
		resumes = append(resumes, off)
	}
	rc, err := archive.OpenS3(context.Background(), client, "bkt", key, ro)
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(rc)
	rc.Close()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, data) {
		t.Fatalf("read %d bytes, want the object's %d", len(got), len(data))
	}
	if want := []int64{1000, 6000, 6001, 6001}; !slices.Equal(resumes, want) {
		t.Fatalf("resumed at %v, want %v", resumes, want)
	}
	var ranges []string
	for _, r := range proxy.Requests() {
		if !r.IsGetObject() {
			t.Fatalf("unexpected request %+v", r)
		}
		ranges = append(ranges, r.Range)
		if r.Range != "" && r.IfMatch != etag {
			t.Errorf("request %d: If-Match %q, want %q", r.N, r.IfMatch, etag)
		}
	}
	want := []string{"", "", "bytes=1000-", "bytes=1000-", "bytes=6000-", "bytes=6000-", "bytes=6001-", "bytes=6001-"}
	if !slices.Equal(ranges, want) {
		t.Fatalf("GETs with ranges %q, want %q", ranges, want)
	}
}

// TestS3RunThroughFaults reads several objects with archive.Run through a
// proxy that breaks many bodies: every input's records equal those read
// from the same bytes on disk (none lost, none repeated), and the number of
// resumptions is the number of bodies broken.
func TestS3RunThroughFaults(t *testing.T) {
	srv := s3test.Start(t)
	srv.CreateBucket(t, "bkt")
	dir := t.TempDir()
	objects := map[string][]byte{}
	var files []archive.Source
	for i := range 6 {
		data := flowObject(t, 600+50*i, uint64(i+10))
		if len(data) < 12*1000 {
			t.Fatalf("object of %d bytes, too small for the faults", len(data))
		}
		key := fmt.Sprintf("logs/%02d.log.gz", i)
		objects[key] = data
		files = append(files, archive.FileSource(writeFile(t, dir, filepath.Base(key), data), int64(len(data))))
	}
	srv.PutMany(t, "bkt", objects)
	// Every body is cut within its first 1,000 bytes and no object is
	// smaller than 12 cuts of that: each cut breaks a body.
	var actions []s3test.Action
	broken := 0
	for i := range 30 {
		switch i % 5 {
		case 0:
			actions = append(actions, s3test.Action{Fault: s3test.SlowDown})
		case 1:
			actions = append(actions, s3test.Action{Fault: s3test.Truncate, After: int64(100 + 31*i)})
			broken++
		case 2:
			actions = append(actions, s3test.Action{Fault: s3test.Reset})
		case 3:
			actions = append(actions, s3test.Action{Fault: s3test.ResetBody, After: int64(3 * i)})
			broken++
		case 4:
			actions = append(actions, s3test.Action{Fault: s3test.InternalError})
		}
	}
	proxy := s3test.NewProxy(t, srv.Endpoint, s3test.Script((*s3test.Request).IsGetObject, actions...))
	client := s3Client(t, proxy.URL)
	var resumes atomic.Int64
	ro := fastRead
	ro.OnResume = func(string, int64, error) { resumes.Add(1) }
	srcs, err := archive.ListS3(context.Background(), client, archive.S3Query{Bucket: "bkt", Prefix: "logs/", Read: ro})
	if err != nil || len(srcs) != 6 {
		t.Fatalf("list: %v, %d objects", err, len(srcs))
	}
	for _, jobs := range []int{1, 4} {
		resumes.Store(0)
		proxy.SetSchedule(s3test.Script((*s3test.Request).IsGetObject, actions...))
		res, texts := collect(t, srcs, archive.Options{Jobs: jobs})
		wantRes, wantTexts := collect(t, files, archive.Options{Jobs: jobs})
		for i := range res {
			if res[i].Err != nil {
				t.Fatalf("jobs %d: %v", jobs, res[i].Err)
			}
			if res[i].Stats.Records != wantRes[i].Stats.Records || texts[i] != wantTexts[i] || res[i].StoredBytes != int64(len(objects[fmt.Sprintf("logs/%02d.log.gz", i)])) {
				t.Fatalf("jobs %d, %s: %d records, %d bytes read; want %d records as on disk", jobs, res[i].Source, res[i].Stats.Records, res[i].StoredBytes, wantRes[i].Stats.Records)
			}
		}
		if got := resumes.Load(); got != int64(broken) {
			t.Fatalf("jobs %d: %d resumptions, want %d", jobs, got, broken)
		}
	}
}

// TestS3ObjectReplaced: an object replaced between a broken body and its
// resumption fails with ErrObjectChanged, naming the object, instead of
// splicing two versions.
func TestS3ObjectReplaced(t *testing.T) {
	srv := s3test.Start(t)
	srv.CreateBucket(t, "bkt")
	key := "logs/a.log.gz"
	v1 := flowObject(t, 2000, 1)
	srv.Put(t, "bkt", key, v1)
	proxy := s3test.NewProxy(t, srv.Endpoint, s3test.Script((*s3test.Request).IsGetObject,
		s3test.Action{Fault: s3test.Truncate, After: 4096}))
	rc, err := archive.OpenS3(context.Background(), s3Client(t, proxy.URL), "bkt", key, fastRead)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	head := make([]byte, 100)
	if _, err := io.ReadFull(rc, head); err != nil {
		t.Fatal(err)
	}
	srv.Put(t, "bkt", key, flowObject(t, 2000, 2))
	rest, err := io.ReadAll(rc)
	if !errors.Is(err, archive.ErrObjectChanged) || !strings.Contains(err.Error(), "s3://bkt/"+key) {
		t.Fatalf("got %v, want ErrObjectChanged naming s3://bkt/%s", err, key)
	}
	if got := append(head, rest...); !bytes.Equal(got, v1[:len(got)]) || len(got) != 4096 {
		t.Fatalf("%d bytes before the error, want the first 4096 of the first version", len(got))
	}
	if _, err := rc.Read(head); !errors.Is(err, archive.ErrObjectChanged) {
		t.Fatalf("read after the error: %v", err)
	}
}

// TestS3ReadGivesUp: a body that keeps breaking without delivering a byte
// fails after MaxResumes resumptions, with an error naming the object; a
// missing object fails at once.
func TestS3ReadGivesUp(t *testing.T) {
	srv := s3test.Start(t)
	srv.CreateBucket(t, "bkt")
	key := "logs/a.log.gz"
	data := flowObject(t, 1000, 1)
	srv.Put(t, "bkt", key, data)
	actions := []s3test.Action{{Fault: s3test.Truncate, After: 10}}
	for range 10 {
		actions = append(actions, s3test.Action{Fault: s3test.Truncate, After: 0})
	}
	proxy := s3test.NewProxy(t, srv.Endpoint, s3test.Script((*s3test.Request).IsGetObject, actions...))
	client := s3Client(t, proxy.URL)
	ro := fastRead
	ro.MaxResumes = 3
	var mu sync.Mutex
	n := 0
	ro.OnResume = func(string, int64, error) { mu.Lock(); n++; mu.Unlock() }
	res, _ := collect(t, []archive.Source{archive.S3Source(client, "bkt", key, int64(len(data)), ro)}, archive.Options{})
	err := res[0].Err
	if err == nil || !strings.Contains(err.Error(), "s3://bkt/"+key) || !strings.Contains(err.Error(), "gave up after 3") {
		t.Fatalf("got %v", err)
	}
	if gets := len(proxy.Requests()); n != 3 || gets != 4 {
		t.Fatalf("%d resumptions and %d GETs, want 3 and 4", n, gets)
	}
	proxy.SetSchedule(nil)
	res, _ = collect(t, []archive.Source{archive.S3Source(client, "bkt", "logs/missing.gz", 0, ro)}, archive.Options{})
	if err := res[0].Err; err == nil || !strings.Contains(err.Error(), "s3://bkt/logs/missing.gz") || !strings.Contains(err.Error(), "NoSuchKey") {
		t.Fatalf("missing object: %v", err)
	}
}
