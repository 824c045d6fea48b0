package pipeline_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"github.com/flowlens/flowlens/aggregate"
	"github.com/flowlens/flowlens/archive"
	"github.com/flowlens/flowlens/athena"
	"github.com/flowlens/flowlens/bench"
	"github.com/flowlens/flowlens/detect"
	"github.com/flowlens/flowlens/parser"
	"github.com/flowlens/flowlens/pipeline"
)

const null = "∅"

// expectedRows parses the inputs directly and renders every record over the
// union of columns (NULL where the input's format lacks the field), with the
// sums of bytes and packets.
func expectedRows(t *testing.T, srcs []archive.Source) (rows []map[string]string, bytesSum, packetsSum int64) {
	t.Helper()
	var mu sync.Mutex
	_, err := archive.Run(context.Background(), srcs, archive.Options{}, func(_ int, b *parser.Batch) error {
		defer b.Release()
		mu.Lock()
		defer mu.Unlock()
		for i := 0; i < b.Len(); i++ {
			row := map[string]string{}
			for j := range b.Columns {
				c := &b.Columns[j]
				if c.IsNull(i) {
					row[c.Field.Column] = null
					continue
				}
				row[c.Field.Column] = string(c.AppendText(nil, i))
				switch c.Field.ID {
				case parser.FieldBytes:
					bytesSum += c.Int64(i)
				case parser.FieldPackets:
					packetsSum += c.Int64(i)
				}
			}
			rows = append(rows, row)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return rows, bytesSum, packetsSum
}

// readOutput reads every file of the manifest with pqarrow, checks each
// column's physical and logical type, and returns the rows.
func readOutput(t *testing.T, dir string, m *athena.Manifest) []map[string]string {
	t.Helper()
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	var rows []map[string]string
	for _, tm := range m.Tables {
		for _, fm := range tm.Files {
			path := filepath.Join(dir, filepath.FromSlash(fm.Path))
			pf, err := file.OpenParquetFile(path, false, file.WithReadProps(parquet.NewReaderProperties(mem)))
			if err != nil {
				t.Fatalf("%s: %v", fm.Path, err)
			}
			checkTypes(t, fm.Path, pf)
			fr, err := pqarrow.NewFileReader(pf, pqarrow.ArrowReadProperties{BatchSize: 4096}, mem)
			if err != nil {
				t.Fatal(err)
			}
			tbl, err := fr.ReadTable(context.Background())
			if err != nil {
				t.Fatalf("%s: %v", fm.Path, err)
			}
			if tbl.NumRows() != fm.Rows {
				t.Fatalf("%s: %d rows, manifest says %d", fm.Path, tbl.NumRows(), fm.Rows)
			}
			start := len(rows)
			for i := int64(0); i < tbl.NumRows(); i++ {
				rows = append(rows, map[string]string{})
			}
			for j := 0; j < int(tbl.NumCols()); j++ {
				name := tbl.Schema().Field(j).Name
				r := start
				for _, chunk := range tbl.Column(j).Data().Chunks() {
					for i := 0; i < chunk.Len(); i, r = i+1, r+1 {
						rows[r][name] = cellText(chunk, i)
					}
				}
			}
			tbl.Release()
			pf.Close()
		}
	}
	return rows
}

func cellText(a arrow.Array, i int) string {
	if a.IsNull(i) {
		return null
	}
	switch a := a.(type) {
	case *array.Int32:
		return fmt.Sprint(a.Value(i))
	case *array.Int64:
		return fmt.Sprint(a.Value(i))
	case *array.String:
		return a.Value(i)
	case *array.Float64:
		return fmt.Sprint(a.Value(i))
	}
	return fmt.Sprintf("unexpected %T", a)
}

// checkTypes asserts AWS's Parquet types: INT32 for version, ports,
// protocol, tcp_flags, traffic_path; INT64 for counters and times; BYTE_ARRAY
// with the STRING annotation for all others; every column OPTIONAL.
func checkTypes(t *testing.T, name string, pf *file.Reader) {
	t.Helper()
	schema := pf.MetaData().Schema
	for j := 0; j < schema.NumColumns(); j++ {
		c := schema.Column(j)
		want, logical := parquet.Types.ByteArray, "String"
		if strings.HasPrefix(name, pipeline.FindingsTable+"/") {
			if idx := detect.FindingsSchema.FieldIndices(c.Name()); len(idx) == 1 {
				switch detect.FindingsSchema.Field(idx[0]).Type.ID() {
				case arrow.INT64:
					want, logical = parquet.Types.Int64, "None"
				case arrow.FLOAT64:
					want, logical = parquet.Types.Double, "None"
				}
			} else {
				t.Errorf("%s: unexpected column %s", name, c.Name())
			}
		} else if c.Name() == "rejected_share" {
			want, logical = parquet.Types.Double, "None"
		} else if aggregateInt(c.Name()) {
			want, logical = parquet.Types.Int64, "None"
		} else if f, ok := parser.LookupField(c.Name()); ok {
			switch f.Kind {
			case parser.KindInt32:
				want, logical = parquet.Types.Int32, "None"
			case parser.KindInt64:
				want, logical = parquet.Types.Int64, "None"
			}
		}
		if c.PhysicalType() != want || c.LogicalType().String() != logical || c.MaxDefinitionLevel() != 1 {
			t.Errorf("%s: column %s is %v/%v, want %v/%s, OPTIONAL", name, c.Name(), c.PhysicalType(), c.LogicalType(), want, logical)
		}
	}
}

// canonical renders rows over the given columns, sorted.
func canonical(rows []map[string]string, cols []string) []string {
	out := make([]string, len(rows))
	for i, r := range rows {
		var sb strings.Builder
		for _, c := range cols {
			v, ok := r[c]
			if !ok {
				v = null
			}
			sb.WriteString(c + "=" + v + " ")
		}
		out[i] = sb.String()
	}
	sort.Strings(out)
	return out
}

func analyze(t *testing.T, dir string, jobs int) *pipeline.Result {
	t.Helper()
	srcs, err := archive.Expand([]string{"../testdata"})
	if err != nil {
		t.Fatal(err)
	}
	res, err := pipeline.Analyze(context.Background(), pipeline.Config{
		Inputs: srcs, Read: archive.Options{Jobs: jobs}, OutDir: dir, Tool: "flowlens test",
	})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// TestFlowsTableReadBack: every record of every sample format comes back
// from the Parquet files, read by pqarrow, with the same values and NULLs in
// the union schema; sums and counts match; so do runs with 1 and 4 jobs.
func TestFlowsTableReadBack(t *testing.T) {
	srcs, _ := archive.Expand([]string{"../testdata"})
	want, wantBytes, wantPackets := expectedRows(t, srcs)
	if len(want) != 291 {
		t.Fatalf("%d records in testdata, want 291", len(want))
	}
	var first []string
	for _, jobs := range []int{1, 4} {
		dir := t.TempDir()
		res := analyze(t, dir, jobs)
		m, err := athena.ReadManifest(dir)
		if err != nil {
			t.Fatal(err)
		}
		got := readOutput(t, dir, m)
		cols := map[string]bool{}
		for _, r := range got {
			for c := range r {
				cols[c] = true
			}
		}
		var names []string
		for c := range cols {
			names = append(names, c)
		}
		sort.Strings(names)
		if len(names) != 73 {
			t.Errorf("%d columns in the union schema, want 73 (54 VPC, 18 Transit Gateway, 1 unknown)", len(names))
		}
		g, w := canonical(got, names), canonical(want, names)
		if len(g) != len(w) {
			t.Fatalf("%d rows written, %d parsed", len(g), len(w))
		}
		for i := range w {
			if g[i] != w[i] {
				t.Fatalf("row differs:\n got %s\nwant %s", g[i], w[i])
			}
		}
		var gotBytes, gotPackets int64
		for _, r := range got {
			var v int64
			if _, err := fmt.Sscan(r["bytes"], &v); err == nil {
				gotBytes += v
			}
			if _, err := fmt.Sscan(r["packets"], &v); err == nil {
				gotPackets += v
			}
		}
		if gotBytes != wantBytes || gotPackets != wantPackets {
			t.Errorf("sums: bytes %d packets %d, want %d %d", gotBytes, gotPackets, wantBytes, wantPackets)
		}
		if m.Totals.Records != 291 || m.Totals.InvalidLines != 4 || len(m.Inputs) != 9 || m.Tables[0].Rows != 291 {
			t.Errorf("manifest totals %+v", m.Totals)
		}
		if res.Totals.Failed != 0 {
			t.Errorf("%d inputs failed", res.Totals.Failed)
		}
		if first == nil {
			first = g
		} else if strings.Join(first, "\n") != strings.Join(g, "\n") {
			t.Error("1 and 4 jobs wrote different rows")
		}
	}
}

// TestPartitionsAndFiles: files sit in region=/date= directories that match
// their rows, and the layout and manifest agree.
func TestPartitionsAndFiles(t *testing.T) {
	dir := t.TempDir()
	analyze(t, dir, 2)
	m, _ := athena.ReadManifest(dir)
	want := map[string]int64{
		"region=us-east-1/date=2026-11-01": 177, "region=eu-west-1/date=2026-11-01": 40, "region=unknown/date=2026-11-01": 65,
		"region=ap-southeast-2/date=2021-03-26": 2, "region=us-east-1/date=2014-12-14": 2, "region=us-east-1/date=2015-05-10": 2,
		"region=us-east-1/date=2015-05-29": 2, "region=us-east-1/date=2016-10-31": 1,
	}
	got := map[string]int64{}
	for _, f := range m.Tables[0].Files {
		part := strings.TrimPrefix(filepath.ToSlash(filepath.Dir(f.Path)), "flows/")
		got[part] += f.Rows
		if _, err := os.Stat(filepath.Join(dir, f.Path)); err != nil {
			t.Errorf("manifest file missing: %v", err)
		}
		if !strings.HasSuffix(f.Path, ".zstd.parquet") || len(f.SHA256) != 64 {
			t.Errorf("file %+v", f)
		}
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("partition %s: %d rows, want %d", k, got[k], v)
		}
	}
	if len(got) != len(want) {
		t.Errorf("partitions %v", got)
	}
	ddl, _ := os.ReadFile(filepath.Join(dir, athena.DDLName))
	for _, s := range []string{"CREATE EXTERNAL TABLE IF NOT EXISTS `flows`", "`end` bigint", "`protocol` int", "`srcaddr` string",
		"`flow_hash` string", "PARTITIONED BY (`region` string, `date` string)", "'projection.date.range'='2014-12-14,NOW'",
		"region=${region}/date=${date}/", "STORED AS PARQUET"} {
		if !strings.Contains(string(ddl), s) {
			t.Errorf("athena.sql lacks %q", s)
		}
	}
	if strings.Contains(string(ddl), "`region` string,\n") {
		t.Error("region is both a column and a partition key")
	}
}

// TestRerunReplaces: a second run into the same directory replaces the
// first's files; a cancelled run commits nothing and leaves the previous
// output as it was; a crashed run's staging directory is cleaned up.
func TestRerunReplaces(t *testing.T) {
	dir := t.TempDir()
	analyze(t, dir, 2)
	m1, _ := athena.ReadManifest(dir)
	analyze(t, dir, 2)
	m2, _ := athena.ReadManifest(dir)
	if m1.RunID == m2.RunID {
		t.Fatal("same run id twice")
	}
	var files []string
	filepath.WalkDir(filepath.Join(dir, "flows"), func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(dir, p)
			files = append(files, filepath.ToSlash(rel))
		}
		return nil
	})
	var listed []string
	for _, f := range m2.Tables[0].Files {
		listed = append(listed, f.Path)
	}
	sort.Strings(files)
	if strings.Join(files, ",") != strings.Join(listed, ",") {
		t.Fatalf("files on disk %v, manifest %v", files, listed)
	}
	if rows := readOutput(t, dir, m2); len(rows) != 291 {
		t.Fatalf("%d rows after a rerun, want 291", len(rows))
	}

	// A crashed run's leftovers, then a cancelled run.
	os.MkdirAll(filepath.Join(dir, ".flowlens-staging-crashed/flows/region=x/date=y"), 0o755)
	os.WriteFile(filepath.Join(dir, ".flowlens-staging-crashed/flows/region=x/date=y/part.parquet"), []byte("half"), 0o644)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	srcs, _ := archive.Expand([]string{"../testdata"})
	_, err := pipeline.Analyze(ctx, pipeline.Config{Inputs: srcs, OutDir: dir})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled run returned %v", err)
	}
	m3, _ := athena.ReadManifest(dir)
	if m3.RunID != m2.RunID {
		t.Fatal("a cancelled run changed the manifest")
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".flowlens") {
			t.Errorf("leftover %s", e.Name())
		}
	}
}

