package athena_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/flowlens/flowlens/athena"
)

// failingStore is a LocalStore whose first put of one name fails.
type failingStore struct {
	athena.LocalStore
	fail   string
	failed bool
}

func (s *failingStore) Put(ctx context.Context, rel, path string) error {
	if rel == s.fail && !s.failed {
		s.failed = true
		return errors.New("injected failure")
	}
	return s.LocalStore.Put(ctx, rel, path)
}

// commitRun commits a run with one table file named after the run and a
// findings file, into store.
func commitRun(t *testing.T, store athena.Store, run string) error {
	t.Helper()
	out, err := athena.OpenStoreOutput(store, run, "")
	if err != nil {
		t.Fatal(err)
	}
	defer out.Abort()
	var files []athena.FileManifest
	for _, rel := range []string{"t/part-" + run + ".txt", "findings.jsonl"} {
		f, err := out.WriteFile(rel, []byte("data of "+run+"\n"))
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
	}
	m := &athena.Manifest{RunID: run, Tables: []athena.TableManifest{{Name: "t", Dir: "t", Files: files[:1]}}, Files: files[1:]}
	return out.Commit(context.Background(), m, "ddl of "+run)
}

// TestStoreCommitUndo: whichever put of a second run fails (a table file,
// the rewritten findings file, the DDL, the manifest), the first run's
// output is intact: its manifest, and every file it lists with its
// content.
func TestStoreCommitUndo(t *testing.T) {
	for _, fail := range []string{"t/part-r2.txt", "findings.jsonl", athena.DDLName, athena.ManifestName} {
		dir := t.TempDir()
		if err := commitRun(t, athena.LocalStore(dir), "r1"); err != nil {
			t.Fatal(err)
		}
		if err := commitRun(t, &failingStore{LocalStore: athena.LocalStore(dir), fail: fail}, "r2"); err == nil {
			t.Fatalf("%s: the failing run committed", fail)
		}
		m, err := athena.ReadManifest(dir)
		if err != nil || m.RunID != "r1" {
			t.Fatalf("%s: manifest %v %+v", fail, err, m)
		}
		for _, f := range append(m.Tables[0].Files, m.Files...) {
			data, err := os.ReadFile(filepath.Join(dir, f.Path))
			sum := sha256.Sum256(data)
			if err != nil || hex.EncodeToString(sum[:]) != f.SHA256 {
				t.Errorf("%s: %s of the first run: %v, or changed", fail, f.Path, err)
			}
		}
		if ddl, _ := os.ReadFile(filepath.Join(dir, athena.DDLName)); string(ddl) != "ddl of r1" {
			t.Errorf("%s: DDL %q", fail, ddl)
		}
		if _, err := os.Stat(filepath.Join(dir, "t", "part-r2.txt")); !os.IsNotExist(err) {
			t.Errorf("%s: the failed run's file is still there", fail)
		}
	}
	// And a run that succeeds replaces the previous one's files.
	dir := t.TempDir()
	commitRun(t, athena.LocalStore(dir), "r1")
	if err := commitRun(t, athena.LocalStore(dir), "r2"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "t", "part-r1.txt")); !os.IsNotExist(err) {
		t.Errorf("the previous run's file was not deleted")
	}
	if m, _ := athena.ReadManifest(dir); m.RunID != "r2" {
		t.Errorf("manifest of %s", m.RunID)
	}
}

// cutStore is a LocalStore that stops writing after its first ops puts and
// deletes, its undo included: a commit whose process was killed, or whose
// network was lost, half way.
type cutStore struct {
	athena.LocalStore
	ops int
}

func (s *cutStore) Put(ctx context.Context, rel, path string) error {
	if s.ops--; s.ops < 0 {
		return errors.New("connection lost")
	}
	return s.LocalStore.Put(ctx, rel, path)
}

func (s *cutStore) Delete(ctx context.Context, rels []string) error {
	if s.ops--; s.ops < 0 {
		return errors.New("connection lost")
	}
	return s.LocalStore.Delete(ctx, rels)
}

