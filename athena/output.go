// Package athena writes flowlens's output tables so that Athena can query
// them at once: Parquet files (through pqfile) in Hive-style partitions,
// compacted across many small inputs, committed atomically with a manifest
// written last, and the CREATE TABLE statements that match. It is a package
// of its own because every table (flows, aggregates, findings) goes through
// the same sink, layout, commit protocol and DDL (design.md).
package athena

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
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
	lockName      = ".flowlens.lock"
)

// ErrOutputBusy is returned when another run is writing the output
// directory.
var ErrOutputBusy = errors.New("another flowlens run is writing this output")

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
	Dir     string // the output directory, or the store's location
	RunID   string
	Shard   string // this run's shard of the job (ShardLabel), or ""
	store   Store  // set when files are committed one by one (S3, shards)
	staging string
	// stagingLock is held on staging until the run's files leave it: a run
	// that finds it unlocked takes the directory for one a killed run left.
	stagingLock *stagingLock
	lock        *os.File // held from OpenOutput until Commit ends (with KeepLock, until Abort) or Abort
	// keepLock keeps the lock past Commit, until Abort.
	keepLock bool
	// lease keeps other runs out of a store output (TakeLease).
	lease runLease
	// recovered says what OpenOutput cleaned up after interrupted runs.
	recovered []string
}

// KeepLock keeps the directory locked after Commit, until Abort, for what
// the run writes beside its committed output (its report), which another
// run must not overwrite or remove meanwhile.
func (o *Output) KeepLock() { o.keepLock = true }

// Recovered returns what opening the output cleaned up after interrupted
// runs, one message each, for the run to report.
func (o *Output) Recovered() []string { return o.recovered }

// OpenOutput prepares dir for run runID: it locks it against other runs,
// removes the staging directories that interrupted runs left behind and
// finishes or undoes an interrupted commit. paths are the table
// directories and files (relative, with '/') the run may write: a commit
// replaces them whole, so a file under them that the previous manifest
// does not list, which flowlens did not write, is an error rather than
// lost.
func OpenOutput(dir, runID string, paths ...string) (o *Output, err error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("cannot create output directory: %w", err)
	}
	lock, err := lockDir(dir)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			closeLock(lock)
		}
	}()
	// Before any cleanup: the staging directories of running shards are
	// theirs.
	names, err := LocalStore(dir).List(context.Background(), OutputFilesPrefix)
	if err != nil {
		return nil, fmt.Errorf("cannot read output directory: %w", err)
	}
	if other := OtherOutput(names, ""); other != "" {
		return nil, fmt.Errorf("%s holds the output of a sharded job (%s): an unsharded run needs a directory of its own", dir, other)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("cannot read output directory: %w", err)
	}
	recovered := sweepStaging(dir, 0)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), oldPrefix) {
			if err := recoverCommit(dir, filepath.Join(dir, e.Name())); err != nil {
				return nil, fmt.Errorf("cannot clean up after an interrupted run: %w", err)
			}
			recovered = append(recovered, "completed or undid the commit of an interrupted run: "+strings.TrimPrefix(e.Name(), oldPrefix))
		}
	}
	prev, err := ReadManifest(dir)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("cannot read the previous manifest: %w", err)
	}
	if err := checkOwned(dir, prev, paths); err != nil {
		return nil, err
	}
	staging := filepath.Join(dir, stagingPrefix+runID)
	if err := os.MkdirAll(staging, 0o755); err != nil {
		return nil, fmt.Errorf("cannot create staging directory: %w", err)
	}
	return &Output{Dir: dir, RunID: runID, staging: staging, stagingLock: lockStaging(staging), lock: lock, recovered: recovered}, nil
}

// checkOwned checks that every file under paths in dir is listed by prev,
// the manifest of the output there (nil when there is none), or hidden
// (Commit keeps those).
func checkOwned(dir string, prev *Manifest, paths []string) error {
	listed := map[string]bool{}
	if prev != nil {
		for _, p := range manifestPaths(prev) {
			listed[p] = true
		}
	}
	for _, p := range paths {
		root := filepath.Join(dir, filepath.FromSlash(p))
		err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				if errors.Is(err, fs.ErrNotExist) && path == root {
					return nil
				}
				return err
			}
			if d.IsDir() {
				return nil
			}
			rel, err := filepath.Rel(dir, path)
			if err != nil {
				return err
			}
			// Hidden regular files are kept by Commit (keepHidden); a
			// hidden link, pipe or device is not.
			if !listed[filepath.ToSlash(rel)] && !(hiddenPath(filepath.ToSlash(rel)) && d.Type().IsRegular()) {
				return fmt.Errorf("%s was not written by flowlens (%s lists no such file), and committing would remove it: move it, or write to another directory", path, ManifestName)
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("output directory: %w", err)
		}
	}
	return nil
}

