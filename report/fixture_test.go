package report_test

import (
	"context"
	"fmt"
	"html"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/flowlens/flowlens/aggregate"
	"github.com/flowlens/flowlens/archive"
	"github.com/flowlens/flowlens/athena"
	"github.com/flowlens/flowlens/bench"
	"github.com/flowlens/flowlens/detect"
	"github.com/flowlens/flowlens/parser"
	"github.com/flowlens/flowlens/pipeline"
	"github.com/flowlens/flowlens/report"
)

// fixtureOut is one analysed output directory and its report, shared by
// the tests of the package (analysing takes most of their time).
type fixtureOut struct {
	dir, report string
	html        string
	manifest    *athena.Manifest
	inputs      []archive.Source
}

var (
	fixtureOnce sync.Once
	fixtureDir  string // removed by TestMain
	fixture     fixtureOut
	fixtureErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if fixtureDir != "" {
		os.RemoveAll(fixtureDir)
	}
	os.Exit(code)
}

// Extra inputs beside the labelled corpus, so that every data-quality fact
// has something to show: interfaces with NODATA and SKIPDATA records, an
// invalid line, and an input truncated half way through its gzip stream.
const (
	gapsFile = "gaps.log"
	// gapsSwitch is the gaps file's second header (its fifth line), which
	// switches the last two fields.
	gapsSwitch    = "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end log-status action"
	truncatedFile = "truncated.log.gz"
	nodataIface   = "eni-0aaaaaaaaaaaaaaa1"
	skipdataIface = "eni-0bbbbbbbbbbbbbbb2"
)

// analysed returns the fixture: two hours of the labelled corpus plus the
// extra inputs, analysed with aggregates and detection (no flows table: the
// report does not read it), and its report.
func analysed(t *testing.T) fixtureOut {
	t.Helper()
	fixtureOnce.Do(func() { fixture, fixtureErr = build() })
	if fixtureErr != nil {
		t.Fatal(fixtureErr)
	}
	return fixture
}

func build() (fixtureOut, error) {
	var err error
	if fixtureDir, err = os.MkdirTemp("", "flowlens-report-test-"); err != nil {
		return fixtureOut{}, err
	}
	corpus := filepath.Join(fixtureDir, "corpus")
	if _, err := bench.GenerateCorpus(bench.CorpusConfig{Dir: corpus, Seed: 1, Hours: 2}); err != nil {
		return fixtureOut{}, err
	}
	extra := filepath.Join(fixtureDir, "extra")
	if err := writeExtraInputs(extra, filepath.Join(corpus, "AWSLogs")); err != nil {
		return fixtureOut{}, err
	}
	srcs, err := archive.Expand([]string{filepath.Join(corpus, "AWSLogs"), extra})
	if err != nil {
		return fixtureOut{}, err
	}
	out := filepath.Join(fixtureDir, "out")
	res, err := pipeline.Analyze(context.Background(), pipeline.Config{Inputs: srcs, OutDir: out,
		Aggregate: &aggregate.Config{}, Detect: &detect.Config{}, SkipFlows: true})
	if err != nil {
		return fixtureOut{}, err
	}
	path, err := report.Write(out)
	if err != nil {
		return fixtureOut{}, err
	}
	page, err := os.ReadFile(path)
	if err != nil {
		return fixtureOut{}, err
	}
	return fixtureOut{dir: out, report: path, html: string(page), manifest: res.Manifest, inputs: srcs}, nil
}

// writeExtraInputs writes the gaps file (default format, then a header
// switching its last two fields) and a truncated copy of the first gzip
// input of corpus into dir.
func writeExtraInputs(dir, corpus string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	start := time.Date(2026, 11, 1, 0, 10, 0, 0, time.UTC).Unix()
	lines := []string{parser.DefaultFormat().Header()}
	for i := range 3 {
		s := start + int64(i)*60
		lines = append(lines, fmt.Sprintf("2 123456789012 %s - - - - - - - %d %d - NODATA", nodataIface, s, s+60))
	}
	lines = append(lines, gapsSwitch)
	for i := range 2 {
		s := start + int64(i)*60
		lines = append(lines, fmt.Sprintf("2 123456789012 %s - - - - - - - %d %d SKIPDATA -", skipdataIface, s, s+60))
	}
	lines = append(lines, "not a flow log record")
	if err := os.WriteFile(filepath.Join(dir, gapsFile), []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		return err
	}
	srcs, err := archive.Expand([]string{corpus})
	if err != nil {
		return err
	}
	gz, err := os.ReadFile(srcs[0].Name)
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, truncatedFile), gz[:len(gz)/2], 0o644)
}

// chartSVG returns the markup of the chart named name, failing when the
// page has none.
func chartSVG(t *testing.T, page, name string) string {
	t.Helper()
	re := regexp.MustCompile(`(?s)<svg data-chart="` + regexp.QuoteMeta(name) + `".*?</svg>`)
	s := re.FindString(page)
	if s == "" {
		t.Fatalf("no chart %q in the report", name)
	}
	return s
}

var (
	openTag = regexp.MustCompile(`<[a-z]+ [^>]*>`)
	attr    = regexp.MustCompile(`([a-z-]+)="([^"]*)"`)
)

// elements returns the attributes of every element of markup whose class
// list starts with class, in document order.
func elements(markup, class string) []map[string]string {
	var out []map[string]string
	for _, tag := range openTag.FindAllString(markup, -1) {
		attrs := map[string]string{}
		for _, m := range attr.FindAllStringSubmatch(tag, -1) {
			attrs[m[1]] = html.UnescapeString(m[2])
		}
		if c := attrs["class"]; c == class || strings.HasPrefix(c, class+" ") {
			out = append(out, attrs)
		}
	}
	return out
}

// files returns the paths of the files of table name in the manifest.
func files(t *testing.T, f fixtureOut, name string) []string {
	t.Helper()
	for _, tm := range f.manifest.Tables {
		if tm.Name == name {
			var paths []string
			for _, fm := range tm.Files {
				paths = append(paths, filepath.Join(f.dir, filepath.FromSlash(fm.Path)))
			}
			return paths
		}
	}
	t.Fatalf("no table %s in the manifest", name)
	return nil
}