// TestFailedInputIsNamed: a corrupt input is listed with its error in the
// manifest while the others are written.
func TestFailedInputIsNamed(t *testing.T) {
	in := t.TempDir()
	good := filepath.Join(in, "good.log")
	os.WriteFile(good, []byte("2 1 eni-1 10.0.0.1 10.0.0.2 1 2 6 3 100 1793491200 1793491260 ACCEPT OK\n"), 0o644)
	bad := filepath.Join(in, "bad.log.gz")
	os.WriteFile(bad, []byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff, 1, 2, 3}, 0o644)
	dir := t.TempDir()
	srcs, _ := archive.Expand([]string{in})
	res, err := pipeline.Analyze(context.Background(), pipeline.Config{Inputs: srcs, OutDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	m := res.Manifest
	if m.Totals.FailedInputs != 1 || m.Totals.Records != 1 || m.Inputs[0].Error == "" || !strings.Contains(m.Inputs[0].Error, "bad.log.gz") || m.Inputs[1].Error != "" {
		t.Fatalf("manifest %+v", m.Inputs)
	}
}

// TestFormatSwitchInsideFile: a file of two S3 objects of different field
// orders, concatenated, gives flow rows with each object's values in their
// own columns (a field only the second has is NULL in the first's rows),
// and its manifest entry says where the format changed.
func TestFormatSwitchInsideFile(t *testing.T) {
	in := t.TempDir()
	text := "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status\n" +
		"2 123456789012 eni-1 10.0.0.1 10.0.0.2 443 5000 6 10 1000 1793491200 1793491260 ACCEPT OK\n" +
		"version account-id interface-id dstaddr srcaddr srcport dstport protocol bytes packets start end action log-status tcp-flags\n" +
		"2 123456789012 eni-2 10.9.9.9 10.0.0.7 22 6000 6 777 3 1793491200 1793491260 REJECT OK 2\n"
	os.WriteFile(filepath.Join(in, "two.log"), []byte(text), 0o644)
	srcs, _ := archive.Expand([]string{in})
	dir := t.TempDir()
	res, err := pipeline.Analyze(context.Background(), pipeline.Config{Inputs: srcs, OutDir: dir, SkipAggregates: true})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, r := range readOutput(t, dir, res.Manifest) {
		if r["interface_id"] != "" {
			got[r["interface_id"]] = r["srcaddr"] + " " + r["dstaddr"] + " " + r["packets"] + " " + r["bytes"] + " " + r["tcp_flags"]
		}
	}
	want := map[string]string{"eni-1": "10.0.0.1 10.0.0.2 10 1000 ∅", "eni-2": "10.0.0.7 10.9.9.9 3 777 2"}
	if !maps.Equal(got, want) {
		t.Errorf("flow rows %v, want %v", got, want)
	}
	in0 := res.Manifest.Inputs[0]
	if in0.Records != 2 || in0.InvalidLines != 0 || in0.Error != "" || len(in0.Warnings) != 1 || !strings.HasPrefix(in0.Warnings[0], "line 3: a header naming other fields") {
		t.Errorf("manifest input %+v", in0)
	}
}

// TestCommitFailureAndRecovery: a commit that fails at its last step leaves
// the previous output exactly as it was; a commit interrupted half way (as
// a crash would leave it) is undone by the next run.
func TestCommitFailureAndRecovery(t *testing.T) {
	dir := t.TempDir()
	analyze(t, dir, 2)
	m1, _ := athena.ReadManifest(dir)
	files := func() []string {
		var out []string
		filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				rel, _ := filepath.Rel(dir, p)
				out = append(out, filepath.ToSlash(rel))
			}
			return nil
		})
		sort.Strings(out)
		return out
	}
	before := files()

	// The manifest cannot be written: a directory stands where its
	// temporary file goes.
	blocker := filepath.Join(dir, "._manifest.json.tmp")
	os.Mkdir(blocker, 0o755)
	srcs, _ := archive.Expand([]string{"../testdata"})
	if _, err := pipeline.Analyze(context.Background(), pipeline.Config{Inputs: srcs, OutDir: dir}); err == nil {
		t.Fatal("the commit could not write its manifest but succeeded")
	}
	os.Remove(blocker)
	if after := files(); strings.Join(after, "\n") != strings.Join(before, "\n") {
		t.Fatalf("a failed commit changed the output:\nbefore %v\nafter  %v", before, after)
	}
	if m, _ := athena.ReadManifest(dir); m.RunID != m1.RunID || len(readOutput(t, dir, m)) != 291 {
		t.Fatal("the previous output is not intact")
	}

	// A crash half way through a commit: the previous manifest and flows are
	// aside, a new run's flows are in place, there is no manifest.
	old := filepath.Join(dir, ".flowlens-old-crashed")
	os.MkdirAll(old, 0o755)
	os.Rename(filepath.Join(dir, "_manifest.json"), filepath.Join(old, "_manifest.json"))
	os.Rename(filepath.Join(dir, "flows"), filepath.Join(old, "flows"))
	os.MkdirAll(filepath.Join(dir, "flows/region=new/date=2026-11-01"), 0o755)
	os.WriteFile(filepath.Join(dir, "flows/region=new/date=2026-11-01/part-x.parquet"), []byte("new"), 0o644)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	pipeline.Analyze(ctx, pipeline.Config{Inputs: srcs, OutDir: dir}) // opens the output: recovers, then stops
	if after := files(); strings.Join(after, "\n") != strings.Join(before, "\n") {
		t.Fatalf("recovery did not restore the previous output:\nbefore %v\nafter  %v", before, after)
	}
}

