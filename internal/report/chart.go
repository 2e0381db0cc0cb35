package report

import (
	"bytes"
	"fmt"
	"math"
	"slices"
	"strings"
)

// MaxBars caps a chart: beyond about 40 bars the labels of a mermaid
// xychart overlap and nothing can be read. The largest |Δ| are kept.
const MaxBars = 40

// writeCharts writes one bar chart of Δ % per case for human vs baseline
// and one for agent vs human, each only when at least two cases have a
// number (one bar says nothing the table does not).
func writeCharts(w *bytes.Buffer, rows []row) {
	hb := make([]bar, 0, len(rows))
	ah := make([]bar, 0, len(rows))
	for _, r := range rows {
		if !math.IsNaN(r.chartHuman) {
			hb = append(hb, bar{r.id, r.chartHuman})
		}
		if !math.IsNaN(r.chartAgent) {
			ah = append(ah, bar{r.id, r.chartAgent})
		}
	}
	if len(hb) < 2 && len(ah) < 2 {
		return
	}
	w.WriteString("### Δ % per case\n\n")
	chart(w, "Human vs baseline: Δ % (+ = better)", hb)
	chart(w, "Agent vs human: Δ % (+ = better)", ah)
}

type bar struct {
	label string
	v     float64
}

func chart(w *bytes.Buffer, title string, bars []bar) {
	if len(bars) < 2 {
		return
	}
	note := ""
	if len(bars) > MaxBars {
		keep := slices.Clone(bars)
		slices.SortStableFunc(keep, func(a, b bar) int {
			switch x, y := math.Abs(a.v), math.Abs(b.v); {
			case x > y:
				return -1
			case x < y:
				return 1
			}
			return 0
		})
		keep = keep[:MaxBars]
		// Back to case order, so that the chart reads like the table.
		var kept []bar
		for _, b := range bars {
			for _, k := range keep {
				if k.label == b.label {
					kept = append(kept, b)
					break
				}
			}
		}
		note = fmt.Sprintf("The %d cases with the largest |Δ| of %d.\n\n", MaxBars, len(bars))
		bars = kept
	}
	lim := 10.0
	labels := make([]string, len(bars))
	vals := make([]string, len(bars))
	for i, b := range bars {
		lim = math.Max(lim, math.Abs(b.v))
		labels[i] = `"` + strings.NewReplacer(`"`, "", "\n", " ").Replace(b.label) + `"`
		vals[i] = fmt.Sprintf("%.1f", b.v)
	}
	lim = math.Ceil(lim*1.1/5) * 5
	fmt.Fprintf(w, "%s```mermaid\nxychart-beta\n    title \"%s\"\n    x-axis [%s]\n    y-axis \"Δ %%\" %.0f --> %.0f\n    bar [%s]\n```\n\n",
		note, title, strings.Join(labels, ", "), -lim, lim, strings.Join(vals, ", "))
}
