// Package archive finds flow-log inputs, opens and decompresses them, cuts
// them into blocks and parses many of them at once. It is a package of its own
// because the parser must know nothing of files, compression or goroutines
// (design.md): input from local files today, from S3 tomorrow, lives here.
package archive

import (
	"context"
	"encoding/json"
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

// ExpandInputs is Expand, which also leaves out the files of the flowlens
// outputs it walks through (an earlier run's tables, manifest, DDL and
// report, as its manifest names them: read as inputs, each would fail), and
// returns the directories holding them. Other files beside an output are
// read.
func ExpandInputs(args []string, skip ...string) ([]Source, []string, error) {
	e := expander{seen: map[any]bool{}, walked: map[string]bool{}, skip: map[string]bool{}, skipFiles: map[string]bool{}}
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
			if real, err := realPath(p); err == nil && e.walked[real] {
				continue // walked already, through another argument or a link
			}
			n, outputs := e.found, len(e.outputs)
			if err := e.walk(p); err != nil {
				return nil, nil, fmt.Errorf("cannot walk directory %q: %w", p, err)
			}
			if e.found == n && len(e.outputs) > outputs {
				return nil, nil, fmt.Errorf("directory %q holds a flowlens output and no flow logs", p)
			}
			if e.found == n {
				return nil, nil, fmt.Errorf("directory %q holds no files", p)
			}
		}
	}
	slices.SortFunc(e.out, func(a, b Source) int { return strings.Compare(a.Name, b.Name) })
	return e.out, e.outputs, nil
}

// outputFiles returns the paths in dir (relative, with '/') that its
// flowlens manifests claim (athena's _manifest.json, a shard's
// _manifest.shard-I-of-N.json): the manifests, their tables' folders and
// files, athena.sql and report.html; none when dir holds no manifest with
// a run id.
func outputFiles(dir string) []string {
	names, _ := filepath.Glob(filepath.Join(dir, "_manifest*.json"))
	var out []string
	for _, name := range names {
		base := filepath.Base(name)
		if base != "_manifest.json" && !strings.HasPrefix(base, "_manifest.shard-") {
			continue
		}
		data, err := os.ReadFile(name)
		if err != nil {
			continue
		}
		var m struct {
			RunID  string `json:"run_id"`
			Tables []struct {
				Dir string `json:"dir"`
			} `json:"tables"`
			Files []struct {
				Path string `json:"path"`
			} `json:"files"`
		}
		if json.Unmarshal(data, &m) != nil || m.RunID == "" {
			continue
		}
		out = append(out, base)
		for _, t := range m.Tables {
			out = append(out, t.Dir)
		}
		for _, f := range m.Files {
			out = append(out, f.Path)
		}
	}
	if len(out) > 0 {
		out = append(out, "athena.sql", "report.html")
	}
	return out
}

// markOutput sets the files of the flowlens output in dir, if any, aside.
func (e *expander) markOutput(dir string) {
	claimed := outputFiles(dir)
	if len(claimed) == 0 {
		return
	}
	e.outputs = append(e.outputs, dir)
	for _, rel := range claimed {
		path := filepath.Join(dir, filepath.FromSlash(rel))
		if real, err := realPath(path); err == nil {
			e.skip[real] = true
		}
		e.skipFiles[path] = true
	}
}

// expander collects the files of Expand.
type expander struct {
	out       []Source
	found     int             // files met, added or not
	seen      map[any]bool    // the files added (fileID)
	walked    map[string]bool // real paths of the directories walked
	skip      map[string]bool // real paths of the directories not to walk
	skipFiles map[string]bool // files of flowlens outputs, by walked path
	outputs   []string        // the directories of the flowlens outputs met
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
	e.markOutput(dir)
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
			e.markOutput(path)
		case e.skipFiles[path]:
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