// TestAggregateTables: with aggregation on, the four tables are written
// under aggregates/, listed in the manifest and the DDL, and their totals
// read back with pqarrow agree with the flows: every record with both
// addresses is in one conversation row; every record with an interface in
// one interfaces row.
func TestAggregateTables(t *testing.T) {
	dir := t.TempDir()
	srcs, _ := archive.Expand([]string{"../testdata"})
	cfg := aggregate.Config{}
	res, err := pipeline.Analyze(context.Background(), pipeline.Config{Inputs: srcs, OutDir: dir, Aggregate: &cfg})
	if err != nil {
		t.Fatal(err)
	}
	m := res.Manifest
	if len(m.Tables) != 5 {
		t.Fatalf("%d tables in the manifest", len(m.Tables))
	}
	byTable := map[string][]map[string]string{}
	for _, tm := range m.Tables {
		one := *m
		one.Tables = []athena.TableManifest{tm}
		byTable[tm.Name] = readOutput(t, dir, &one)
		if tm.Name != "flows" && !strings.HasPrefix(tm.Dir, "aggregates/") {
			t.Errorf("table %s in %s", tm.Name, tm.Dir)
		}
	}
	sum := func(rows []map[string]string, col string, where func(map[string]string) bool) int64 {
		var s int64
		for _, r := range rows {
			if where != nil && !where(r) {
				continue
			}
			var v int64
			if _, err := fmt.Sscan(r[col], &v); err == nil {
				s += v
			}
		}
		return s
	}
	flows := byTable["flows"]
	withAddrs := func(r map[string]string) bool { return r["srcaddr"] != null && r["dstaddr"] != null }
	withIface := func(r map[string]string) bool { return r["interface_id"] != null }
	count := func(rows []map[string]string, where func(map[string]string) bool) int64 {
		var n int64
		for _, r := range rows {
			if where(r) {
				n++
			}
		}
		return n
	}
	conv := byTable[aggregate.Conversations]
	if got, want := sum(conv, "records", nil), count(flows, withAddrs); got != want || want != 283 {
		t.Errorf("conversations hold %d records, flows with addresses %d", got, want)
	}
	if got, want := sum(conv, "bytes", nil), sum(flows, "bytes", withAddrs); got != want {
		t.Errorf("conversation bytes %d, flows %d", got, want)
	}
	if got, want := sum(byTable[aggregate.Interfaces], "records", nil), count(flows, withIface); got != want {
		t.Errorf("interfaces hold %d records, flows with an interface %d", got, want)
	}
	talkers := byTable[aggregate.Talkers]
	if got, want := sum(talkers, "bytes_sent", nil), sum(flows, "bytes", withAddrs); got != want {
		t.Errorf("talkers sent %d bytes, flows %d", got, want)
	}
	if sum(talkers, "bytes_received", nil) != sum(talkers, "bytes_sent", nil) {
		t.Error("talkers received and sent differ")
	}
	ports := byTable[aggregate.Ports]
	withPort := func(r map[string]string) bool { return withAddrs(r) && r["dstport"] != null }
	if got, want := sum(ports, "records", nil), count(flows, withPort); got != want {
		t.Errorf("ports hold %d records, flows with a port %d", got, want)
	}
	for _, r := range ports {
		if !strings.Contains(r["rejected_share"], ".") && r["rejected_share"] != "0" && r["rejected_share"] != "1" {
			t.Fatalf("rejected_share %q", r["rejected_share"])
		}
	}
	ddl, _ := os.ReadFile(filepath.Join(dir, athena.DDLName))
	for _, name := range aggregate.Tables {
		if !strings.Contains(string(ddl), "CREATE EXTERNAL TABLE IF NOT EXISTS `"+name+"`") {
			t.Errorf("athena.sql lacks %s", name)
		}
	}
	if !strings.Contains(string(ddl), "`rejected_share` double") || !strings.Contains(string(ddl), "`window_start` bigint") {
		t.Error("aggregate column types missing from athena.sql")
	}
}

