package main

import (
	"fmt"
	"io"

	"github.com/flowlens/flowlens/archive"
	"github.com/flowlens/flowlens/report"
)

const reportUsage = `Usage: flowlens report DIR

Writes DIR/report.html, one self-contained page (no network, no scripts from
elsewhere) for people to read an output directory of flowlens analyze: bytes
over time by action, the findings on a timeline and in a table, traffic
between internal and external address space, the top talkers, the most
rejected ports, and data quality (failed inputs and their errors, invalid
lines, NODATA and SKIPDATA records per interface). It reads only what the
run committed: _manifest.json (or the shards' manifests), findings.jsonl and
the aggregate tables; the report is replaced atomically.

Exit status: 0 the report was written; 1 DIR has no manifest or a file it
lists cannot be read; 2 usage error.

Example:
  flowlens analyze testdata/ --out out/
  flowlens report out/ && xdg-open out/report.html

Flags:
`

func reportCmd(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("report", reportUsage, stderr)
	if code, ok := parseFlags(fs, args, stdout); !ok {
		return code
	}
	if fs.NArg() != 1 {
		fmt.Fprintln(stderr, "flowlens report: want one output directory, DIR")
		fs.Usage()
		return exitUsage
	}
	if archive.IsS3URL(fs.Arg(0)) {
		fmt.Fprintf(stderr, "flowlens report: %s: reads a local output directory; copy the output first (aws s3 sync %s DIR) or give analyze --out a local DIR\n", fs.Arg(0), fs.Arg(0))
		return exitUsage
	}
	path, err := report.Write(fs.Arg(0))
	if err != nil {
		fmt.Fprintln(stderr, "flowlens report:", err)
		return exitFailed
	}
	fmt.Fprintln(stdout, "report:", path)
	return exitOK
}
