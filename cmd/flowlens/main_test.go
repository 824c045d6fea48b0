package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestExitCodes runs the command as a script would and checks the exit
// status and the counts it prints.
func TestExitCodes(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.log")
	os.WriteFile(good, []byte("2 1 eni-1 10.0.0.1 10.0.0.2 1 2 6 1 1 1 2 ACCEPT OK\nbad line\n"), 0o644)
	corrupt := filepath.Join(dir, "corrupt.log.gz")
	os.WriteFile(corrupt, []byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff, 1, 2, 3}, 0o644)
	f := func(want int, stdoutHas, stderrHas string, args ...string) {
		t.Helper()
		var out, errb bytes.Buffer
		if got := run(args, &out, &errb); got != want {
			t.Fatalf("%v: exit %d, want %d\nstdout %s\nstderr %s", args, got, want, out.String(), errb.String())
		}
		if !strings.Contains(out.String(), stdoutHas) || !strings.Contains(errb.String(), stderrHas) {
			t.Fatalf("%v:\nstdout %s\nstderr %s\nwant %q and %q", args, out.String(), errb.String(), stdoutHas, stderrHas)
		}
	}
	f(exitOK, "total: 1 inputs (0 failed), 1 records, 1 invalid lines", "", "analyze", good)
	f(exitOK, "good.log:2: too few fields", "", "analyze", "--quiet=false", good)
	f(exitFailed, "total: 2 inputs (1 failed), 1 records", "corrupt.log.gz", "analyze", good, corrupt)
	f(exitUsage, "", "no INPUT", "analyze")
	f(exitUsage, "", "flag provided but not defined", "analyze", "--nope", good)
	f(exitUsage, "", "--format", "analyze", "--format", "version srcaddr", good)
	f(exitUsage, "", "no input matches", "analyze", filepath.Join(dir, "*.csv"))
	f(exitUsage, "", "unknown command", "frobnicate")
	f(exitUsage, "", "Usage")
	f(exitOK, "flowlens analyze [flags] INPUT...", "", "help")
	// Asked-for help goes to stdout (a pager reads it); after a bad flag, to stderr.
	f(exitOK, "Usage: flowlens analyze", "", "analyze", "--help")
	f(exitOK, "Usage: flowlens analyze", "", "analyze", good, "-h")
	f(exitOK, "Usage: flowlens ddl", "", "ddl", "--help")
	f(exitOK, "Usage: flowlens gen", "", "help", "gen")
	f(exitUsage, "", "Usage: flowlens analyze", "analyze", "--nope")
	f(exitOK, "flowlens dev", "", "version")
	// Flags after the inputs work too.
	f(exitOK, "total: 1 inputs", "", "analyze", good, "--jobs", "1")

	out := filepath.Join(dir, "out")
	f(exitOK, "output: "+out+": 1 records; 6 tables in 5 files", "", "analyze", good, "--out", out, "--compression", "snappy")
	f(exitOK, "output: "+out+": 1 records; 2 tables in 1 files", "", "analyze", good, "--out", out, "--aggregate=false")
	f(exitUsage, "", "--window", "analyze", good, "--out", out, "--window", "1500ms")
	if _, err := os.Stat(filepath.Join(out, "_manifest.json")); err != nil {
		t.Fatal(err)
	}
	f(exitFailed, "output: "+out+": 1 records", "input failed", "analyze", good, corrupt, "--out", out)
	f(exitUsage, "", "--compression", "analyze", good, "--out", out, "--compression", "lz77")
	f(exitUsage, "", "not an s3:// URI", "analyze", good, "--out", out, "--location", "/tmp/x")
	// A mistyped S3 output is refused, not written as a local directory.
	for _, typo := range []string{"S3://lake/x/", "s3:/lake/x/", "s3//lake/x/"} {
		f(exitUsage, "", "an S3 location is written s3://bucket/prefix/", "analyze", good, "--out", typo)
		if _, err := os.Stat(strings.SplitN(typo, "/", 2)[0]); err == nil {
			t.Errorf("--out %s made a local directory", typo)
		}
	}
	f(exitOK, "LOCATION 's3://bkt/p/flows/'", "", "ddl", "--location", "s3://bkt/p/", "--from", out)
	f(exitUsage, "", "--location must be", "ddl")
	f(exitFailed, "", "--from", "ddl", "--location", "s3://bkt/", "--from", dir)

	arch := filepath.Join(dir, "archive")
	f(exitOK, "records", "", "gen", "--out", arch, "--records", "3000", "--file-records", "1000")
	f(exitOK, "total: 48 inputs (0 failed), 3000 records, 0 invalid lines", "", "analyze", arch)
	f(exitUsage, "", "either --records or --size", "gen", "--out", arch)
	f(exitUsage, "", "--size", "gen", "--out", arch, "--size", "lots")
	f(exitUsage, "", "--out is required", "gen", "--records", "5")
	f(exitUsage, "", "--records must be positive", "gen", "--out", arch, "--records", "-5")
	f(exitUsage, "", "--max-line-bytes must be positive", "analyze", good, "--max-line-bytes", "0")

	f(exitOK, `"name": "end-to-end-zstd"`, "", "bench", "--records", "20000", "--jobs", "1", "--codecs", "none,zstd", "--json")
	f(exitOK, "share of one core's time", "", "bench", "--in", arch, "--jobs", "2", "--codecs", "none,zstd")
	f(exitUsage, "", "--codecs", "bench", "--codecs", "brotli")
	f(exitUsage, "", "--jobs", "bench", "--jobs", "0")
}

