package report

import (
	"bytes"
	"fmt"
	"html"
	"math"
	"strings"

	"github.com/commitbench/commitbench/internal/mdtable"
	"github.com/commitbench/commitbench/internal/stats"
	"github.com/commitbench/commitbench/internal/verdict"
)

// Evidence beyond these limits stays in result.json and the logs.
const (
	maxEvidenceLines = 8
	maxEvidenceBytes = 800
	maxValuesShown   = 10
)

func newRow(c *verdict.Case) row {
	hb, ah := c.Headline(verdict.HumanVsBaseline), c.Headline(verdict.AgentVsHuman)
	r := row{
		id: c.ID, model: c.Model, metric: "—",
		base: medianCell(c.Variant("baseline"), c.Key, c.Metric), human: medianCell(c.Variant("human"), c.Key, c.Metric),
		agent:  medianCell(c.Variant("agent"), c.Key, c.Metric),
		dHuman: delta(hb), dAgentHuman: delta(ah),
		humanClass: classCell(c.Class(verdict.HumanVsBaseline), hb), agentClass: classCell(c.Class(verdict.AgentVsHuman), ah),
		flags: flagCell(c.Flags), chartHuman: math.NaN(), chartAgent: math.NaN(), priority: digestPriority(c),
	}
	if c.Metric != "" {
		r.metric = metricLabel(c.Key, c.Metric)
	}
	if hb.Valid() {
		r.chartHuman = 100 * hb.Delta
	}
	if ah.Valid() {
		r.chartAgent = 100 * ah.Delta
	}
	return r
}

// flagCell names each kind of flag once; the details have the text.
func flagCell(flags []verdict.Flag) string {
	var seen []string
	for _, f := range flags {
		if !contains(seen, f.Kind) {
			seen = append(seen, f.Kind)
		}
	}
	if len(seen) == 0 {
		return ""
	}
	return "⚠ " + strings.Join(seen, ", ")
}

func contains(s []string, x string) bool {
	for _, y := range s {
		if y == x {
			return true
		}
	}
	return false
}

// writeDetails writes one case's <details> block.
func writeDetails(w *bytes.Buffer, c *verdict.Case) {
	fmt.Fprintf(w, "<details>\n<summary><code>%s</code> · %s · human vs baseline: %s · agent vs human: %s</summary>\n\n",
		html.EscapeString(c.ID), html.EscapeString(orDash(c.Model)), c.Class(verdict.HumanVsBaseline), c.Class(verdict.AgentVsHuman))
	var facts []string
	if c.Subject != "" {
		facts = append(facts, inline(c.Subject))
	}
	if c.Commit != "" {
		commit := "`" + short(c.Commit) + "`"
		if c.Repo != "" {
			commit = fmt.Sprintf("[`%s`](https://github.com/%s/commit/%s)", short(c.Commit), c.Repo, c.Commit)
		}
		facts = append(facts, fmt.Sprintf("commit %s on parent `%s`", commit, short(c.Parent)))
	}
	facts = append(facts, fmt.Sprintf("%s (%s)", orDash(c.Tool), orDash(c.Mode)))
	if c.GPU != "" {
		facts = append(facts, fmt.Sprintf("%s, TP %d", c.GPU, c.TP))
	}
	if a := c.Variant("agent"); a.Agent != "" {
		facts = append(facts, "agent: "+inline(a.Agent))
	}
	fmt.Fprintf(w, "%s\n\n", strings.Join(facts, " · "))
	if c.PerfCommand != "" {
		fmt.Fprintf(w, "%s\n\n", code(c.PerfCommand))
	}
	variantTable(w, c)
	comparisonTable(w, c)
	if pass, ok := c.GSO(); ok {
		ab, ah := c.Headline(verdict.AgentVsBaseline), c.Headline(verdict.AgentVsHuman)
		word := "fails"
		if pass {
			word = "passes"
		}
		fmt.Fprintf(w, "GSO rule %s: agent %.2f× over baseline (needs ≥ %.1f×), %.2f× of human (needs ≥ %.2f×).\n\n",
			word, ab.Speedup, verdict.GSOSpeedup, ah.Speedup, verdict.GSOOfHuman)
	}
	if len(c.Flags) > 0 {
		w.WriteString("**Flags**\n\n")
		for _, f := range c.Flags {
			fmt.Fprintf(w, "- %s\n", inline(f.Text))
		}
		w.WriteString("\n")
	}
	failures(w, c)
	w.WriteString("</details>\n\n")
}

// noCI is the interval cell of a median with too few values for one.
var noCI = fmt.Sprintf("none (n<%d)", stats.MinSamplesMedianCI(verdict.Confidence))

