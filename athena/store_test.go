package athena_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"testing"

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
