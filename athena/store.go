package athena

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"
)

// Store holds an output whose files are committed one by one rather than
// by swapping directories: an S3 prefix (S3 has no rename), or a local
// directory that several shards of one job write into.
type Store interface {
	// Read returns a committed file; an error wrapping fs.ErrNotExist
	// when there is none.
	Read(ctx context.Context, rel string) ([]byte, error)
	// Put commits the local file at path as rel, completely or not at all.
	Put(ctx context.Context, rel, path string) error
	// Delete removes committed files; missing ones are no error.
	Delete(ctx context.Context, rels []string) error
	// List returns the names of the files at the top of the store (not in
	// a folder) that start with prefix: the manifests and commit markers,
	// to tell a sharded job's output from an unsharded run's and to learn
	// which files are flowlens's.
	List(ctx context.Context, prefix string) ([]string, error)
	// Walk returns the names of the files at path or under it (a folder),
	// relative to the store, with '/'.
	Walk(ctx context.Context, path string) ([]string, error)
	// Location names the store in messages: a directory or an s3:// URI.
	Location() string
}

// OpenStoreOutput prepares run runID of shard (empty when the job is not
// sharded) to be committed into store. Files are staged in a temporary
// directory (local stores: a hidden one inside theirs, so that Put is a
// rename), which the run keeps locked until it ends; staging directories
// that killed runs left there are removed (where flock works).
func OpenStoreOutput(store Store, runID, shard string) (o *Output, err error) {
	parent := os.TempDir()
	if ls, ok := store.(LocalStore); ok {
		if err := os.MkdirAll(string(ls), 0o755); err != nil {
			return nil, fmt.Errorf("cannot create output directory: %w", err)
		}
		parent = string(ls)
	}
	var recovered []string
	if locking {
		recovered = sweepStaging(parent, storeStagingGrace)
	}
	staging, err := os.MkdirTemp(parent, stagingPrefix+runID+"-")
	if err != nil {
		return nil, fmt.Errorf("cannot create staging directory: %w", err)
	}
	return &Output{Dir: store.Location(), RunID: runID, Shard: shard, store: store, staging: staging, stagingLock: lockStaging(staging), recovered: recovered}, nil
}

// ShardName returns the name of a per-run file (the manifest, the findings)
// for this output: name itself, or with the shard before its extension
// (findings.shard-0003-of-0010.jsonl), so that shards never overwrite each
// other's.
func (o *Output) ShardName(name string) string {
	if o.Shard == "" {
		return name
	}
	ext := filepath.Ext(name)
	return strings.TrimSuffix(name, ext) + "." + o.Shard + ext
}

// shardsPrefix begins the names that ShardName gives name for every shard
// (ShardLabel): _manifest.json's are _manifest.shard-I-of-N.json.
func shardsPrefix(name string) string {
	return strings.TrimSuffix(name, filepath.Ext(name)) + ".shard-"
}

// CheckWritable puts a small hidden object into the store and deletes it,
// so that a run into a store it cannot write (no such bucket, no
// s3:PutObject or s3:DeleteObject) fails before reading its inputs rather
// than at its commit, hours later. Outputs in a directory need no check.
func (o *Output) CheckWritable(ctx context.Context) error {
	if o.store == nil {
		return nil
	}
	rel := ".flowlens-write-check-" + o.RunID
	path := o.path(rel)
	if err := os.WriteFile(path, []byte("flowlens checks it can write here; this object is deleted at once\n"), 0o644); err != nil {
		return err
	}
	defer os.Remove(path)
	if err := o.store.Put(ctx, rel, path); err != nil {
		return fmt.Errorf("cannot write to %s: %w", o.store.Location(), err)
	}
	if err := o.store.Delete(ctx, []string{rel}); err != nil {
		return fmt.Errorf("cannot delete from %s (a commit replaces files): %w", o.store.Location(), err)
	}
	return nil
}

