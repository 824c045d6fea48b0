package report_test

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/flowlens/flowlens/aggregate"
	"github.com/flowlens/flowlens/archive"
	"github.com/flowlens/flowlens/athena"
	"github.com/flowlens/flowlens/detect"
	"github.com/flowlens/flowlens/pipeline"
	"github.com/flowlens/flowlens/report"
)

// TestShardedOutput analyses a few inputs once whole and once as two
// shards of a job writing into one directory (a manifest and a findings
// file per shard, no _manifest.json): the traffic charts of both reports
// are the same markup, since the aggregate tables' sums do not depend on
// how the inputs were split, and the sharded report lists the findings of
// both shards and every input.
func TestShardedOutput(t *testing.T) {
	f := analysed(t)
	var inputs []archive.Source
	for _, src := range f.inputs {
		if len(inputs) < 8 || strings.Contains(src.Name, "extra") {
			inputs = append(inputs, src)
		}
	}
	run := func(dir, shard string, srcs []archive.Source) {
		t.Helper()
		_, err := pipeline.Analyze(context.Background(), pipeline.Config{Inputs: srcs, OutDir: dir, Shard: shard,
			Aggregate: &aggregate.Config{}, Detect: &detect.Config{}, SkipFlows: true})
		if err != nil {
			t.Fatal(err)
		}
	}
	whole, sharded := t.TempDir(), t.TempDir()
	run(whole, "", inputs)
	var halves [2][]archive.Source
	for i, src := range inputs {
		halves[i%2] = append(halves[i%2], src)
	}
	for i, half := range halves {
		run(sharded, athena.ShardLabel(i, 2), half)
	}
	if _, err := os.Stat(filepath.Join(sharded, athena.ManifestName)); err == nil {
		t.Fatalf("a sharded job wrote %s: the test no longer covers merging", athena.ManifestName)
	}
	page := func(dir string) string {
		t.Helper()
		path, err := report.Write(dir)
		if err != nil {
			t.Fatal(err)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		return string(data)
	}
	a, b := page(whole), page(sharded)
	for _, chart := range []string{"bytes-over-time", "address-spaces", "top-talkers", "rejected-ports", "interface-gaps"} {
		if chartSVG(t, a, chart) != chartSVG(t, b, chart) {
			t.Errorf("%s differs between the whole and the sharded job", chart)
		}
	}
	lines := 0
	paths, _ := filepath.Glob(filepath.Join(sharded, "findings.shard-*.jsonl"))
	for _, path := range paths {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		lines += strings.Count(string(data), "\n")
	}
	t.Logf("%d findings in %d files, %d inputs", lines, len(paths), len(inputs))
	if len(paths) != 2 || lines == 0 || len(elements(b, "finding")) != lines {
		t.Errorf("%d finding rows, %d lines in %d findings files", len(elements(b, "finding")), lines, len(paths))
	}
	card := `<div class="v">` + strconv.Itoa(len(inputs)) + `</div><div class="l">inputs</div>`
	if !strings.Contains(b, card) || !strings.Contains(b, "2 shards") {
		t.Errorf("the sharded report does not count %d inputs of 2 shards", len(inputs))
	}
}
