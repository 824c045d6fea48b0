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
	"runtime/pprof"
	"slices"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/flowlens/flowlens/aggregate"
	"github.com/flowlens/flowlens/archive"
	"github.com/flowlens/flowlens/athena"
	"github.com/flowlens/flowlens/athena/pqfile"
	"github.com/flowlens/flowlens/detect"
	"github.com/flowlens/flowlens/parser"
	"github.com/flowlens/flowlens/pipeline"
)

const analyzeUsage = `Usage: flowlens analyze [flags] INPUT... [--out DIR | --out s3://BUCKET/PREFIX/]

Parses every input (files, directories searched recursively, glob patterns,
s3:// locations; gzip is detected by content) and prints per-file and total
counts: records, invalid lines with samples of why, bytes read.

An s3://bucket/prefix/ input is enumerated without listing the whole bucket:
the AWS layouts (AWSLogs/{account}/vpcflowlogs/{region}/YYYY/MM/DD/[HH/],
Hive-compatible, with an organization id) are walked account by account,
region by region and day by day for --start..--end, keeping the files whose
name time is in range (15 minutes more for delivery lag); --account and
--region narrow it. Objects stream into the decompressor as they download,
--jobs at once, and an interrupted download resumes where it broke.
Credentials come from the standard AWS chain (environment, profiles, SSO,
instance and container roles).

With --out DIR it also writes the records as Parquet for Athena:
  DIR/flows/region=R/date=YYYY-MM-DD/part-*.parquet   the flow records
  DIR/aggregates/{conversations,talkers,ports,interfaces}/region=R/date=D/
                                                      traffic per --window
  DIR/findings.jsonl, DIR/findings/region=R/date=D/    what the detectors found
  DIR/athena.sql                                      CREATE TABLE with partition projection
  DIR/report.html                                     the output as charts for people (flowlens report)
  DIR/_manifest.json                                  every file and input, written last
The output is committed atomically: a run that fails or is interrupted
leaves the previous output as it was, and a rerun replaces it. One run at a
time writes DIR (a second fails at once), and a run refuses a DIR holding
files under flows/, aggregates/ or findings/ that it did not write. With --out
s3://bucket/prefix/ the same files are uploaded (multipart for large ones,
--sse to encrypt) and the manifest last; a lease object keeps a second run
out of the location while one runs. With --shard I/N a run reads its
share of the objects and adds uniquely named files to the same tables
(_manifest.shard-I-of-N.json): N runs, on as many machines, make one output.

Detection (on by default, --detect=false skips it) reads the conversations of
each window and reports reject storms, rejected traffic to sensitive ports,
vertical, horizontal and slow port scans, brute force, exfiltration volumes
and beaconing, IPv4 and IPv6 alike; findings are summarised on the terminal
by severity. Every threshold is a flag below; the defaults follow Zeek,
Sigma, Panther, Elastic and GuardDuty (see the README).

The format of each input is resolved in this order: its S3 header line; the
--format flag; the Transit Gateway default when the second token of the first
record is TransitGateway...; the default VPC (version 2) format.

Exit status: 0 every input was read (invalid lines are counted, not
failures, unless no line of a file is a record); 1 some input failed (the others are still written and the
manifest names the failures) or the run failed and nothing was committed;
2 usage error (unknown flag, bad value, no input).

Example:
  flowlens analyze testdata/ --out out/
  flowlens analyze s3://my-logs/ --start 2026-11-01 --end 2026-11-02 --out s3://my-lake/flowlens/
  flowlens analyze s3://my-logs/ --start 2026-11-01 --end 2026-12-01 --shard 40 --out s3://my-lake/flowlens/
  flowlens analyze --format '${version} ${srcaddr} ${dstaddr} ${action}' 'logs/*.gz'

Flags:
`

