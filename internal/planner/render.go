package planner

import (
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/commitbench/commitbench/internal/mdtable"
	"github.com/commitbench/commitbench/internal/plan"
)

// MaxMatrix is GitHub's limit on the jobs one matrix may generate.
const MaxMatrix = 256

// MatrixEntry is one job of the bench matrix: small, because job outputs
// are limited to 1 MB and the full case is in plan.json.
type MatrixEntry struct {
	Case     string   `json:"case"`
	GPUType  string   `json:"gpu_type"`
	GPUs     int      `json:"gpus"`
	Tool     string   `json:"tool"`
	Variants []string `json:"variants"`
}

// VariantEntry is one job of the build matrix.
type VariantEntry struct {
	Case    string `json:"case"`
	Variant string `json:"variant"`
}

// Matrix is a GitHub matrix value.
type Matrix[T any] struct {
	Include []T `json:"include"`
}

// Matrices returns the bench matrix (one entry per runnable case) and the
// build matrix (one per runnable variant), each cut into chunks of at most
// MaxMatrix entries. An empty plan yields one empty chunk each, which a
// workflow can test with `fromJSON(...).include[0] != null`.
func Matrices(p *plan.Plan) (bench []Matrix[MatrixEntry], build []Matrix[VariantEntry]) {
	var cases []MatrixEntry
	var vars []VariantEntry
	for _, c := range p.Cases {
		if !c.Runnable {
			continue
		}
		e := MatrixEntry{Case: c.ID, GPUType: c.GPU.Type, GPUs: c.GPU.Count, Tool: c.Bench.Tool}
		for _, v := range c.Variants {
			if v.Runnable {
				e.Variants = append(e.Variants, v.Name)
				vars = append(vars, VariantEntry{Case: c.ID, Variant: v.Name})
			}
		}
		cases = append(cases, e)
	}
	return chunk(cases), chunk(vars)
}

func chunk[T any](all []T) []Matrix[T] {
	out := []Matrix[T]{{Include: []T{}}}
	for i, e := range all {
		if i > 0 && i%MaxMatrix == 0 {
			out = append(out, Matrix[T]{Include: []T{}})
		}
		out[len(out)-1].Include = append(out[len(out)-1].Include, e)
	}
	return out
}

// MustJSON marshals v compactly; v is always marshalable plan data.
func MustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// MaxSummaryRows caps the per-case table. GitHub drops a job summary over
// 1 MiB whole, and a row is about 200 bytes; plan.json always has every case.
const MaxSummaryRows = 2000

// Summary renders the plan as the job summary: the counts, the reasons
// cases cannot run with how often each occurs, and a row per case.
func Summary(p *plan.Plan, problems []Problem) (string, error) {
	header := []string{"case", "commit", "model", "tool", "mode", "GPUs", "TP", "variants", "runnable"}
	rows := make([][]string, 0, min(len(p.Cases), MaxSummaryRows))
	for _, c := range p.Cases[:min(len(p.Cases), MaxSummaryRows)] {
		gpus, tp := "", ""
		if c.GPU.Count > 0 {
			gpus = fmt.Sprintf("%d×%s", c.GPU.Count, c.GPU.Type)
			tp = strconv.Itoa(c.TP)
		}
		var vs []string
		for _, v := range c.Variants {
			name := v.Name
			if !v.Runnable && v.Reason != "" {
				name += " (no: " + v.Reason + ")"
			}
			vs = append(vs, name)
		}
		run := "yes"
		if !c.Runnable {
			run = "no: " + c.Reason
		}
		model := c.Model
		if c.ModelSubstitutedFrom != "" {
			model += " (was " + c.ModelSubstitutedFrom + ")"
		}
		rows = append(rows, []string{c.ID, short(c.Commit), model, c.Bench.Tool, c.Bench.Mode, gpus, tp,
			strings.Join(vs, ", "), run})
	}
	var ts mdtable.Tables
	var table strings.Builder
	if err := ts.Render(&table, "lllllrrll", header, rows); err != nil {
		return "", err
	}
	var sb strings.Builder
	fmt.Fprintf(&sb, "## Plan\n\n%d cases: %d runnable, %d not runnable; %d variant images to build.\n\n",
		p.Counts.Total, p.Counts.Runnable, p.Counts.NotRunnable, p.Counts.VariantImages)
	if reasons := reasonTable(p); reasons != "" {
		sb.WriteString(reasons + "\n")
	}
	sb.WriteString(table.String())
	if len(p.Cases) > MaxSummaryRows {
		fmt.Fprintf(&sb, "\n%d more cases are in plan.json (the summary shows the first %d).\n", len(p.Cases)-MaxSummaryRows, MaxSummaryRows)
	}
	if len(problems) > 0 {
		fmt.Fprintf(&sb, "\n<details><summary>%d problems in the cases file</summary>\n\n", len(problems))
		for i, pr := range problems {
			if i == MaxSummaryRows {
				fmt.Fprintf(&sb, "- … and %d more (see the step log)\n", len(problems)-i)
				break
			}
			fmt.Fprintf(&sb, "- %s\n", mdtable.Escape(pr.Error()))
		}
		sb.WriteString("\n</details>\n")
	}
	return sb.String(), nil
}

func short(commit string) string {
	if len(commit) > 12 {
		return commit[:12]
	}
	return commit
}

// reasonTable counts the cases that cannot run by reason, most frequent
// first, so a nightly over hundreds of cases shows what blocks them.
func reasonTable(p *plan.Plan) string {
	counts := map[string]int{}
	var order []string
	for _, c := range p.Cases {
		if c.Runnable {
			continue
		}
		if counts[c.Reason] == 0 {
			order = append(order, c.Reason)
		}
		counts[c.Reason]++
	}
	if len(order) == 0 {
		return ""
	}
	sort.SliceStable(order, func(i, j int) bool { return counts[order[i]] > counts[order[j]] })
	rows := make([][]string, 0, len(order))
	for _, r := range order {
		rows = append(rows, []string{strconv.Itoa(counts[r]), r})
	}
	var ts mdtable.Tables
	var t strings.Builder
	if err := ts.Render(&t, "rl", []string{"cases", "why they cannot run"}, rows); err != nil {
		return ""
	}
	return t.String()
}
