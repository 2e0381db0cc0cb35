package report

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/commitbench/commitbench/internal/verdict"
)

// num formats a metric value for people: thousands separators, one
// decimal from 100 up, two below, three significant digits below 1.
func num(x float64) string {
	switch {
	case math.IsNaN(x) || math.IsInf(x, 0):
		return "—"
	case math.Abs(x) >= 100:
		return group(strconv.FormatFloat(x, 'f', 1, 64))
	case math.Abs(x) >= 1:
		return strconv.FormatFloat(x, 'f', 2, 64)
	case x == 0:
		return "0"
	}
	return strconv.FormatFloat(x, 'g', 3, 64)
}

func group(s string) string {
	sign := ""
	if strings.HasPrefix(s, "-") {
		sign, s = "-", s[1:]
	}
	intPart, frac, _ := strings.Cut(s, ".")
	var b strings.Builder
	for i, r := range intPart {
		if i > 0 && (len(intPart)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	if frac != "" {
		b.WriteString("." + frac)
	}
	return sign + b.String()
}

// pct formats a fraction as a signed percentage ("+8.1 %"). The minus is
// U+2212 so that it never reads as a Markdown list marker.
func pct(x float64) string {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return "—"
	}
	return signed(100*x, 1) + " %"
}

func signed(x float64, prec int) string {
	s := strconv.FormatFloat(math.Abs(x), 'f', prec, 64)
	if s == strconv.FormatFloat(0, 'f', prec, 64) {
		return "±" + s
	}
	if x < 0 {
		return "−" + s
	}
	return "+" + s
}

// delta is a comparison's Δ cell: point and interval, or why there is none.
func delta(c *verdict.Comparison) string {
	switch {
	case c == nil || !c.Valid():
		return "—"
	case !c.HasInterval:
		return pct(c.Delta) + " (no CI)"
	}
	return fmt.Sprintf("%s [%s, %s]", pct(c.Delta), signed(100*c.DeltaLo, 1), signed(100*c.DeltaHi, 1))
}

// classCell is a verdict cell; an Inconclusive one says what would settle it.
func classCell(cl verdict.Class, c *verdict.Comparison) string {
	if cl != verdict.Inconclusive || c == nil {
		return string(cl)
	}
	switch {
	case c.NeedReps > 0 && !c.HasInterval:
		return fmt.Sprintf("Inconclusive (need ≥%d reps)", c.NeedReps)
	case c.NeedReps > 0:
		return fmt.Sprintf("Inconclusive (~%d reps)", c.NeedReps)
	}
	return "Inconclusive"
}

// medianCell is "median ±x %" (the wider side of the median's interval),
// or "median (n=5)" when the repetitions cannot give a 95 % interval.
func medianCell(v *verdict.VariantSummary, key, metric string) string {
	switch {
	case v.Status == verdict.StatusMissing || v.Status == "not_run":
		return "not run"
	case v.Broken():
		return "✗ " + string(v.Category())
	}
	s := v.Stat(key, metric)
	if s == nil {
		return "no data"
	}
	if s.CI == nil {
		return fmt.Sprintf("%s (n=%d)", num(s.Median), len(s.Values))
	}
	half := math.Max(s.CI[1]-s.Median, s.Median-s.CI[0]) / s.Median
	return fmt.Sprintf("%s ±%.1f %%", num(s.Median), 100*half)
}

// metricLabel names a metric with its better direction and block key.
func metricLabel(key, metric string) string {
	arrow := "↑"
	if verdict.LowerIsBetter(metric) {
		arrow = "↓"
	}
	if key != "" {
		return fmt.Sprintf("%s %s (%s)", metric, arrow, key)
	}
	return metric + " " + arrow
}

func short(sha string) string {
	if len(sha) > 7 {
		return sha[:7]
	}
	return sha
}
