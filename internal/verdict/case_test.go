package verdict

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/commitbench/commitbench/internal/failure"
	"github.com/commitbench/commitbench/internal/result"
)

// variant builds a successful variant whose output_throughput takes vals
// (one warm-up first), with telemetry t on every measured repetition.
func variant(name string, vals []float64, t *result.Telemetry) *result.Variant {
	v := &result.Variant{Name: name, Status: result.StatusSuccess}
	v.Repetitions = append(v.Repetitions, &result.Repetition{Warmup: true, Blocks: []result.Block{{Metrics: map[string]float64{"output_throughput": 1}}}})
	for i, x := range vals {
		v.Repetitions = append(v.Repetitions, &result.Repetition{Index: i + 1, Round: i + 1, Telemetry: t,
			Blocks: []result.Block{{Metrics: map[string]float64{"output_throughput": x, "median_ttft_ms": 50000 / x}}}})
	}
	return v
}

func around(m float64, n int) []float64 {
	// Deterministic ±1 % scatter without a trend.
	wiggle := []float64{0, 0.8, -0.6, 0.3, -0.9, 0.5, -0.2, 0.7, -0.4, 0.1}
	out := make([]float64, n)
	for i := range out {
		out[i] = m * (1 + wiggle[i%len(wiggle)]/100)
	}
	return out
}

func res(vs ...*result.Variant) *result.Result {
	return &result.Result{Schema: result.Schema, Status: result.RunComplete,
		Case: result.Case{ID: "c", Tool: "bench_serving", GPUType: "H100", GPUCount: 1}, Variants: vs}
}

func TestSummarizeCases(t *testing.T) {
	patchFailed := &result.Variant{Name: result.Agent, Status: result.StatusFailed, Failure: &failure.Failure{Category: failure.PatchFailed}}
	for _, tc := range []struct {
		name              string
		r                 *result.Result
		human, agentHuman Class
		humanS, agentS    float64 // expected speedups (0: undefined)
		flag              string
		gso, gsoOK        bool
	}{
		{"three-way, agent matches a 10 % human win",
			res(variant("baseline", around(1000, 6), nil), variant("human", around(1100, 6), nil), variant("agent", around(1100, 6), nil)),
			Beats, Similar, 1.1, 1.1, "", false, true},
		{"agent not planned",
			res(variant("baseline", around(1000, 6), nil), variant("human", around(1100, 6), nil),
				&result.Variant{Name: result.Agent, Status: result.StatusNotRun, Reason: "no patch"}),
			Beats, NotRun, 1.1, 0, "", false, false},
		{"agent patch failed counts as 1.0×",
			res(variant("baseline", around(1000, 6), nil), variant("human", around(1100, 6), nil), patchFailed),
			Beats, Failed, 1.1, 1, "", false, false},
		{"agent beats by 30 %: GSO passes",
			res(variant("baseline", around(1000, 6), nil), variant("human", around(1050, 6), nil), variant("agent", around(1300, 6), nil)),
			Inconclusive, Beats, 1.05, 1.3, "", true, true},
		{"thermal throttling",
			res(variant("baseline", around(1000, 6), nil), variant("human", around(1000, 6),
				&result.Telemetry{ThrottleReasons: []string{"gpu_idle", "hw_thermal_slowdown"}, MinSMClockMHz: 1980, MaxSMClockMHz: 1980})),
			Similar, NotRun, 1, 0, "throttled: human in 6 of 6 measured repetitions (hw_thermal_slowdown)", false, false},
		{"clock drop",
			res(variant("baseline", around(1000, 6), &result.Telemetry{MinSMClockMHz: 900, MaxSMClockMHz: 1980}), variant("human", around(1000, 6), nil)),
			Similar, NotRun, 1, 0, "SM clock fell below 70 % of its max in 6", false, false},
		{"idle is not throttling, nor its low clock",
			res(variant("baseline", around(1000, 6), &result.Telemetry{ThrottleReasons: []string{"gpu_idle", "None"}, MinSMClockMHz: 345, MaxSMClockMHz: 1980}), variant("human", around(1000, 6), nil)),
			Similar, NotRun, 1, 0, "", false, false},
		{"simulated GPUs",
			func() *result.Result {
				r := res(variant("baseline", around(1000, 6), nil), variant("human", around(1000, 6), nil))
				r.Host.GPUsSimulated = true
				return r
			}(),
			Similar, NotRun, 1, 0, "GPUs simulated", false, false},
		{"baseline drifts down 10 %",
			res(variant("baseline", []float64{1050, 1040, 1030, 1010, 1000, 990, 980, 960}, nil), variant("human", around(1000, 8), nil)),
			Similar, NotRun, 0, 0, "drift: baseline output_throughput fell", false, false},
		{"no primary metric printed",
			res(&result.Variant{Name: "baseline", Status: result.StatusSuccess, Repetitions: []*result.Repetition{{Blocks: []result.Block{{Metrics: map[string]float64{"other": 1}}}}}},
				&result.Variant{Name: "human", Status: result.StatusSuccess, Repetitions: []*result.Repetition{{Blocks: []result.Block{{Metrics: map[string]float64{"other": 1}}}}}}),
			Failed, NotRun, 0, 0, "no primary metric (output_throughput, median_ttft_ms) was measured", false, false},
	} {
		c := Summarize(tc.r, DefaultPrimary())
		if got := c.Class(HumanVsBaseline); got != tc.human {
			t.Errorf("%s: human vs baseline %s, want %s", tc.name, got, tc.human)
		}
		if got := c.Class(AgentVsHuman); got != tc.agentHuman {
			t.Errorf("%s: agent vs human %s, want %s", tc.name, got, tc.agentHuman)
		}
		h, a, _ := c.Speedups()
		if tc.humanS != 0 && math.Abs(h-tc.humanS) > 0.01 || math.Abs(a-tc.agentS) > 0.01 {
			t.Errorf("%s: speedups human %.3f agent %.3f, want %.3f %.3f", tc.name, h, a, tc.humanS, tc.agentS)
		}
		var flags []string
		for _, f := range c.Flags {
			flags = append(flags, f.Text)
		}
		joined := strings.Join(flags, " | ")
		if (tc.flag == "") != (len(flags) == 0) || !strings.Contains(joined, tc.flag) {
			t.Errorf("%s: flags %q, want %q", tc.name, joined, tc.flag)
		}
		if pass, ok := c.GSO(); pass != tc.gso || ok != tc.gsoOK {
			t.Errorf("%s: GSO pass=%v ok=%v, want %v %v", tc.name, pass, ok, tc.gso, tc.gsoOK)
		}
	}
}

