// Package verdict turns one case's result.json into comparisons and
// verdicts: medians with intervals per variant, each pair of variants as a
// ratio of medians with an exact 95 % interval and a Mann–Whitney p-value,
// the ISO-Bench class decided on the interval, GSO's rule, and flags for
// throttling and drift. It also aggregates cases as they stream past.
// docs/statistics.md is the reader's version of the rules here.
package verdict

import (
	"fmt"
	"math"
	"strings"

	"github.com/commitbench/commitbench/internal/stats"
)

// Class is an ISO-Bench verdict class, plus the two states a comparison can
// be in when it cannot be decided.
type Class string

const (
	Beats   Class = "Beats"   // the whole interval is above +Margin
	Similar Class = "Similar" // the whole interval is within ±Margin
	Worse   Class = "Worse"   // the whole interval is below −Margin
	// Inconclusive: the interval straddles a boundary, or there are too few
	// repetitions for any 95 % interval.
	Inconclusive Class = "Inconclusive"
	// Failed: a variant the comparison needs failed (or never finished).
	Failed Class = "Failed"
	// NotRun: a variant the comparison needs was not planned (no agent
	// patch for this case): nothing to compare, and nothing failed.
	NotRun Class = "n/a"
)

// Classes lists the classes in report order.
var Classes = []Class{Beats, Similar, Worse, Inconclusive, Failed, NotRun}

// Margin is ISO-Bench's ±5 % band; Confidence the interval level.
const (
	Margin     = 0.05
	Confidence = 0.95
)

// GSO's rule: the agent must be at least GSOSpeedup× faster than baseline
// and reach at least GSOOfHuman of the human speedup.
const (
	GSOSpeedup = 1.2
	GSOOfHuman = 0.95
)

// MaxReps caps the "more repetitions would settle it" estimate: beyond it
// the honest answer is "not with repetitions alone".
const MaxReps = 200

// LowerIsBetter reports whether smaller values of metric are better:
// latencies (ttft, itl, tpot, e2e, *_latency, *_ms) and durations. Every
// other metric is a throughput, where larger is better.
func LowerIsBetter(metric string) bool {
	m := strings.ToLower(metric)
	// Not a bare "_s" suffix: max_output_tokens_per_s is a throughput.
	if strings.HasSuffix(m, "_ms") || strings.HasSuffix(m, "_latency") {
		return true
	}
	for _, w := range []string{"ttft", "itl", "tpot", "e2e", "latency", "duration"} {
		if strings.Contains(m, w) {
			return true
		}
	}
	return false
}

// Comparison is variant To measured against variant From on one metric of
// one result block. Speedup and the Deltas are oriented so that + is
// better whatever the metric's direction.
type Comparison struct {
	Key    string `json:"key,omitempty"`
	Metric string `json:"metric"`
	From   string `json:"from"`
	To     string `json:"to"`
	// Ratio is median(To)/median(From) in the metric's own units.
	Ratio float64 `json:"ratio"`
	// Speedup is Ratio for throughputs, 1/Ratio for latencies.
	Speedup float64 `json:"speedup"`
	// Delta is Speedup−1; DeltaLo/DeltaHi the 95 % interval of it.
	Delta       float64 `json:"delta"`
	DeltaLo     float64 `json:"delta_lo"`
	DeltaHi     float64 `json:"delta_hi"`
	HasInterval bool    `json:"has_interval"`
	// Level is the coverage the exact interval guarantees (≥ 0.95).
	Level float64 `json:"level,omitempty"`
	// P is the two-sided Mann–Whitney p-value; Exact says how it was found.
	P     float64 `json:"p"`
	Exact bool    `json:"p_exact"`
	Class Class   `json:"class"`
	// NeedReps estimates the repetitions per variant that would likely
	// settle an Inconclusive comparison; 0 when settled or not estimable.
	NeedReps int    `json:"need_reps,omitempty"`
	Note     string `json:"note,omitempty"`
	// N1, N2 are the repetitions of From and To.
	N1 int `json:"n_from"`
	N2 int `json:"n_to"`
}

// Valid reports whether the comparison has numbers (both variants
// measured), whatever its class.
func (c *Comparison) Valid() bool { return c != nil && c.Class != Failed && c.Class != NotRun }

// Compare compares to against from (repetition values of metric).
func Compare(key, metric, fromName, toName string, from, to []float64) Comparison {
	c := Comparison{Key: key, Metric: metric, From: fromName, To: toName, N1: len(from), N2: len(to)}
	lower := LowerIsBetter(metric)
	mf, mt := stats.Median(from), stats.Median(to)
	c.Ratio = mt / mf
	c.Speedup = c.Ratio
	if lower {
		c.Speedup = 1 / c.Ratio
	}
	c.Delta = c.Speedup - 1
	mw := stats.MannWhitney(from, to)
	c.P, c.Exact = mw.P, mw.Exact
	iv, ok := stats.RatioCI(from, to, Confidence)
	if !ok || math.IsNaN(c.Ratio) || math.IsInf(c.Ratio, 0) {
		c.Class = Inconclusive
		min := stats.MinSamplesRatioCI(Confidence)
		if len(from) < min || len(to) < min {
			c.NeedReps = min
			c.Note = fmt.Sprintf("%d vs %d repetitions cannot give a 95 %% interval; run ≥ %d per variant", len(from), len(to), min)
		} else {
			c.Note = "values are not all positive; no ratio interval"
		}
		return c
	}
	lo, hi := iv.Lo, iv.Hi
	if lower {
		lo, hi = 1/iv.Hi, 1/iv.Lo
	}
	c.DeltaLo, c.DeltaHi, c.HasInterval, c.Level = lo-1, hi-1, true, iv.Level
	c.Class = Classify(c.DeltaLo, c.DeltaHi)
	if c.Class == Inconclusive {
		c.NeedReps, c.Note = settle(c.Speedup, lo, hi, min(len(from), len(to)))
	}
	return c
}

// Classify decides the ISO-Bench class on the interval [lo, hi] of the
// improvement (+ is better), never on the point estimate.
func Classify(lo, hi float64) Class {
	switch {
	case lo > Margin:
		return Beats
	case hi < -Margin:
		return Worse
	case lo >= -Margin && hi <= Margin:
		return Similar
	}
	return Inconclusive
}

// settle estimates the repetitions that would move an interval off the
// boundaries it straddles. An interval's width shrinks like 1/√n, so the
// side of it that crosses boundary b must shrink by (side/|b−estimate|)²:
// n' = n·(side/distance)², on the log scale where ratios are symmetric.
func settle(speedup, lo, hi float64, n int) (int, string) {
	c := math.Log(speedup)
	l, h := math.Log(lo), math.Log(hi)
	c = math.Min(math.Max(c, l), h)
	need := 0.0
	for _, b := range []float64{math.Log(1 + Margin), math.Log(1 - Margin)} {
		if b <= l || b >= h {
			continue
		}
		dist := math.Abs(b - c)
		side := h - c
		if b < c {
			side = c - l
		}
		if dist < 1e-3 {
			return 0, "the estimate sits on a ±5 % boundary: more repetitions are unlikely to settle it"
		}
		need = math.Max(need, float64(n)*(side/dist)*(side/dist))
	}
	reps := int(math.Ceil(need))
	if reps > MaxReps {
		return 0, fmt.Sprintf("would need over %d repetitions per variant: the difference is too close to ±5 %% to settle by repeating", MaxReps)
	}
	reps = max(reps, n+1)
	return reps, fmt.Sprintf("interval straddles a ±5 %% boundary; about %d repetitions per variant (now %d) would likely settle it", reps, n)
}
