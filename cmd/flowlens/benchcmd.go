package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"

	"github.com/flowlens/flowlens/archive"
	"github.com/flowlens/flowlens/athena/pqfile"
	"github.com/flowlens/flowlens/bench"
)

const benchUsage = `Usage: flowlens bench [--in INPUT... | --records N] [flags]

Measures the pipeline stage by stage on a flow-log archive: bare gunzip (the
ceiling), parsing, parsing into Arrow batches, aggregation, detection, Parquet encoding
per codec, and the whole pass from the stored files (conversion alone, and
with the aggregate tables) over a sweep of threads and inputs in flight.
For each: MB/s of decompressed text, records/s, allocations per record, CPU
seconds per GB, peak RSS; then the share of one core's time that gunzip,
parsing, Arrow, aggregation, detection, encoding and compression take. Without --in it measures a
generated archive (see flowlens gen). Figures are measured, never estimated.

Exit status: 0 measured; 1 an input could not be read or a stage failed;
2 usage error.

Example:
  flowlens bench --records 2000000
  flowlens bench --in /data/AWSLogs --jobs 1,2,4,8 --json > run.json

Flags:
`

func benchCmd(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("bench", benchUsage, stderr)
	in := fs.String("in", "", "comma-separated inputs (files, directories, globs) to measure instead of generated data")
	records := fs.Int64("records", 1_000_000, "records of the generated archive")
	sampleMB := fs.Int("sample-mb", 256, "MB of text held in memory for the stage measurements")
	jobs := fs.String("jobs", "", "input concurrency levels of the end-to-end sweep, e.g. 1,2,4 (default 1 and the number of CPUs)")
	procs := fs.String("procs", "", "thread counts (GOMAXPROCS) of the end-to-end sweep, e.g. 1,2 (default the current one)")
	codecs := fs.String("codecs", "none,snappy,zstd,gzip", "Parquet codecs to measure")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	if code, ok := parseFlags(fs, args, stdout); !ok {
		return code
	}
	var err error
	cfg := bench.Config{SampleBytes: int64(*sampleMB) << 20}
	for _, c := range strings.Split(*codecs, ",") {
		codec, err := pqfile.ParseCodec(strings.TrimSpace(c))
		if err != nil {
			fmt.Fprintf(stderr, "flowlens bench: --codecs: %v\n", err)
			return exitUsage
		}
		cfg.Codecs = append(cfg.Codecs, codec)
	}
	if cfg.Jobs, err = parseCounts(*jobs); err != nil {
		fmt.Fprintf(stderr, "flowlens bench: --jobs: %v\n", err)
		return exitUsage
	}
	if cfg.Procs, err = parseCounts(*procs); err != nil {
		fmt.Fprintf(stderr, "flowlens bench: --procs: %v\n", err)
		return exitUsage
	}
	if *records <= 0 || *sampleMB <= 0 {
		fmt.Fprintln(stderr, "flowlens bench: --records and --sample-mb must be positive")
		return exitUsage
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if *in != "" {
		if cfg.Inputs, err = archive.Expand(strings.Split(*in, ",")); err != nil {
			fmt.Fprintf(stderr, "flowlens bench: %v\n", err)
			return exitUsage
		}
	} else {
		dir, err := os.MkdirTemp("", "flowlens-bench-archive-")
		if err != nil {
			fmt.Fprintf(stderr, "flowlens bench: %v\n", err)
			return exitFailed
		}
		defer os.RemoveAll(dir)
		if _, err := bench.GenerateArchive(ctx, bench.ArchiveConfig{Dir: dir, Records: *records, Seed: 1}); err != nil {
			fmt.Fprintf(stderr, "flowlens bench: generating data: %v\n", err)
			return exitFailed
		}
		if cfg.Inputs, err = archive.Expand([]string{dir}); err != nil {
			fmt.Fprintf(stderr, "flowlens bench: %v\n", err)
			return exitFailed
		}
	}
	rep, err := bench.Run(ctx, cfg)
	if err != nil {
		fmt.Fprintf(stderr, "flowlens bench: %v\n", err)
		return exitFailed
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			fmt.Fprintf(stderr, "flowlens bench: %v\n", err)
			return exitFailed
		}
		return exitOK
	}
	printBench(stdout, rep)
	return exitOK
}

func printBench(w io.Writer, rep *bench.Report) {
	m := rep.Machine
	fmt.Fprintf(w, "%s/%s, %d CPUs (GOMAXPROCS %d), %s; %d inputs, %.0f MB of text in the stage sample\n\n",
		m.GOOS, m.GOARCH, m.CPUs, m.GOMAXPROCS, m.GoVersion, rep.Inputs, float64(rep.SampleBytes)/1e6)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "STAGE\tPROCS\tJOBS\tMB/s\trecords/s\tallocs/rec\tCPU s/GB\tpeak RSS MB\toutput MB\t")
	for _, s := range rep.Stages {
		jobs, procs := "-", "-"
		if s.Jobs > 0 {
			jobs, procs = strconv.Itoa(s.Jobs), strconv.Itoa(s.Procs)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%.1f\t%.0f\t%.4f\t%.2f\t%.0f\t%.1f\t\n", s.Name, procs, jobs, s.MBPerSec, s.RecordsPerSec,
			s.AllocsPerRec, s.CPUSecPerGB, s.PeakRSSMB, float64(s.OutputBytes)/1e6)
	}
	tw.Flush()
	var parts []string
	for k := range rep.TimeShare {
		parts = append(parts, k)
	}
	sort.Slice(parts, func(i, j int) bool { return rep.TimeShare[parts[i]] > rep.TimeShare[parts[j]] })
	fmt.Fprint(w, "\nshare of one core's time on the whole path (zstd, with aggregates):")
	for _, k := range parts {
		fmt.Fprintf(w, " %s %.0f%%", k, 100*rep.TimeShare[k])
	}
	fmt.Fprintln(w)
}

// parseCounts reads a comma-separated list of positive numbers ("" is none).
func parseCounts(s string) ([]int, error) {
	if s == "" {
		return nil, nil
	}
	var out []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n <= 0 {
			return nil, fmt.Errorf("%q is not a positive number", f)
		}
		out = append(out, n)
	}
	return out, nil
}