// aggregateInt reports whether an aggregate column that is not a flow field
// is INT64.
func aggregateInt(name string) bool {
	if _, ok := parser.LookupField(name); ok {
		return false
	}
	switch name {
	case "addr", "interface_srcaddr", "interface_dstaddr", "flow_hash":
		return false
	}
	return true
}

// TestFindingsOutput: a findings-only run over the labelled corpus writes
// findings.jsonl and a findings table that an independent reader decodes
// to the same findings, lists both in the manifest, leaves flows out, and
// a rerun writes the same findings.
func TestFindingsOutput(t *testing.T) {
	corpus := t.TempDir()
	if _, err := bench.GenerateCorpus(bench.CorpusConfig{Dir: corpus, Seed: 3, Hours: 2}); err != nil {
		t.Fatal(err)
	}
	srcs, err := archive.Expand([]string{filepath.Join(corpus, "AWSLogs")})
	if err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	run := func() (*pipeline.Result, []byte) {
		res, err := pipeline.Analyze(context.Background(), pipeline.Config{Inputs: srcs, OutDir: out,
			Aggregate: &aggregate.Config{}, SkipAggregates: true, SkipFlows: true, Detect: &detect.Config{}})
		if err != nil {
			t.Fatal(err)
		}
		jsonl, err := os.ReadFile(filepath.Join(out, pipeline.FindingsFile))
		if err != nil {
			t.Fatal(err)
		}
		return res, jsonl
	}
	res, jsonl := run()
	m := res.Manifest
	if len(m.Tables) != 1 || m.Tables[0].Name != pipeline.FindingsTable || len(m.Files) != 1 {
		t.Fatalf("manifest tables %+v files %+v", m.Tables, m.Files)
	}
	sum := sha256.Sum256(jsonl)
	if f := m.Files[0]; f.Path != pipeline.FindingsFile || f.SHA256 != hex.EncodeToString(sum[:]) || f.Rows != int64(len(res.Findings)) {
		t.Fatalf("manifest file %+v, %d findings", f, len(res.Findings))
	}
	if len(res.Findings) < 10 {
		t.Fatalf("only %d findings", len(res.Findings))
	}
	rows := readOutput(t, out, m)
	if len(rows) != len(res.Findings) {
		t.Fatalf("%d rows in the findings table, %d findings", len(rows), len(res.Findings))
	}
	byID := map[string]map[string]string{}
	for _, r := range rows {
		byID[r["id"]] = r
	}
	orNull := func(s string) string {
		if s == "" {
			return null
		}
		return s
	}
	for line := range strings.Lines(string(jsonl)) {
		var f detect.Finding
		if err := json.Unmarshal([]byte(line), &f); err != nil {
			t.Fatal(err)
		}
		r := byID[f.ID]
		if r == nil || r["kind"] != f.Kind || r["severity"] != f.Severity.String() || r["source"] != f.Source ||
			r["bytes"] != fmt.Sprint(f.Bytes) || r["first_seen"] != fmt.Sprint(f.FirstSeen.Unix()) ||
			r["targets"] != orNull(strings.Join(f.Targets, ",")) {
			t.Fatalf("finding %s: row %v", f.ID, r)
		}
	}
	if _, again := run(); string(again) != string(jsonl) {
		t.Fatal("a rerun wrote different findings")
	}
}

