package bench_test

import (
	"context"
	"encoding/json"
	"math"
	"testing"

	"github.com/flowlens/flowlens/archive"
	"github.com/flowlens/flowlens/athena/pqfile"
	"github.com/flowlens/flowlens/bench"
)

// TestHarness runs a small benchmark and checks that the JSON report has
// every stage and every field, with measured (non-zero) values.
func TestHarness(t *testing.T) {
	dir := t.TempDir()
	if _, err := bench.GenerateArchive(context.Background(), bench.ArchiveConfig{Dir: dir, Records: 30_000, FileRecords: 5000}); err != nil {
		t.Fatal(err)
	}
	srcs, _ := archive.Expand([]string{dir})
	rep, err := bench.Run(context.Background(), bench.Config{
		Inputs: srcs, Codecs: []pqfile.Codec{pqfile.None, pqfile.Zstd}, Jobs: []int{1, 2}, TempDir: t.TempDir(),
	})
	if err != nil {
		t.Fatal(err)
	}
	data, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Machine   map[string]any     `json:"machine"`
		Inputs    int                `json:"inputs"`
		Sample    int64              `json:"sample_text_bytes"`
		TimeShare map[string]float64 `json:"time_share"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	var raw struct {
		Stages []map[string]any `json:"stages"`
	}
	json.Unmarshal(data, &raw)
	for _, k := range []string{"goos", "goarch", "cpus", "gomaxprocs", "go_version"} {
		if doc.Machine[k] == nil {
			t.Errorf("machine.%s missing", k)
		}
	}
	if doc.Inputs != len(srcs) || doc.Sample <= 0 {
		t.Errorf("inputs %d sample %d", doc.Inputs, doc.Sample)
	}
	want := []string{"gunzip", "parse", "parse+arrow", "parse+aggregate", "parse+aggregate+detect", "parse+parquet-none", "parse+parquet-zstd",
		"end-to-end-zstd", "end-to-end-zstd+aggregates+detect", "end-to-end-zstd", "end-to-end-zstd+aggregates+detect"}
	if len(raw.Stages) != len(want) {
		t.Fatalf("%d stages, want %d", len(raw.Stages), len(want))
	}
	for i, s := range raw.Stages {
		if s["name"] != want[i] {
			t.Errorf("stage %d is %v, want %s", i, s["name"], want[i])
		}
		for _, k := range []string{"text_bytes", "seconds", "mb_per_s", "cpu_s_per_gb", "peak_rss_mb"} {
			if v, _ := s[k].(float64); v <= 0 {
				t.Errorf("stage %v: %s = %v", s["name"], k, s[k])
			}
		}
		if s["name"] != "gunzip" {
			if v, _ := s["records"].(float64); v != 30_000 {
				t.Errorf("stage %v: %v records, want 30000", s["name"], s["records"])
			}
			if _, ok := s["allocs_per_record"]; !ok {
				t.Errorf("stage %v: allocs_per_record missing", s["name"])
			}
		}
	}
	if raw.Stages[7]["jobs"] != 1.0 || raw.Stages[9]["jobs"] != 2.0 {
		t.Errorf("end-to-end sweep jobs %v %v", raw.Stages[7]["jobs"], raw.Stages[9]["jobs"])
	}
	var sum float64
	for _, k := range []string{"gunzip", "parsing", "arrow", "aggregation", "detection", "encoding", "compression"} {
		v, ok := doc.TimeShare[k]
		if !ok || v < 0 {
			t.Errorf("time_share.%s = %v", k, v)
		}
		sum += v
	}
	if math.Abs(sum-1) > 1e-9 {
		t.Errorf("time shares sum to %v", sum)
	}
}
