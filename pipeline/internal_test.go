package pipeline

import (
	"context"
	"errors"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/flowlens/flowlens/archive"
	"github.com/flowlens/flowlens/athena"
	"github.com/flowlens/flowlens/report"
)

// TestHolder: the hold follows the earliest reach of the unfinished inputs:
// an input without a time holds everything until it is read from, then only
// its latest start less the margin; timed inputs hold from their key time
// until they are read past it; finished inputs hold nothing.
func TestHolder(t *testing.T) {
	t0 := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	keys := []archive.KeyInfo{{}, {Time: t0.Add(2 * time.Hour)}, {Time: t0.Add(3 * time.Hour)}}
	h := newHolder(keys, []int{0, 1, 2}, 5*time.Minute, 15*time.Minute)
	const margin = 20 * 60
	base := t0.Unix()
	check := func(step string, got int64, moved bool, want int64, wantMoved bool) {
		t.Helper()
		if got != want || moved != wantMoved {
			t.Errorf("%s: hold %d (moved %v), want %d (moved %v)", step, got-base, moved, want-base, wantMoved)
		}
	}
	if got := h.from(); got != math.MinInt64/2 {
		t.Fatalf("before reading: hold %d, want everything", got)
	}
	got, moved := h.read(0, base+3600)
	check("untimed input at 1 h", got, moved, base+3600-margin, true)
	got, moved = h.read(0, base+1800) // an earlier batch's latest is no news
	check("untimed input, late batch", got, moved, 0, false)
	got, moved = h.read(0, base+5*3600)
	check("untimed input past the next key", got, moved, base+2*3600-margin, true)
	got, moved = h.read(1, base+2*3600+600)
	check("second input read", got, moved, base+2*3600+600-margin, true)
	got, moved = h.finish(1)
	check("second input done", got, moved, base+3*3600-margin, true)
	got, moved = h.finish(0)
	check("first input done", got, moved, base+3*3600-margin, false)
	got, moved = h.finish(2)
	check("all done", got, moved, math.MaxInt64, true)
}

// TestHolderInputFinishedUnread: an input that ends without a record
// (empty, or failed) hands the hold to the next input not read from, which
// may still be downloading.
func TestHolderInputFinishedUnread(t *testing.T) {
	t0 := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	keys := []archive.KeyInfo{{}, {Time: t0.Add(time.Hour)}, {Time: t0.Add(65 * time.Minute)}}
	h := newHolder(keys, []int{0, 1, 2}, 5*time.Minute, 15*time.Minute)
	const margin = 20 * 60
	base := t0.Unix()
	if got, _ := h.read(0, base+3*3600); got != base+3600-margin {
		t.Fatalf("hold %d, want the second input's key time less the margin", got-base)
	}
	if got, _ := h.finish(1); got != base+65*60-margin {
		t.Fatalf("after the second input ended unread: hold %d, want the third's key time less the margin (%d)", got-base, 65*60-margin)
	}
}

// TestReportNotWrittenIsRemoved: when a run cannot make its report, the
// previous run's report.html goes, since it would describe another output.
func TestReportNotWrittenIsRemoved(t *testing.T) {
	dir := t.TempDir()
	stale := filepath.Join(dir, report.Name)
	if err := os.WriteFile(stale, []byte("<html>the previous run</html>"), 0o644); err != nil {
		t.Fatal(err)
	}
	store := athena.LocalStore(dir)
	out, err := athena.OpenStoreOutput(store, athena.NewRunID(), "")
	if err != nil {
		t.Fatal(err)
	}
	defer out.Abort()
	failed := errors.New("a table cannot be read")
	where, err := writeReport(context.Background(), Config{Store: store, Report: true}, out, nil, failed)
	if where != "" || !errors.Is(err, failed) {
		t.Fatalf("writeReport = %q, %v", where, err)
	}
	if _, err := os.Stat(stale); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the previous report is still there (%v)", err)
	}
}

// TestUnreachableRows: rows in date=unknown partitions and rows dated after
// the run are named per table, with their counts; others are not.
func TestUnreachableRows(t *testing.T) {
	m := &athena.Manifest{Tables: []athena.TableManifest{
		{Name: "flows", Files: []athena.FileManifest{
			{Path: "flows/region=us-east-1/date=2026-11-01/a.parquet", Rows: 10},
			{Path: "flows/region=us-east-1/date=unknown/b.parquet", Rows: 3},
			{Path: "flows/region=unknown/date=unknown/c.parquet", Rows: 2},
			{Path: "flows/region=us-east-1/date=2100-01-02/d.parquet", Rows: 4},
			{Path: "flows/region=us-east-1/date=2026-11-26/e.parquet", Rows: 5},
		}},
		{Name: "talkers", Files: []athena.FileManifest{{Path: "aggregates/talkers/region=x/date=2026-11-25/f.parquet", Rows: 7}}},
	}}
	got := unreachableRows(m, time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC))
	if len(got) != 2 || !strings.HasPrefix(got[0], "flows: 5 rows have no start time") ||
		!strings.HasPrefix(got[1], "flows: 4 rows are dated after today (up to 2100-01-02)") {
		t.Errorf("warnings:\n%s", strings.Join(got, "\n"))
	}
}