// TestCutStoreCommitCleared: a store commit cut off at any point, its undo
// too, leaves files that no manifest may list (its uploads, or the previous
// run's files once its manifest is in); the next run's commit clears them
// all, so Athena sees each record once, and leaves exactly its own files.
func TestCutStoreCommitCleared(t *testing.T) {
	for ops := range 8 { // r2's commit: marker, manifest deletion, 2 puts, DDL, manifest, clean-up, marker deletion
		dir := t.TempDir()
		if err := commitRun(t, athena.LocalStore(dir), "r1"); err != nil {
			t.Fatal(err)
		}
		commitRun(t, &cutStore{LocalStore: athena.LocalStore(dir), ops: ops}, "r2") // fails, or leaves its clean-up undone
		if err := commitRun(t, athena.LocalStore(dir), "r3"); err != nil {
			t.Fatalf("cut after %d ops: the next run: %v", ops, err)
		}
		files := storeFiles(dir)
		want := []string{athena.ManifestName, athena.DDLName, "findings.jsonl", "t/part-r3.txt"}
		slices.Sort(want)
		if !slices.Equal(files, want) {
			t.Errorf("cut after %d ops: the next run left %v, want %v", ops, files, want)
		}
	}
}

// deleteFailingStore is a LocalStore whose first delete of a list holding
// one name fails.
type deleteFailingStore struct {
	athena.LocalStore
	fail   string
	failed bool
}

func (s *deleteFailingStore) Delete(ctx context.Context, rels []string) error {
	if slices.Contains(rels, s.fail) && !s.failed {
		s.failed = true
		return errors.New("SlowDown")
	}
	return s.LocalStore.Delete(ctx, rels)
}

// storeFiles lists the files of a local store, sorted.
func storeFiles(dir string) []string {
	var files []string
	filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(dir, path)
			files = append(files, filepath.ToSlash(rel))
		}
		return nil
	})
	slices.Sort(files)
	return files
}

// TestStoreCommitLeftoversKept: a committed run that cannot delete the
// previous run's files keeps its marker, so the next run deletes them; a
// failed run that took its previous manifest from a cut run's marker does
// not put it back (the cut run may have rewritten the files it lists), so
// no manifest ever lists a changed file, and the next run ends clean.
func TestStoreCommitLeftoversKept(t *testing.T) {
	want := []string{athena.DDLName, athena.ManifestName, "findings.jsonl", "t/part-r4.txt"}
	slices.Sort(want)

	dir := t.TempDir()
	commitRun(t, athena.LocalStore(dir), "r1")
	if err := commitRun(t, &deleteFailingStore{LocalStore: athena.LocalStore(dir), fail: "t/part-r1.txt"}, "r2"); err == nil {
		t.Fatal("a clean-up that failed was not reported")
	}
	commitRun(t, athena.LocalStore(dir), "r3")
	if err := commitRun(t, athena.LocalStore(dir), "r4"); err != nil {
		t.Fatal(err)
	}
	if got := storeFiles(dir); !slices.Equal(got, want) {
		t.Errorf("after a failed clean-up: %v, want %v", got, want)
	}

	for ops := range 8 {
		dir := t.TempDir()
		commitRun(t, athena.LocalStore(dir), "r1")
		commitRun(t, &cutStore{LocalStore: athena.LocalStore(dir), ops: ops}, "r2")
		if err := commitRun(t, &failingStore{LocalStore: athena.LocalStore(dir), fail: athena.ManifestName}, "r3"); err == nil {
			t.Fatalf("cut after %d ops: r3 committed", ops)
		}
		if m, err := athena.ReadManifest(dir); err == nil {
			for _, f := range append(m.Tables[0].Files, m.Files...) {
				data, err := os.ReadFile(filepath.Join(dir, f.Path))
				sum := sha256.Sum256(data)
				if err != nil || hex.EncodeToString(sum[:]) != f.SHA256 {
					t.Errorf("cut after %d ops, r3 undone: the manifest of %s lists %s, missing or changed", ops, m.RunID, f.Path)
				}
			}
		}
		if err := commitRun(t, athena.LocalStore(dir), "r4"); err != nil {
			t.Fatal(err)
		}
		if got := storeFiles(dir); !slices.Equal(got, want) {
			t.Errorf("cut after %d ops: %v, want %v", ops, got, want)
		}
	}
}

