package main

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/flowlens/flowlens/athena"
)

// TestDDLMatchesAthenaSQL: `ddl --from` prints every table of an output,
// the very statements of its athena.sql (it printed the flows table only);
// without --from it declares the same tables, each aggregate and findings
// table with the columns a run writes.
func TestDDLMatchesAthenaSQL(t *testing.T) {
	out := filepath.Join(t.TempDir(), "out")
	var stdout, stderr bytes.Buffer
	if code := run([]string{"analyze", "--quiet", "../../testdata", "--out", out}, &stdout, &stderr); code != exitOK {
		t.Fatalf("analyze: exit %d\n%s", code, stderr.String())
	}
	sql, err := os.ReadFile(filepath.Join(out, "athena.sql"))
	if err != nil {
		t.Fatal(err)
	}
	ddl := func(args ...string) string {
		t.Helper()
		var o, e bytes.Buffer
		if code := run(append([]string{"ddl"}, args...), &o, &e); code != exitOK {
			t.Fatalf("ddl %v: exit %d\n%s", args, code, e.String())
		}
		return o.String()
	}
	if got := ddl("--location", athena.LocationPlaceholder, "--from", out); got != string(sql) {
		t.Errorf("ddl --from differs from athena.sql:\n%s\nathena.sql:\n%s", got, sql)
	}
	create := regexp.MustCompile("CREATE EXTERNAL TABLE IF NOT EXISTS `([a-z_]+)`")
	tables := func(s string) []string {
		var names []string
		for _, m := range create.FindAllStringSubmatch(s, -1) {
			names = append(names, m[1])
		}
		return names
	}
	want := []string{"flows", "conversations", "talkers", "ports", "interfaces", "findings"}
	if got := tables(string(sql)); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("athena.sql declares %v, want %v", got, want)
	}
	all := ddl("--location", "s3://bucket/prefix/")
	if got := tables(all); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("ddl declares %v, want %v", got, want)
	}
	// Each table's statement, less its LOCATION, regions and first date:
	// the aggregate and findings tables have the columns written.
	stmts := func(s string) map[string]string {
		m := map[string]string{}
		for _, part := range strings.Split(s, "CREATE EXTERNAL TABLE")[1:] {
			cols, _, _ := strings.Cut(part, "PARTITIONED BY")
			m[tables("CREATE EXTERNAL TABLE" + part)[0]] = cols
		}
		return m
	}
	written, declared := stmts(string(sql)), stmts(all)
	for _, name := range want[1:] {
		if written[name] != declared[name] {
			t.Errorf("%s: ddl declares\n%s\nthe run wrote\n%s", name, declared[name], written[name])
		}
	}
	if !strings.Contains(all, "LOCATION 's3://bucket/prefix/aggregates/talkers/'") {
		t.Errorf("ddl: no LOCATION for the talkers table under the prefix:\n%s", all)
	}
}

// TestDDLLocation: a location that is no s3://bucket/ or that would break
// the SQL string it is written in is a usage error.
func TestDDLLocation(t *testing.T) {
	for _, loc := range []string{"", "s3://", "s3:///x/", "s3://b/", "/tmp/x", "s3://bucket/pre'fix/", `s3://bucket/a\b/`, "s3://bucket/a\nb/"} {
		var o, e bytes.Buffer
		if code := run([]string{"ddl", "--location", loc}, &o, &e); code != exitUsage || o.Len() != 0 {
			t.Errorf("ddl --location %q: exit %d, stdout %q; want %d and nothing printed", loc, code, o.String(), exitUsage)
		}
		if code := run([]string{"analyze", "--location", loc, "--out", t.TempDir(), "../../testdata"}, &o, &e); loc != "" && code != exitUsage {
			t.Errorf("analyze --location %q: exit %d, want %d", loc, code, exitUsage)
		}
	}
}

