package athena_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/parquet/file"

	"github.com/flowlens/flowlens/athena"
	"github.com/flowlens/flowlens/athena/pqfile"
	"github.com/flowlens/flowlens/bench"
	"github.com/flowlens/flowlens/parser"
)

func TestSanitizePartitionValue(t *testing.T) {
	f := func(in, want string) {
		t.Helper()
		if got := athena.SanitizePartitionValue(in); got != want {
			t.Errorf("Sanitize(%q) = %q, want %q", in, got, want)
		}
	}
	f("us-east-1", "us-east-1")
	f("US-EAST-1", "us-east-1")
	f("", "unknown")
	f("../../etc/passwd", "______etc_passwd")
	f("a/b=c\x00d\ne", "a_b_c_d_e")
	f("..", "__")
	f(strings.Repeat("x", 100), strings.Repeat("x", 64))
}

func records(t *testing.T, format string, lines []string) arrow.RecordBatch {
	t.Helper()
	f, err := parser.ParseLogFormat(format)
	if err != nil {
		t.Fatal(err)
	}
	b := parser.NewBatch(f)
	parser.NewParser().ParseBlock(b, []byte(strings.Join(lines, "\n")), 1)
	if b.Stats.Invalid != 0 {
		t.Fatalf("bad test lines: %v", b.Stats.Samples)
	}
	return b.NewRecordBatch(f.ArrowSchema())
}

// TestSplit: rows go to the partition of their own region and start day;
// values from data cannot escape; defaults apply where data has none.
func TestSplit(t *testing.T) {
	rec := records(t, "${region} ${start} ${end}", []string{
		"us-east-1 1793491200 1793491260", // 2026-11-01
		"us-east-1 1793577599 1793577600", // 2026-11-01 23:59:59
		"../../x 1793577600 1793577660",   // 2026-11-02
		"- - 1793491260",                  // no region, no start: end's day
		"- - -",                           // nothing: the input's defaults
		"us-east-1 1793491300 1793491360", // the first partition again
		"us-east-1 900000000000000 0",     // days out of range, two of them:
		"us-east-1 990000000000000 0",     // one partition, "unknown"
	})
	defer rec.Release()
	p := athena.FlowPartitioner{DefaultRegion: "eu-west-1", DefaultDate: "2026-10-31"}
	var got []string
	for _, g := range p.Split(rec) {
		got = append(got, fmt.Sprint(g.Values, g.Rows))
	}
	want := "[us-east-1 2026-11-01] [0 1 5]|[______x 2026-11-02] [2]|[eu-west-1 2026-11-01] [3]|[eu-west-1 2026-10-31] [4]|[us-east-1 unknown] [6 7]"
	if strings.Join(got, "|") != want {
		t.Fatalf("groups %s\nwant %s", strings.Join(got, "|"), want)
	}
	one := records(t, "${start}", []string{"1793491200", "1793491201"})
	defer one.Release()
	if g := (&athena.FlowPartitioner{}).Split(one); len(g) != 1 || g[0].Rows != nil || g[0].Values[0] != "unknown" {
		t.Fatalf("single partition: %+v", g)
	}
}

// TestCompactionAndRolling: many small batches land in one file per
// partition; a small target size rolls files, a small row-group size makes
// several row groups; too many partitions open finish the least recently
// used files; every row is accounted for.
func TestCompactionAndRolling(t *testing.T) {
	f := parser.DefaultFormat()
	gen := bench.NewGenerator(f, 4)
	var recs []arrow.RecordBatch
	for i := 0; i < 40; i++ {
		recs = append(recs, records(t, parser.DefaultLogFormat, gen.Lines(500)))
	}
	defer func() {
		for _, r := range recs {
			r.Release()
		}
	}()
	run := func(opts athena.TableOptions, partitions int) athena.TableManifest {
		t.Helper()
		out, err := athena.OpenOutput(t.TempDir(), athena.NewRunID())
		if err != nil {
			t.Fatal(err)
		}
		tbl := athena.NewFlowsTable(out, opts)
		for i, rec := range recs {
			region := fmt.Sprintf("r%d", i%partitions)
			if err := tbl.Write([]string{region, "2026-11-01"}, rec, nil); err != nil {
				t.Fatal(err)
			}
		}
		tm, err := tbl.Close()
		if err != nil {
			t.Fatal(err)
		}
		if tm.Rows != 20000 {
			t.Fatalf("%d rows written, want 20000", tm.Rows)
		}
		return tm
	}
	if tm := run(athena.TableOptions{WritersPerPartition: 1}, 1); len(tm.Files) != 1 {
		t.Errorf("40 batches of one partition made %d files, want 1", len(tm.Files))
	}
	tm := run(athena.TableOptions{WritersPerPartition: 1, RowGroupRows: 3000, TargetFileBytes: 1}, 1)
	if len(tm.Files) != 7 { // 20000 rows: six files of 3000 rows (one row group each) and one of 2000
		t.Errorf("rolling made %d files, want 7", len(tm.Files))
	}
	tm = run(athena.TableOptions{WritersPerPartition: 1, MaxOpenFiles: 2}, 4)
	if len(tm.Files) != 40 { // round robin over 4 partitions with 2 open: every batch evicts
		t.Errorf("eviction made %d files, want 40", len(tm.Files))
	}
}

