package contracttest

import (
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/commitbench/commitbench/internal/plan"
	"github.com/commitbench/commitbench/internal/result"
)

// Expect is what a finished run's result must show.
type Expect struct {
	Backend     string
	Case        *plan.Case
	Repetitions int
	Warmup      int
	// Variants maps each runnable variant to its outcome; the others must
	// be not_run.
	Variants map[string]Want
	// Faster, Key, Metric: see Scenario.
	Faster, Key, Metric string
}

// Check reads caseDir/result.json and checks it against the contract:
// a valid, complete result of this backend; every variant's status and
// failure category; every measured repetition with the tool's metrics,
// its logs on disk and GPU telemetry; the interleaved order; and no Hub
// token anywhere in what the run wrote.
func Check(t testing.TB, caseDir string, e Expect) {
	t.Helper()
	r, err := result.Read(filepath.Join(caseDir, result.FileName))
	if err != nil {
		t.Fatalf("result.json: %v", err)
	}
	if r.Backend != e.Backend || r.Status != result.RunComplete || r.Finished == nil || r.RunID == "" {
		t.Errorf("backend %q status %q finished %v run %q; want %s, complete, a finish time and a run id", r.Backend, r.Status, r.Finished, r.RunID, e.Backend)
	}
	if r.Case.ID != e.Case.ID || r.Case.Tool != e.Case.Bench.Tool || r.Case.Mode != e.Case.Bench.Mode || r.Case.GPUType != e.Case.GPU.Type || r.Case.GPUCount != e.Case.GPU.Count {
		t.Errorf("case %+v does not copy the plan's %s", r.Case, e.Case.ID)
	}
	if s := r.Settings; s == nil || s.Repetitions != e.Repetitions || s.Warmup != e.Warmup || s.Rounds < 1 {
		t.Errorf("settings %+v; want %d repetitions, %d warm-ups", s, e.Repetitions, e.Warmup)
	}
	server := e.Case.Bench.Mode == "server"
	slots := 0
	for _, v := range r.Variants {
		want, runnable := e.Variants[v.Name]
		if !runnable {
			if v.Status != result.StatusNotRun {
				t.Errorf("%s: status %s; want not_run (not in the scenario)", v.Name, v.Status)
			}
			continue
		}
		slots += len(v.Repetitions)
		checkVariant(t, caseDir, r, v, want, e, server)
	}
	if len(r.Order) != slots {
		t.Errorf("order has %d slots, the variants %d repetitions", len(r.Order), slots)
	}
	for _, s := range r.Order {
		if s.Started.IsZero() || r.Variant(s.Variant) == nil {
			t.Errorf("slot %+v: no start time or unknown variant", s)
		}
	}
	if allSucceed(e.Variants) && len(e.Variants) == 3 {
		checkRotation(t, r)
	}
	if e.Faster != "" && allSucceed(e.Variants) {
		checkFaster(t, r, e)
	}
	assertNoToken(t, caseDir)
}