// Clean noise must rarely raise a drift flag: 3 variants per case, n = 10,
// CV 5 %, no trend.
func TestDriftFalseFlags(t *testing.T) {
	flagged := 0
	const trials = 600
	rng := rand.New(rand.NewPCG(10, 5))
	for range trials {
		draw := func() []float64 {
			xs := make([]float64, 10)
			for i := range xs {
				xs[i] = 1700 * (1 + 0.05*rng.NormFloat64())
			}
			return xs
		}
		c := Summarize(res(variant("baseline", draw(), nil), variant("human", draw(), nil), variant("agent", draw(), nil)), DefaultPrimary())
		for _, f := range c.Flags {
			if f.Kind == FlagDrift {
				flagged++
				break
			}
		}
	}
	rate := float64(flagged) / trials
	t.Logf("drift flagged on %.1f %% of trend-free cases (n=10, CV 5 %%, 3 variants)", 100*rate)
	if rate > 0.05 {
		t.Errorf("drift flagged on %.1f %% of trend-free cases, want ≤ 5 %%", 100*rate)
	}
}

func TestAggregate(t *testing.T) {
	a := NewAggregate()
	a.Describe = func(c failure.Category) (string, string) {
		if c == failure.PatchFailed {
			return "the patch does not apply", "regenerate it"
		}
		return "", ""
	}
	ok := Summarize(res(variant("baseline", around(1000, 6), nil), variant("human", around(1100, 6), nil), variant("agent", around(1100, 6), nil)), DefaultPrimary())
	bad := Summarize(res(variant("baseline", around(1000, 6), nil), variant("human", around(900, 6), nil),
		&result.Variant{Name: result.Agent, Status: result.StatusFailed, Failure: &failure.Failure{Category: failure.PatchFailed, RootCause: "own words", Hint: "own hint"}}), DefaultPrimary())
	oom := Summarize(res(variant("baseline", around(1000, 6), nil),
		&result.Variant{Name: result.Human, Status: result.StatusFailed, Failure: &failure.Failure{Category: failure.GPUOOM, RootCause: "KV cache too big", Hint: "lower mem"}}), DefaultPrimary())
	for _, c := range []*Case{ok, bad, oom} {
		a.Add(c)
	}
	if a.Total != 3 || a.Successful != 1 || a.Failed != 2 || a.WithMetrics["agent"] != 1 {
		t.Errorf("counts %+v", a)
	}
	if a.Counts[HumanVsBaseline][Beats] != 1 || a.Counts[HumanVsBaseline][Worse] != 1 || a.Counts[HumanVsBaseline][Failed] != 1 {
		t.Errorf("human counts %v", a.Counts[HumanVsBaseline])
	}
	if len(a.Regressions) != 1 {
		t.Errorf("regressions %v", a.Regressions)
	}
	// Human speedups 1.1 and 0.9; agent 1.1 and 1.0 (failed patch).
	if m := a.HumanSpeedup(); m.N != 2 || math.Abs(m.Value-2/(1/1.1+1/0.9)) > 0.005 {
		t.Errorf("human harmonic mean %+v", m)
	}
	if m := a.AgentSpeedup(); m.N != 2 || math.Abs(m.Value-2/(1/1.1+1)) > 0.005 {
		t.Errorf("agent harmonic mean %+v", m)
	}
	groups := a.ErrorTable()
	if len(groups) != 2 {
		t.Fatalf("error groups %+v", groups)
	}
	for _, g := range groups {
		switch g.Category {
		case failure.PatchFailed:
			if g.RootCause != "the patch does not apply" || g.Hint != "regenerate it" {
				t.Errorf("Describe's words must win: %+v", g)
			}
		case failure.GPUOOM:
			if g.RootCause != "KV cache too big" || g.Hint != "lower mem" || g.Cases[0] != "c (human)" {
				t.Errorf("fallback to the failure's own words: %+v", g)
			}
		}
	}
}

// A run cancelled before any variant broke still gets a CANCELLED row,
// shared with cases whose variant was killed while running.
func TestAggregateCancelledRun(t *testing.T) {
	a := NewAggregate()
	a.Describe = func(failure.Category) (string, string) { return "", "" }
	cancelled := res(variant("baseline", around(1000, 6), nil))
	cancelled.Status = result.RunCancelled
	killed := res(variant("baseline", around(1000, 6), nil), &result.Variant{Name: result.Human, Status: result.StatusRunning})
	killed.Case.ID = "k"
	a.Add(Summarize(cancelled, DefaultPrimary()))
	a.Add(Summarize(killed, DefaultPrimary()))
	groups := a.ErrorTable()
	if len(groups) != 1 || groups[0].Category != failure.Cancelled || groups[0].Count != 2 ||
		strings.Join(groups[0].Cases, "; ") != "c (run); k (human)" {
		t.Errorf("error groups %+v", groups)
	}
}
