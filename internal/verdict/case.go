package verdict

import (
	"fmt"
	"strings"

	"github.com/commitbench/commitbench/internal/failure"
	"github.com/commitbench/commitbench/internal/result"
	"github.com/commitbench/commitbench/internal/stats"
)

// Variants in report order.
var Variants = []string{result.Baseline, result.Human, result.Agent}

// Pair is one comparison: To against From.
type Pair struct{ From, To string }

// The three comparisons, in report order.
var (
	HumanVsBaseline = Pair{result.Baseline, result.Human}
	AgentVsBaseline = Pair{result.Baseline, result.Agent}
	AgentVsHuman    = Pair{result.Human, result.Agent}
	Pairs           = []Pair{HumanVsBaseline, AgentVsBaseline, AgentVsHuman}
)

func (p Pair) String() string { return p.To + " vs " + p.From }

// StatusMissing marks a variant absent from result.json.
const StatusMissing = "missing"

// Stat is one metric of one variant.
type Stat struct {
	Key    string      `json:"key,omitempty"`
	Metric string      `json:"metric"`
	Median float64     `json:"median"`
	CI     *[2]float64 `json:"ci,omitempty"` // nil: too few repetitions
	Values []float64   `json:"values"`
}

// VariantSummary is one variant of a case.
type VariantSummary struct {
	Name    string           `json:"name"`
	Status  string           `json:"status"`
	Reason  string           `json:"reason,omitempty"`
	Failure *failure.Failure `json:"failure,omitempty"`
	N       int              `json:"n"`
	Stats   []Stat           `json:"stats,omitempty"`
	// Agent names who wrote the agent variant's patch ("claude-code,
	// claude-sonnet-4-20250514"), when the plan said.
	Agent string `json:"agent,omitempty"`
}

// Measured reports whether the variant has numbers to compare.
func (v *VariantSummary) Measured() bool { return v.Status == result.StatusSuccess && v.N > 0 }

// Broken reports whether the variant was meant to run and did not succeed.
func (v *VariantSummary) Broken() bool {
	return v.Status == result.StatusFailed || v.Status == result.StatusRunning
}

// Category is the failure category of a broken variant. A variant still
// "running" in a written result was killed before it ended: CANCELLED.
func (v *VariantSummary) Category() failure.Category {
	switch {
	case v.Failure != nil && v.Failure.Category != "":
		return v.Failure.Category
	case v.Status == result.StatusRunning:
		return failure.Cancelled
	}
	return failure.Unknown
}

// Stat returns the variant's stat for key/metric, or nil.
func (v *VariantSummary) Stat(key, metric string) *Stat {
	for i := range v.Stats {
		if v.Stats[i].Key == key && v.Stats[i].Metric == metric {
			return &v.Stats[i]
		}
	}
	return nil
}

// Case is everything publish reports about one result.json. It holds
// summaries, not the result, so that thousands stay cheap.
type Case struct {
	ID, Repo, Commit, Parent, Subject, PR, Model string
	Tool, Mode, PerfCommand, GPU, RunStatus      string
	TP                                           int
	Generic                                      bool
	Variants                                     []*VariantSummary
	// Key/Metric name the headline: the first primary metric with values.
	Key, Metric string
	// Comparisons: every primary key/metric × every pair.
	Comparisons []Comparison
	Flags       []Flag
}

// Variant returns the named variant summary (never nil).
func (c *Case) Variant(name string) *VariantSummary {
	for _, v := range c.Variants {
		if v.Name == name {
			return v
		}
	}
	return &VariantSummary{Name: name, Status: StatusMissing}
}

// Headline returns the headline comparison for p, or nil when the case has
// no primary metric at all.
func (c *Case) Headline(p Pair) *Comparison {
	for i := range c.Comparisons {
		x := &c.Comparisons[i]
		if x.Key == c.Key && x.Metric == c.Metric && x.From == p.From && x.To == p.To {
			return x
		}
	}
	return nil
}

// Class returns the headline class for p: NotRun or Failed when a variant
// is absent or broken, even if no metric could be chosen.
func (c *Case) Class(p Pair) Class {
	if h := c.Headline(p); h != nil {
		return h.Class
	}
	if cl, _ := pairState(c.Variant(p.From), c.Variant(p.To)); cl != "" {
		return cl
	}
	return Failed
}

// Successful: every variant that was meant to run succeeded.
func (c *Case) Successful() bool {
	if c.RunStatus != result.RunComplete {
		return false
	}
	for _, v := range c.Variants {
		if v.Broken() {
			return false
		}
	}
	return true
}

// Summarize computes a case's statistics and comparisons from r.
func Summarize(r *result.Result, primary Primary) *Case {
	c := &Case{
		ID: r.Case.ID, Repo: r.Case.Repo, Commit: r.Case.Commit, Parent: r.Case.Parent,
		Subject: r.Case.Subject, PR: r.Case.PR, Model: r.Case.Model, Tool: r.Case.Tool, Mode: r.Case.Mode,
		PerfCommand: r.Case.PerfCommand, TP: r.Case.TP, Generic: r.Case.GenericCommand, RunStatus: r.Status,
	}
	if r.Case.GPUType != "" {
		c.GPU = fmt.Sprintf("%s×%d", r.Case.GPUType, max(r.Case.GPUCount, 1))
	}
	keys := blockKeys(r)
	metrics := primary.For(r.Case.Tool)
	for _, name := range Variants {
		v := r.Variant(name)
		if v == nil {
			c.Variants = append(c.Variants, &VariantSummary{Name: name, Status: StatusMissing})
			continue
		}
		vs := &VariantSummary{Name: name, Status: v.Status, Reason: v.Reason, Failure: v.Failure, N: len(v.Measured()),
			Agent: joinNonEmpty(", ", v.AgentName, v.AgentModel)}
		for _, k := range keys {
			for _, m := range metrics {
				if vals := v.Values(k, m); len(vals) > 0 {
					vs.Stats = append(vs.Stats, newStat(k, m, vals))
				}
			}
		}
		c.Variants = append(c.Variants, vs)
	}
	for _, k := range keys {
		for _, m := range metrics {
			if !c.anyStat(k, m) {
				continue
			}
			if c.Metric == "" {
				c.Key, c.Metric = k, m
			}
			for _, p := range Pairs {
				c.Comparisons = append(c.Comparisons, c.compare(k, m, p))
			}
		}
	}
	c.Flags = flags(r, c, metrics)
	return c
}