func checkVariant(t testing.TB, caseDir string, r *result.Result, v *result.Variant, want Want, e Expect, server bool) {
	t.Helper()
	if v.Status != want.Status {
		t.Errorf("%s: status %s, want %s (failure %+v)", v.Name, v.Status, want.Status, v.Failure)
		return
	}
	if v.Status == result.StatusFailed {
		if v.Failure == nil || v.Failure.Category != want.Category || v.Failure.RootCause == "" {
			t.Errorf("%s: failure %+v; want %s with a root cause", v.Name, v.Failure, want.Category)
		}
		return
	}
	if v.ImageDigest == "" || !strings.HasPrefix(v.ImageDigest, "sha256:") {
		t.Errorf("%s: image digest %q; want sha256:...", v.Name, v.ImageDigest)
	}
	measured := v.Measured()
	if len(measured) != e.Repetitions {
		t.Errorf("%s: %d measured repetitions, want %d", v.Name, len(measured), e.Repetitions)
	}
	warm := 0
	for _, rep := range v.Repetitions {
		if rep.Warmup {
			warm++
		}
	}
	if want := e.Warmup; !server && warm != want || server && warm != want*r.Settings.Rounds {
		t.Errorf("%s: %d warm-ups; want %d per %s", v.Name, warm, e.Warmup, map[bool]string{true: "server start", false: "variant"}[server])
	}
	if server && len(v.ServerReadySeconds) != r.Settings.Rounds {
		t.Errorf("%s: %d server starts timed, want one per round (%d)", v.Name, len(v.ServerReadySeconds), r.Settings.Rounds)
	}
	req := requiredMetric(r.Case.Tool)
	for _, rep := range measured {
		for _, b := range rep.Blocks {
			if !slices.ContainsFunc(req, func(m string) bool { _, ok := b.Metrics[m]; return ok }) {
				t.Errorf("%s rep %d block %q: none of %v", v.Name, rep.Index, b.Key, req)
			}
		}
		if rep.Logs.Client == "" || !exists(filepath.Join(caseDir, rep.Logs.Client)) {
			t.Errorf("%s rep %d: client log %q missing", v.Name, rep.Index, rep.Logs.Client)
		}
		if server && (rep.Logs.Server == "" || !exists(filepath.Join(caseDir, rep.Logs.Server))) {
			t.Errorf("%s rep %d: server log %q missing", v.Name, rep.Index, rep.Logs.Server)
		}
		if tm := rep.Telemetry; tm == nil || tm.Samples == 0 || tm.MaxSMClockMHz == 0 {
			t.Errorf("%s rep %d: telemetry %+v; want GPU samples", v.Name, rep.Index, tm)
		}
	}
}

func allSucceed(w map[string]Want) bool {
	for _, x := range w {
		if x.Status != result.StatusSuccess {
			return false
		}
	}
	return true
}

// checkRotation: each round runs every variant, the first one moving one
// place per round (B,H,A then H,A,B then A,B,H).
func checkRotation(t testing.TB, r *result.Result) {
	t.Helper()
	var firsts []string
	seen := map[int]bool{}
	for _, s := range r.Order {
		if !seen[s.Round] {
			seen[s.Round] = true
			firsts = append(firsts, s.Variant)
		}
	}
	want := []string{result.Baseline, result.Human, result.Agent}[:min(3, len(firsts))]
	if !slices.Equal(firsts, want) {
		t.Errorf("rounds start with %v, want %v (order rotated each round)", firsts, want)
	}
}

func checkFaster(t testing.TB, r *result.Result, e Expect) {
	t.Helper()
	human, faster := median(r.Variant(result.Human).Values(e.Key, e.Metric)), median(r.Variant(e.Faster).Values(e.Key, e.Metric))
	if human == 0 {
		t.Errorf("human has no %s in block %q", e.Metric, e.Key)
		return
	}
	ratio := faster / human
	t.Logf("median %s: human %.2f, %s %.2f, ratio %.3f (twice as fast: ≈0.5)", e.Metric, human, e.Faster, faster, ratio)
	if ratio < 0.3 || ratio > 0.85 {
		t.Errorf("%s/human %s = %.3f; want 0.3..0.85", e.Faster, e.Metric, ratio)
	}
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	switch n := len(s); {
	case n == 0:
		return 0
	case n%2 == 1:
		return s[n/2]
	default:
		return (s[n/2-1] + s[n/2]) / 2
	}
}

// assertNoToken walks every file the run wrote.
func assertNoToken(t testing.TB, dir string) {
	t.Helper()
	n := 0
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		n++
		if data, _ := os.ReadFile(p); strings.Contains(string(data), Token) {
			t.Errorf("%s contains the Hub token", p)
		}
		return nil
	})
	if n == 0 {
		t.Errorf("no files under %s", dir)
	}
}