// keepHidden links the hidden regular files (a name starting with '.' or
// '_', as .DS_Store or _SUCCESS: Athena skips them, and flowlens did not
// write them) of the table directory dir into its staged replacement, so
// that the swap keeps them: hard links (copies where the file system has
// none), not moves, so that a commit cut off and undone leaves the
// originals where they were.
func (o *Output) keepHidden(dir string) error {
	root := filepath.Join(o.Dir, filepath.FromSlash(dir))
	return filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		switch {
		case err != nil && errors.Is(err, fs.ErrNotExist) && path == root:
			return nil
		case err != nil:
			return err
		case !d.Type().IsRegular():
			return nil
		}
		rel, err := filepath.Rel(o.Dir, path)
		if err != nil || !hiddenPath(filepath.ToSlash(rel)) {
			return err
		}
		to := o.path(filepath.ToSlash(rel))
		if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
			return err
		}
		if os.Link(path, to) == nil {
			return nil
		}
		return copyFile(path, to)
	})
}

// copyFile copies the regular file at from to a new file to, with its mode.
func copyFile(from, to string) error {
	src, err := os.Open(from)
	if err != nil {
		return err
	}
	defer src.Close()
	info, err := src.Stat()
	if err != nil {
		return err
	}
	dst, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_EXCL, info.Mode().Perm())
	if err != nil {
		return err
	}
	_, err = io.Copy(dst, src)
	return errors.Join(err, dst.Close())
}

// unlock releases the output directory's lock.
func (o *Output) unlock() {
	closeLock(o.lock)
	o.lock = nil
}

// WriteFile stages a file beside the tables (rel is relative to Dir, with
// '/'); Commit moves it into place when the manifest lists it in Files.
func (o *Output) WriteFile(rel string, data []byte) (FileManifest, error) {
	path := o.path(rel)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return FileManifest{}, err
	}
	if err := writeAtomic(path, data); err != nil {
		return FileManifest{}, err
	}
	sum := sha256.Sum256(data)
	return FileManifest{Path: rel, Rows: int64(bytes.Count(data, []byte{'\n'})), Bytes: int64(len(data)), SHA256: hex.EncodeToString(sum[:])}, nil
}

// path returns where the output file rel (relative to Dir) is staged.
func (o *Output) path(rel string) string { return filepath.Join(o.staging, filepath.FromSlash(rel)) }

// Abort removes everything the run staged and releases the directory.
func (o *Output) Abort() error {
	defer o.unlock()
	if o.lease != nil {
		o.lease.release()
		o.lease = nil
	}
	return o.removeStaging()
}

// removeStaging removes the staging directory and releases its lock.
func (o *Output) removeStaging() error {
	err := os.RemoveAll(o.staging)
	o.stagingLock.release()
	o.stagingLock = nil
	return err
}

