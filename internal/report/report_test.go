package report

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/commitbench/commitbench/internal/failure"
	"github.com/commitbench/commitbench/internal/result"
	"github.com/commitbench/commitbench/internal/testenv"
	"github.com/commitbench/commitbench/internal/verdict"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	testenv.Golden(t, filepath.Join("testdata", name), got, *update)
}

// noDescribe pins the error table to the fixtures' own root causes and
// hints, so these goldens do not move when failure.Describe's wording does.
func noDescribe(failure.Category) (string, string) { return "", "" }

// fixtureBuilder feeds every testdata/results/*/result.json through a
// Builder, in path order as publish does.
func fixtureBuilder(t testing.TB) *Builder {
	t.Helper()
	paths, err := filepath.Glob("testdata/results/*/result.json")
	if err != nil || len(paths) == 0 {
		t.Fatalf("fixtures: %v (%d files)", err, len(paths))
	}
	agg := verdict.NewAggregate()
	agg.Describe = noDescribe
	b, err := NewBuilder(Meta{RunID: "19790000001", RunURL: "https://github.com/commitbench/commitbench/actions/runs/19790000001",
		FullReport: "the `commitbench-report` artifact (report.md)"}, agg, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	for _, p := range paths {
		r, err := result.Read(p)
		if err != nil {
			t.Fatal(err)
		}
		if err := b.Add(verdict.Summarize(r, verdict.DefaultPrimary())); err != nil {
			t.Fatal(err)
		}
	}
	b.Skip("results-b/sglang_999_deadbeef/result.json", errors.New("variants[0].status: is \"ok\", want success, failed, not_run or running"))
	return b
}

func TestGolden(t *testing.T) {
	b := fixtureBuilder(t)
	for _, tc := range []struct {
		name   string
		render func(*bytes.Buffer) error
	}{
		{"report.golden", func(w *bytes.Buffer) error { return b.Full(w) }},
		{"summary.golden", func(w *bytes.Buffer) error { return b.Summary(w) }},
		{"comment.golden", func(w *bytes.Buffer) error { return b.Comment(w) }},
	} {
		var buf bytes.Buffer
		if err := tc.render(&buf); err != nil {
			t.Fatal(err)
		}
		golden(t, tc.name, buf.Bytes())
	}
}

// What the golden must show, checked by name so that an -update cannot
// quietly bless a report that lost them.
func TestFixtureCoverage(t *testing.T) {
	b := fixtureBuilder(t)
	var buf bytes.Buffer
	if err := b.Full(&buf); err != nil {
		t.Fatal(err)
	}
	full := buf.String()
	// Every category the classifier knows: a new one needs a fixture here.
	for _, c := range failure.Categories() {
		if !strings.Contains(full, "| `"+string(c)+"` ") {
			t.Errorf("error table has no row for %s", c)
		}
	}
	for _, want := range []string{
		"Beats", "Similar", "Worse", "Inconclusive (~", "Inconclusive (need ≥4 reps)", "agent not run: no agent patch for this case",
		"⚠ throttled", "⚠ drift", "```mermaid\nxychart-beta", "<details>", "`nvidia-smi \\| grep MiB`",
		"results-b/sglang_999_deadbeef/result.json", "(n=5)", "GSO rule passes", "GSO rule fails",
		"· agent: claude-code, claude-sonnet-4-20250514",
	} {
		if !strings.Contains(full, want) {
			t.Errorf("full report lacks %q", want)
		}
	}
	a := b.Agg
	if a.Total != 32 || a.Successful != 7 || a.Failed != 25 {
		t.Errorf("status counts total=%d successful=%d failed=%d, want 32/7/25", a.Total, a.Successful, a.Failed)
	}
	if len(a.Regressions) != 1 || a.Regressions[0] != "sglang_004_2ed68d7a" {
		t.Errorf("regressions = %v, want the one Worse human commit", a.Regressions)
	}
}

// Every table row must have as many cells as its header: an unescaped '|'
// in a subject or evidence would add one.
func TestTablesWellFormed(t *testing.T) {
	b := fixtureBuilder(t)
	var buf bytes.Buffer
	if err := b.Full(&buf); err != nil {
		t.Fatal(err)
	}
	checkTables(t, buf.String())
}

func checkTables(t *testing.T, md string) {
	t.Helper()
	cellSep := regexp.MustCompile(`(^|[^\\])\|`)
	cols := -1
	for i, line := range strings.Split(md, "\n") {
		if !strings.HasPrefix(line, "|") {
			cols = -1
			continue
		}
		n := len(cellSep.FindAllString(line, -1))
		if cols == -1 {
			cols = n
		} else if n != cols {
			t.Errorf("line %d has %d separators, its table %d: %s", i+1, n, cols, line)
		}
	}
}

// 520 cases (over 500, and over one chunk of the cases table) must fit
// both GitHub limits, truncating with a note.
func TestSizeLimits(t *testing.T) {
	paths, _ := filepath.Glob("testdata/results/*/result.json")
	var results []*result.Result
	for _, p := range paths {
		r, err := result.Read(p)
		if err != nil {
			t.Fatal(err)
		}
		results = append(results, r)
	}
	b, err := NewBuilder(Meta{RunID: "1", RunURL: "https://example.invalid/run/1", FullReport: "report.md"}, verdict.NewAggregate(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	const n = 520
	for i := range n {
		r := results[i%len(results)]
		c := verdict.Summarize(r, verdict.DefaultPrimary())
		c.ID = fmt.Sprintf("%s-%03d", c.ID, i)
		if err := b.Add(c); err != nil {
			t.Fatal(err)
		}
	}
	var full, sum, com bytes.Buffer
	if err := b.Full(&full); err != nil {
		t.Fatal(err)
	}
	if err := b.Summary(&sum); err != nil {
		t.Fatal(err)
	}
	if err := b.Comment(&com); err != nil {
		t.Fatal(err)
	}
	checkTables(t, full.String())
	t.Logf("%d cases: full %d B, summary %d B, comment %d B (%d characters)", n, full.Len(), sum.Len(), com.Len(), utf8.RuneCount(com.Bytes()))
	if sum.Len() > SummaryLimit {
		t.Errorf("summary is %d bytes, over %d", sum.Len(), SummaryLimit)
	}
	if utf8.RuneCount(com.Bytes()) > CommentLimit {
		t.Errorf("comment is %d characters, over %d", utf8.RuneCount(com.Bytes()), CommentLimit)
	}
	if full.Len() > SummaryLimit && !strings.Contains(sum.String(), "Truncated to stay under GitHub's 1 MiB job-summary limit") {
		t.Error("summary was cut without a note")
	}
	if strings.Count(full.String(), "| case ") != 1 {
		t.Error("the chunked cases table repeats its header")
	}
	if !strings.HasPrefix(com.String(), Marker+"\n") || !strings.Contains(com.String(), "https://example.invalid/run/1") {
		t.Error("comment lacks the marker or the link to the run summary")
	}
	if !strings.Contains(com.String(), "Truncated to stay under GitHub's 65,536-character comment limit") {
		t.Error("the comment was not truncated with a note")
	}
}
