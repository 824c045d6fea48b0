package report

import (
	"bufio"
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/flowlens/flowlens/athena"
	"github.com/flowlens/flowlens/detect"
)

// maxFindings bounds the findings listed and drawn; the files list the
// highest severities first, so those are the ones kept.
const maxFindings = 1000

// findings are the findings of the run.
type findings struct {
	shown      []detect.Finding // the first maxFindings, in the files' order
	total      int
	bySeverity map[detect.Severity]int
}

// loadFindings reads the findings files (findings.jsonl) the manifest
// lists; nil when it lists none (detection did not run).
func loadFindings(dir string, m *athena.Manifest) (*findings, error) {
	var f *findings
	for _, fm := range m.Files {
		if !strings.HasSuffix(fm.Path, ".jsonl") {
			continue
		}
		if f == nil {
			f = &findings{bySeverity: map[detect.Severity]int{}}
		}
		path := filepath.Join(dir, filepath.FromSlash(fm.Path))
		if err := f.read(path); err != nil {
			return nil, fmt.Errorf("cannot read %s: %w", path, err)
		}
	}
	if f != nil { // files of several shards: highest severity first again
		slices.SortStableFunc(f.shown, func(a, b detect.Finding) int { return cmp.Compare(b.Severity, a.Severity) })
	}
	return f, nil
}

// read adds the findings of one file, one JSON object per line.
func (f *findings) read(path string) error {
	file, err := os.Open(path)
	if err != nil {
		return err
	}
	defer file.Close()
	r := bufio.NewReader(file)
	for line := 1; ; line++ {
		text, err := r.ReadBytes('\n')
		if len(bytes.TrimSpace(text)) > 0 {
			var x detect.Finding
			if err := json.Unmarshal(text, &x); err != nil {
				return fmt.Errorf("line %d: %w", line, err)
			}
			f.total++
			f.bySeverity[x.Severity]++
			if len(f.shown) < maxFindings {
				f.shown = append(f.shown, x)
			}
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
	}
}
