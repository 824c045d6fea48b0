package archive_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/flowlens/flowlens/archive"
	"github.com/flowlens/flowlens/internal/s3test"
)

const (
	acct1, acct2 = "111111111111", "222222222222"
	mainFlowLog  = "fl-0123456789abcdef0"
)

var (
	accounts = []string{acct1, acct2}
	regions  = []string{"eu-west-1", "us-east-1"}
	// The files of every account and region, around the range
	// [2026-11-01, 2026-11-02) with the default 15-minute lag pad.
	inRange = []time.Time{
		at("2026-11-01T00:00"), // the first window of the range
		at("2026-11-01T06:30"),
		at("2026-11-01T12:00"),
		at("2026-11-01T23:55"), // the last window of the range
		at("2026-11-02T00:00"), // late records, in the lag pad
		at("2026-11-02T00:10"), // the last file of the lag pad
	}
	outOfRange = []time.Time{
		at("2026-10-30T12:00"),
		at("2026-10-31T23:50"),
		at("2026-10-31T23:55"), // holds records ending before the range
		at("2026-11-02T00:15"), // just after the lag pad
		at("2026-11-02T00:20"),
		at("2026-11-02T01:00"),
		at("2026-11-03T00:00"),
	}
	rangeStart, rangeEnd = at("2026-11-01T00:00"), at("2026-11-02T00:00")
)

var layouts = []s3Layout{
	{name: "plain-daily", bucket: "plain-daily"},
	{name: "plain-hourly", bucket: "plain-hourly", prefix: "flow/", hourly: true},
	{name: "hive-daily", bucket: "hive-daily", prefix: "hive/", hive: true, service: "aws-service=vpcflowlogs"},
	{name: "hive-hourly", bucket: "hive-hourly", hive: true, service: "service=vpcflowlogs", hourly: true},
	{name: "org-plain-daily", bucket: "org-plain-daily", prefix: "org/logs/", org: "o-a1b2c3d4e5"},
	{name: "org-hive-hourly", bucket: "org-hive-hourly", org: "o-zz9abc", hive: true, service: "aws-service=vpcflowlogs", hourly: true},
}

// fill stores the files of every account and region of l and returns the
// names ListS3 must return for the range, by account and region. The
// plain-daily layout also gets 1,152 more files under one day's prefix.
func fill(t *testing.T, srv *s3test.Server, l s3Layout) map[[2]string][]string {
	srv.CreateBucket(t, l.bucket)
	objects := map[string][]byte{}
	want := map[[2]string][]string{}
	for _, a := range accounts {
		for _, r := range regions {
			for _, tm := range append(slices.Clone(inRange), outOfRange...) {
				k := l.key(a, r, mainFlowLog, tm)
				objects[k] = []byte(k)
			}
			for _, tm := range inRange {
				want[[2]string{a, r}] = append(want[[2]string{a, r}], "s3://"+l.bucket+"/"+l.key(a, r, mainFlowLog, tm))
			}
		}
	}
	if l.name == "plain-daily" {
		for i := range 4 {
			fl := fmt.Sprintf("fl-%017x", i+1)
			for w := range 288 {
				k := l.key(acct1, "us-east-1", fl, rangeStart.Add(time.Duration(w)*5*time.Minute))
				objects[k] = []byte(k)
				want[[2]string{acct1, "us-east-1"}] = append(want[[2]string{acct1, "us-east-1"}], "s3://"+l.bucket+"/"+k)
			}
		}
	}
	// Objects that are not flow logs of the layout.
	objects[l.prefix+"AWSLogs/"+acct1+"/CloudTrail/us-east-1/2026/11/01/"+acct1+"_CloudTrail_us-east-1_20261101T0000Z_abc.json.gz"] = []byte("ct")
	objects["README.txt"] = []byte("not a flow log")
	objects[l.prefix+"notes.txt"] = []byte("notes")
	srv.PutMany(t, l.bucket, objects)
	return want
}

func collectWant(want map[[2]string][]string, accounts, regions []string) []string {
	var out []string
	for k, v := range want {
		if slices.Contains(accounts, k[0]) && slices.Contains(regions, k[1]) {
			out = append(out, v...)
		}
	}
	slices.Sort(out)
	return out
}