// TestStoreForeignFilesRefused: a store holding, under a table folder, a
// file that no manifest or commit marker lists is refused, naming it;
// hidden files, which Athena skips, and the uploads of a cut commit, which
// its marker lists, are not strangers.
func TestStoreForeignFilesRefused(t *testing.T) {
	dir := t.TempDir()
	if err := commitRun(t, athena.LocalStore(dir), "r1"); err != nil {
		t.Fatal(err)
	}
	check := func() error {
		out, err := athena.OpenStoreOutput(athena.LocalStore(dir), "r2", "")
		if err != nil {
			t.Fatal(err)
		}
		defer out.Abort()
		return out.CheckOwned(context.Background(), "t", "u")
	}
	if err := check(); err != nil {
		t.Fatalf("a run's own files: %v", err)
	}
	// marker, manifest deletion, the table file's put; then cut
	commitRun(t, &cutStore{LocalStore: athena.LocalStore(dir), ops: 3}, "rc")
	if _, err := os.Stat(filepath.Join(dir, "t", "part-rc.txt")); err != nil {
		t.Fatalf("the cut commit left no upload: %v", err)
	}
	if _, err := athena.ReadManifest(dir); err == nil {
		t.Fatal("the cut commit left a manifest")
	}
	if err := check(); err != nil {
		t.Fatalf("a cut commit's uploads: %v", err)
	}
	for _, rel := range []string{"t/_SUCCESS", "t/.spark/part-0.parquet", "u/_tmp/x"} {
		writeFile(t, filepath.Join(dir, rel))
	}
	if err := check(); err != nil {
		t.Fatalf("hidden files: %v", err)
	}
	writeFile(t, filepath.Join(dir, "t", "region=x", "other.parquet"))
	writeFile(t, filepath.Join(dir, "u", "part-0.parquet"))
	err := check()
	if err == nil || !strings.Contains(err.Error(), filepath.Join(dir, "t", "region=x", "other.parquet")+" (and 1 more) was not written by flowlens") {
		t.Fatalf("foreign files: %v", err)
	}
}

// committingStore is a LocalStore in which other shards commit while a
// run checks it: a file their previous manifests listed is deleted between
// the listing of the files and the reading of the manifests, once in each
// pass (t/part-gone-N.txt); and a shard's commit begins just as its
// manifest is about to be read (begin: its marker put, naming a new file
// it uploads, its manifest deleted).
type committingStore struct {
	athena.LocalStore
	t        *testing.T
	walks    int
	phantoms bool   // list a file gone by the time manifests are read
	begin    string // the manifest whose read begins its shard's commit
}

func (s *committingStore) Walk(ctx context.Context, path string) ([]string, error) {
	files, err := s.LocalStore.Walk(ctx, path)
	if s.walks++; s.phantoms {
		files = append(files, fmt.Sprintf("t/part-gone-%d.txt", s.walks))
	}
	return files, err
}

func (s *committingStore) Read(ctx context.Context, rel string) ([]byte, error) {
	if rel == s.begin {
		s.begin = ""
		prev, err := s.LocalStore.Read(ctx, rel)
		if err != nil {
			return nil, err
		}
		marker := `{"run_id":"next","previous":` + string(prev) + `,"fresh":["t/part-next.txt"]}`
		dir := string(s.LocalStore)
		writeFile(s.t, filepath.Join(dir, "t", "part-next.txt"))
		if err := os.WriteFile(filepath.Join(dir, strings.Replace(rel, "_manifest", "_commit-in-progress", 1)), []byte(marker), 0o644); err != nil {
			return nil, err
		}
		if err := os.Remove(filepath.Join(dir, rel)); err != nil {
			return nil, err
		}
	}
	return s.LocalStore.Read(ctx, rel)
}

