// Package arrowstr reads Arrow string arrays without copying, for the
// packages that consume the pipeline's batches (Parquet encoding,
// aggregation). It has a package of its own because both need the same
// subtle reading of an array's buffers and neither depends on the other.
package arrowstr

import "github.com/apache/arrow-go/v18/arrow/array"

// Data returns the whole value buffer of a, which a.ValueOffsets() indexes.
// Arrow's ValueBytes starts at a's first value instead, past 0 when a is a
// slice of a larger array, so indexing it with the offsets reads the wrong
// bytes (or past its end).
func Data(a *array.String) []byte {
	if b := a.Data().Buffers()[2]; b != nil {
		return b.Bytes()
	}
	return nil
}