// CheckOwned refuses a store that holds, at or under paths (the table
// folders a run writes), a file Athena would read that no manifest or
// commit marker there lists: another tool's, or a run's whose manifest was
// removed. Its rows would be counted with the tables' (a commit replaces
// only the files manifests list). Hidden names, starting with '_' or '.',
// are let be: Athena skips them too. Files are listed before manifests are
// read, and only a file found unlisted twice is reported, so that shards
// committing meanwhile (which delete files their previous manifests
// listed, and their manifests for a moment) are not mistaken for
// strangers. Outputs in a directory are checked when opened (OpenOutput).
func (o *Output) CheckOwned(ctx context.Context, paths ...string) error {
	if o.store == nil {
		return nil
	}
	first, err := o.unlisted(ctx, paths)
	if err != nil || len(first) == 0 {
		return err
	}
	again, err := o.unlisted(ctx, paths)
	if err != nil {
		return err
	}
	var unlisted []string
	for _, f := range again {
		if slices.Contains(first, f) {
			unlisted = append(unlisted, f)
		}
	}
	if len(unlisted) == 0 {
		return nil
	}
	more := ""
	if len(unlisted) > 1 {
		more = fmt.Sprintf(" (and %d more)", len(unlisted)-1)
	}
	return fmt.Errorf("%s%s was not written by flowlens (no manifest there lists it), and Athena would read its rows with the tables': move it, or write to another location", locate(o.store, unlisted[0]), more)
}

// unlisted returns the files at or under paths in the store that Athena
// would read and that no manifest or commit marker lists.
func (o *Output) unlisted(ctx context.Context, paths []string) ([]string, error) {
	var files []string
	for _, p := range paths {
		names, err := o.store.Walk(ctx, p)
		if err != nil {
			return nil, err
		}
		for _, n := range names {
			if !hiddenPath(n) {
				files = append(files, n)
			}
		}
	}
	if len(files) == 0 {
		return nil, nil
	}
	owned, err := o.ownedFiles(ctx)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, f := range files {
		if !owned[f] {
			out = append(out, f)
		}
	}
	return out, nil
}

// ownedFiles returns the files that the store's manifests list, and those
// its commit markers name (a commit in progress or cut off).
func (o *Output) ownedFiles(ctx context.Context) (map[string]bool, error) {
	names, err := o.store.List(ctx, OutputFilesPrefix)
	if err != nil {
		return nil, err
	}
	owned := map[string]bool{}
	for _, n := range names {
		if !isShardName(n, ManifestName) && !isShardName(n, commitMarkerName) {
			continue
		}
		listed, err := o.ownerPaths(ctx, n)
		if err != nil {
			return nil, err
		}
		for _, p := range listed {
			owned[p] = true
		}
	}
	return owned, nil
}

// ownerPaths returns the files that the manifest or commit marker name
// lists. A manifest deleted meanwhile (a commit of its shard has begun)
// gives way to that commit's marker, and a marker deleted meanwhile (the
// commit is done) to the manifest; none is there, nil.
func (o *Output) ownerPaths(ctx context.Context, name string) ([]string, error) {
	manifestStem, markerStem := strings.TrimSuffix(ManifestName, ".json"), strings.TrimSuffix(commitMarkerName, ".json")
	for range 4 {
		data, err := o.store.Read(ctx, name)
		switch {
		case errors.Is(err, fs.ErrNotExist) && isShardName(name, ManifestName):
			name = markerStem + strings.TrimPrefix(name, manifestStem)
			continue
		case errors.Is(err, fs.ErrNotExist):
			name = manifestStem + strings.TrimPrefix(name, markerStem)
			continue
		case err != nil:
			return nil, err
		}
		if isShardName(name, ManifestName) {
			m := &Manifest{}
			if err := json.Unmarshal(data, m); err != nil {
				return nil, fmt.Errorf("cannot decode %s: %w", locate(o.store, name), err)
			}
			return manifestPaths(m), nil
		}
		var cut commitMarker
		if err := json.Unmarshal(data, &cut); err != nil {
			return nil, fmt.Errorf("cannot decode %s: %w", locate(o.store, name), err)
		}
		return append(cut.Fresh, manifestPaths(cut.Previous)...), nil
	}
	return nil, nil
}

