package athena

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// ReadOutputManifest reads the manifest of the output in dir:
// _manifest.json, or when there is none, the manifests of the shards of a
// sharded job (_manifest.shard-I-of-N.json) merged into one, and how many
// there were. Errors name the file.
func ReadOutputManifest(dir string) (m *Manifest, shards int, err error) {
	m, err = ReadManifest(dir)
	if err == nil || !errors.Is(err, fs.ErrNotExist) {
		if _, named := errors.AsType[*fs.PathError](err); err != nil && !named {
			err = fmt.Errorf("%s: %w", filepath.Join(dir, ManifestName), err)
		}
		return m, 0, err
	}
	paths, _ := filepath.Glob(filepath.Join(dir, shardsPrefix(ManifestName)+"*.json")) // the pattern is valid
	if len(paths) == 0 {
		return nil, 0, fmt.Errorf("%w (not an output directory of flowlens analyze, or its run did not finish)", err)
	}
	merged := &Manifest{}
	for _, path := range paths {
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, 0, err
		}
		var s Manifest
		if err := json.Unmarshal(data, &s); err != nil {
			return nil, 0, fmt.Errorf("%s: %w", path, err)
		}
		merge(merged, &s)
	}
	return merged, len(paths), nil
}

// merge adds the manifest of one shard to m: its tables' files, its files,
// inputs and totals; the run spans from the first start to the last finish.
func merge(m, s *Manifest) {
	if m.RunID == "" {
		m.Version, m.RunID, m.Tool, m.Started, m.Finished = s.Version, s.RunID, s.Tool, s.Started, s.Finished
	}
	m.Started, m.Finished = min(m.Started, s.Started), max(m.Finished, s.Finished) // RFC 3339 in UTC sorts as text
	for _, st := range s.Tables {
		i := slices.IndexFunc(m.Tables, func(t TableManifest) bool { return t.Name == st.Name })
		if i < 0 {
			m.Tables = append(m.Tables, TableManifest{Name: st.Name, Dir: st.Dir})
			i = len(m.Tables) - 1
		}
		t := &m.Tables[i]
		t.Rows += st.Rows
		t.Bytes += st.Bytes
		t.Files = append(t.Files, st.Files...)
	}
	for table, cols := range s.Columns {
		if m.Columns == nil {
			m.Columns = map[string][]DDLColumn{}
		}
		for _, c := range cols {
			if !slices.Contains(m.Columns[table], c) {
				m.Columns[table] = append(m.Columns[table], c)
			}
		}
		if table == FlowsTable { // shards differ in the fields their inputs had
			slices.SortStableFunc(m.Columns[table], func(a, b DDLColumn) int {
				switch {
				case FlowColumnLess(a.Name, b.Name):
					return -1
				case FlowColumnLess(b.Name, a.Name):
					return 1
				}
				return 0
			})
		}
	}
	m.Files = append(m.Files, s.Files...)
	m.Inputs = append(m.Inputs, s.Inputs...)
	m.Totals.Inputs += s.Totals.Inputs
	m.Totals.FailedInputs += s.Totals.FailedInputs
	m.Totals.Records += s.Totals.Records
	m.Totals.InvalidLines += s.Totals.InvalidLines
	m.Totals.OutOfRange += s.Totals.OutOfRange
	m.Totals.TextBytes += s.Totals.TextBytes
	m.Totals.OutputFiles += s.Totals.OutputFiles
	m.Totals.OutputBytes += s.Totals.OutputBytes
	if late, ok := s.Extra["late_records"].(float64); ok {
		if m.Extra == nil {
			m.Extra = map[string]any{}
		}
		sum, _ := m.Extra["late_records"].(float64)
		m.Extra["late_records"] = sum + late
	}
}

// OutputFilesPrefix begins the names of the files at the top of an output
// that say whose it is: manifests, commit markers and leases of running
// runs, of a run or of a sharded job's shards
// (_manifest.shard-I-of-N.json).
const OutputFilesPrefix = "_"

// OtherOutput returns the first of names (a store's top-level files) that
// belongs to an output a run of shard (a ShardLabel, or "" for an unsharded
// run) would count records twice with, or "": for a shard, an unsharded
// run's manifest, commit marker or lease (a run in progress), or a shard's
// of a job split into another number of shards; for an unsharded run, any
// shard's.
func OtherOutput(names []string, shard string) string {
	_, count, _ := strings.Cut(shard, "-of-")
	for _, n := range names {
		isShards := strings.Contains(n, ".shard-")
		switch {
		case !isShardName(n, ManifestName) && !isShardName(n, commitMarkerName) && !isShardName(n, leaseName):
		case shard == "" && isShards:
			return n
		case shard != "" && (!isShards || !strings.HasSuffix(n, "-of-"+count+".json")):
			return n
		}
	}
	return ""
}
