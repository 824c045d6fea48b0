package archive

import "github.com/flowlens/flowlens/parser"

// Totals adds up the results of a run.
type Totals struct {
	Inputs      int
	Failed      int
	StoredBytes int64
	TextBytes   int64
	Stats       parser.Stats
}

// Sum returns the totals of results, keeping up to maxSamples rejected-line
// samples.
func Sum(results []Result, maxSamples int) Totals {
	var t Totals
	for i := range results {
		r := &results[i]
		t.Inputs++
		if r.Err != nil {
			t.Failed++
		}
		t.StoredBytes += r.StoredBytes
		t.TextBytes += r.TextBytes
		t.Stats.Add(&r.Stats, maxSamples)
	}
	return t
}