// TestDetectionFlags runs detection on the labelled corpus from the command
// line: findings by default, none with --detect=false, no flows table with
// --findings-only, and thresholds taken from their flags.
func TestDetectionFlags(t *testing.T) {
	dir := t.TempDir()
	corpus := filepath.Join(dir, "corpus")
	var out, errb bytes.Buffer
	if code := run([]string{"gen", "--labelled", "--hours", "1", "--out", corpus}, &out, &errb); code != exitOK {
		t.Fatalf("gen: %d %s", code, errb.String())
	}
	logs := filepath.Join(corpus, "AWSLogs")
	analyze := func(args ...string) (string, string) {
		t.Helper()
		out.Reset()
		errb.Reset()
		if code := run(append([]string{"analyze", logs, "--quiet"}, args...), &out, &errb); code != exitOK {
			t.Fatalf("%v: exit %d\n%s", args, code, errb.String())
		}
		return out.String(), errb.String()
	}
	o1 := filepath.Join(dir, "o1")
	stdout, _ := analyze("--out", o1, "--findings-only")
	if !strings.Contains(stdout, "findings: ") || strings.Contains(stdout, "findings: 0 HIGH, 0 MEDIUM, 0 LOW") {
		t.Fatalf("no findings summary:\n%s", stdout)
	}
	if _, err := os.Stat(filepath.Join(o1, "flows")); !os.IsNotExist(err) {
		t.Errorf("--findings-only wrote flows/")
	}
	if data, err := os.ReadFile(filepath.Join(o1, "findings.jsonl")); err != nil || !bytes.Contains(data, []byte(`"kind":"port_scan"`)) {
		t.Errorf("findings.jsonl: %v", err)
	}
	// A threshold no scan reaches silences the scan findings.
	stdout, _ = analyze("--scan-ports", "100000", "--sweep-hosts", "100000", "--slow-scan-ports", "100000", "--slow-sweep-hosts", "100000")
	if strings.Contains(stdout, "port_scan") || strings.Contains(stdout, "horizontal_scan") {
		t.Errorf("scan findings above their thresholds:\n%s", stdout)
	}
	o2 := filepath.Join(dir, "o2")
	stdout, _ = analyze("--out", o2, "--detect=false")
	if strings.Contains(stdout, "findings:") {
		t.Errorf("--detect=false printed findings")
	}
	if _, err := os.Stat(filepath.Join(o2, "findings.jsonl")); !os.IsNotExist(err) {
		t.Errorf("--detect=false wrote findings.jsonl")
	}
	out.Reset()
	errb.Reset()
	if code := run([]string{"analyze", logs, "--exfil-pcr", "3"}, &out, &errb); code != exitUsage || !strings.Contains(errb.String(), "PCR") {
		t.Errorf("--exfil-pcr 3: exit %d %s", code, errb.String())
	}
	// Thresholds the detectors would replace by their defaults are refused,
	// not silently changed.
	for _, args := range [][]string{{"--reject-records", "0"}, {"--scan-ports", "-3"}, {"--exfil-min-bytes", "0"}, {"--slow-window", "0s"}, {"--beacon-size-cv", "0"}, {"--exfil-pcr", "0"}} {
		errb.Reset()
		if code := run(append([]string{"analyze", logs}, args...), &out, &errb); code != exitUsage || !strings.Contains(errb.String(), args[0]+" "+args[1]) {
			t.Errorf("%v: exit %d %s", args, code, errb.String())
		}
	}
}
