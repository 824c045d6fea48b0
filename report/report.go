// Package report renders a flowlens output directory for people: one
// self-contained HTML page (inline CSS, SVG charts drawn here, no scripts
// from elsewhere) with traffic over time, the top talkers, rejected ports,
// traffic between internal and external address space, the findings on a
// timeline and the data-quality facts of the run.
//
// It is a package of its own because it is a reader, not a stage of the
// pass: it reads only what the other stages wrote and committed (the
// manifest, findings.jsonl, the aggregate tables in Parquet), so it can
// render any finished output directory, long after the run and without
// its inputs. Tables are read batch by batch and summed as they stream by:
// memory grows with the number of distinct windows, addresses, ports and
// interfaces (each bounded, see counter), never with the number of rows.
package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/flowlens/flowlens/athena"
)

// Name is the file the report is written to, in the output directory.
const Name = "report.html"

// Write reads the output directory dir and writes its report to
// dir/report.html, atomically (a temporary file renamed into place), and
// returns the report's path. The output of a sharded job (a manifest per
// shard) is reported as one. It fails, naming the file, when dir has no
// manifest (not an output directory, or its run did not finish) or when a
// file the manifest lists cannot be read.
func Write(dir string) (path string, err error) {
	m, shards, err := athena.ReadOutputManifest(dir)
	if err != nil {
		return "", err
	}
	page, err := render(dir, m, shards, dir)
	if err != nil {
		return "", err
	}
	path = filepath.Join(dir, Name)
	return path, writeAtomic(path, page)
}

// Render returns the report of the output at location (its name on the
// page) that manifest m describes, the files it lists read from dir (where
// a run staged them before committing them to S3). It reads m as it is
// committed, in JSON, so the page is the one Write makes of the committed
// output.
func Render(dir, location string, m *athena.Manifest) ([]byte, error) {
	data, err := json.Marshal(m)
	if err != nil {
		return nil, err
	}
	var committed athena.Manifest
	if err := json.Unmarshal(data, &committed); err != nil {
		return nil, err
	}
	return render(dir, &committed, 0, location)
}

func render(dir string, m *athena.Manifest, shards int, location string) ([]byte, error) {
	d, err := load(dir, m)
	if err != nil {
		return nil, err
	}
	d.shards, d.dir = shards, location
	var buf bytes.Buffer
	if err := renderPage(&buf, d); err != nil {
		return nil, fmt.Errorf("cannot render the report of %s: %w", dir, err)
	}
	return buf.Bytes(), nil
}

// writeAtomic writes data to path through a temporary file in the same
// directory, renamed into place once complete, so a reader never sees half
// a report.
func writeAtomic(path string, data []byte) (err error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+"-*.tmp")
	if err != nil {
		return fmt.Errorf("cannot write %s: %w", path, err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
			err = fmt.Errorf("cannot write %s: %w", path, err)
		}
	}()
	if _, err := f.Write(data); err != nil {
		return err
	}
	if err := f.Chmod(0o644); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}