// TestShardsAndUnshardedDoNotMix: a shard does not write into a directory
// holding an unsharded run's output, nor an unsharded run into a sharded
// job's, where each record would have counted twice.
func TestShardsAndUnshardedDoNotMix(t *testing.T) {
	srcs, err := archive.Expand([]string{"../testdata"})
	if err != nil {
		t.Fatal(err)
	}
	plain, sharded := t.TempDir(), t.TempDir()
	if _, err := pipeline.Analyze(context.Background(), pipeline.Config{Inputs: srcs, OutDir: plain}); err != nil {
		t.Fatal(err)
	}
	before, _ := athena.ReadManifest(plain)
	_, err = pipeline.Analyze(context.Background(), pipeline.Config{Inputs: archive.Shard(srcs, 0, 2), OutDir: plain, Shard: athena.ShardLabel(0, 2)})
	if err == nil || !strings.Contains(err.Error(), "output of an unsharded run") {
		t.Fatalf("shard into an unsharded output: %v", err)
	}
	if after, _ := athena.ReadManifest(plain); after.RunID != before.RunID {
		t.Error("the refused shard changed the output")
	}
	if shards, _ := filepath.Glob(filepath.Join(plain, "_manifest.shard-*")); len(shards) > 0 {
		t.Errorf("the refused shard left %v", shards)
	}
	if _, err := pipeline.Analyze(context.Background(), pipeline.Config{Inputs: archive.Shard(srcs, 0, 2), OutDir: sharded, Shard: athena.ShardLabel(0, 2)}); err != nil {
		t.Fatal(err)
	}
	_, err = pipeline.Analyze(context.Background(), pipeline.Config{Inputs: srcs, OutDir: sharded})
	if err == nil || !strings.Contains(err.Error(), "output of a sharded job") {
		t.Fatalf("unsharded run into a sharded output: %v", err)
	}
	// A shard of a job split three ways would count again what the two
	// shards of the first job cover.
	_, err = pipeline.Analyze(context.Background(), pipeline.Config{Inputs: archive.Shard(srcs, 1, 3), OutDir: sharded, Shard: athena.ShardLabel(1, 3)})
	if err == nil || !strings.Contains(err.Error(), "split another way (_manifest.shard-0000-of-0002.json)") {
		t.Fatalf("shard 1 of 3 beside shard 0 of 2: %v", err)
	}
	if _, err := pipeline.Analyze(context.Background(), pipeline.Config{Inputs: archive.Shard(srcs, 1, 2), OutDir: sharded, Shard: athena.ShardLabel(1, 2)}); err != nil {
		t.Fatalf("shard 1 of 2: %v", err)
	}
}

