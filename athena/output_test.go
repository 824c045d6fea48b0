package athena_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flowlens/flowlens/athena"
	"github.com/flowlens/flowlens/bench"
	"github.com/flowlens/flowlens/parser"
)

// commitFlows writes a flows table of n generated records into dir as one
// run and commits it.
func commitFlows(t *testing.T, dir string, n int) (*athena.Manifest, error) {
	t.Helper()
	out, err := athena.OpenOutput(dir, athena.NewRunID(), athena.FlowsTable)
	if err != nil {
		return nil, err
	}
	rec := records(t, parser.DefaultLogFormat, bench.NewGenerator(parser.DefaultFormat(), 1).Lines(n))
	defer rec.Release()
	tbl := athena.NewFlowsTable(out, athena.TableOptions{})
	if err := tbl.Write([]string{"us-east-1", "2026-11-01"}, rec, nil); err != nil {
		t.Fatal(err)
	}
	tm, err := tbl.Close()
	if err != nil {
		t.Fatal(err)
	}
	m := &athena.Manifest{Version: 1, RunID: out.RunID, Tables: []athena.TableManifest{tm}}
	if err := out.Commit(context.Background(), m, ""); err != nil {
		out.Abort()
		return nil, err
	}
	return m, nil
}

// TestOutputLock: while a run has an output directory open, another run
// into it fails at once with ErrOutputBusy (two concurrent runs wrecked
// each other's output); the lock is released, and its file removed, by
// Commit and by Abort.
func TestOutputLock(t *testing.T) {
	dir := t.TempDir()
	first, err := athena.OpenOutput(dir, "run-1", athena.FlowsTable)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := athena.OpenOutput(dir, "run-2", athena.FlowsTable); !errors.Is(err, athena.ErrOutputBusy) {
		t.Fatalf("second run into a locked directory: %v, want ErrOutputBusy", err)
	}
	if err := first.Abort(); err != nil {
		t.Fatal(err)
	}
	if _, err := commitFlows(t, dir, 100); err != nil {
		t.Fatalf("run after an aborted one: %v", err)
	}
	if _, err := commitFlows(t, dir, 100); err != nil {
		t.Fatalf("run after a committed one: %v", err)
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") {
			t.Errorf("left behind: %s", e.Name())
		}
	}
}

// TestForeignFilesKept: a file under a table directory that no manifest
// lists, which flowlens did not write, stops the run instead of being
// removed with the directory it is in, whether it was there before the
// run or put there during it.
func TestForeignFilesKept(t *testing.T) {
	dir := t.TempDir()
	precious := filepath.Join(dir, "flows", "sub", "precious.parquet")
	os.MkdirAll(filepath.Dir(precious), 0o755)
	os.WriteFile(precious, []byte("mine"), 0o644)
	if _, err := commitFlows(t, dir, 100); err == nil || !strings.Contains(err.Error(), precious) {
		t.Fatalf("run into a directory holding %s: %v, want an error naming it", precious, err)
	}
	if _, err := os.Stat(precious); err != nil {
		t.Fatalf("the foreign file is gone: %v", err)
	}
	os.Remove(precious)
	m, err := commitFlows(t, dir, 100)
	if err != nil {
		t.Fatal(err)
	}
	committed := filepath.Join(dir, filepath.FromSlash(m.Tables[0].Files[0].Path))

	// Put there between the open and the commit.
	out, err := athena.OpenOutput(dir, athena.NewRunID(), athena.FlowsTable)
	if err != nil {
		t.Fatalf("rerun over its own output: %v", err)
	}
	os.MkdirAll(filepath.Dir(precious), 0o755)
	if err := os.WriteFile(precious, []byte("mine"), 0o644); err != nil {
		t.Fatal(err)
	}
	next := &athena.Manifest{Version: 1, RunID: out.RunID, Tables: []athena.TableManifest{{Name: "flows", Dir: "flows"}}}
	if err := out.Commit(context.Background(), next, ""); err == nil || !strings.Contains(err.Error(), precious) {
		t.Fatalf("commit over %s: %v, want an error naming it", precious, err)
	}
	out.Abort()
	for _, f := range []string{precious, committed} {
		if _, err := os.Stat(f); err != nil {
			t.Errorf("after the refused commit: %v", err)
		}
	}
	if cur, err := athena.ReadManifest(dir); err != nil || cur.RunID != m.RunID {
		t.Errorf("after the refused commit the manifest is %v, %v; want the previous run's", cur, err)
	}
}