// isShardName reports whether n is name as a run's or any shard's
// (ShardName): a manifest, a commit marker, a lease.
func isShardName(n, name string) bool {
	return n == name || strings.HasPrefix(n, shardsPrefix(name))
}

// locate names file rel of st in messages: an s3:// URI, or a path.
func locate(st Store, rel string) string {
	if loc := st.Location(); strings.HasSuffix(loc, "/") {
		return loc + rel
	}
	return filepath.Join(st.Location(), filepath.FromSlash(rel))
}

// hiddenPath reports whether a file's path has a name starting with '_'
// or '.', which Athena and Hive skip.
func hiddenPath(rel string) bool {
	for part := range strings.SplitSeq(rel, "/") {
		if strings.HasPrefix(part, "_") || strings.HasPrefix(part, ".") {
			return true
		}
	}
	return false
}

// ShardLabel formats shard i of n (0-based) for file names.
func ShardLabel(i, n int) string { return fmt.Sprintf("shard-%04d-of-%04d", i, n) }

// storeCommit commits into o.store, if the run still holds the output's
// lease (TakeLease): the previous manifest of this shard is
// deleted first, so that from then on nothing claims to be complete; then
// the new run's own files (unique names) are put, several at once; then the
// files whose names the previous run used too (findings.jsonl), each read
// first so that it can be put back; then the DDL, and the manifest: the
// commit point. Until then, a failure or cancellation undoes every step:
// the new files are deleted (also one whose put was cut off after the store
// had it), the rewritten ones put back (or deleted when they were new) and
// the previous manifest restored, leaving the previous output as it was.
// After it, the previous run's files that the new run did not rewrite are
// deleted; should that fail, the run is still committed and the error is a
// *CleanupError naming the files left. (S3 readers may see both runs' table
// files between the puts and the deletes; the manifest names the complete
// set.)
func (o *Output) storeCommit(ctx context.Context, m *Manifest, ddl string) (err error) {
	if err := o.checkLease(ctx); err != nil {
		return err
	}
	st := o.store
	name := o.ShardName(ManifestName)
	marker := o.ShardName(commitMarkerName)
	var prev *Manifest
	prevData, err := st.Read(ctx, name)
	switch {
	case err == nil:
		prev = &Manifest{}
		if err := json.Unmarshal(prevData, prev); err != nil {
			return fmt.Errorf("cannot decode the previous %s: %w", name, err)
		}
	case !errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("cannot read the previous manifest: %w", err)
	}
	// A commit cut off where its own undo could not run (the process
	// killed, the network lost) left its marker: the files it may have
	// uploaded, and the manifest before it, which it had deleted.
	var orphans []string
	prevFromMarker := false
	if data, err := st.Read(ctx, marker); err == nil {
		var cut commitMarker
		if err := json.Unmarshal(data, &cut); err != nil {
			return fmt.Errorf("cannot decode %s: %w", marker, err)
		}
		if prev == nil && cut.Previous != nil {
			prev, prevFromMarker = cut.Previous, true
			if prevData, err = json.Marshal(prev); err != nil {
				return fmt.Errorf("cannot encode manifest: %w", err)
			}
		}
		// Whatever the cut run put, and whatever of the manifest before
		// it the current one no longer lists, is no run's now.
		var kept []string
		if prev != nil {
			kept = manifestPaths(prev)
		}
		for _, rel := range slices.Concat(cut.Fresh, manifestPaths(cut.Previous)) {
			if !slices.Contains(kept, rel) && !slices.Contains(orphans, rel) {
				orphans = append(orphans, rel)
			}
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("cannot read %s: %w", marker, err)
	}
	var old []string
	if prev != nil {
		old = manifestPaths(prev)
	}
	var fresh, rewritten []string
	for _, rel := range manifestPaths(m) {
		if slices.Contains(old, rel) {
			rewritten = append(rewritten, rel)
		} else {
			fresh = append(fresh, rel)
		}
	}
	backups := map[string][]byte{}
	var attempted []string // rewritten files whose put was tried
	committed := false
	defer func() {
		if err == nil || committed {
			return
		}
		quiet, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Minute) // bounded, whatever the store does
		defer cancel()
		undo := st.Delete(quiet, append(slices.Clone(fresh), name))
		for _, rel := range attempted {
			if data, ok := backups[rel]; ok {
				undo = errors.Join(undo, o.putBytes(quiet, rel, data))
			} else {
				undo = errors.Join(undo, st.Delete(quiet, []string{rel}))
			}
		}
		// A manifest taken from a cut run's marker is not put back: that
		// run may have rewritten files it lists (findings.jsonl); the
		// marker stays for the next run.
		if prev != nil && !prevFromMarker {
			undo = errors.Join(undo, o.putBytes(quiet, name, prevData))
		}
		// Undone whole, the output is as it was; a marker kept (this
		// run's, listing an earlier cut run's files too) lets the next
		// run clear what no manifest lists.
		if undo == nil && len(orphans) == 0 {
			st.Delete(quiet, []string{marker}) // a marker left is harmless: its files are gone
		}
		if undo != nil {
			err = errors.Join(err, fmt.Errorf("cannot restore the previous output: %w", undo))
		}
	}()
	// The marker goes first: from the manifest's deletion to the new one's
	// put, a cut leaves files no manifest lists.
	pending, err := json.Marshal(commitMarker{RunID: o.RunID, Previous: prev, Fresh: slices.Concat(fresh, orphans)})
	if err != nil {
		return fmt.Errorf("cannot encode %s: %w", marker, err)
	}
	if err := o.putBytes(ctx, marker, pending); err != nil {
		return err
	}
	if prev != nil {
		if err := st.Delete(ctx, []string{name}); err != nil {
			return fmt.Errorf("cannot delete the previous manifest: %w", err)
		}
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(4)
	for _, rel := range fresh {
		g.Go(func() error {
			if err := st.Put(gctx, rel, o.path(rel)); err != nil {
				return fmt.Errorf("cannot commit %s: %w", rel, err)
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	for _, rel := range rewritten {
		data, err := st.Read(ctx, rel)
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("cannot keep a copy of %s: %w", rel, err)
		}
		if err == nil {
			backups[rel] = data
		}
		attempted = append(attempted, rel)
		if err := st.Put(ctx, rel, o.path(rel)); err != nil {
			return fmt.Errorf("cannot commit %s: %w", rel, err)
		}
	}
	if prevDDL, err := st.Read(ctx, DDLName); err == nil {
		backups[DDLName] = prevDDL
	}
	attempted = append(attempted, DDLName)
	if err := o.putBytes(ctx, DDLName, []byte(ddl)); err != nil {
		return err
	}
	data, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return fmt.Errorf("cannot encode manifest: %w", err)
	}
	if err := o.putBytes(ctx, name, append(data, '\n')); err != nil {
		return err
	}
	committed = true
	var stale []string
	for _, rel := range slices.Concat(old, orphans) {
		if !slices.Contains(fresh, rel) && !slices.Contains(rewritten, rel) {
			stale = append(stale, rel)
		}
	}
	cleanup, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Minute) // committed: finish the clean-up
	defer cancel()
	// The marker stays until the clean-up is done: the next run finishes it.
	if err := st.Delete(cleanup, stale); err != nil {
		return &CleanupError{Files: stale, Err: err}
	}
	if err := st.Delete(cleanup, []string{marker}); err != nil {
		return &CleanupError{Files: []string{marker}, Err: err}
	}
	return o.removeStaging()
}

// commitMarkerName is the file a store commit puts before it touches the
// output, and deletes once done. Its leading underscore hides it from
// Athena, as the manifest's does.
const commitMarkerName = "_commit-in-progress.json"

// commitMarker is what the next commit needs to clear up after one cut off
// half way: the run, the manifest it replaced (nil when there was none) and
// the files it was to put that the previous manifest does not list.
type commitMarker struct {
	RunID    string    `json:"run_id"`
	Previous *Manifest `json:"previous"`
	Fresh    []string  `json:"fresh"`
}

// CleanupError reports a committed run whose store still holds files of the
// previous run that it could not delete: Athena may see their rows twice
// until they are removed.
type CleanupError struct {
	Files []string
	Err   error
}

// Error says what was left.
func (e *CleanupError) Error() string {
	return fmt.Sprintf("committed, but %d files of the previous run could not be deleted (first %s): %v", len(e.Files), e.Files[0], e.Err)
}

// Unwrap returns the store's error.
func (e *CleanupError) Unwrap() error { return e.Err }

// Staged returns the directory where the run's files are staged, under the
// paths Commit gives them: readable until the commit, for a file derived
// from them (the report of an output committed to S3).
func (o *Output) Staged() string { return o.staging }

// PutDerived writes a file derived from the committed output (not listed in
// its manifest: the report) as rel, after Commit: put into the store, or
// written atomically into the output directory.
func (o *Output) PutDerived(ctx context.Context, rel string, data []byte) error {
	if o.store != nil {
		if err := os.MkdirAll(o.staging, 0o755); err != nil { // Commit removed it
			return err
		}
		defer os.RemoveAll(o.staging)
		return o.putBytes(ctx, rel, data)
	}
	return writeAtomic(filepath.Join(o.Dir, filepath.FromSlash(rel)), data)
}

// RemoveDerived removes a derived file rel, written by an earlier run, that
// this run could not write anew (it would describe another output).
func (o *Output) RemoveDerived(ctx context.Context, rel string) error {
	if o.store != nil {
		return o.store.Delete(ctx, []string{rel})
	}
	return LocalStore(o.Dir).Delete(ctx, []string{rel})
}

// putBytes stages data as rel and puts it.
func (o *Output) putBytes(ctx context.Context, rel string, data []byte) error {
	path := o.path(".put-" + strings.ReplaceAll(rel, "/", "_"))
	if err := writeAtomic(path, data); err != nil {
		return err
	}
	defer os.Remove(path)
	if err := o.store.Put(ctx, rel, path); err != nil {
		return fmt.Errorf("cannot commit %s: %w", rel, err)
	}
	return nil
}

// manifestPaths lists the files a manifest commits: every table file and
// every single file.
func manifestPaths(m *Manifest) []string {
	if m == nil {
		return nil
	}
	var out []string
	for _, t := range m.Tables {
		for _, f := range t.Files {
			out = append(out, f.Path)
		}
	}
	for _, f := range m.Files {
		out = append(out, f.Path)
	}
	return out
}

// LocalStore is a local output directory committed file by file, as shards
// sharing it do.
type LocalStore string

// Read reads a committed file.
func (s LocalStore) Read(_ context.Context, rel string) ([]byte, error) {
	return os.ReadFile(filepath.Join(string(s), filepath.FromSlash(rel)))
}

// Put moves the staged file into place.
func (s LocalStore) Put(_ context.Context, rel, path string) error {
	final := filepath.Join(string(s), filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(final), 0o755); err != nil {
		return err
	}
	return os.Rename(path, final)
}

// Delete removes committed files.
func (s LocalStore) Delete(_ context.Context, rels []string) error {
	var errs []error
	for _, rel := range rels {
		if err := os.Remove(filepath.Join(string(s), filepath.FromSlash(rel))); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Location returns the directory.
func (s LocalStore) Location() string { return string(s) }

// Walk returns the files at path or under it.
func (s LocalStore) Walk(_ context.Context, path string) ([]string, error) {
	root := filepath.Join(string(s), filepath.FromSlash(path))
	var out []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		switch {
		case err != nil && errors.Is(err, fs.ErrNotExist) && p == root:
			return nil
		case err != nil:
			return err
		case d.IsDir():
			return nil
		}
		rel, err := filepath.Rel(string(s), p)
		out = append(out, filepath.ToSlash(rel))
		return err
	})
	return out, err
}

// List returns the names of the files of the directory that start with
// prefix.
func (s LocalStore) List(_ context.Context, prefix string) ([]string, error) {
	entries, err := os.ReadDir(string(s))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	var out []string
	for _, e := range entries {
		if !e.IsDir() && strings.HasPrefix(e.Name(), prefix) {
			out = append(out, e.Name())
		}
	}
	return out, nil
}
