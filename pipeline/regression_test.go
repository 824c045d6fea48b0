package pipeline_test

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/flowlens/flowlens/aggregate"
	"github.com/flowlens/flowlens/archive"
	"github.com/flowlens/flowlens/pipeline"
)

// Regression: with aggregates on, Result.Inputs and the Input index given to
// the user's OnDone must refer to Config.Inputs, not to the time-sorted list.
func TestRegressionInputIndex(t *testing.T) {
	srcs, err := archive.Expand([]string{"../testdata"})
	if err != nil {
		t.Fatal(err)
	}
	slices.Reverse(srcs)
	var mu sync.Mutex
	bad := 0
	cfg := aggregate.Config{}
	res, err := pipeline.Analyze(context.Background(), pipeline.Config{Inputs: srcs, OutDir: t.TempDir(), Aggregate: &cfg,
		Read: archive.Options{OnDone: func(r *archive.Result) {
			mu.Lock()
			defer mu.Unlock()
			if srcs[r.Input].Name != r.Source {
				bad++
			}
		}}})
	if err != nil {
		t.Fatal(err)
	}
	for i := range res.Inputs {
		if res.Inputs[i].Source != srcs[i].Name {
			t.Errorf("res.Inputs[%d] is %s, Config.Inputs[%d] is %s", i, res.Inputs[i].Source, i, srcs[i].Name)
			break
		}
	}
	if bad > 0 {
		t.Errorf("%d OnDone results whose Input does not index Config.Inputs", bad)
	}
}

// Regression: an input that is open but has not yet delivered its first batch has no
// worker, so it does not hold the windows it is about to fill: a later
// input finishing in the meantime closes them and its records come out late
// (split rows), although inputs were read in time order. Holding windows for
// unfinished inputs prevents it.
func TestRegressionUnregisteredInputLate(t *testing.T) {
	const hdr = "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status\n"
	t0 := int64(1793491200) // 2026-11-01T00:00Z
	line := func(start int64) string {
		return fmt.Sprintf("2 123456789012 eni-1 10.0.0.1 10.0.0.2 1000 443 6 1 100 %d %d ACCEPT OK\n", start, start+30)
	}
	key := func(hhmm, id string) string {
		return "AWSLogs/123456789012/vpcflowlogs/us-east-1/2026/11/01/123456789012_vpcflowlogs_us-east-1_fl-1_20261101T" + hhmm + "Z_" + id + ".log"
	}
	cDone, bDone := make(chan struct{}), make(chan struct{})
	src := func(name, body string, wait chan struct{}) archive.Source {
		return archive.Source{Name: name, Open: func(ctx context.Context) (io.ReadCloser, error) {
			if wait != nil {
				<-wait
			}
			return io.NopCloser(strings.NewReader(body)), nil
		}}
	}
	srcs := []archive.Source{
		src(key("0010", "c"), hdr+line(t0+120), nil),
		src(key("0010", "a"), hdr+line(t0+180), bDone),
		src(key("0100", "b"), hdr+line(t0+3300), cDone),
	}
	cfg := aggregate.Config{}
	res, err := pipeline.Analyze(context.Background(), pipeline.Config{Inputs: srcs, OutDir: t.TempDir(), Aggregate: &cfg,
		Read: archive.Options{Jobs: 3, OnDone: func(r *archive.Result) {
			switch {
			case strings.Contains(r.Source, "_c."):
				close(cDone)
			case strings.Contains(r.Source, "_b."):
				close(bDone)
			}
		}}})
	if err != nil {
		t.Fatal(err)
	}
	if res.LateRecords != 0 {
		t.Errorf("%d late records, though the inputs were read in time order", res.LateRecords)
	}
}
