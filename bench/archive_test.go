package bench_test

import (
	"context"
	"crypto/sha256"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/flowlens/flowlens/archive"
	"github.com/flowlens/flowlens/bench"
	"github.com/flowlens/flowlens/parser"
)

func digest(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, _ := os.ReadFile(p)
		rel, _ := filepath.Rel(dir, p)
		out[filepath.ToSlash(rel)] = fmt.Sprintf("%x", sha256.Sum256(data))
		return nil
	})
	return out
}

// TestGenerateArchive: the archive has the S3 layout and names, parses with
// zero invalid lines into exactly the records reported, mixes every format
// of the mix, and is the same whatever the worker count.
func TestGenerateArchive(t *testing.T) {
	dir1, dir4 := t.TempDir(), t.TempDir()
	cfg := bench.ArchiveConfig{Dir: dir1, Records: 50_000, Seed: 3, FileRecords: 4000, Workers: 1}
	st, err := bench.GenerateArchive(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Dir, cfg.Workers = dir4, 4
	if _, err := bench.GenerateArchive(context.Background(), cfg); err != nil {
		t.Fatal(err)
	}
	d1, d4 := digest(t, dir1), digest(t, dir4)
	if len(d1) != st.Files || fmt.Sprint(d1) != fmt.Sprint(d4) {
		t.Fatalf("%d files reported, %d written; 1 and 4 workers agree: %v", st.Files, len(d1), fmt.Sprint(d1) == fmt.Sprint(d4))
	}
	srcs, err := archive.Expand([]string{dir1})
	if err != nil {
		t.Fatal(err)
	}
	results, err := archive.Run(context.Background(), srcs, archive.Options{}, func(_ int, b *parser.Batch) error { b.Release(); return nil })
	if err != nil {
		t.Fatal(err)
	}
	tot := archive.Sum(results, 5)
	if tot.Failed != 0 || tot.Stats.Invalid != 0 || tot.Stats.Records != 50_000 || tot.TextBytes != st.TextBytes {
		t.Fatalf("read back: %d failed, %d invalid (%v), %d records, %d text bytes; generated %d records, %d bytes",
			tot.Failed, tot.Stats.Invalid, tot.Stats.Samples, tot.Stats.Records, tot.TextBytes, st.Records, st.TextBytes)
	}
	versions := map[int]int{}
	for i, r := range results {
		k := archive.ParseKey(srcs[i].Name)
		if r.Kind != parser.InputS3Text || k.Account == "" || k.Region == "" || k.Time.IsZero() {
			t.Fatalf("%s: kind %v, key %+v", srcs[i].Name, r.Kind, k)
		}
		versions[r.Format.Version()]++
	}
	var vs []string
	for v := range versions {
		vs = append(vs, fmt.Sprint(v))
	}
	sort.Strings(vs)
	if strings.Join(vs, ",") != "11,2,5,6" {
		t.Fatalf("format versions %v", versions)
	}
}

func TestGenerateBySize(t *testing.T) {
	dir := t.TempDir()
	st, err := bench.GenerateArchive(context.Background(), bench.ArchiveConfig{Dir: dir, TextBytes: 2 << 20})
	if err != nil {
		t.Fatal(err)
	}
	if st.TextBytes < 1<<20 || st.TextBytes > 3<<20 {
		t.Fatalf("asked for 2 MiB of text, got %d bytes", st.TextBytes)
	}
}