// TestListS3Layouts enumerates a date range over every AWS layout on a real
// S3 server: exact names and sizes (files just outside the range left out,
// files of the lag pad kept), accounts and regions discovered, filters,
// pagination past 1,000 keys under one prefix, one listing per day (or per
// hour in the range for hourly layouts), never a listing of the bucket's
// root, and listings retried through throttling and resets.
func TestListS3Layouts(t *testing.T) {
	srv := s3test.Start(t)
	ctx := context.Background()
	for _, l := range layouts {
		t.Run(l.name, func(t *testing.T) {
			t.Parallel()
			want := fill(t, srv, l)
			proxy := s3test.NewProxy(t, srv.Endpoint, s3test.Script((*s3test.Request).IsList,
				s3test.Action{Fault: s3test.SlowDown}, s3test.Action{Fault: s3test.Reset},
				s3test.Action{Fault: s3test.InternalError}, s3test.Action{Fault: s3test.SlowDown}))
			client := s3Client(t, proxy.URL)
			q := archive.S3Query{Bucket: l.bucket, Prefix: l.prefix, Start: rangeStart, End: rangeEnd}
			srcs, err := archive.ListS3(ctx, client, q)
			if err != nil {
				t.Fatal(err)
			}
			all := collectWant(want, accounts, regions)
			if got := names(srcs); !slices.Equal(got, all) {
				t.Fatalf("got %d objects, want %d:\n%s", len(got), len(all), diffLists(got, all))
			}
			for _, s := range srcs {
				if key := strings.TrimPrefix(s.Name, "s3://"+l.bucket+"/"); s.Size != int64(len(key)) {
					t.Fatalf("%s: size %d, want %d", s.Name, s.Size, len(key))
				}
			}
			checkListings(t, l, proxy.Requests())

			// Filters: one account, one region.
			q.Accounts, q.Regions = []string{acct2}, []string{"eu-west-1"}
			srcs, err = archive.ListS3(ctx, client, q)
			if err != nil {
				t.Fatal(err)
			}
			if got, w := names(srcs), collectWant(want, []string{acct2}, []string{"eu-west-1"}); !slices.Equal(got, w) || len(w) != 6 {
				t.Fatalf("filtered: got %v, want %v", got, w)
			}
		})
	}
}

// checkListings checks the ListObjectsV2 requests of the first ListS3 of
// layout l: none at the bucket's root, none outside the layout, one per day
// of the range (one window before it to the lag pad after it: 2026-10-31 to
// 11-02) for every account and region, one per hour folder in the range
// (2026-10-31T23 to 11-02T00) for hourly layouts, and the page past 1,000
// keys.
func checkListings(t *testing.T, l s3Layout, reqs []s3test.Request) {
	t.Helper()
	faults, pages := 0, 0
	days, hours := map[string]int{}, map[string]int{}
	for _, r := range reqs {
		if !r.IsList() {
			t.Fatalf("request %d is not a listing: %+v", r.N, r)
		}
		if r.Action.Fault != s3test.Pass {
			faults++
			continue
		}
		p := r.Query.Get("prefix")
		if p == "" || !strings.HasPrefix(p, l.prefix+"AWSLogs/") {
			t.Fatalf("listing of %q, outside %sAWSLogs/", p, l.prefix)
		}
		if r.Query.Get("continuation-token") != "" {
			pages++
			continue
		}
		if d, h := dateOf(p); d != "" {
			days[d]++
		} else if h != "" {
			hours[h]++
		}
	}
	if faults != 4 {
		t.Errorf("%d faults served, want 4", faults)
	}
	if want := map[bool]int{true: 1, false: 0}[l.name == "plain-daily"]; pages != want {
		t.Errorf("%d continuation pages, want %d", pages, want)
	}
	wantDays := map[string]int{"2026-10-31": 4, "2026-11-01": 4, "2026-11-02": 4}
	if !maps.Equal(days, wantDays) {
		t.Errorf("day listings %v, want %v", days, wantDays)
	}
	wantHours := map[string]int{}
	if l.hourly {
		// The hour folders that exist there, less 2026-11-02T01 (after the
		// lag pad); 2026-10-30T12 is in a day not listed.
		for _, h := range []string{"2026-10-31T23", "2026-11-01T00", "2026-11-01T06", "2026-11-01T12", "2026-11-01T23", "2026-11-02T00"} {
			wantHours[h] = 4
		}
	}
	if !maps.Equal(hours, wantHours) {
		t.Errorf("hour listings %v, want %v", hours, wantHours)
	}
}