// TestStoreCommitMeanwhileNotForeign: files of shards committing while a
// run checks the store are not taken for strangers' files: one gone by the
// time it is looked for again, and the uploads of a commit that deleted
// its manifest just before it was read (its marker lists them).
func TestStoreCommitMeanwhileNotForeign(t *testing.T) {
	dir := t.TempDir()
	for i := range 3 {
		out, err := athena.OpenStoreOutput(athena.LocalStore(dir), fmt.Sprintf("r%d", i), athena.ShardLabel(i, 3))
		if err != nil {
			t.Fatal(err)
		}
		f, err := out.WriteFile(fmt.Sprintf("t/part-%d.txt", i), []byte("x\n"))
		if err != nil {
			t.Fatal(err)
		}
		if err := out.Commit(context.Background(), &athena.Manifest{Tables: []athena.TableManifest{{Name: "t", Dir: "t", Files: []athena.FileManifest{f}}}}, "ddl"); err != nil {
			t.Fatal(err)
		}
	}
	check := func(store *committingStore) {
		t.Helper()
		out, err := athena.OpenStoreOutput(store, "r3", athena.ShardLabel(2, 3))
		if err != nil {
			t.Fatal(err)
		}
		defer out.Abort()
		if err := out.CheckOwned(context.Background(), "t"); err != nil {
			t.Fatal(err)
		}
	}
	phantoms := &committingStore{LocalStore: athena.LocalStore(dir), t: t, phantoms: true}
	check(phantoms)
	if phantoms.walks != 2 {
		t.Errorf("phantom files listed in %d walks, want 2", phantoms.walks)
	}
	// The marker is read in the manifest's stead: one pass finds every
	// file owned.
	begun := &committingStore{LocalStore: athena.LocalStore(dir), t: t, begin: "_manifest.shard-0001-of-0003.json"}
	check(begun)
	if begun.walks != 1 || begun.begin != "" {
		t.Errorf("%d walks, want 1; commit begun: %v", begun.walks, begun.begin == "")
	}
}

