// Package archive finds flow-log inputs, opens and decompresses them, cuts
// them into blocks and parses many of them at once. It is a package of its own
// because the parser must know nothing of files, compression or goroutines
// (design.md): input from local files today, from S3 tomorrow, lives here.
package archive

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// Source is one input: a name for reports and a way to open it.
type Source struct {
	Name string // path or URL, as shown in reports
	Size int64  // stored size in bytes, when known
	Open func(ctx context.Context) (io.ReadCloser, error)
}

// FileSource returns the Source of a local file.
func FileSource(path string, size int64) Source {
	return Source{
		Name: path,
		Size: size,
		Open: func(context.Context) (io.ReadCloser, error) { return os.Open(path) },
	}
}

// Expand turns command-line arguments (files, directories searched
// recursively, and glob patterns) into sources sorted by name, without
// duplicates (a file reached by two paths, a/./b and a/b or through a
// link, is read once, under the first name in argument and walk order). Hidden
// files and directories (".name") found while walking are skipped, and so
// are the directories skip (an output directory inside the inputs' tree);
// symbolic links to files and directories are followed, each directory
// walked once. An argument that matches nothing is an error.
func Expand(args []string, skip ...string) ([]Source, error) {
	srcs, _, err := ExpandInputs(args, skip...)
	return srcs, err
}

// ExpandInputs is Expand, which also leaves out the flowlens outputs found
// while walking (directories holding a manifest: an earlier run's output
// under the inputs' directory would be read as inputs), and returns them.
// A directory named as an argument that is an output is an error.
func ExpandInputs(args []string, skip ...string) ([]Source, []string, error) {
	e := expander{seen: map[any]bool{}, walked: map[string]bool{}, skip: map[string]bool{}}
	for _, d := range skip {
		if real, err := realPath(d); err == nil {
			e.skip[real] = true
		}
	}
	for _, arg := range args {
		paths := []string{arg}
		if strings.ContainsAny(arg, "*?[") {
			m, err := filepath.Glob(arg)
			if err != nil {
				return nil, nil, fmt.Errorf("bad glob pattern %q: %w", arg, err)
			}
			if len(m) == 0 {
				return nil, nil, fmt.Errorf("no input matches %q", arg)
			}
			paths = m
		}
		for _, p := range paths {
			p = filepath.Clean(p)
			st, err := os.Stat(p)
			if err != nil {
				return nil, nil, fmt.Errorf("cannot read input %q: %w", p, err)
			}
			if !st.IsDir() {
				e.add(p, st)
				continue
			}
			if isOutput(p) {
				return nil, nil, fmt.Errorf("directory %q is a flowlens output (it holds a manifest), not flow logs", p)
			}
			if real, err := realPath(p); err == nil && e.walked[real] {
				continue // walked already, through another argument or a link
			}
			n := e.found
			if err := e.walk(p); err != nil {
				return nil, nil, fmt.Errorf("cannot walk directory %q: %w", p, err)
			}
			if e.found == n {
				return nil, nil, fmt.Errorf("directory %q holds no files", p)
			}
		}
	}
	slices.SortFunc(e.out, func(a, b Source) int { return strings.Compare(a.Name, b.Name) })
	return e.out, e.outputs, nil
}

// isOutput reports whether dir holds a flowlens manifest (athena's
// _manifest.json, or a shard's _manifest.shard-I-of-N.json).
func isOutput(dir string) bool {
	if _, err := os.Stat(filepath.Join(dir, "_manifest.json")); err == nil {
		return true
	}
	m, _ := filepath.Glob(filepath.Join(dir, "_manifest.shard-*.json"))
	return len(m) > 0
}

// expander collects the files of Expand.
type expander struct {
	out     []Source
	found   int             // files met, added or not
	seen    map[any]bool    // the files added (fileID)
	walked  map[string]bool // real paths of the directories walked
	skip    map[string]bool // real paths of the directories not to walk
	outputs []string        // the flowlens outputs left out
}

// add adds the file at path unless it was added already, by this path or
// another.
func (e *expander) add(path string, info os.FileInfo) {
	e.found++
	if id := fileID(path, info); !e.seen[id] {
		e.seen[id] = true
		e.out = append(e.out, FileSource(path, info.Size()))
	}
}

// walk adds the files under dir, following symbolic links.
func (e *expander) walk(dir string) error {
	real, err := realPath(dir)
	if err != nil {
		return err
	}
	if e.walked[real] || e.skip[real] {
		return nil
	}
	e.walked[real] = true
	if isOutput(dir) { // reached through a link
		e.outputs = append(e.outputs, dir)
		return nil
	}
	// The trailing separator makes WalkDir enter dir when it is a link.
	return filepath.WalkDir(dir+string(filepath.Separator), func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		path = filepath.Clean(path)
		if path == dir {
			return nil
		}
		if strings.HasPrefix(d.Name(), ".") {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		switch {
		case d.IsDir():
			real, err := realPath(path)
			if err != nil {
				return err
			}
			if e.skip[real] || e.walked[real] {
				return filepath.SkipDir
			}
			e.walked[real] = true
			if isOutput(path) {
				e.outputs = append(e.outputs, path)
				return filepath.SkipDir
			}
		case d.Type().IsRegular():
			info, err := d.Info()
			if err != nil {
				return err
			}
			e.add(path, info)
		case d.Type()&fs.ModeSymlink != 0:
			st, err := os.Stat(path)
			if err != nil {
				return fmt.Errorf("broken link %s: %w", path, err)
			}
			if st.IsDir() {
				return e.walk(path)
			}
			if st.Mode().IsRegular() {
				e.add(path, st)
			}
		}
		return nil
	})
}

// realPath returns the absolute path of p with its links resolved.
func realPath(p string) (string, error) {
	abs, err := filepath.Abs(p)
	if err != nil {
		return "", err
	}
	return filepath.EvalSymlinks(abs)
}
