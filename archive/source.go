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
// duplicates. Hidden files and directories (".name") found while walking are
// skipped; an argument that matches nothing is an error.
func Expand(args []string) ([]Source, error) {
	seen := map[string]bool{}
	var out []Source
	add := func(path string, size int64) {
		if !seen[path] {
			seen[path] = true
			out = append(out, FileSource(path, size))
		}
	}
	for _, arg := range args {
		paths := []string{arg}
		if strings.ContainsAny(arg, "*?[") {
			m, err := filepath.Glob(arg)
			if err != nil {
				return nil, fmt.Errorf("bad glob pattern %q: %w", arg, err)
			}
			if len(m) == 0 {
				return nil, fmt.Errorf("no input matches %q", arg)
			}
			paths = m
		}
		for _, p := range paths {
			st, err := os.Stat(p)
			if err != nil {
				return nil, fmt.Errorf("cannot read input %q: %w", p, err)
			}
			if !st.IsDir() {
				add(p, st.Size())
				continue
			}
			n := len(out)
			err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
				if err != nil {
					return err
				}
				if path != p && strings.HasPrefix(d.Name(), ".") {
					if d.IsDir() {
						return filepath.SkipDir
					}
					return nil
				}
				if d.Type().IsRegular() {
					info, err := d.Info()
					if err != nil {
						return err
					}
					add(path, info.Size())
				}
				return nil
			})
			if err != nil {
				return nil, fmt.Errorf("cannot walk directory %q: %w", p, err)
			}
			if len(out) == n {
				return nil, fmt.Errorf("directory %q holds no files", p)
			}
		}
	}
	slices.SortFunc(out, func(a, b Source) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}
