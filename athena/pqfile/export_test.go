package pqfile

// ColumnMatching returns column i's verdict on zstd match searches
// (column.compress) for the tests: "untried", "off" or "on".
func ColumnMatching(w *Writer, i int) string {
	return [...]string{matchingUntried: "untried", matchingOff: "off", matchingOn: "on"}[w.cols[i].matching]
}
