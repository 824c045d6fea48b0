package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestConfigPrecedence: flags win over FLOWLENS_* variables, which win
// over the --config file, which wins over the defaults; the effective
// configuration is logged once, as JSON with the run id under --log-json.
func TestConfigPrecedence(t *testing.T) {
	dir := t.TempDir()
	input := filepath.Join(dir, "in.log")
	os.WriteFile(input, []byte("2 1 eni-1 10.0.0.1 10.0.0.2 1 2 6 1 1 1 2 ACCEPT OK\n"), 0o644)
	cfg := filepath.Join(dir, "flowlens.yaml")
	os.WriteFile(cfg, []byte(`# flowlens settings
compression: "snappy"   # a comment
sensitive-ports: [22, 3389]
internal-cidr:
  - 100.64.0.0/10
  - 192.0.2.0/24
aggregate: false
`), 0o644)
	codec := func(out string) string {
		t.Helper()
		m, _ := filepath.Glob(filepath.Join(out, "flows", "*", "*", "*.parquet"))
		if len(m) != 1 {
			t.Fatalf("%d flows files in %s", len(m), out)
		}
		return strings.Split(filepath.Base(m[0]), ".")[1]
	}
	runOK := func(args ...string) (string, string) {
		t.Helper()
		var out, errb bytes.Buffer
		if code := run(args, &out, &errb); code != exitOK {
			t.Fatalf("%v: exit %d\n%s%s", args, code, out.String(), errb.String())
		}
		return out.String(), errb.String()
	}
	out1 := filepath.Join(dir, "o1")
	_, logs := runOK("analyze", input, "--out", out1, "--config", cfg, "--log-json")
	if got := codec(out1); got != "snappy" {
		t.Errorf("from the file: %s", got)
	}
	if _, err := os.Stat(filepath.Join(out1, "aggregates")); !os.IsNotExist(err) {
		t.Errorf("aggregate: false in the file was not applied")
	}
	var first map[string]any
	if err := json.Unmarshal([]byte(strings.SplitN(logs, "\n", 2)[0]), &first); err != nil {
		t.Fatalf("first log line is not JSON: %v\n%s", err, logs)
	}
	ports, _ := first["sensitive-ports"].(map[string]any)
	cidrs, _ := first["internal-cidr"].(map[string]any)
	if first["msg"] != "configuration" || first["run_id"] == nil || ports["value"] != "22,3389" ||
		!strings.HasSuffix(ports["from"].(string), "flowlens.yaml:3") || cidrs["value"] != "100.64.0.0/10,192.0.2.0/24" {
		t.Errorf("configuration line: %v", first)
	}

	t.Setenv("FLOWLENS_COMPRESSION", "gzip")
	t.Setenv(configEnv, cfg)
	out2 := filepath.Join(dir, "o2")
	runOK("analyze", input, "--out", out2)
	if got := codec(out2); got != "gzip" {
		t.Errorf("from the environment: %s", got)
	}
	out3 := filepath.Join(dir, "o3")
	runOK("analyze", input, "--out", out3, "--compression", "none")
	if got := codec(out3); got != "none" {
		t.Errorf("from the flag: %s", got)
	}
	// analyze's config in the environment does not break the other
	// commands run in the same job (its keys are no settings of theirs).
	runOK("report", out3)
	runOK("ddl", "--location", "s3://bucket/prefix/", "--from", out3)

	bad := func(want string, args ...string) {
		t.Helper()
		var out, errb bytes.Buffer
		if code := run(args, &out, &errb); code != exitUsage || !strings.Contains(errb.String(), want) {
			t.Errorf("%v: exit %d, want 2 and %q in\n%s", args, code, want, errb.String())
		}
	}
	t.Setenv("FLOWLENS_JOBS", "many")
	bad("FLOWLENS_JOBS=\"many\"", "analyze", input)
	os.Unsetenv("FLOWLENS_JOBS")
	unknown := filepath.Join(dir, "unknown.yaml")
	os.WriteFile(unknown, []byte("out: x\nwindoww: 5m\n"), 0o644)
	bad("unknown.yaml:2: \"windoww\" is not a setting", "analyze", input, "--config", unknown)
	bad("no such file", "gen", "--config", filepath.Join(dir, "missing.yaml"))
}