// Commit makes the staged tables the output. The previous manifest is moved
// aside first, so that from then on nothing claims to be complete; then each
// table directory of the previous run (as its manifest lists them) and of
// this one is swapped in by rename; then the DDL and the manifest are
// written, each atomically, the manifest last; then the previous files are
// deleted. A rerun thus replaces the previous result instead of adding to
// it. If a step fails, the steps before it are undone and the previous
// output is as it was.
//
// An output opened with OpenStoreOutput is committed file by file instead
// (see storeCommit); ctx cancels such a commit, which then undoes itself.
func (o *Output) Commit(ctx context.Context, m *Manifest, ddl string) (err error) {
	if o.store != nil {
		return o.storeCommit(ctx, m, ddl)
	}
	prev, perr := ReadManifest(o.Dir)
	if perr != nil && !errors.Is(perr, fs.ErrNotExist) {
		return fmt.Errorf("cannot read the previous manifest: %w", perr)
	}
	dirs := map[string]bool{}
	// Table directories and single files are swapped alike.
	for _, mf := range []*Manifest{prev, m} {
		if mf == nil {
			continue
		}
		for _, t := range mf.Tables {
			dirs[t.Dir] = true
		}
		for _, f := range mf.Files {
			dirs[f.Path] = true
		}
	}
	sorted := make([]string, 0, len(dirs))
	for d := range dirs {
		sorted = append(sorted, d)
	}
	sort.Strings(sorted)
	if err := checkOwned(o.Dir, prev, sorted); err != nil {
		return err
	}
	for _, dir := range sorted {
		if err := o.keepHidden(dir); err != nil {
			return err
		}
	}
	old := filepath.Join(o.Dir, oldPrefix+o.RunID)
	if err := os.MkdirAll(old, 0o755); err != nil {
		return err
	}
	// The paths about to be swapped, for recoverCommit to undo a commit cut
	// off half way, new tables included.
	if err := writeAtomic(filepath.Join(old, swappedName), []byte(strings.Join(sorted, "\n"))); err != nil {
		os.RemoveAll(old)
		return err
	}
	var undo []func()
	defer func() {
		if err != nil {
			for i := len(undo) - 1; i >= 0; i-- {
				undo[i]()
			}
			os.RemoveAll(old)
		}
	}()
	// move renames from to to, creating to's parent, and records the undo.
	move := func(from, to string) error {
		if _, err := os.Stat(from); err != nil {
			return nil // nothing there
		}
		if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
			return err
		}
		if err := os.Rename(from, to); err != nil {
			return fmt.Errorf("cannot move %s: %w", from, err)
		}
		undo = append(undo, func() { os.Rename(to, from) })
		return nil
	}
	for _, name := range []string{ManifestName, DDLName} {
		if err := move(filepath.Join(o.Dir, name), filepath.Join(old, name)); err != nil {
			return err
		}
	}
	for _, dir := range sorted {
		final := filepath.Join(o.Dir, filepath.FromSlash(dir))
		if err := move(final, filepath.Join(old, filepath.FromSlash(dir))); err != nil {
			return err
		}
		if err := move(o.path(dir), final); err != nil {
			return err
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
	// Committed: what remains is cleaning up, which a later run redoes if
	// this one is interrupted.
	undo = nil
	if !o.keepLock {
		defer o.unlock()
	}
	if err := os.RemoveAll(old); err != nil {
		return fmt.Errorf("cannot remove the previous output: %w", err)
	}
	return o.removeStaging()
}

// swappedName is the file in a commit's directory of previous files that
// lists the paths the commit swaps.
const swappedName = ".swapped"

// recoverCommit finishes or undoes the commit of a run that stopped in the
// middle of it, as its directory of previous files, old, tells: when the
// current manifest is that run's, the commit completed and old is only
// removed; else every path the commit swapped (its list in old, else the
// previous manifest's paths) is cleared of that run's files and given its
// previous files back, and the previous DDL and manifest are restored.
func recoverCommit(dir, old string) error {
	run := strings.TrimPrefix(filepath.Base(old), oldPrefix)
	if cur, err := ReadManifest(dir); err == nil && cur.RunID == run {
		return os.RemoveAll(old)
	}
	var paths []string
	if list, err := os.ReadFile(filepath.Join(old, swappedName)); err == nil {
		paths = strings.Split(string(list), "\n")
	} else if prev, err := ReadManifest(old); err == nil { // a commit of an older flowlens
		for _, t := range prev.Tables {
			paths = append(paths, t.Dir)
		}
		for _, f := range prev.Files {
			paths = append(paths, f.Path)
		}
	}
	for _, p := range paths {
		if p == "" || !filepath.IsLocal(filepath.FromSlash(p)) {
			continue
		}
		final := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.RemoveAll(final); err != nil {
			return err
		}
		saved := filepath.Join(old, filepath.FromSlash(p))
		if _, err := os.Stat(saved); err != nil {
			continue // new in the cut run: removed
		}
		if err := os.MkdirAll(filepath.Dir(final), 0o755); err != nil {
			return err
		}
		if err := os.Rename(saved, final); err != nil {
			return err
		}
	}
	for _, name := range []string{DDLName, ManifestName} { // the manifest last
		if _, err := os.Stat(filepath.Join(old, name)); err == nil {
			if err := os.Rename(filepath.Join(old, name), filepath.Join(dir, name)); err != nil {
				return err
			}
		}
	}
	return os.RemoveAll(old)
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