// TestDDLOfShards: the shards of a job write one directory; `ddl --from`
// reads their manifests merged (it failed without _manifest.json), with
// the union of the columns they wrote, and the athena.sql that the last
// shard leaves declares every table and column and every date, not its own
// share's alone.
func TestDDLOfShards(t *testing.T) {
	out := filepath.Join(t.TempDir(), "out")
	for _, shard := range []string{"0/2", "1/2"} {
		var o, e bytes.Buffer
		if code := run([]string{"analyze", "--quiet", "../../testdata", "--out", out, "--shard", shard}, &o, &e); code != exitOK {
			t.Fatalf("shard %s: exit %d\n%s", shard, code, e.String())
		}
	}
	var o, e bytes.Buffer
	if code := run([]string{"ddl", "--location", "s3://bucket/job/", "--from", out}, &o, &e); code != exitOK {
		t.Fatalf("ddl --from a sharded output: exit %d\n%s", code, e.String())
	}
	// The sample's fields, some of which only one shard's inputs have.
	m, shards, err := athena.ReadOutputManifest(out)
	if err != nil || shards != 2 {
		t.Fatalf("%d shards, %v", shards, err)
	}
	for _, c := range m.Columns["flows"] {
		if !strings.Contains(o.String(), "`"+c.Name+"` "+c.Type) {
			t.Errorf("ddl --from lacks column %s %s", c.Name, c.Type)
		}
	}
	if n := strings.Count(o.String(), "CREATE EXTERNAL TABLE"); n != 6 {
		t.Errorf("ddl --from a sharded output declares %d tables, want 6", n)
	}
	sql, err := os.ReadFile(filepath.Join(out, "athena.sql"))
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(sql), "'projection.date.range'='"+athena.DefaultFirstDate+",NOW'"); n != 6 {
		t.Errorf("a shard's athena.sql starts %d of 6 tables at %s", n, athena.DefaultFirstDate)
	}
	// (Fields unknown to flowlens that only another shard's inputs had are
	// in ddl --from's statements only.)
	for _, c := range []string{"`pkt_src_aws_service` string", "`traffic_path` int", "`ecs_task_id` string"} {
		if !strings.Contains(string(sql), c) {
			t.Errorf("a shard's athena.sql lacks %s", c)
		}
	}
}

// TestS3OutputNamedToReportAndDDL: report and ddl --from read a local
// output directory; given an s3:// URI they say so (usage error) rather
// than fail to open a mangled path.
func TestS3OutputNamedToReportAndDDL(t *testing.T) {
	for _, args := range [][]string{{"report", "s3://lake/k/"}, {"ddl", "--location", "s3://lake/k/", "--from", "s3://lake/k/"}} {
		var out, errb bytes.Buffer
		if code := run(args, &out, &errb); code != exitUsage || !strings.Contains(errb.String(), "s3://lake/k/: reads a local output directory") {
			t.Errorf("%v: exit %d, %s", args, code, errb.String())
		}
	}
}

// TestDDLTablePrefix: --table-prefix names every table apart, for the
// outputs of several runs side by side; a prefix that is not a plain name
// is a usage error.
func TestDDLTablePrefix(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run([]string{"ddl", "--location", "s3://my-bucket/nov/", "--table-prefix", "nov_"}, &out, &errb); code != exitOK {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	creates := strings.Count(out.String(), "CREATE EXTERNAL TABLE")
	if prefixed := strings.Count(out.String(), "CREATE EXTERNAL TABLE IF NOT EXISTS `nov_"); creates < 6 || prefixed != creates {
		t.Errorf("%d of %d tables prefixed:\n%s", prefixed, creates, out.String())
	}
	errb.Reset()
	if code := run([]string{"ddl", "--location", "s3://my-bucket/nov/", "--table-prefix", "x`; DROP"}, &out, &errb); code != exitUsage {
		t.Errorf("a prefix with a quote: exit %d %s", code, errb.String())
	}
}
