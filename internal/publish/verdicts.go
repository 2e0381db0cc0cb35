package publish

import (
	"encoding/json"
	"math"

	"github.com/commitbench/commitbench/internal/verdict"
)

// VerdictsLimit keeps the verdicts output far below GitHub's 1 MB of job
// outputs, which it shares with the other outputs.
const VerdictsLimit = 256 << 10

// maxRegressionIDs caps the regressions list of the output (the report
// and the dataset have them all).
const maxRegressionIDs = 1000

// caseVerdict is what the verdicts output keeps of one case.
type caseVerdict struct {
	ID              string   `json:"id"`
	Metric          string   `json:"metric,omitempty"`
	HumanVsBaseline string   `json:"human_vs_baseline"`
	HumanDelta      *float64 `json:"human_delta,omitempty"`
	AgentVsHuman    string   `json:"agent_vs_human"`
	AgentDelta      *float64 `json:"agent_delta,omitempty"`
	Successful      bool     `json:"successful"`
}

func newCaseVerdict(c *verdict.Case) caseVerdict {
	v := caseVerdict{ID: c.ID, Metric: c.Metric, HumanVsBaseline: string(c.Class(verdict.HumanVsBaseline)),
		AgentVsHuman: string(c.Class(verdict.AgentVsHuman)), Successful: c.Successful()}
	if h := c.Headline(verdict.HumanVsBaseline); h.Valid() {
		v.HumanDelta = f(round4(h.Delta))
	}
	if h := c.Headline(verdict.AgentVsHuman); h.Valid() {
		v.AgentDelta = f(round4(h.Delta))
	}
	return v
}

func round4(x float64) float64 { return math.Round(x*1e4) / 1e4 }

type meanJSON struct {
	Value *float64 `json:"value"`
	N     int      `json:"n"`
}

// verdictsJSON is the verdicts output: counts, means and per-case classes,
// the per-case list cut (and "truncated" set) if it would pass
// VerdictsLimit.
func verdictsJSON(a *verdict.Aggregate, cases []caseVerdict, out *Outcome) []byte {
	counts := map[string]map[verdict.Class]int{}
	means := map[string]meanJSON{}
	ms := []verdict.Mean{a.HumanSpeedup(), a.AgentSpeedup(), a.SpeedupRatio()}
	for i, p := range verdict.Pairs {
		key := p.To + "_vs_" + p.From
		counts[key] = a.Counts[p]
		means[key] = meanJSON{f(ms[i].Value), ms[i].N}
	}
	doc := struct {
		Cases       int                              `json:"cases"`
		Successful  int                              `json:"successful"`
		WithErrors  int                              `json:"with_errors"`
		Unreadable  int                              `json:"unreadable"`
		Counts      map[string]map[verdict.Class]int `json:"counts"`
		Harmonic    map[string]meanJSON              `json:"harmonic_mean_speedup"`
		GSO         map[string]int                   `json:"gso"`
		Regressions []string                         `json:"regressions"`
		Conclusion  string                           `json:"conclusion"`
		PerCase     []caseVerdict                    `json:"per_case"`
		Truncated   bool                             `json:"truncated"`
	}{a.Total, a.Successful, a.Failed, out.Skipped, counts, means, map[string]int{"pass": a.GSOPass, "of": a.GSOTotal},
		a.Regressions, out.Conclusion, cases, false}
	if doc.Regressions == nil {
		doc.Regressions = []string{}
	}
	if len(doc.Regressions) > maxRegressionIDs {
		doc.Regressions, doc.Truncated = doc.Regressions[:maxRegressionIDs], true
	}
	data, _ := json.Marshal(doc)
	if len(data) <= VerdictsLimit {
		return data
	}
	// Halve the list until it fits: a handful of marshals even for
	// tens of thousands of cases.
	doc.Truncated = true
	n := len(cases)
	for len(data) > VerdictsLimit && n > 0 {
		n /= 2
		doc.PerCase = cases[:n]
		data, _ = json.Marshal(doc)
	}
	return data
}