func variantTable(w *bytes.Buffer, c *verdict.Case) {
	var rows [][]string
	for _, v := range c.Variants {
		status := v.Status
		if v.Broken() {
			status += ": " + string(v.Category())
		}
		if v.Reason != "" {
			status += " (" + v.Reason + ")"
		}
		if len(v.Stats) == 0 {
			rows = append(rows, []string{v.Name, status, fmt.Sprint(v.N), "", "", "", ""})
			continue
		}
		for i, s := range v.Stats {
			name, st, n := v.Name, status, fmt.Sprint(v.N)
			if i > 0 {
				name, st, n = "", "", ""
			}
			ci := noCI
			if s.CI != nil {
				ci = fmt.Sprintf("[%s, %s]", num(s.CI[0]), num(s.CI[1]))
			}
			rows = append(rows, []string{name, st, n, metricLabel(s.Key, s.Metric), num(s.Median), ci, values(s.Values)})
		}
	}
	mdtable.Fast(w, "llrlrrl", []string{"variant", "status", "n", "metric", "median", "95 % CI of median", "values in run order"}, rows)
	w.WriteString("\n")
}

func values(xs []float64) string {
	var parts []string
	for i, x := range xs {
		if i == maxValuesShown {
			parts = append(parts, fmt.Sprintf("… (%d more)", len(xs)-i))
			break
		}
		parts = append(parts, num(x))
	}
	return strings.Join(parts, " · ")
}

func comparisonTable(w *bytes.Buffer, c *verdict.Case) {
	if len(c.Comparisons) == 0 {
		w.WriteString("No primary metric was measured, so nothing was compared.\n\n")
		return
	}
	var rows [][]string
	for i := range c.Comparisons {
		x := &c.Comparisons[i]
		p := verdict.Pair{From: x.From, To: x.To}
		ratio, ci, pv := "—", "—", "—"
		if x.Valid() {
			ratio = fmt.Sprintf("%.3f", x.Ratio)
			if x.HasInterval {
				ci = fmt.Sprintf("[%s, %s]", signed(100*x.DeltaLo, 1), signed(100*x.DeltaHi, 1))
			}
			how := "normal approx."
			if x.Exact {
				how = "exact"
			}
			pv = fmt.Sprintf("%.3g (%s)", x.P, how)
		}
		d := "—"
		if x.Valid() {
			d = pct(x.Delta)
		}
		rows = append(rows, []string{p.String(), metricLabel(x.Key, x.Metric), ratio, d, ci, pv, string(x.Class), x.Note})
	}
	mdtable.Fast(w, "llrrrrll", []string{"comparison", "metric", "ratio of medians", "Δ (+ = better)", "95 % CI of Δ", "p (Mann–Whitney)", "verdict", "note"}, rows)
	w.WriteString("\n")
}

func failures(w *bytes.Buffer, c *verdict.Case) {
	first := true
	for _, v := range c.Variants {
		if !v.Broken() {
			continue
		}
		if first {
			w.WriteString("**Failures**\n\n")
			first = false
		}
		fmt.Fprintf(w, "- **%s**: `%s`", v.Name, v.Category())
		if f := v.Failure; f != nil {
			if f.RootCause != "" {
				fmt.Fprintf(w, ": %s", inline(f.RootCause))
			}
			if f.Hint != "" {
				fmt.Fprintf(w, ". Fix: %s", inline(f.Hint))
			}
			if f.Retriable {
				w.WriteString(" (retriable)")
			}
		} else {
			w.WriteString(": still running when the result was written (killed or cancelled)")
		}
		w.WriteString("\n")
		if f := v.Failure; f != nil && f.Evidence != "" {
			w.WriteString("\n" + fence(trimEvidence(f.Evidence)) + "\n")
		}
	}
	if !first {
		w.WriteString("\n")
	}
}

func trimEvidence(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > maxEvidenceLines {
		lines = append(lines[:maxEvidenceLines], "…")
	}
	s = strings.Join(lines, "\n")
	if len(s) > maxEvidenceBytes {
		s = strings.ToValidUTF8(s[:maxEvidenceBytes], "") + "…"
	}
	return s
}

// fence puts s in a code block whose fence is longer than any run of
// backticks inside s, so evidence can never close it early.
func fence(s string) string {
	longest, run := 0, 0
	for _, r := range s {
		if r == '`' {
			run++
			longest = max(longest, run)
		} else {
			run = 0
		}
	}
	f := strings.Repeat("`", max(3, longest+1))
	return f + "text\n" + s + "\n" + f + "\n"
}

// code is inline code that survives backticks in s.
func code(s string) string {
	s = strings.ReplaceAll(s, "\n", " ")
	if strings.Contains(s, "`") {
		return "``` " + s + " ```"
	}
	return "`" + s + "`"
}

// inline makes free text (commit subjects, root causes) safe on one
// Markdown line: no line breaks, and no '<', so that a subject holding
// "</details>" cannot close our block. Only '<' is escaped: other entities
// would show literally inside the code spans hints use.
func inline(s string) string {
	return inlineEscaper.Replace(strings.TrimSpace(s))
}

var inlineEscaper = strings.NewReplacer("\r\n", " ", "\n", " ", "\r", " ", "<", "&lt;")

func orDash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}
