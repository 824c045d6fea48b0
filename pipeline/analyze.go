// Package pipeline runs flowlens's pass over the inputs: it reads and parses
// them (archive, parser), turns every batch into an Arrow record batch and
// feeds the output tables (athena), then commits. It exists so that the
// command stays flags and wiring, and so that tests and benchmarks run the
// very pass users run.
package pipeline

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/flowlens/flowlens/archive"
	"github.com/flowlens/flowlens/athena"
	"github.com/flowlens/flowlens/parser"
)

// Config describes one analysis run.
type Config struct {
	Inputs   []archive.Source
	Read     archive.Options     // how inputs are read
	OutDir   string              // where tables go; "" only counts
	Location string              // the S3 location for the DDL (default a placeholder)
	Table    athena.TableOptions // codec, row-group and file sizes
	Tool     string              // "flowlens <version>", recorded in files and manifest
	RunID    string              // default a new one
}

// Result is what a run did.
type Result struct {
	RunID    string
	Inputs   []archive.Result
	Totals   archive.Totals
	Manifest *athena.Manifest // nil without OutDir
	Elapsed  time.Duration
}

// Analyze runs the pass. Inputs that fail are recorded in the result (and
// the manifest) while the others complete; the records an input yielded
// before failing are kept. An error means the run itself failed (output not
// writable, cancelled) and nothing was committed.
func Analyze(ctx context.Context, cfg Config) (*Result, error) {
	began := time.Now()
	res := &Result{RunID: cfg.RunID}
	if res.RunID == "" {
		res.RunID = athena.NewRunID()
	}
	var out *athena.Output
	var flows *athena.Table
	if cfg.OutDir != "" {
		var err error
		if out, err = athena.OpenOutput(cfg.OutDir, res.RunID); err != nil {
			return nil, err
		}
		opts := cfg.Table
		opts.CreatedBy = cfg.Tool
		flows = athena.NewFlowsTable(out, opts)
	}
	sinks := make([]*inputSink, len(cfg.Inputs))
	for i, src := range cfg.Inputs {
		k := archive.ParseKey(src.Name)
		s := &inputSink{flows: flows, part: athena.FlowPartitioner{DefaultRegion: k.Region}}
		if !k.Time.IsZero() {
			s.part.DefaultDate = k.Time.UTC().Format("2006-01-02")
		}
		sinks[i] = s
	}
	results, err := archive.Run(ctx, cfg.Inputs, cfg.Read, func(i int, b *parser.Batch) error {
		return sinks[i].write(b)
	})
	res.Inputs = results
	res.Totals = archive.Sum(results, 20)
	if err == nil {
		err = ctx.Err()
	}
	if out == nil {
		res.Elapsed = time.Since(began)
		return res, err
	}
	tm, cerr := flows.Close()
	if err == nil {
		err = cerr
	}
	if err != nil {
		if aerr := out.Abort(); aerr != nil {
			err = errors.Join(err, aerr)
		}
		return res, err
	}
	res.Manifest = manifest(cfg, res, began, tm)
	cols := athena.FlowsDDLColumns(flows.Columns())
	res.Manifest.Columns = map[string][]athena.DDLColumn{athena.FlowsTable: cols}
	location := cfg.Location
	if location == "" {
		location = athena.LocationPlaceholder
	}
	regions, first := athena.PartitionsOf(tm)
	ddl := athena.DDL(location, []athena.TableDDL{{Name: athena.FlowsTable, Dir: tm.Dir, Columns: cols, Regions: regions, FirstDate: first}})
	if err := out.Commit(res.Manifest, ddl); err != nil {
		return res, errors.Join(fmt.Errorf("cannot commit the output: %w", err), out.Abort())
	}
	res.Elapsed = time.Since(began)
	return res, nil
}

// inputSink turns one input's batches into Arrow record batches and writes
// them to their partitions. It is called from one goroutine at a time.
type inputSink struct {
	flows  *athena.Table
	part   athena.FlowPartitioner
	format *parser.Format
	schema *arrow.Schema
}

func (s *inputSink) write(b *parser.Batch) error {
	if s.flows == nil || b.Len() == 0 {
		b.Release()
		return nil
	}
	if b.Format != s.format {
		s.format, s.schema = b.Format, b.Format.ArrowSchema()
	}
	rec := b.NewRecordBatch(s.schema)
	defer rec.Release()
	for _, g := range s.part.Split(rec) {
		if err := s.flows.Write(g.Values, rec, g.Rows); err != nil {
			return err
		}
	}
	return nil
}

func manifest(cfg Config, res *Result, began time.Time, tm athena.TableManifest) *athena.Manifest {
	m := &athena.Manifest{
		Version:  1,
		RunID:    res.RunID,
		Tool:     cfg.Tool,
		Started:  began.UTC().Format(time.RFC3339Nano),
		Finished: time.Now().UTC().Format(time.RFC3339Nano),
		Tables:   []athena.TableManifest{tm},
	}
	for i := range res.Inputs {
		r := &res.Inputs[i]
		in := athena.InputManifest{
			Path: r.Source, Kind: r.Kind.String(), Records: r.Stats.Records, InvalidLines: r.Stats.Invalid,
			TextBytes: r.TextBytes, StoredBytes: r.StoredBytes,
		}
		if r.Format != nil {
			in.Format = r.Format.String()
		}
		if r.Err != nil {
			in.Error = r.Err.Error()
		}
		m.Inputs = append(m.Inputs, in)
	}
	t := res.Totals
	m.Totals = athena.ManifestTotals{
		Inputs: t.Inputs, FailedInputs: t.Failed, Records: t.Stats.Records, InvalidLines: t.Stats.Invalid,
		TextBytes: t.TextBytes, OutputFiles: len(tm.Files), OutputBytes: tm.Bytes,
	}
	return m
}
