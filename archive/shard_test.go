package archive

import (
	"fmt"
	"testing"
)

func TestShard(t *testing.T) {
	var srcs []Source
	for i := range 1000 {
		srcs = append(srcs, Source{Name: fmt.Sprintf("s3://b/AWSLogs/1/vpcflowlogs/r/2026/11/01/f%d.log.gz", i)})
	}
	seen := map[string]int{}
	for i := range 7 {
		part := Shard(srcs, i, 7)
		if len(part) < 100 || len(part) > 190 { // 143 expected
			t.Errorf("shard %d has %d of 1000", i, len(part))
		}
		for _, s := range part {
			seen[s.Name]++
		}
		if again := Shard(srcs, i, 7); fmt.Sprint(again) != fmt.Sprint(part) {
			t.Errorf("shard %d differs between calls", i)
		}
	}
	if len(seen) != 1000 {
		t.Fatalf("shards cover %d of 1000 objects", len(seen))
	}
	for name, n := range seen {
		if n != 1 {
			t.Fatalf("%s is in %d shards", name, n)
		}
	}
	// Machines that spell their inputs differently agree: the shard of an
	// object follows its file name only.
	for _, name := range []string{"f17.log.gz", "/mnt/a/f17.log.gz", "data/AWSLogs/f17.log.gz", "s3://other/prefix/f17.log.gz"} {
		if got := Shard([]Source{{Name: name}}, shardOf(t, srcs, 17), 7); len(got) != 1 {
			t.Errorf("%s is not in the shard of %s", name, srcs[17].Name)
		}
	}
}

// shardOf returns the shard of 7 that holds srcs[k].
func shardOf(t *testing.T, srcs []Source, k int) int {
	for i := range 7 {
		for _, s := range Shard(srcs, i, 7) {
			if s.Name == srcs[k].Name {
				return i
			}
		}
	}
	t.Fatalf("%s is in no shard", srcs[k].Name)
	return -1
}

func TestParseShard(t *testing.T) {
	env := func(vars map[string]string) func(string) (string, bool) {
		return func(k string) (string, bool) { v, ok := vars[k]; return v, ok }
	}
	for _, c := range []struct {
		v    string
		env  map[string]string
		i, n int
		bad  bool
	}{
		{v: "2/5", i: 2, n: 5},
		{v: "5", env: map[string]string{"AWS_BATCH_JOB_ARRAY_INDEX": "3"}, i: 3, n: 5},
		{v: "5", env: map[string]string{"JOB_COMPLETION_INDEX": "4"}, i: 4, n: 5},
		{v: "5", bad: true},
		{v: "5/5", bad: true},
		{v: "-1/5", bad: true},
		{v: "1/0", bad: true},
		{v: "x/2", bad: true},
		{v: "5", env: map[string]string{"AWS_BATCH_JOB_ARRAY_INDEX": "7"}, bad: true},
	} {
		i, n, err := ParseShard(c.v, env(c.env))
		if (err != nil) != c.bad || !c.bad && (i != c.i || n != c.n) {
			t.Errorf("ParseShard(%q, %v) = %d, %d, %v", c.v, c.env, i, n, err)
		}
	}
}

// TestShardCloudWatchExports: the numbered parts of CloudWatch exports
// (000000.gz in every log stream's folder) spread over the shards by their
// folder, rather than all sharing one.
func TestShardCloudWatchExports(t *testing.T) {
	var srcs []Source
	for stream := range 100 {
		for part := range 2 {
			srcs = append(srcs, Source{Name: fmt.Sprintf("s3://b/exports/task-1/eni-%04d-all/%06d.gz", stream, part)})
		}
	}
	for i := range 8 {
		if n := len(Shard(srcs, i, 8)); n < 10 {
			t.Errorf("shard %d of 8 holds %d of 200 parts", i, n)
		}
	}
	if shardKey("/data/x/eni-1-all/000001.gz") != shardKey("s3://b/p/eni-1-all/000001.gz") || shardKey("a/f17.log.gz") != "f17.log.gz" {
		t.Errorf("keys %q %q %q", shardKey("/data/x/eni-1-all/000001.gz"), shardKey("s3://b/p/eni-1-all/000001.gz"), shardKey("a/f17.log.gz"))
	}
}