// TestRowGroups checks row-group sizes in a written file.
func TestRowGroups(t *testing.T) {
	dir := t.TempDir()
	out, _ := athena.OpenOutput(dir, "run")
	tbl := athena.NewFlowsTable(out, athena.TableOptions{WritersPerPartition: 1, RowGroupRows: 3000})
	gen := bench.NewGenerator(parser.DefaultFormat(), 5)
	for i := 0; i < 10; i++ {
		rec := records(t, parser.DefaultLogFormat, gen.Lines(1000))
		if err := tbl.Write([]string{"r", "d"}, rec, nil); err != nil {
			t.Fatal(err)
		}
		rec.Release()
	}
	tm, _ := tbl.Close()
	if err := out.Commit(context.Background(), &athena.Manifest{Tables: []athena.TableManifest{tm}}, ""); err != nil {
		t.Fatal(err)
	}
	pf, err := file.OpenParquetFile(filepath.Join(dir, tm.Files[0].Path), false)
	if err != nil {
		t.Fatal(err)
	}
	defer pf.Close()
	var sizes []int64
	for i := 0; i < pf.NumRowGroups(); i++ {
		sizes = append(sizes, pf.MetaData().RowGroup(i).NumRows())
	}
	if fmt.Sprint(sizes) != "[3000 3000 3000 1000]" {
		t.Errorf("row groups %v", sizes)
	}
	if _, err := os.Stat(filepath.Join(dir, athena.ManifestName)); err != nil {
		t.Error(err)
	}
}

func TestDDL(t *testing.T) {
	cols := athena.FlowsDDLColumns(nil)
	ddl := athena.DDL("s3://bucket/prefix", []athena.TableDDL{{Name: "flows", Dir: "flows", Columns: cols, Regions: []string{"moon-1"}}})
	for _, s := range []string{
		"LOCATION 's3://bucket/prefix/flows/'",
		"'storage.location.template'='s3://bucket/prefix/flows/region=${region}/date=${date}/'",
		"'projection.date.range'='2015-01-01,NOW'", "moon-1", ",unknown,", "`end` bigint", "`version` int",
		"`packets_lost_ttl_expired` bigint", "`tgw_id` string", "`traffic_path` int",
	} {
		if !strings.Contains(ddl, s) {
			t.Errorf("DDL lacks %q:\n%s", s, ddl)
		}
	}
	if len(cols) != 71 { // 54 VPC + 18 TGW fields, less the region partition key
		t.Errorf("%d DDL columns", len(cols))
	}
	if strings.Contains(athena.DDL("s3://b/", nil), "YOUR-BUCKET") {
		t.Error("placeholder note for a real location")
	}
}

// TestUnknownFieldNamedLikeAPartition: an input field unknown to flowlens
// named date (or region) is not declared as a column beside the partition
// key of the same name, which Athena refuses; other unknown fields are.
func TestUnknownFieldNamedLikeAPartition(t *testing.T) {
	cols := athena.FlowsDDLColumns([]pqfile.Column{{Name: "date", Type: pqfile.String}, {Name: "flow_hash", Type: pqfile.String}, {Name: "region", Type: pqfile.String}})
	var names []string
	for _, c := range cols {
		names = append(names, c.Name)
	}
	if slices.Contains(names, "date") || slices.Contains(names, "region") || !slices.Contains(names, "flow_hash") {
		t.Errorf("flows columns %v", names)
	}
	ddl := athena.DDL(athena.LocationPlaceholder, []athena.TableDDL{{Name: "flows", Dir: "flows", Columns: cols}})
	if strings.Count(ddl, "`date`") != 1 {
		t.Errorf("date declared %d times:\n%s", strings.Count(ddl, "`date`"), ddl)
	}
}

// TestOtherOutput: which top-level files of a location keep a run out: for
// a shard, an unsharded run's manifest or commit marker and the files of a
// job split another way; for an unsharded run, any shard's. A run's own
// kind of files and others (the DDL, a report) do not.
func TestOtherOutput(t *testing.T) {
	for _, c := range []struct {
		names []string
		shard string
		want  string
	}{
		{[]string{"_manifest.json", "_commit-in-progress.json", "athena.sql"}, "", ""},
		{[]string{"_manifest.json", "_manifest.shard-0001-of-0003.json"}, "", "_manifest.shard-0001-of-0003.json"},
		{[]string{"_commit-in-progress.shard-0000-of-0002.json"}, "", "_commit-in-progress.shard-0000-of-0002.json"},
		{[]string{"_manifest.shard-0001-of-0003.json", "_commit-in-progress.shard-0002-of-0003.json", "report.html"}, athena.ShardLabel(0, 3), ""},
		{[]string{"_manifest.shard-0001-of-0003.json", "_manifest.shard-0001-of-0002.json"}, athena.ShardLabel(0, 3), "_manifest.shard-0001-of-0002.json"},
		{[]string{"_commit-in-progress.json"}, athena.ShardLabel(0, 3), "_commit-in-progress.json"},
		{[]string{"_manifest.json"}, athena.ShardLabel(2, 3), "_manifest.json"},
	} {
		if got := athena.OtherOutput(c.names, c.shard); got != c.want {
			t.Errorf("%v, shard %q: %q, want %q", c.names, c.shard, got, c.want)
		}
	}
}
