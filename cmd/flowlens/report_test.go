package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestReportCommand checks the report command's exit status and messages:
// a report of a real output, a directory without a manifest, usage errors.
func TestReportCommand(t *testing.T) {
	dir := t.TempDir()
	input := filepath.Join(dir, "in.log")
	os.WriteFile(input, []byte("2 1 eni-1 10.0.0.1 203.0.113.9 1 22 6 1 100 1 2 REJECT OK\n"), 0o644)
	out := filepath.Join(dir, "out")
	empty := filepath.Join(dir, "empty")
	os.Mkdir(empty, 0o755)
	f := func(want int, stdoutHas, stderrHas string, args ...string) {
		t.Helper()
		var o, e bytes.Buffer
		if got := run(args, &o, &e); got != want {
			t.Fatalf("%v: exit %d, want %d\nstdout %s\nstderr %s", args, got, want, o.String(), e.String())
		}
		if !strings.Contains(o.String(), stdoutHas) || !strings.Contains(e.String(), stderrHas) {
			t.Fatalf("%v:\nstdout %s\nstderr %s\nwant %q and %q", args, o.String(), e.String(), stdoutHas, stderrHas)
		}
	}
	f(exitOK, "", "", "analyze", input, "--out", out)
	f(exitOK, "report: "+filepath.Join(out, "report.html"), "", "report", out)
	page, err := os.ReadFile(filepath.Join(out, "report.html"))
	if err != nil || !strings.Contains(string(page), `data-chart="rejected-ports"`) || !strings.Contains(string(page), "22/tcp") {
		t.Fatalf("report of %s: %v, no rejected port 22/tcp in it", out, err)
	}
	f(exitFailed, "", filepath.Join(empty, "_manifest.json"), "report", empty)
	f(exitFailed, "", "not an output directory", "report", filepath.Join(dir, "missing"))
	f(exitUsage, "", "want one output directory", "report")
	f(exitUsage, "", "want one output directory", "report", out, empty)
	f(exitUsage, "", "flag provided but not defined", "report", "--nope", out)
	f(exitOK, "Example:\n  flowlens analyze testdata/ --out out/\n  flowlens report out/", "", "report", "--help")
	f(exitOK, "flowlens report DIR", "", "help")
}