// analyzeFlags are the flags of the analyze command.
type analyzeFlags struct {
	format       string
	jobs         int
	cpu          int
	logJSON      bool
	maxLineBytes int
	quiet        bool
	out          string
	compression  string
	location     string
	rowGroupRows int
	fileMB       int
	cpuProfile   string
	aggregate    bool
	window       time.Duration
	lateness     time.Duration
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
	fs := newFlagSet("analyze", analyzeUsage, stderr)
	fs.StringVar(&f.format, "format", "", "AWS LogFormat of headerless inputs, e.g. '${version} ${srcaddr} ...' ($${...} accepted)")
	fs.IntVar(&f.jobs, "jobs", 0, "inputs read at once: files open, S3 downloads in flight (default: the number of CPUs, 16 with s3:// inputs)")
	fs.IntVar(&f.cpu, "cpu", 0, "blocks parsed at once, whatever --jobs is (default: the number of CPUs)")
	fs.IntVar(&f.maxLineBytes, "max-line-bytes", parser.DefaultMaxLineBytes, "lines longer than this are invalid")
	fs.BoolVar(&f.quiet, "quiet", false, "print only the totals and the count of findings")
	fs.StringVar(&f.out, "out", "", "write Parquet tables, athena.sql and _manifest.json to this directory or s3:// prefix")
	fs.StringVar(&f.compression, "compression", "zstd", "Parquet page compression: zstd, snappy, gzip or none")
	fs.StringVar(&f.location, "location", "", "S3 location the output will live at, for athena.sql (e.g. s3://bucket/prefix/)")
	fs.IntVar(&f.rowGroupRows, "row-group-rows", 1_000_000, "rows at which a Parquet row group is cut (batches are written whole: a group may hold up to one batch more)")
	fs.IntVar(&f.fileMB, "file-size-mb", 128, "finish an output file once its written row groups reach this size (an estimate: a file holds at least one row group)")
	fs.StringVar(&f.cpuProfile, "cpuprofile", "", "write a CPU profile of the run to this file (for go tool pprof)")
	fs.BoolVar(&f.aggregate, "aggregate", true, "with --out, also write the traffic tables (conversations, talkers, ports, interfaces) under DIR/aggregates/")
	fs.DurationVar(&f.window, "window", 5*time.Minute, "aggregation window, aligned to UTC")
	fs.DurationVar(&f.lateness, "lateness", 15*time.Minute, "how far behind the latest record a record may arrive and still join its window")
	det := addDetectFlags(fs)
	s3f := addS3Flags(fs)
	fs.BoolVar(&f.logJSON, "log-json", false, "write log lines as JSON (default: text), each with the run id")
	if helpRequested(fs, args, stdout) {
		return exitOK
	}
	inputs, err := parseInterleaved(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	if err != nil {
		return exitUsage
	}
	settings, err := applyConfig(fs, os.LookupEnv)
	if err != nil {
		fmt.Fprintf(stderr, "flowlens analyze: %v\n", err)
		return exitUsage
	}
	if len(inputs) == 0 {
		fmt.Fprintln(stderr, "flowlens analyze: no INPUT given (a file, directory or glob)")
		fs.Usage()
		return exitUsage
	}
	if f.jobs < 0 || f.cpu < 0 || f.maxLineBytes < 1 {
		fmt.Fprintln(stderr, "flowlens analyze: --jobs, --cpu and --max-line-bytes must be positive")
		return exitUsage
	}
	if err := s3f.validate(); err != nil {
		fmt.Fprintf(stderr, "flowlens analyze: %v\n", err)
		return exitUsage
	}
	opts := archive.Options{Jobs: f.jobs, CPU: f.cpu, MaxLineBytes: f.maxLineBytes, Starts: s3f.starts()}
	if opts.Jobs == 0 && slices.ContainsFunc(inputs, archive.IsS3URL) {
		opts.Jobs = archive.DefaultS3Concurrency
	}
	if f.format != "" {
		if opts.Format, err = parser.ParseLogFormat(f.format); err != nil {
			fmt.Fprintf(stderr, "flowlens analyze: --format: %v\n", err)
			return exitUsage
		}
	}
	codec, err := pqfile.ParseCodec(f.compression)
	if err != nil {
		fmt.Fprintf(stderr, "flowlens analyze: --compression: %v\n", err)
		return exitUsage
	}
	if lower := strings.ToLower(f.out); !archive.IsS3URL(f.out) && (strings.HasPrefix(lower, "s3:") || strings.HasPrefix(lower, "s3//")) {
		// A mistyped S3 location would be written as a local directory,
		// lost with the machine while the run reports success.
		fmt.Fprintf(stderr, "flowlens analyze: --out %s: an S3 location is written s3://bucket/prefix/\n", f.out)
		return exitUsage
	}
	if f.location == "" && archive.IsS3URL(f.out) {
		f.location = f.out
	}
	if f.location != "" {
		if err := athena.CheckLocation(f.location); err != nil {
			fmt.Fprintf(stderr, "flowlens analyze: --location: %v\n", err)
			return exitUsage
		}
	}
	if f.window < time.Second || f.window%time.Second != 0 || f.lateness < 0 {
		fmt.Fprintln(stderr, "flowlens analyze: --window must be a whole number of seconds, --lateness not negative")
		return exitUsage
	}
	if det.enabled {
		if err := errors.Join(det.validate(fs), det.cfg.Validate()); err != nil {
			fmt.Fprintf(stderr, "flowlens analyze: detection: %v\n", err)
			return exitUsage
		}
	}
	if det.findingsOnly && f.out == "" {
		fmt.Fprintln(stderr, "flowlens analyze: --findings-only needs --out")
		return exitUsage
	}
	if f.rowGroupRows <= 0 || f.fileMB <= 0 {
		fmt.Fprintln(stderr, "flowlens analyze: --row-group-rows and --file-size-mb must be positive")
		return exitUsage
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	runID := athena.NewRunID()
	var handler slog.Handler = slog.NewTextHandler(stderr, nil)
	if f.logJSON {
		handler = slog.NewJSONHandler(stderr, nil)
	}
	log := slog.New(handler).With("run_id", runID)
	cfgAttrs := []any{}
	for _, st := range settings {
		cfgAttrs = append(cfgAttrs, slog.Group(st.name, "value", st.value, "from", st.source))
	}
	log.Info("configuration", cfgAttrs...)
	var skip []string // an output directory among the inputs is not read
	if f.out != "" && !archive.IsS3URL(f.out) {
		skip = append(skip, f.out)
	}
	srcs, err := s3f.sources(ctx, inputs, opts.Jobs, log, skip...)
	if err == nil && len(srcs) == 0 {
		err = fmt.Errorf("shard %s has no input", s3f.shard)
	}
	var store athena.Store
	if err == nil {
		store, err = s3f.store(ctx, f.out, max(opts.Jobs, archive.DefaultS3Concurrency))
	}
	if err != nil {
		fmt.Fprintf(stderr, "flowlens analyze: %v\n", err)
		if errors.As(err, new(s3Error)) {
			return exitFailed
		}
		return exitUsage
	}
	outDir := f.out
	if store != nil {
		outDir = ""
	}
	log.Info("inputs", "count", len(srcs))
	if f.cpuProfile != "" {
		pf, err := os.Create(f.cpuProfile)
		if err != nil {
			fmt.Fprintf(stderr, "flowlens analyze: --cpuprofile: %v\n", err)
			return exitUsage
		}
		defer pf.Close()
		if err := pprof.StartCPUProfile(pf); err != nil {
			fmt.Fprintf(stderr, "flowlens analyze: --cpuprofile: %v\n", err)
			return exitUsage
		}
		defer pprof.StopCPUProfile()
	}
	prog := startProgress(stderr, log, len(srcs), !f.quiet)
	opts.OnDone, opts.OnBatch = prog.OnDone, prog.OnBatch
	aggCfg := aggregate.Config{Window: f.window, Lateness: f.lateness}
	if f.lateness == 0 {
		aggCfg.Lateness = -1 // none; the package reads 0 as its default
	}
	agg := &aggCfg
	res, err := pipeline.Analyze(ctx, pipeline.Config{
		Aggregate:      agg,
		Detect:         det.config(),
		SkipFlows:      det.findingsOnly,
		SkipAggregates: !f.aggregate,
		Inputs:         srcs,
		Read:           opts,
		OutDir:         outDir,
		Store:          store,
		Report:         true,
		Shard:          s3f.shardLabel(),
		Location:       f.location,
		Table:          athena.TableOptions{Codec: codec, RowGroupRows: f.rowGroupRows, TargetFileBytes: int64(f.fileMB) << 20},
		Tool:           "flowlens " + fullVersion(),
		RunID:          runID,
	})
	prog.Stop()
	if err != nil {
		if errors.Is(err, context.Canceled) && ctx.Err() != nil {
			if err.Error() == context.Canceled.Error() {
				log.Error("interrupted; nothing was committed, the previous output (if any) is as it was")
			} else { // the undo itself may have failed: say how
				log.Error("interrupted; nothing was committed", "err", err)
			}
			return exitFailed
		}
		log.Error("run failed; nothing was committed", "err", err)
		return exitFailed
	}
	for i := range res.Inputs {
		r := &res.Inputs[i]
		for _, w := range r.Warnings {
			log.Warn(w, "input", r.Source)
		}
		if r.Err != nil {
			log.Error("input failed", "err", r.Err)
		}
	}
	if !f.quiet {
		printResults(stdout, res.Inputs)
	}
	printTotals(stdout, res.Totals, res.Elapsed)
	if det.enabled {
		shown := 10
		if f.quiet {
			shown = 0 // the counts only
		}
		printFindings(stdout, res.Findings, shown)
	}
	if m := res.Manifest; m != nil {
		fmt.Fprintf(stdout, "output: %s: %d records; %d tables in %d files, %.1f MB; %s and %s written\n", f.out,
			m.Totals.Records, len(m.Tables), m.Totals.OutputFiles, float64(m.Totals.OutputBytes)/1e6, athena.DDLName, athena.ManifestName)
		if res.Report != "" {
			fmt.Fprintf(stdout, "report: %s\n", res.Report)
		}
		if late := res.LateRecords; late > 0 {
			log.Warn("records arrived after their aggregation window had closed; raise --lateness", "records", late)
		}
	}
	for _, w := range res.Warnings {
		log.Warn(w)
	}
	logSummary(log, res)
	if res.Totals.Failed > 0 {
		return exitFailed
	}
	return exitOK
}

// logSummary logs the run's outcome in one structured line.
func logSummary(log *slog.Logger, res *pipeline.Result) {
	t := res.Totals
	secs := res.Elapsed.Seconds()
	attrs := []any{"inputs", t.Inputs, "failed_inputs", t.Failed, "records", t.Stats.Records, "invalid_lines", t.Stats.Invalid, "out_of_range", t.Stats.OutOfRange,
		"text_mb", float64(t.TextBytes) / 1e6, "seconds", secs, "records_per_s", int64(float64(t.Stats.Records) / secs)}
	if m := res.Manifest; m != nil {
		attrs = append(attrs, "output_files", m.Totals.OutputFiles, "output_mb", float64(m.Totals.OutputBytes)/1e6)
	}
	by := map[detect.Severity]int{}
	for _, f := range res.Findings {
		by[f.Severity]++
	}
	attrs = append(attrs, "findings_high", by[detect.High], "findings_medium", by[detect.Medium], "findings_low", by[detect.Low])
	log.Info("summary", attrs...)
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
		switch {
		case r.Switches == 1:
			format += " +1 switch"
		case r.Switches > 1:
			format += fmt.Sprintf(" +%d switches", r.Switches)
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
	if t.Stats.OutOfRange > 0 {
		fmt.Fprintf(w, "  records skipped, start outside --start/--end: %d\n", t.Stats.OutOfRange)
	}
}
