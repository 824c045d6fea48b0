package detect_test

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/flowlens/flowlens/archive"
	"github.com/flowlens/flowlens/bench"
	"github.com/flowlens/flowlens/detect"
	"github.com/flowlens/flowlens/pipeline"
)

// runCorpus generates the labelled corpus of the given hours and detects
// over it.
func runCorpus(t *testing.T, hours, jobs int) (bench.Labels, []detect.Finding) {
	t.Helper()
	dir := t.TempDir()
	labels, err := bench.GenerateCorpus(bench.CorpusConfig{Dir: dir, Seed: 7, Hours: hours})
	if err != nil {
		t.Fatal(err)
	}
	srcs, err := archive.Expand([]string{dir + "/AWSLogs"})
	if err != nil {
		t.Fatal(err)
	}
	res, err := pipeline.Analyze(context.Background(), pipeline.Config{
		Inputs: srcs, Read: archive.Options{Jobs: jobs}, Detect: &detect.Config{},
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Totals.Stats.Records != labels.Records || res.Totals.Stats.Invalid != 0 {
		t.Fatalf("read %d records (%d invalid), the corpus has %d", res.Totals.Stats.Records, res.Totals.Stats.Invalid, labels.Records)
	}
	return labels, res.Findings
}

// matches reports whether finding f reports attack a.
func matches(f *detect.Finding, a *bench.Attack) bool {
	if f.Kind != a.Kind || f.Source != a.Source {
		return false
	}
	if a.Target != "" && !slices.Contains(f.Targets, a.Target) {
		return false
	}
	return a.Port == 0 || slices.Contains(f.Ports, int32(a.Port))
}

// TestLabelledCorpus scores every detector against the injected attacks
// and the legitimate look-alikes: recall must be at least 0.9 per kind and
// no look-alike may be flagged. Precision counts a finding as true when its
// source is an attacker.
func TestLabelledCorpus(t *testing.T) {
	t.Parallel()
	labels, findings := runCorpus(t, 6, 2)
	attackers := map[string]bool{}
	for _, a := range labels.Attacks {
		attackers[a.Source] = true
	}
	var table strings.Builder
	fmt.Fprintf(&table, "%-24s %8s %8s %9s %9s\n", "detector", "attacks", "found", "findings", "precision")
	for _, kind := range detect.Kinds {
		var attacks, found, fired, truePos int
		for i := range labels.Attacks {
			a := &labels.Attacks[i]
			if a.Kind != kind {
				continue
			}
			attacks++
			if slices.ContainsFunc(findings, func(f detect.Finding) bool { return matches(&f, a) }) {
				found++
			} else {
				t.Errorf("%s: missed %s from %s (%s)", kind, a.Note, a.Source, a.Target)
			}
		}
		for _, f := range findings {
			if f.Kind == kind {
				fired++
				if attackers[f.Source] {
					truePos++
				}
			}
		}
		if attacks == 0 {
			t.Errorf("%s: no attack of this kind in the corpus", kind)
			continue
		}
		recall := float64(found) / float64(attacks)
		precision := 1.0
		if fired > 0 {
			precision = float64(truePos) / float64(fired)
		}
		fmt.Fprintf(&table, "%-24s %8d %8d %9d %9.2f\n", kind, attacks, found, fired, precision)
		if recall < 0.9 {
			t.Errorf("%s: recall %.2f < 0.9", kind, recall)
		}
	}
	t.Logf("labelled corpus, %d records, %d findings:\n%s", labels.Records, len(findings), table.String())
	for _, la := range labels.LookAlikes {
		for _, f := range findings {
			if f.Source == la.Address || slices.Contains(f.Targets, la.Address) && f.Kind == detect.KindExfiltration {
				t.Errorf("look-alike %s (%s) flagged: %s %s", la.Name, la.Address, f.Kind, f.Explanation)
			}
		}
	}
	for _, f := range findings {
		if !attackers[f.Source] {
			t.Logf("finding on a source that is no attacker: %s %s %s", f.Kind, f.Source, f.Explanation)
		}
	}
}

// TestCorpusDeterministic: the findings do not depend on the number of
// inputs read at once.
func TestCorpusDeterministic(t *testing.T) {
	t.Parallel()
	_, parallel := runCorpus(t, 2, 2)
	_, serial := runCorpus(t, 2, 1)
	if len(parallel) < 10 || !reflect.DeepEqual(serial, parallel) {
		t.Errorf("findings differ between 1 and 2 jobs: %d and %d", len(serial), len(parallel))
	}
}
