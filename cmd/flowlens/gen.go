package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/flowlens/flowlens/bench"
)

const genUsage = `Usage: flowlens gen --out DIR (--records N | --size SIZE) [flags]

Writes a synthetic flow-log archive in the S3 layout
(DIR/AWSLogs/{account}/vpcflowlogs/{region}/YYYY/MM/DD/*.log.gz): one gzip
object per flow log, account, region and 5-minute window, each with its
header line. Traffic is realistic: thousands of interfaces and hosts, IPv4
and some IPv6, ephemeral client ports, heavy-tailed bytes and packets, 60 s
and 600 s windows, NODATA and SKIPDATA records, and a mix of formats (the
default, a v5 custom, a v11 custom, Transit Gateway). The same seed gives
the same files.

With --labelled it writes instead a labelled corpus for scoring detection:
--hours of traffic of --hosts internal hosts (web servers, databases, API
clients, internet noise) with injected attacks (port scans, sweeps, slow
scans, brute force, reject storms, exfiltration, beaconing; IPv4 and IPv6)
and legitimate look-alikes (a backup moving 30 GB inside the VPC,
monitoring polling 150 hosts, a NAT gateway, a load balancer, a package
mirror, an NTP client), listed in DIR/labels.json.

Exit status: 0 written; 1 a file could not be written; 2 usage error.

Example:
  flowlens gen --out /tmp/archive --size 1GB
  flowlens analyze /tmp/archive --out /tmp/out
  flowlens gen --labelled --out /tmp/corpus && flowlens analyze /tmp/corpus/AWSLogs --out /tmp/found

Flags:
`

func gen(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("gen", genUsage, stderr)
	out := fs.String("out", "", "directory to write the archive to (required)")
	records := fs.Int64("records", 0, "number of records")
	size := fs.String("size", "", "approximate uncompressed size instead of --records, e.g. 500MB or 10GB")
	seed := fs.Uint64("seed", 1, "random seed")
	start := fs.String("start", "2026-11-01T00:00Z", "first 5-minute window (UTC: 2026-11-01, 2026-11-01T00:00Z or RFC 3339)")
	fileRecords := fs.Int("file-records", 20000, "records per 5-minute window (over all flow logs, accounts and regions)")
	level := fs.Int("gzip-level", 6, "gzip level, 1 (fastest) to 9")
	workers := fs.Int("workers", 0, "files written at once (default: the number of CPUs)")
	labelled := fs.Bool("labelled", false, "write the labelled detection corpus and DIR/labels.json instead")
	hours := fs.Int("hours", 6, "with --labelled, hours of traffic")
	hosts := fs.Int("hosts", 200, "with --labelled, internal hosts (at least 200)")
	if code, ok := parseFlags(fs, args, stdout); !ok {
		return code
	}
	if *labelled {
		return genLabelled(*out, *seed, *start, *hours, *hosts, *records > 0 || *size != "", stdout, stderr)
	}
	var err error
	cfg := bench.ArchiveConfig{Dir: *out, Records: *records, Seed: *seed, FileRecords: *fileRecords, GzipLevel: *level, Workers: *workers}
	if *size != "" {
		if cfg.TextBytes, err = parseSize(*size); err != nil {
			fmt.Fprintf(stderr, "flowlens gen: --size: %v\n", err)
			return exitUsage
		}
	}
	switch {
	case *out == "":
		fmt.Fprintln(stderr, "flowlens gen: --out is required")
		return exitUsage
	case cfg.Records < 0:
		fmt.Fprintln(stderr, "flowlens gen: --records must be positive")
		return exitUsage
	case (cfg.Records > 0) == (cfg.TextBytes > 0):
		fmt.Fprintln(stderr, "flowlens gen: give either --records or --size")
		return exitUsage
	case *level < 1 || *level > 9:
		fmt.Fprintln(stderr, "flowlens gen: --gzip-level must be 1 to 9")
		return exitUsage
	case fs.NArg() > 0:
		fmt.Fprintf(stderr, "flowlens gen: unexpected argument %q\n", fs.Arg(0))
		return exitUsage
	}
	if cfg.Start, err = parseTime(*start); err != nil {
		fmt.Fprintf(stderr, "flowlens gen: --start: %v\n", err)
		return exitUsage
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	st, err := bench.GenerateArchive(ctx, cfg)
	if err != nil {
		fmt.Fprintf(stderr, "flowlens gen: %v\n", err)
		return exitFailed
	}
	fmt.Fprintf(stdout, "generated %d files, %d records, %.1f MB of text, %.1f MB gzip, in %.1fs (%.0f MB/s of text)\n",
		st.Files, st.Records, float64(st.TextBytes)/1e6, float64(st.GzipBytes)/1e6, st.Elapsed.Seconds(),
		float64(st.TextBytes)/1e6/st.Elapsed.Seconds())
	return exitOK
}

// genLabelled writes the labelled detection corpus.
func genLabelled(out string, seed uint64, start string, hours, hosts int, sized bool, stdout, stderr io.Writer) int {
	switch {
	case out == "":
		fmt.Fprintln(stderr, "flowlens gen: --out is required")
		return exitUsage
	case sized:
		fmt.Fprintln(stderr, "flowlens gen: --labelled is sized by --hours and --hosts, not --records or --size")
		return exitUsage
	case hours < 1 || hosts < 200 || hosts > 60000:
		fmt.Fprintln(stderr, "flowlens gen: --hours must be at least 1 and --hosts 200 to 60000")
		return exitUsage
	}
	t, err := parseTime(start)
	if err != nil {
		fmt.Fprintf(stderr, "flowlens gen: --start: %v\n", err)
		return exitUsage
	}
	began := time.Now()
	labels, err := bench.GenerateCorpus(bench.CorpusConfig{Dir: out, Seed: seed, Start: t, Hours: hours, Hosts: hosts})
	if err != nil {
		fmt.Fprintf(stderr, "flowlens gen: %v\n", err)
		return exitFailed
	}
	fmt.Fprintf(stdout, "generated a labelled corpus: %d files, %d records, %d attacks, %d look-alikes, in %.1fs; labels in %s\n",
		labels.Files, labels.Records, len(labels.Attacks), len(labels.LookAlikes), time.Since(began).Seconds(),
		filepath.Join(out, "labels.json"))
	return exitOK
}

// parseSize reads sizes such as 500MB, 10GB, 1.5GiB or 4096.
func parseSize(s string) (int64, error) {
	units := []struct {
		suffix string
		mult   float64
	}{{"KIB", 1 << 10}, {"MIB", 1 << 20}, {"GIB", 1 << 30}, {"TIB", 1 << 40}, {"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"TB", 1e12}, {"B", 1}}
	u := strings.ToUpper(strings.TrimSpace(s))
	mult := 1.0
	for _, x := range units {
		if strings.HasSuffix(u, x.suffix) {
			u, mult = strings.TrimSpace(strings.TrimSuffix(u, x.suffix)), x.mult
			break
		}
	}
	v, err := strconv.ParseFloat(u, 64)
	if err != nil || v <= 0 {
		return 0, fmt.Errorf("%q is not a size such as 500MB or 10GB", s)
	}
	return int64(v * mult), nil
}
