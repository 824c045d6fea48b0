package report_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flowlens/flowlens/athena"
	"github.com/flowlens/flowlens/report"
)

// TestWriteFailsNamingTheFile checks that a directory without a manifest,
// a manifest that does not decode and a manifest listing a missing or
// corrupt table file each fail with the file's path, and leave no report
// and no temporary file behind.
func TestWriteFailsNamingTheFile(t *testing.T) {
	dir := t.TempDir()
	manifest := filepath.Join(dir, athena.ManifestName)
	table := "aggregates/talkers/region=r/date=2026-11-01/part-1.zstd.parquet"
	listing := func(path string) []byte {
		m := athena.Manifest{Version: 1, Tables: []athena.TableManifest{{Name: "talkers", Dir: "aggregates/talkers",
			Files: []athena.FileManifest{{Table: "talkers", Path: path}}}}}
		data, _ := json.Marshal(m)
		return data
	}
	cases := []struct {
		name, manifest, wantPath string
		setup                    func()
	}{
		{"no manifest", "", manifest, func() {}},
		{"bad manifest", "{", manifest, func() {}},
		{"missing table file", string(listing(table)), filepath.Join(dir, table), func() {}},
		{"corrupt table file", string(listing(table)), filepath.Join(dir, table), func() {
			os.MkdirAll(filepath.Dir(filepath.Join(dir, table)), 0o755)
			os.WriteFile(filepath.Join(dir, table), []byte("PAR1 not really"), 0o644)
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.manifest != "" {
				os.WriteFile(manifest, []byte(c.manifest), 0o644)
			}
			c.setup()
			_, err := report.Write(dir)
			if err == nil || !strings.Contains(err.Error(), c.wantPath) {
				t.Fatalf("error %v, want one naming %s", err, c.wantPath)
			}
			entries, _ := os.ReadDir(dir)
			for _, e := range entries {
				if strings.Contains(e.Name(), report.Name) {
					t.Errorf("%s left behind", e.Name())
				}
			}
		})
	}
}

// TestWriteReplacesAtomically rewrites the report of the fixture and checks
// that only report.html is left, with the same content (the report depends
// on nothing but the directory).
func TestWriteReplacesAtomically(t *testing.T) {
	f := analysed(t)
	path, err := report.Write(f.dir)
	if err != nil {
		t.Fatal(err)
	}
	again, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(again) != f.html {
		t.Error("a second report of the same directory differs from the first")
	}
	entries, _ := os.ReadDir(f.dir)
	for _, e := range entries {
		if strings.Contains(e.Name(), report.Name) && e.Name() != report.Name {
			t.Errorf("temporary file %s left behind", e.Name())
		}
	}
}

// TestWithoutAggregatesOrDetection renders a run that wrote only flows:
// every section says why it is empty instead of failing.
func TestWithoutAggregatesOrDetection(t *testing.T) {
	dir := t.TempDir()
	m := athena.Manifest{Version: 1, RunID: "r", Totals: athena.ManifestTotals{Inputs: 1, Records: 3}}
	data, _ := json.Marshal(m)
	os.WriteFile(filepath.Join(dir, athena.ManifestName), data, 0o644)
	path, err := report.Write(dir)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := os.ReadFile(path)
	for _, want := range []string{"Detection did not run", "No conversations table", "Every input was read"} {
		if !strings.Contains(string(page), want) {
			t.Errorf("report lacks %q", want)
		}
	}
	if strings.Contains(string(page), "<svg data-chart") {
		t.Error("a chart without data")
	}
}