// TestHiddenFilesKept: hidden files under a table (.DS_Store from a file
// browser, _SUCCESS from another tool), which Athena skips, neither block
// a rerun nor are lost when it swaps the table in.
func TestHiddenFilesKept(t *testing.T) {
	dir := t.TempDir()
	if _, err := commitFlows(t, dir, 100); err != nil {
		t.Fatal(err)
	}
	hidden := []string{filepath.Join(dir, "flows", "_SUCCESS"), filepath.Join(dir, "flows", "region=x", ".DS_Store"), filepath.Join(dir, "flows", ".spark", "part-0")}
	for _, h := range hidden {
		os.MkdirAll(filepath.Dir(h), 0o755)
		if err := os.WriteFile(h, []byte("not flowlens's"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	m, err := commitFlows(t, dir, 50)
	if err != nil {
		t.Fatalf("rerun beside hidden files: %v", err)
	}
	for _, h := range hidden {
		if data, err := os.ReadFile(h); err != nil || string(data) != "not flowlens's" {
			t.Errorf("%s after the rerun: %q, %v", h, data, err)
		}
	}
	if m.Tables[0].Files[0].Rows != 50 {
		t.Errorf("the rerun's table: %+v", m.Tables[0].Files)
	}
	// A hidden link (or pipe) is not a file the commit can keep: it is
	// refused before the run, naming it, as any foreign file.
	link := filepath.Join(dir, "flows", ".cache")
	if err := os.Symlink(t.TempDir(), link); err != nil {
		t.Fatal(err)
	}
	if _, err := commitFlows(t, dir, 10); err == nil || !strings.Contains(err.Error(), link) {
		t.Errorf("beside a hidden link: %v, want an error naming it", err)
	}
}

// TestRecoveredIsReported: what opening an output cleans up after
// interrupted runs is said, not done silently.
func TestRecoveredIsReported(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, ".flowlens-staging-crashed", "flows"), 0o755)
	os.MkdirAll(filepath.Join(dir, ".flowlens-old-cut"), 0o755)
	out, err := athena.OpenOutput(dir, "next", athena.FlowsTable)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Abort()
	got := strings.Join(out.Recovered(), "\n")
	if !strings.Contains(got, "staged by an interrupted run: crashed") || !strings.Contains(got, "commit of an interrupted run: cut") {
		t.Errorf("Recovered() = %q", got)
	}
	for _, leftover := range []string{".flowlens-staging-crashed", ".flowlens-old-cut"} {
		if _, err := os.Stat(filepath.Join(dir, leftover)); err == nil {
			t.Errorf("%s is still there", leftover)
		}
	}
}

// TestCutCommitUndone: a commit killed after moving its tables in is undone
// by the next run, the tables it added included (they were kept, and then
// refused as files no manifest lists, blocking every later run).
func TestCutCommitUndone(t *testing.T) {
	// The first commit of a directory, cut after moving flows/ in.
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "flows", "region=x", "date=y"), 0o755)
	os.WriteFile(filepath.Join(dir, "flows", "region=x", "date=y", "part-cut.parquet"), []byte("new"), 0o644)
	os.MkdirAll(filepath.Join(dir, ".flowlens-old-cut"), 0o755)
	os.WriteFile(filepath.Join(dir, ".flowlens-old-cut", ".swapped"), []byte("findings\nflows"), 0o644)
	if _, err := commitFlows(t, dir, 50); err != nil {
		t.Fatalf("run after a cut first commit: %v", err)
	}

	// A rerun, cut after swapping flows/ and adding a new table.
	dir = t.TempDir()
	prev, err := commitFlows(t, dir, 50)
	if err != nil {
		t.Fatal(err)
	}
	old := filepath.Join(dir, ".flowlens-old-cut")
	os.MkdirAll(old, 0o755)
	os.WriteFile(filepath.Join(old, ".swapped"), []byte("findings\nflows"), 0o644)
	os.Rename(filepath.Join(dir, athena.ManifestName), filepath.Join(old, athena.ManifestName))
	os.Rename(filepath.Join(dir, "flows"), filepath.Join(old, "flows"))
	for _, f := range []string{"flows/region=x/date=y/part-cut.parquet", "findings/region=x/date=y/part-cut.parquet"} {
		os.MkdirAll(filepath.Dir(filepath.Join(dir, f)), 0o755)
		os.WriteFile(filepath.Join(dir, f), []byte("new"), 0o644)
	}
	out, err := athena.OpenOutput(dir, "next", athena.FlowsTable, "findings")
	if err != nil {
		t.Fatalf("run after a cut rerun: %v", err)
	}
	out.Abort()
	if m, err := athena.ReadManifest(dir); err != nil || m.RunID != prev.RunID {
		t.Fatalf("manifest after the undo: %v, %v; want the previous run's", m, err)
	}
	for _, f := range prev.Tables[0].Files {
		if _, err := os.Stat(filepath.Join(dir, filepath.FromSlash(f.Path))); err != nil {
			t.Errorf("previous file not restored: %v", err)
		}
	}
	for _, gone := range []string{"findings", "flows/region=x", ".flowlens-old-cut"} {
		if _, err := os.Stat(filepath.Join(dir, gone)); err == nil {
			t.Errorf("%s is still there after the undo", gone)
		}
	}
}
