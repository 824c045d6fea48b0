// Package athena writes flowlens's output tables so that Athena can query
// them at once: Parquet files (through pqfile) in Hive-style partitions,
// compacted across many small inputs, committed atomically with a manifest
// written last, and the CREATE TABLE statements that match. It is a package
// of its own because every table (flows, aggregates, findings) goes through
// the same sink, layout, commit protocol and DDL (design.md).
package athena

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// ManifestName is the file written last by a successful run: its presence
// marks the output as complete.
const ManifestName = "_manifest.json"

// DDLName is the file holding the CREATE TABLE statements.
const DDLName = "athena.sql"

const (
	stagingPrefix = ".flowlens-staging-"
	oldPrefix     = ".flowlens-old-"
)

// NewRunID returns a unique, sortable run id: UTC time and random bits.
func NewRunID() string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return time.Now().UTC().Format("20060102T150405Z") + "-" + hex.EncodeToString(b[:])
}

// Output is an output directory being written. Tables are written under a
// hidden staging directory (names starting with "." are invisible to Athena
// and Hive), and Commit moves them into place and writes the manifest last,
// so a crashed or interrupted run leaves nothing that looks complete.
type Output struct {
	Dir     string
	RunID   string
	staging string
}

// OpenOutput prepares dir for run runID, removing the staging directories
// that crashed runs left behind.
func OpenOutput(dir, runID string) (*Output, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("cannot create output directory: %w", err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("cannot read output directory: %w", err)
	}
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), stagingPrefix) {
			if err := os.RemoveAll(filepath.Join(dir, e.Name())); err != nil {
				return nil, fmt.Errorf("cannot remove the leftovers of a crashed run: %w", err)
			}
		}
	}
	o := &Output{Dir: dir, RunID: runID, staging: filepath.Join(dir, stagingPrefix+runID)}
	if err := os.MkdirAll(o.staging, 0o755); err != nil {
		return nil, fmt.Errorf("cannot create staging directory: %w", err)
	}
	return o, nil
}

// path returns where the output file rel (relative to Dir) is staged.
func (o *Output) path(rel string) string { return filepath.Join(o.staging, filepath.FromSlash(rel)) }

// Abort removes everything the run staged.
func (o *Output) Abort() error { return os.RemoveAll(o.staging) }

// Commit makes the staged tables the output: each table directory of the
// previous run (as its manifest lists them) and of this one is swapped in by
// rename, then the DDL and the manifest are written, each atomically, the
// manifest last; then the previous files are deleted. A rerun thus replaces
// the previous result instead of adding to it.
func (o *Output) Commit(m *Manifest, ddl string) error {
	tables := map[string]bool{}
	if prev, err := ReadManifest(o.Dir); err == nil {
		for _, t := range prev.Tables {
			tables[t.Dir] = true
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("cannot read the previous manifest: %w", err)
	}
	for _, t := range m.Tables {
		tables[t.Dir] = true
	}
	old := filepath.Join(o.Dir, oldPrefix+o.RunID)
	for dir := range tables {
		final := filepath.Join(o.Dir, filepath.FromSlash(dir))
		if _, err := os.Stat(final); err == nil {
			dst := filepath.Join(old, filepath.FromSlash(dir))
			if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
				return err
			}
			if err := os.Rename(final, dst); err != nil {
				return fmt.Errorf("cannot move the previous %s aside: %w", dir, err)
			}
		}
		staged := o.path(dir)
		if _, err := os.Stat(staged); err != nil {
			continue // not written by this run
		}
		if err := os.MkdirAll(filepath.Dir(final), 0o755); err != nil {
			return err
		}
		if err := os.Rename(staged, final); err != nil {
			return fmt.Errorf("cannot move %s into place: %w", dir, err)
		}
	}
	if err := writeAtomic(filepath.Join(o.Dir, DDLName), []byte(ddl)); err != nil {
		return err
	}
	data, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return fmt.Errorf("cannot encode manifest: %w", err)
	}
	if err := writeAtomic(filepath.Join(o.Dir, ManifestName), append(data, '\n')); err != nil {
		return err
	}
	if err := os.RemoveAll(old); err != nil {
		return fmt.Errorf("cannot remove the previous output: %w", err)
	}
	return os.RemoveAll(o.staging)
}

// writeAtomic writes data to a temporary file beside path, syncs it and
// renames it over path.
func writeAtomic(path string, data []byte) error {
	tmp := filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+".tmp")
	f, err := os.Create(tmp)
	if err != nil {
		return fmt.Errorf("cannot write %s: %w", path, err)
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return fmt.Errorf("cannot write %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("cannot write %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("cannot write %s: %w", path, err)
	}
	return os.Rename(tmp, path)
}

// ReadManifest reads the manifest of an output directory.
func ReadManifest(dir string) (*Manifest, error) {
	data, err := os.ReadFile(filepath.Join(dir, ManifestName))
	if err != nil {
		return nil, err
	}
	var m Manifest
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("cannot decode %s: %w", ManifestName, err)
	}
	return &m, nil
}
