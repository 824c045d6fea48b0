package parser_test

// The tests are an external package so that they can use bench's generator,
// which imports parser; the dot import keeps them readable, the use the Go
// FAQ names for dot imports.

import (
	"github.com/flowlens/flowlens/bench"
	. "github.com/flowlens/flowlens/parser"
	"runtime"
	"strings"
	"testing"
)

// v5Format is the AWS documentation's 29-field version-5 custom format
// (flowlog-spec.md §2.5).
const v5Format = "${version} ${srcaddr} ${dstaddr} ${srcport} ${dstport} ${protocol} ${start} ${end} ${type} ${packets} ${bytes} ${account-id} ${vpc-id} ${subnet-id} ${instance-id} ${interface-id} ${region} ${az-id} ${sublocation-type} ${sublocation-id} ${action} ${tcp-flags} ${pkt-srcaddr} ${pkt-dstaddr} ${pkt-src-aws-service} ${pkt-dst-aws-service} ${traffic-path} ${flow-direction} ${log-status}"

func benchBlock(b *testing.B, f *Format) []byte {
	b.Helper()
	lines := bench.NewGenerator(f, 1).Lines(8000)
	return []byte(strings.Join(lines, "\n") + "\n")
}

func benchParse(b *testing.B, f *Format) {
	block := benchBlock(b, f)
	p := NewParser()
	batch := NewBatch(f)
	p.ParseBlock(batch, block, 1) // warm the buffers: steady state is what counts
	b.SetBytes(int64(len(block)))
	b.ReportAllocs()
	var records int64
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for b.Loop() {
		batch.Reset()
		p.ParseBlock(batch, block, 1)
		records += int64(batch.Len())
	}
	runtime.ReadMemStats(&after)
	if batch.Stats.Invalid != 0 {
		b.Fatalf("invalid lines: %+v", batch.Stats.Samples)
	}
	b.ReportMetric(float64(records)/b.Elapsed().Seconds(), "records/s")
	b.ReportMetric(float64(after.Mallocs-before.Mallocs)/float64(records), "allocs/record")
}

func BenchmarkParseDefault(b *testing.B) { benchParse(b, DefaultFormat()) }

func BenchmarkParseV5(b *testing.B) {
	f, err := ParseLogFormat(v5Format)
	if err != nil {
		b.Fatal(err)
	}
	benchParse(b, f)
}
