package batch

import (
	"fmt"
	"strings"
	"time"

	"github.com/commitbench/commitbench/internal/result"
)

// Line is a case's progress line: whether it succeeded, its run status
// and each variant's, with the failure category of those that failed. r
// is the case's result, nil when it wrote none.
func Line(o Outcome, r *result.Result) string {
	if o.Skipped != "" {
		return fmt.Sprintf("%s: skipped (%s)", o.ID, o.Skipped)
	}
	took := o.Duration.Round(time.Second)
	if r == nil {
		return fmt.Sprintf("%s: FAILED in %s, no result: %s", o.ID, took, firstLine(fmt.Sprint(o.Err)))
	}
	var vs []string
	for _, v := range r.Variants {
		s := v.Name + " " + v.Status
		if v.Failure != nil {
			s += " (" + string(v.Failure.Category) + ")"
		}
		vs = append(vs, s)
	}
	verdict := "ok"
	if o.Err != nil {
		verdict = "FAILED"
	}
	return fmt.Sprintf("%s: %s, %s: %s in %s", o.ID, verdict, r.Status, strings.Join(vs, ", "), took)
}

// Summary is the closing line and a markdown table of every case (for the
// job summary); results[i] belongs to outcomes[i] and may be nil.
func Summary(outcomes []Outcome, results []*result.Result, took time.Duration) (line, markdown string) {
	var failed, skipped int
	var md strings.Builder
	md.WriteString("### run-bench batch\n\n| case | outcome |\n|---|---|\n")
	for i, o := range outcomes {
		switch {
		case o.Skipped != "":
			skipped++
		case o.Err != nil:
			failed++
		}
		fmt.Fprintf(&md, "| %s | %s |\n", o.ID, strings.ReplaceAll(Line(o, results[i]), "|", "\\|"))
	}
	ran := len(outcomes) - skipped
	line = fmt.Sprintf("batch: %d cases run, %d succeeded, %d failed, %d skipped, in %s", ran, ran-failed, failed, skipped, took.Round(time.Second))
	return line, md.String()
}

func firstLine(s string) string {
	l, _, _ := strings.Cut(strings.TrimSpace(s), "\n")
	return l
}
