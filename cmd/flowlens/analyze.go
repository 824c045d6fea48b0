package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/flowlens/flowlens/archive"
	"github.com/flowlens/flowlens/parser"
)

const analyzeUsage = `Usage: flowlens analyze [flags] INPUT...

Parses every input (files, directories searched recursively, glob patterns;
gzip is detected by content) and prints per-file and total counts: records,
invalid lines with samples of why, bytes read.

The format of each input is resolved in this order: its S3 header line; the
--format flag; the Transit Gateway default when the second token of the first
record is TransitGateway...; the default VPC (version 2) format.

Example:
  flowlens analyze testdata/
  flowlens analyze --format '${version} ${srcaddr} ${dstaddr} ${action}' 'logs/*.gz'

Flags:
`

// analyzeFlags are the flags of the analyze command.
type analyzeFlags struct {
	format       string
	jobs         int
	maxLineBytes int
	quiet        bool
}

// parseInterleaved parses flags that may come before, between or after the
// positional arguments, and returns the positional ones.
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

func analyze(args []string, stdout, stderr io.Writer) int {
	var f analyzeFlags
	fs := flag.NewFlagSet("analyze", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, analyzeUsage); fs.PrintDefaults() }
	fs.StringVar(&f.format, "format", "", "AWS LogFormat of headerless inputs, e.g. '${version} ${srcaddr} ...' ($${...} accepted)")
	fs.IntVar(&f.jobs, "jobs", 0, "inputs read at once (default: the number of CPUs)")
	fs.IntVar(&f.maxLineBytes, "max-line-bytes", parser.DefaultMaxLineBytes, "lines longer than this are invalid")
	fs.BoolVar(&f.quiet, "quiet", false, "print only the totals")
	inputs, err := parseInterleaved(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	if err != nil {
		return exitUsage
	}
	if len(inputs) == 0 {
		fmt.Fprintln(stderr, "flowlens analyze: no INPUT given (a file, directory or glob)")
		fs.Usage()
		return exitUsage
	}
	opts := archive.Options{Jobs: f.jobs, MaxLineBytes: f.maxLineBytes}
	if f.format != "" {
		if opts.Format, err = parser.ParseLogFormat(f.format); err != nil {
			fmt.Fprintf(stderr, "flowlens analyze: --format: %v\n", err)
			return exitUsage
		}
	}
	srcs, err := archive.Expand(inputs)
	if err != nil {
		fmt.Fprintf(stderr, "flowlens analyze: %v\n", err)
		return exitUsage
	}
	log := slog.New(slog.NewTextHandler(stderr, nil))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	began := time.Now()
	results, err := archive.Run(ctx, srcs, opts, func(_ int, b *parser.Batch) error {
		b.Release()
		return nil
	})
	if err != nil {
		log.Error("run stopped", "err", err)
		return exitFailed
	}
	elapsed := time.Since(began)
	for i := range results {
		r := &results[i]
		for _, w := range r.Warnings {
			log.Warn(w, "input", r.Source)
		}
		if r.Err != nil {
			log.Error("input failed", "err", r.Err)
		}
	}
	if !f.quiet {
		printResults(stdout, results)
	}
	t := archive.Sum(results, 10)
	printTotals(stdout, t, elapsed)
	if t.Failed > 0 {
		return exitFailed
	}
	return exitOK
}

func printResults(w io.Writer, results []archive.Result) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "INPUT\tKIND\tFORMAT\tRECORDS\tINVALID\tTEXT BYTES\tSTATUS")
	for i := range results {
		r := &results[i]
		format := "-"
		if r.Format != nil {
			format = fmt.Sprintf("%s v%d", r.Format.Source, r.Format.Version())
		}
		status := "ok"
		if r.Err != nil {
			status = "FAILED"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\t%d\t%s\n", r.Source, r.Kind, format, r.Stats.Records, r.Stats.Invalid, r.TextBytes, status)
	}
	tw.Flush()
	printed, more := 0, int64(0)
	for i := range results {
		r := &results[i]
		for _, s := range r.Stats.Samples {
			if printed == maxPrintedSamples {
				break
			}
			fmt.Fprintf(w, "invalid: %s:%d: %s\n", r.Source, s.Line, strings.TrimPrefix(s.Error(), fmt.Sprintf("line %d: ", s.Line)))
			printed++
		}
		more += r.Stats.Invalid
	}
	if more -= int64(printed); more > 0 {
		fmt.Fprintf(w, "invalid: ... and %d more invalid lines\n", more)
	}
}

// maxPrintedSamples bounds the invalid-line samples printed for a run.
const maxPrintedSamples = 20

func printTotals(w io.Writer, t archive.Totals, elapsed time.Duration) {
	secs := elapsed.Seconds()
	fmt.Fprintf(w, "total: %d inputs (%d failed), %d records, %d invalid lines, %.1f MB of text (%.1f MB stored) in %.2fs: %.0f records/s, %.1f MB/s\n",
		t.Inputs, t.Failed, t.Stats.Records, t.Stats.Invalid, float64(t.TextBytes)/1e6, float64(t.StoredBytes)/1e6, secs,
		float64(t.Stats.Records)/secs, float64(t.TextBytes)/secs/1e6)
	for _, r := range parser.Reasons() {
		if n := t.Stats.ByReason[r]; n > 0 {
			fmt.Fprintf(w, "  invalid lines, %s: %d\n", r, n)
		}
	}
}
