package verdict

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/commitbench/commitbench/internal/result"
	"github.com/commitbench/commitbench/internal/stats"
)

// ClockDropRatio: an SM clock minimum below this fraction of the maximum
// within one measured repetition in which the GPU never reported idle
// means it slowed down under load.
const ClockDropRatio = 0.7

// DriftMin is the smallest total trend, relative to the median, that is
// worth flagging even when it is statistically clear.
const DriftMin = 0.02

// Flag kinds.
const (
	FlagIncomplete = "incomplete"
	FlagGeneric    = "generic"
	FlagThrottled  = "throttled"
	FlagDrift      = "drift"
	FlagNoMetric   = "no-metric"
	FlagSimulated  = "simulated"
)

// Flag is something that should make a reader distrust a case's numbers.
type Flag struct {
	Kind string `json:"kind"`
	Text string `json:"text"`
}

func orTool(t string) string {
	if t == "" {
		return "this tool"
	}
	return t
}

func flags(r *result.Result, c *Case, metrics []string) []Flag {
	var out []Flag
	if r.Status != result.RunComplete {
		out = append(out, Flag{FlagIncomplete, fmt.Sprintf("run %s: the result was written before the run ended", r.Status)})
	}
	if simulated(r) {
		out = append(out, Flag{FlagSimulated, "GPUs simulated (a stand-in run replaying recordings): the numbers are not measurements"})
	}
	if c.Generic {
		out = append(out, Flag{FlagGeneric, "generic command: not the commit's own benchmark"})
	}
	for _, name := range Variants {
		if v := r.Variant(name); v != nil {
			if f := throttle(v); f != "" {
				out = append(out, Flag{FlagThrottled, f})
			}
		}
	}
	if c.Metric == "" && slices.ContainsFunc(c.Variants, (*VariantSummary).Measured) {
		out = append(out, Flag{FlagNoMetric, fmt.Sprintf("no primary metric (%s) was measured for %s; set the primary-metric input to a metric this tool prints",
			strings.Join(metrics, ", "), orTool(r.Case.Tool))})
	}
	for _, d := range drift(r, c) {
		out = append(out, Flag{FlagDrift, d})
	}
	return out
}

// benignReason: clock-event reasons that do not mean the GPU was slowed
// under load (idle between runs, or nothing at all).
func benignReason(s string) bool {
	s = strings.ToLower(strings.TrimSpace(s))
	return s == "" || s == "none" || s == "not active" || strings.Contains(s, "idle")
}

func simulated(r *result.Result) bool {
	if r.Host.GPUsSimulated {
		return true
	}
	for _, v := range r.Variants {
		for _, rep := range v.Repetitions {
			if rep.Telemetry != nil && rep.Telemetry.Simulated {
				return true
			}
		}
	}
	return false
}

func throttle(v *result.Variant) string {
	var reasons []string
	reps, clockDrops := 0, 0
	for _, rep := range v.Measured() {
		t := rep.Telemetry
		if t == nil {
			continue
		}
		hit, idle := false, false
		for _, why := range t.ThrottleReasons {
			if strings.Contains(strings.ToLower(why), "idle") {
				idle = true
			}
			if !benignReason(why) {
				hit = true
				if !slices.Contains(reasons, why) {
					reasons = append(reasons, why)
				}
			}
		}
		// A GPU that idled at some point (between requests, before the
		// load) clocks down by design: a low minimum then says nothing.
		if !idle && t.MaxSMClockMHz > 0 && t.MinSMClockMHz > 0 && t.MinSMClockMHz < ClockDropRatio*t.MaxSMClockMHz {
			hit = true
			clockDrops++
		}
		if hit {
			reps++
		}
	}
	if reps == 0 {
		return ""
	}
	var why []string
	if len(reasons) > 0 {
		why = append(why, strings.Join(reasons, ", "))
	}
	if clockDrops > 0 {
		why = append(why, fmt.Sprintf("SM clock fell below %.0f %% of its max in %d", 100*ClockDropRatio, clockDrops))
	}
	return fmt.Sprintf("throttled: %s in %d of %d measured repetitions (%s)", v.Name, reps, len(v.Measured()), strings.Join(why, "; "))
}

// drift flags a variant whose headline values trend with run order:
// Spearman's ρ against the repetition order significant at 1 % (n ≥ 6),
// and a Theil–Sen total change over the run of at least DriftMin of the
// median. When every measured variant drifts the same way the machine,
// not a patch, is the likely cause, and the flag says so.
func drift(r *result.Result, c *Case) []string {
	if c.Metric == "" {
		return nil
	}
	var out []string
	dirs := map[int]int{}
	measured := 0
	for _, name := range Variants {
		v := r.Variant(name)
		if v == nil || v.Status != result.StatusSuccess {
			continue
		}
		vals := v.Values(c.Key, c.Metric)
		if len(vals) < 6 {
			continue
		}
		measured++
		rho := stats.Spearman(vals)
		if math.IsNaN(rho) || math.Abs(rho) < stats.SpearmanCritical(len(vals)) {
			continue
		}
		total := stats.TheilSen(vals) * float64(len(vals)-1) / stats.Median(vals)
		if math.Abs(total) < DriftMin {
			continue
		}
		word := "rose"
		dir := 1
		if total < 0 {
			word, dir = "fell", -1
		}
		dirs[dir]++
		out = append(out, fmt.Sprintf("drift: %s %s %s %.1f %% over %d repetitions (Spearman ρ = %+.2f)",
			name, c.Metric, word, 100*math.Abs(total), len(vals), rho))
	}
	if measured >= 2 && (dirs[1] == measured || dirs[-1] == measured) {
		out = append(out, "drift in every variant the same way: the machine (clocks, heat, neighbours) changed during the run, not only the code")
	}
	return out
}
