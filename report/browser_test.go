package report_test

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// browser returns the path of a headless-capable Chromium. Without one the
// test is skipped, or fails when FLOWLENS_REQUIRE_BROWSER=1 (CI).
func browser(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser"} {
		if path, err := exec.LookPath(name); err == nil {
			return path
		}
	}
	msg := "no chromium or chromium-browser on PATH: install it (apt-get install -y chromium) to check the report in a real browser"
	if os.Getenv("FLOWLENS_REQUIRE_BROWSER") == "1" {
		t.Fatal(msg + " (FLOWLENS_REQUIRE_BROWSER=1)")
	}
	t.Skip(msg)
	return ""
}

// chromium runs the browser headless on args and returns its standard
// output.
func chromium(t *testing.T, bin string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	args = append([]string{"--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
		"--no-first-run", "--hide-scrollbars", "--user-data-dir=" + t.TempDir()}, args...)
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %s: %v\n%s", bin, strings.Join(args, " "), err, stderr.String())
	}
	return stdout.String()
}

// bodyAttr returns the value of an attribute of <body> in a dumped DOM.
func bodyAttr(t *testing.T, dom, name string) string {
	t.Helper()
	body := regexp.MustCompile(`<body[^>]*>`).FindString(dom)
	m := regexp.MustCompile(`\s` + name + `="([^"]*)"`).FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no %s on %q: did the page's script run?", name, body)
	}
	return m[1]
}

// TestBrowserRendersCharts opens the fixture's report in headless Chromium
// (three browsers at once): the page's own script must report no errors
// and every chart rendered (an <svg> with a size and data points with one);
// a screenshot of the page must be more than a blank page; and a copy of
// the page with a failing script must report the error, so that the first
// check means something.
func TestBrowserRendersCharts(t *testing.T) {
	bin := browser(t)
	f := analysed(t)
	const charts = 6
	if n := strings.Count(f.html, "<svg data-chart="); n != charts {
		t.Fatalf("%d charts in the report, want %d", n, charts)
	}
	t.Run("rendered", func(t *testing.T) {
		t.Parallel()
		dom := chromium(t, bin, "--dump-dom", "file://"+f.report)
		if n := bodyAttr(t, dom, "data-js-errors"); n != "0" {
			t.Errorf("%s script errors: %s", n, bodyAttr(t, dom, "data-js-error-text"))
		}
		if n := bodyAttr(t, dom, "data-charts"); n != strconv.Itoa(charts) {
			t.Errorf("the browser sees %s charts, want %d", n, charts)
		}
		if n := bodyAttr(t, dom, "data-charts-rendered"); n != strconv.Itoa(charts) {
			t.Errorf("%s of %d charts rendered", n, charts)
		}
	})
	t.Run("screenshot", func(t *testing.T) {
		t.Parallel()
		png := filepath.Join(t.TempDir(), "report.png")
		chromium(t, bin, "--screenshot="+png, "--window-size=1400,4000", "file://"+f.report)
		data, err := os.ReadFile(png)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("screenshot %s, %d bytes", png, len(data))
		if !bytes.HasPrefix(data, []byte("\x89PNG\r\n\x1a\n")) || len(data) < 20<<10 {
			t.Errorf("screenshot %s: %d bytes, want a PNG of more than 20 KiB", png, len(data))
		}
	})
	t.Run("errors seen", func(t *testing.T) {
		t.Parallel()
		broken := filepath.Join(t.TempDir(), "broken.html")
		page := strings.Replace(f.html, "</main>", "</main><script>notDefined();</script>", 1)
		if err := os.WriteFile(broken, []byte(page), 0o644); err != nil {
			t.Fatal(err)
		}
		dom := chromium(t, bin, "--dump-dom", "file://"+broken)
		if n := bodyAttr(t, dom, "data-js-errors"); n != "1" {
			t.Errorf("a page with a failing script reports %s errors, want 1", n)
		}
	})
}