func newStat(key, metric string, vals []float64) Stat {
	s := Stat{Key: key, Metric: metric, Median: stats.Median(vals), Values: vals}
	if iv, ok := stats.MedianCI(vals, Confidence); ok {
		s.CI = &[2]float64{iv.Lo, iv.Hi}
	}
	return s
}

func (c *Case) anyStat(key, metric string) bool {
	for _, v := range c.Variants {
		if v.Stat(key, metric) != nil {
			return true
		}
	}
	return false
}

// pairState decides a comparison that has no numbers: n/a when a variant
// was not planned, Failed when one broke. "" when both were measured.
func pairState(from, to *VariantSummary) (Class, string) {
	for _, v := range []*VariantSummary{from, to} {
		if v.Status == StatusMissing || v.Status == result.StatusNotRun {
			return NotRun, notRunNote(v)
		}
	}
	for _, v := range []*VariantSummary{from, to} {
		if v.Broken() {
			return Failed, fmt.Sprintf("%s failed: %s", v.Name, v.Category())
		}
	}
	return "", ""
}

func notRunNote(v *VariantSummary) string {
	if v.Reason != "" {
		return v.Name + " not run: " + v.Reason
	}
	return v.Name + " not run"
}

func (c *Case) compare(key, metric string, p Pair) Comparison {
	from, to := c.Variant(p.From), c.Variant(p.To)
	if cl, note := pairState(from, to); cl != "" {
		return Comparison{Key: key, Metric: metric, From: p.From, To: p.To, Class: cl, Note: note}
	}
	sf, st := from.Stat(key, metric), to.Stat(key, metric)
	if sf == nil || st == nil {
		// A successful variant without the metric: the tool's output
		// changed shape between the two trees, which is a failure of the
		// comparison, never a silent skip.
		missing := from.Name
		if sf != nil {
			missing = to.Name
		}
		return Comparison{Key: key, Metric: metric, From: p.From, To: p.To, Class: Failed,
			Note: fmt.Sprintf("%s has no %s values", missing, metric)}
	}
	return Compare(key, metric, p.From, p.To, sf.Values, st.Values)
}

// blockKeys lists the result-block keys in the order the first measured
// repetition printed them (human first: it is the commit under test).
func blockKeys(r *result.Result) []string {
	for _, name := range []string{result.Human, result.Baseline, result.Agent} {
		v := r.Variant(name)
		if v == nil {
			continue
		}
		if m := v.Measured(); len(m) > 0 {
			var keys []string
			for _, b := range m[0].Blocks {
				keys = append(keys, b.Key)
			}
			return keys
		}
	}
	return []string{""}
}

// GSO applies GSO's rule to the headline: agent ≥ 1.2× over baseline and
// ≥ 0.95× of human. ok is false when either comparison has no numbers.
func (c *Case) GSO() (pass, ok bool) {
	ab, ah := c.Headline(AgentVsBaseline), c.Headline(AgentVsHuman)
	if !ab.Valid() || !ah.Valid() {
		return false, false
	}
	return ab.Speedup >= GSOSpeedup && ah.Speedup >= GSOOfHuman, true
}

// Speedups returns the headline speedups the aggregates use: human over
// baseline, agent over baseline, and agent over human. A failed agent
// (patch failed to apply, build, or run) counts as 1.0× over baseline, as
// SWE-fficiency scores it, so a broken patch cannot vanish from the mean.
// A speedup is 0 when it is not defined (a variant not run, or baseline or
// human broken).
func (c *Case) Speedups() (human, agent, ratio float64) {
	if h := c.Headline(HumanVsBaseline); h.Valid() {
		human = h.Speedup
	}
	base := c.Variant(result.Baseline)
	switch a := c.Variant(result.Agent); {
	case a.Broken() && base.Measured():
		agent = 1
	default:
		if h := c.Headline(AgentVsBaseline); h.Valid() {
			agent = h.Speedup
		}
	}
	if human > 0 && agent > 0 {
		ratio = agent / human
	}
	return human, agent, ratio
}

// FailedVariants lists "name: CATEGORY" for the broken variants.
func (c *Case) FailedVariants() []string {
	var out []string
	for _, v := range c.Variants {
		if v.Broken() {
			out = append(out, fmt.Sprintf("%s: %s", v.Name, v.Category()))
		}
	}
	return out
}

// ErrorText is one line for the old dataset's error column.
func (c *Case) ErrorText() string {
	var parts []string
	for _, v := range c.Variants {
		if !v.Broken() {
			continue
		}
		s := fmt.Sprintf("%s: %s", v.Name, v.Category())
		if v.Failure != nil && v.Failure.RootCause != "" {
			s += " (" + v.Failure.RootCause + ")"
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, "; ")
}

func joinNonEmpty(sep string, parts ...string) string {
	var out []string
	for _, p := range parts {
		if p != "" {
			out = append(out, p)
		}
	}
	return strings.Join(out, sep)
}