func writeFile(t *testing.T, path string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte("x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestStagingLeftBehindRemoved: a store run removes the staging
// directories that killed runs left (for S3 outputs, under TMPDIR), and
// says so: those whose lock no run holds and whose lock file has not been
// refreshed for minutes. A live run's stays, even with a stale lock file
// (flock holds it), as do one refreshed lately (a run on another host, or
// one just started) and one without a lock file (an older flowlens's).
func TestStagingLeftBehindRemoved(t *testing.T) {
	if !slices.Contains([]string{"linux", "darwin", "freebsd", "netbsd", "openbsd", "dragonfly"}, runtime.GOOS) {
		t.Skip("no flock: live staging directories cannot be told from stale ones")
	}
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	store := struct{ athena.LocalStore }{athena.LocalStore(t.TempDir())} // not a LocalStore: staged under TMPDIR, as S3 outputs are
	live, err := athena.OpenStoreOutput(store, "live", "")
	if err != nil {
		t.Fatal(err)
	}
	defer live.Abort()
	if !strings.HasPrefix(live.Staged(), tmp) {
		t.Fatalf("staged in %s, not under TMPDIR %s", live.Staged(), tmp)
	}
	hour := time.Now().Add(-time.Hour)
	stage := func(name string, lockAge time.Time) string {
		dir := filepath.Join(tmp, ".flowlens-staging-"+name)
		writeFile(t, filepath.Join(dir, "flows", "part-0.parquet"))
		if !lockAge.IsZero() {
			writeFile(t, filepath.Join(dir, ".flowlens.lock"))
			if err := os.Chtimes(filepath.Join(dir, ".flowlens.lock"), lockAge, lockAge); err != nil {
				t.Fatal(err)
			}
		}
		if err := os.Chtimes(dir, hour, hour); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	killed := stage("killed-1", hour)
	refreshed := stage("elsewhere-2", time.Now())
	legacy := stage("legacy-3", time.Time{})
	if err := os.Chtimes(filepath.Join(live.Staged(), ".flowlens.lock"), hour, hour); err != nil {
		t.Fatal(err)
	}
	next, err := athena.OpenStoreOutput(store, "next", "")
	if err != nil {
		t.Fatal(err)
	}
	defer next.Abort()
	if got, want := next.Recovered(), []string{"removed the files staged by an interrupted run: killed-1"}; !slices.Equal(got, want) {
		t.Errorf("recovered %q, want %q", got, want)
	}
	for dir, want := range map[string]bool{killed: false, refreshed: true, legacy: true, live.Staged(): true, next.Staged(): true} {
		if _, err := os.Stat(dir); (err == nil) != want {
			t.Errorf("%s: exists %v, want %v", dir, err == nil, want)
		}
	}
	liveDir := live.Staged()
	live.Abort()
	if _, err := os.Stat(liveDir); err == nil {
		t.Errorf("%s outlived its run", liveDir)
	}
}

// TestCommitReleasesStaging: a committed run, local or into a store,
// holds no file open once Commit returns, Abort or not.
func TestCommitReleasesStaging(t *testing.T) {
	fds := func() int {
		entries, err := os.ReadDir("/proc/self/fd")
		if err != nil {
			t.Skip("no /proc/self/fd")
		}
		return len(entries)
	}
	before := fds()
	for i := range 10 {
		run := fmt.Sprintf("r%d", i)
		if err := commitRunNoAbort(t, athena.LocalStore(t.TempDir()), run); err != nil {
			t.Fatal(err)
		}
		dir := t.TempDir()
		out, err := athena.OpenOutput(dir, run, "t")
		if err != nil {
			t.Fatal(err)
		}
		f, err := out.WriteFile("t/part-"+run+".txt", []byte("x\n"))
		if err != nil {
			t.Fatal(err)
		}
		if err := out.Commit(context.Background(), &athena.Manifest{RunID: run, Tables: []athena.TableManifest{{Name: "t", Dir: "t", Files: []athena.FileManifest{f}}}}, "ddl"); err != nil {
			t.Fatal(err)
		}
	}
	if after := fds(); after > before+1 {
		t.Errorf("%d files open before 20 commits, %d after", before, after)
	}
}

// commitRunNoAbort is commitRun without the deferred Abort.
func commitRunNoAbort(t *testing.T, store athena.Store, run string) error {
	t.Helper()
	out, err := athena.OpenStoreOutput(store, run, "")
	if err != nil {
		t.Fatal(err)
	}
	f, err := out.WriteFile("t/part-"+run+".txt", []byte("data of "+run+"\n"))
	if err != nil {
		t.Fatal(err)
	}
	return out.Commit(context.Background(), &athena.Manifest{RunID: run, Tables: []athena.TableManifest{{Name: "t", Dir: "t", Files: []athena.FileManifest{f}}}}, "ddl of "+run)
}

// TestLocalShardOneRunAtATime: in a local directory shared by shards, a
// second run of one shard is refused while the first lives; another shard
// is not, and the shard is free again once its run ends.
func TestLocalShardOneRunAtATime(t *testing.T) {
	if !slices.Contains([]string{"linux", "darwin", "freebsd", "netbsd", "openbsd", "dragonfly"}, runtime.GOOS) {
		t.Skip("no flock")
	}
	dir := t.TempDir()
	open := func(run, shard string) (*athena.Output, error) {
		out, err := athena.OpenStoreOutput(athena.LocalStore(dir), run, shard)
		if err != nil {
			t.Fatal(err)
		}
		return out, out.TakeLease(context.Background())
	}
	first, err := open("r1", athena.ShardLabel(0, 2))
	if err != nil {
		t.Fatal(err)
	}
	second, err := open("r2", athena.ShardLabel(0, 2))
	if !errors.Is(err, athena.ErrOutputBusy) {
		t.Fatalf("the same shard twice: %v", err)
	}
	second.Abort()
	other, err := open("r3", athena.ShardLabel(1, 2))
	if err != nil {
		t.Fatalf("another shard: %v", err)
	}
	other.Abort()
	first.Abort()
	again, err := open("r4", athena.ShardLabel(0, 2))
	if err != nil {
		t.Fatalf("after the first run: %v", err)
	}
	again.Abort()
}