// TestEarlyFailureReleasesOutput: a run that fails after opening its
// output (here on its detection settings) leaves no staging directory and
// no lock: the next run in the same process may write the directory.
func TestEarlyFailureReleasesOutput(t *testing.T) {
	srcs, err := archive.Expand([]string{"../testdata"})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	_, err = pipeline.Analyze(context.Background(), pipeline.Config{Inputs: srcs, OutDir: dir, Detect: &detect.Config{ExfilPCR: 2}})
	if err == nil || !strings.Contains(err.Error(), "PCR") {
		t.Fatalf("bad detection settings: %v", err)
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		t.Errorf("left behind: %s", e.Name())
	}
	if _, err := pipeline.Analyze(context.Background(), pipeline.Config{Inputs: srcs, OutDir: dir}); err != nil {
		t.Fatalf("the next run: %v", err)
	}
}

// TestStartsTile: runs over back-to-back ranges of record start times,
// given the same files (as S3 runs over consecutive days read the files
// just past their end for delivery lag), hold each record exactly once
// between them: the others are skipped and counted, not invalid.
func TestStartsTile(t *testing.T) {
	srcs, err := archive.Expand([]string{"../testdata"})
	if err != nil {
		t.Fatal(err)
	}
	run := func(r parser.TimeRange) (*pipeline.Result, map[string][]string) {
		t.Helper()
		dir := t.TempDir()
		res, err := pipeline.Analyze(context.Background(), pipeline.Config{Inputs: srcs, OutDir: dir, Read: archive.Options{Starts: r}})
		if err != nil {
			t.Fatal(err)
		}
		return res, tableRows(t, dir, res.Manifest)
	}
	whole, wholeRows := run(parser.TimeRange{})
	var starts []string
	for _, row := range wholeRows[athena.FlowsTable] {
		if i := strings.Index(row, "start="); i >= 0 {
			starts = append(starts, strings.Fields(row[i:])[0])
		}
	}
	slices.Sort(starts)
	split, err := strconv.ParseInt(strings.TrimPrefix(starts[len(starts)/2], "start="), 10, 64)
	if err != nil {
		t.Fatalf("split at %q: %v", starts[len(starts)/2], err)
	}
	early, earlyRows := run(parser.TimeRange{From: 0, To: split})
	late, lateRows := run(parser.TimeRange{From: split, To: math.MaxInt64})
	// A run's schema holds the columns of the formats it read records of:
	// rows are compared on their non-NULL values.
	values := func(rows []string) []string {
		out := make([]string, len(rows))
		for i, r := range rows {
			out[i] = strings.Join(slices.DeleteFunc(strings.Fields(r), func(f string) bool { return strings.HasSuffix(f, "="+null) }), " ")
		}
		slices.Sort(out)
		return out
	}
	union := values(slices.Concat(earlyRows[athena.FlowsTable], lateRows[athena.FlowsTable]))
	if !slices.Equal(union, values(wholeRows[athena.FlowsTable])) {
		t.Errorf("the two ranges hold %d flows rows, the whole run %d", len(union), len(wholeRows[athena.FlowsTable]))
	}
	e, l, w := early.Manifest.Totals, late.Manifest.Totals, whole.Manifest.Totals
	if e.Records+l.Records != w.Records || e.OutOfRange != l.Records || l.OutOfRange != e.Records || e.InvalidLines != w.InvalidLines || e.Records == 0 || l.Records == 0 {
		t.Errorf("records %d+%d of %d, out of range %d and %d, invalid %d of %d", e.Records, l.Records, w.Records, e.OutOfRange, l.OutOfRange, e.InvalidLines, w.InvalidLines)
	}
}