// datePrefix matches the date folders of both layouts, once the Hive
// names are removed.
var datePrefix = regexp.MustCompile(`(\d{4})/(\d{2})/(\d{2})/(?:(\d{2})/)?$`)

// dateOf returns the day (2006-01-02) or hour (2006-01-02T15) a prefix
// lists, or "".
func dateOf(prefix string) (day, hour string) {
	p := strings.NewReplacer("year=", "", "month=", "", "day=", "", "hour=", "").Replace(prefix)
	m := datePrefix.FindStringSubmatch(p)
	if m == nil {
		return "", ""
	}
	if m[4] != "" {
		return "", m[1] + "-" + m[2] + "-" + m[3] + "T" + m[4]
	}
	return m[1] + "-" + m[2] + "-" + m[3], ""
}

// diffLists shows the names only one of two sorted lists holds.
func diffLists(got, want []string) string {
	var b strings.Builder
	for _, g := range got {
		if _, ok := slices.BinarySearch(want, g); !ok {
			b.WriteString("  unexpected " + g + "\n")
		}
	}
	for _, w := range want {
		if _, ok := slices.BinarySearch(got, w); !ok {
			b.WriteString("  missing " + w + "\n")
		}
	}
	return b.String()
}

// TestListS3Prefixes covers the other ways to name objects: a prefix without
// the AWS layout (listed whole, filtered by the times in file names when a
// range is given), a folder named without its final "/", a single key, a
// prefix inside the layout, no date range (whole regions, account filter),
// and the bucket's root.
func TestListS3Prefixes(t *testing.T) {
	srv := s3test.Start(t)
	ctx := context.Background()
	l := s3Layout{name: "plain-hourly", bucket: "mixed", prefix: "flow/", hourly: true}
	want := fill(t, srv, l)
	fh := "exports/firehose/" + acct1 + "_vpcflowlogs_us-east-1_fl-0abc_"
	srv.PutMany(t, "mixed", map[string][]byte{
		"exports/cw/000000.gz":                []byte("12345"),
		"exports/cw/sub/000001.gz":            []byte("1"),
		"exports/cw/marker/":                  nil,
		fh + "20261101T1200Z_00000001.log.gz": []byte("in"),
		fh + "20261102T0015Z_00000002.log.gz": []byte("out"),
		"exportsX/not-under-the-prefix.gz":    []byte("x"),
	})
	client := s3Client(t, srv.Endpoint)
	list := func(q archive.S3Query) []string {
		t.Helper()
		q.Bucket = "mixed"
		srcs, err := archive.ListS3(ctx, client, q)
		if err != nil {
			t.Fatalf("%+v: %v", q, err)
		}
		return names(srcs)
	}
	check := func(what string, got, want []string) {
		t.Helper()
		if !slices.Equal(got, want) {
			t.Errorf("%s: got %d objects, want %d:\n%s", what, len(got), len(want), diffLists(got, want))
		}
	}
	s3 := func(keys ...string) []string {
		for i, k := range keys {
			keys[i] = "s3://mixed/" + k
		}
		return keys
	}

	check("plain prefix", list(archive.S3Query{Prefix: "exports/"}),
		s3("exports/cw/000000.gz", "exports/cw/sub/000001.gz", fh+"20261101T1200Z_00000001.log.gz", fh+"20261102T0015Z_00000002.log.gz"))
	check("plain prefix without its /, in a range", list(archive.S3Query{Prefix: "exports", Start: rangeStart, End: rangeEnd}),
		s3("exports/cw/000000.gz", "exports/cw/sub/000001.gz", fh+"20261101T1200Z_00000001.log.gz"))

	key := l.key(acct2, "eu-west-1", mainFlowLog, outOfRange[0])
	srcs, err := archive.ListS3(ctx, client, archive.S3Query{Bucket: "mixed", Prefix: key, Start: rangeStart, End: rangeEnd})
	if err != nil || len(srcs) != 1 || srcs[0].Name != "s3://mixed/"+key || srcs[0].Size != int64(len(key)) {
		t.Errorf("single key: %v %+v", err, srcs)
	}

	region := "flow/AWSLogs/" + acct2 + "/vpcflowlogs/eu-west-1/"
	check("prefix of a region", list(archive.S3Query{Prefix: region, Start: rangeStart, End: rangeEnd}),
		collectWant(want, []string{acct2}, []string{"eu-west-1"}))
	check("prefix of a day", list(archive.S3Query{Prefix: region + "2026/11/02/", Start: rangeStart, End: rangeEnd}),
		s3(l.key(acct2, "eu-west-1", mainFlowLog, at("2026-11-02T00:00")), l.key(acct2, "eu-west-1", mainFlowLog, at("2026-11-02T00:10"))))
	check("prefix of an account, region filter", list(archive.S3Query{Prefix: "flow/AWSLogs/" + acct1, Regions: []string{"us-east-1"}, Start: rangeStart, End: rangeEnd}),
		collectWant(want, []string{acct1}, []string{"us-east-1"}))

	var every []string
	for _, r := range regions {
		for _, tm := range append(slices.Clone(inRange), outOfRange...) {
			every = append(every, "s3://mixed/"+l.key(acct1, r, mainFlowLog, tm))
		}
	}
	slices.Sort(every)
	check("no date range, one account", list(archive.S3Query{Prefix: "flow/", Accounts: []string{acct1}}), every)

	if _, err := archive.ListS3(ctx, client, archive.S3Query{Bucket: "mixed", Start: rangeStart, End: rangeEnd}); err == nil || !strings.Contains(err.Error(), "s3://mixed/") {
		t.Errorf("root of a bucket without AWSLogs/, in a range: %v", err)
	}
	// Without AWSLogs/ at its root and without a range, the whole bucket:
	// 52 flow logs, 3 other files of fill, 4 under exports/ (not the
	// folder marker), 1 under exportsX/.
	if all := list(archive.S3Query{}); len(all) != 60 {
		t.Errorf("whole bucket: %d objects", len(all))
	}
	for _, q := range []archive.S3Query{
		{Bucket: "mixed", End: rangeEnd},
		{Bucket: "mixed", Start: rangeEnd, End: rangeStart},
		{Bucket: "x"},
	} {
		if _, err := archive.ListS3(ctx, client, q); err == nil {
			t.Errorf("%+v: no error", q)
		}
	}
}

