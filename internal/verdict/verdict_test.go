package verdict

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

func TestLowerIsBetter(t *testing.T) {
	for m, want := range map[string]bool{
		"median_ttft_ms": true, "p99_itl_ms": true, "mean_tpot_ms": true, "median_e2e_latency_ms": true,
		"total_latency": true, "median_decode_latency": true, "duration": true,
		"output_throughput": false, "median_decode_throughput": false, "request_throughput": false,
		"max_output_tokens_per_s": false, "overall_throughput": false,
	} {
		if got := LowerIsBetter(m); got != want {
			t.Errorf("LowerIsBetter(%q) = %v, want %v", m, got, want)
		}
	}
}

func TestClassify(t *testing.T) {
	for _, tc := range []struct {
		lo, hi float64
		want   Class
	}{
		{0.06, 0.12, Beats},
		{-0.12, -0.06, Worse},
		{-0.03, 0.04, Similar},
		{-0.05, 0.05, Similar}, // the band is closed
		{0.02, 0.08, Inconclusive},
		{-0.08, -0.02, Inconclusive},
		{-0.10, 0.10, Inconclusive},
		{0.05, 0.09, Inconclusive}, // Beats needs lo > +5 %
	} {
		if got := Classify(tc.lo, tc.hi); got != tc.want {
			t.Errorf("Classify(%v, %v) = %s, want %s", tc.lo, tc.hi, got, tc.want)
		}
	}
}

func TestCompare(t *testing.T) {
	base := []float64{1000, 1010, 990, 1005, 995, 1002}
	scale := func(xs []float64, f float64) []float64 {
		out := make([]float64, len(xs))
		for i, x := range xs {
			out[i] = x * f
		}
		return out
	}
	for _, tc := range []struct {
		name, metric string
		to           []float64
		class        Class
		delta        float64 // expected point Δ, ±0.005
		needReps     bool
	}{
		{"throughput up 10 %", "output_throughput", scale(base, 1.10), Beats, 0.10, false},
		{"throughput down 10 %", "output_throughput", scale(base, 0.90), Worse, -0.10, false},
		{"same", "output_throughput", scale(base, 1.0), Similar, 0, false},
		// A latency that halves is a 2× speedup: + is better.
		{"latency halves", "median_ttft_ms", scale(base, 0.5), Beats, 1.0, false},
		{"latency up 10 %", "median_ttft_ms", scale(base, 1.1), Worse, 1/1.1 - 1, false},
		{"on the fence", "output_throughput", scale(base, 1.05), Inconclusive, 0.05, false},
		{"near the fence", "output_throughput", scale(base, 1.042), Inconclusive, 0.042, true},
		{"too few", "output_throughput", []float64{1100, 1110, 1090}, Inconclusive, 0.10, true},
	} {
		from := base
		if tc.name == "too few" {
			from = base[:3]
		}
		c := Compare("", tc.metric, "baseline", "human", from, tc.to)
		if c.Class != tc.class || math.Abs(c.Delta-tc.delta) > 0.005 || (c.NeedReps > 0) != tc.needReps {
			t.Errorf("%s: class %s Δ %.4f need %d (%s), want %s Δ %.4f need>0=%v", tc.name, c.Class, c.Delta, c.NeedReps, c.Note, tc.class, tc.delta, tc.needReps)
		}
		if c.Class == Inconclusive && c.Note == "" {
			t.Errorf("%s: inconclusive without a note", tc.name)
		}
		if c.HasInterval && !(c.DeltaLo <= c.DeltaHi) {
			t.Errorf("%s: interval [%v, %v] is reversed", tc.name, c.DeltaLo, c.DeltaHi)
		}
	}
	if c := Compare("", "output_throughput", "b", "h", base[:3], base[:3]); !strings.Contains(c.Note, "≥ 4") {
		t.Errorf("too-few note = %q, want the minimum named", c.Note)
	}
}

// A/A: identical variants with realistic noise (CV 5 %) must almost never
// be declared Beats or Worse; ISO-Bench's ±5 % decided on a point estimate
// would call 18 % (n=5) and 6 % (n=10) of them one way or the other.
func TestAAFalseVerdicts(t *testing.T) {
	rng := rand.New(rand.NewPCG(2026, 11))
	for _, n := range []int{5, 10} {
		const trials = 2000
		decided, point := 0, 0
		for range trials {
			draw := func() []float64 {
				xs := make([]float64, n)
				for i := range xs {
					xs[i] = 1700 * (1 + 0.05*rng.NormFloat64())
				}
				return xs
			}
			c := Compare("", "output_throughput", "baseline", "human", draw(), draw())
			if c.Class == Beats || c.Class == Worse {
				decided++
			}
			if math.Abs(c.Delta) > Margin {
				point++
			}
		}
		rate := float64(decided) / trials
		t.Logf("n=%d: Beats/Worse in %.2f %% of A/A cases (a point-estimate rule: %.1f %%)", n, 100*rate, 100*float64(point)/trials)
		if rate > 0.05 {
			t.Errorf("n=%d: Beats/Worse declared in %.1f %% of A/A cases, want ≤ 5 %%", n, 100*rate)
		}
	}
}

func TestSettleEstimate(t *testing.T) {
	// Δ point +2 %, interval [−1 %, +5.5 %], n = 5: the upper side (3.5 %
	// wide on a 3 % distance, in logs) must shrink, so n grows by ≈ 1.4×.
	reps, note := settle(1.02, 0.99, 1.055, 5)
	if reps < 6 || reps > 10 || !strings.Contains(note, "about") {
		t.Errorf("settle = %d, %q; want 6..10 repetitions", reps, note)
	}
	if reps, note := settle(1.05, 1.0, 1.10, 5); reps != 0 || !strings.Contains(note, "boundary") {
		t.Errorf("on the boundary: %d, %q", reps, note)
	}
	if reps, note := settle(1.045, 0.90, 1.20, 10); reps != 0 || !strings.Contains(note, "over 200") {
		t.Errorf("hopeless: %d, %q", reps, note)
	}
}

func TestParsePrimary(t *testing.T) {
	for _, tc := range []struct {
		spec, tool string
		want       string
		err        string
	}{
		{"", "bench_serving", "output_throughput,median_ttft_ms", ""},
		{"", "bench_one_batch", "median_decode_throughput,overall_throughput", ""},
		{"median_ttft_ms", "bench_serving", "median_ttft_ms", ""},
		{"median_ttft_ms", "some_new_tool", "median_ttft_ms", ""},
		{"bench_serving=median_itl_ms, output_throughput", "bench_serving", "median_itl_ms,output_throughput", ""},
		{"bench_serving=median_itl_ms\nbench_one_batch=overall_throughput", "bench_one_batch", "overall_throughput", ""},
		{"bench_serving=median_itl_ms", "bench_offline_throughput", "output_throughput", ""},
		{"bench_servin=x", "", "", "unknown tool"},
		{"bench_serving=a b", "", "", "not a metric name"},
	} {
		p, err := ParsePrimary(tc.spec)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%q: err = %v, want %q", tc.spec, err, tc.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", tc.spec, err)
			continue
		}
		if got := strings.Join(p.For(tc.tool), ","); got != tc.want {
			t.Errorf("%q for %s = %s, want %s", tc.spec, tc.tool, got, tc.want)
		}
	}
}
