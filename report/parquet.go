package report

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"github.com/flowlens/flowlens/athena"
)

// Reading bounds: rows per batch handed to a summary, and bytes of a column
// chunk held at once (pages are streamed, not whole row groups).
const (
	batchRows   = 1 << 15
	streamBytes = 1 << 20
)

// column is a column a summary reads, and the Arrow type it must have.
type column struct {
	name string
	typ  arrow.Type
}

// scan reads the columns cols of every file of table tm, batch by batch,
// and calls fn with each batch; the batch's columns are in the order of
// cols and of the types asked for. The batch is valid only during the call.
func scan(dir string, tm athena.TableManifest, cols []column, fn func(rec arrow.RecordBatch)) error {
	for _, fm := range tm.Files {
		path := filepath.Join(dir, filepath.FromSlash(fm.Path))
		err := scanFile(path, cols, fn)
		if _, named := errors.AsType[*fs.PathError](err); err != nil && !named {
			err = fmt.Errorf("cannot read %s: %w", path, err)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func scanFile(path string, cols []column, fn func(rec arrow.RecordBatch)) error {
	mem := memory.DefaultAllocator
	props := parquet.NewReaderProperties(mem)
	props.BufferedStreamEnabled = true
	props.BufferSize = streamBytes
	pf, err := file.OpenParquetFile(path, false, file.WithReadProps(props))
	if err != nil {
		return err
	}
	defer pf.Close()
	indices := make([]int, len(cols))
	for i, c := range cols {
		indices[i] = pf.MetaData().Schema.ColumnIndexByName(c.name)
		if indices[i] < 0 {
			return fmt.Errorf("no column %s", c.name)
		}
	}
	fr, err := pqarrow.NewFileReader(pf, pqarrow.ArrowReadProperties{BatchSize: batchRows}, mem)
	if err != nil {
		return err
	}
	rr, err := fr.GetRecordReader(context.Background(), indices, nil)
	if err != nil {
		return err
	}
	defer rr.Release()
	for i, f := range rr.Schema().Fields() {
		if f.Type.ID() != cols[i].typ {
			return fmt.Errorf("column %s is %s, want %s", f.Name, f.Type, cols[i].typ)
		}
	}
	for rr.Next() {
		fn(rr.RecordBatch())
	}
	return rr.Err()
}