// TestListS3Fails: a listing still throttled after the client's attempts
// fails the whole enumeration with an error naming the prefix, and so does a
// cancelled context.
func TestListS3Fails(t *testing.T) {
	srv := s3test.Start(t)
	l := s3Layout{name: "plain-daily", bucket: "fails"}
	srv.CreateBucket(t, l.bucket)
	srv.Put(t, l.bucket, l.key(acct1, "us-east-1", mainFlowLog, rangeStart), []byte("x"))
	var slow []s3test.Action
	for range 100 {
		slow = append(slow, s3test.Action{Fault: s3test.SlowDown})
	}
	proxy := s3test.NewProxy(t, srv.Endpoint, s3test.Script((*s3test.Request).IsList, slow...))
	client := s3Client(t, proxy.URL)
	q := archive.S3Query{Bucket: l.bucket, Start: rangeStart, End: rangeEnd}
	_, err := archive.ListS3(context.Background(), client, q)
	if err == nil || !strings.Contains(err.Error(), "cannot list s3://fails/AWSLogs/") || !strings.Contains(err.Error(), "SlowDown") {
		t.Fatalf("got %v", err)
	}
	if n := len(proxy.Requests()); n != archive.DefaultS3MaxAttempts {
		t.Fatalf("%d requests, want %d attempts", n, archive.DefaultS3MaxAttempts)
	}
	proxy.SetSchedule(nil)
	if srcs, err := archive.ListS3(context.Background(), client, q); err != nil || len(srcs) != 1 {
		t.Fatalf("after the throttling: %v, %d objects", err, len(srcs))
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := archive.ListS3(ctx, client, q); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled: %v", err)
	}
}
