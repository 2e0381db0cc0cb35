package report

import (
	"bytes"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"

	"github.com/commitbench/commitbench/internal/mdtable"
	"github.com/commitbench/commitbench/internal/verdict"
)

// Marker is the hidden first line of the sticky PR comment, how a later
// publish finds the comment to edit.
const Marker = "<!-- commitbench -->"

// Limits shapes one rendering.
type Limits struct {
	// MaxBytes caps the output (0: no cap). Sections are cut whole, at
	// row or case boundaries, and a note says what was left out.
	MaxBytes int
	// Digest: the PR comment. Rows are ordered by what needs attention
	// first, and details are limited to MaxDetails cases.
	Digest     bool
	MaxDetails int
	// MoreURL is where the rest can be read (the run's summary).
	MoreURL string
	// Marker starts the output with the sticky comment's marker.
	Marker bool
}

// Full renders the whole report.
func (b *Builder) Full(w io.Writer) error { return b.Render(w, Limits{}) }

// Summary renders the job summary: the whole report if it fits in 1 MiB.
func (b *Builder) Summary(w io.Writer) error {
	return b.Render(w, Limits{MaxBytes: SummaryLimit})
}

// Comment renders the PR comment digest, marker first.
func (b *Builder) Comment(w io.Writer) error {
	return b.Render(w, Limits{MaxBytes: CommentLimit, Digest: true, MaxDetails: 3, MoreURL: b.meta.RunURL, Marker: true})
}

// CheckSummary renders the check run's summary: the digest, within the
// check API's 65,535 characters.
func (b *Builder) CheckSummary(w io.Writer) error {
	return b.Render(w, Limits{MaxBytes: CommentLimit - 1, Digest: true, MaxDetails: 3, MoreURL: b.meta.RunURL})
}

// Title is the check run's one-line verdict: the case's own for a single
// case, the human-vs-baseline counts otherwise.
func (b *Builder) Title() string {
	a := b.Agg
	if len(b.rows) == 1 {
		r := b.rows[0]
		return fmt.Sprintf("%s: human vs baseline %s, Δ %s", r.id, r.humanClass, r.dHuman)
	}
	var parts []string
	for _, c := range verdict.Classes {
		if n := a.Counts[verdict.HumanVsBaseline][c]; n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, c))
		}
	}
	return fmt.Sprintf("%d cases, human vs baseline: %s", a.Total, strings.Join(parts, ", "))
}

// SetRun fills in the run id and URL once the results have told them.
func (b *Builder) SetRun(id, url string) { b.meta.RunID, b.meta.RunURL = id, url }

// noteReserve is kept free under MaxBytes for the truncation note.
const noteReserve = 1024

// digestRows caps the rows a digest table is rendered with: a 64 KiB
// comment never holds more, and rendering (and padding to the widest of)
// thousands of rows for it would be waste.
const digestRows = 1000

// counter writes through to w and counts what it wrote.
type counter struct {
	w   io.Writer
	n   int
	err error
}

func (c *counter) Write(p []byte) (int, error) {
	if c.err != nil {
		return 0, c.err
	}
	n, err := c.w.Write(p)
	c.n += n
	c.err = err
	return n, err
}

// Render writes the report within lim, streaming: the per-case details
// go from the spool straight to w, never through memory as a whole.
func (b *Builder) Render(w io.Writer, lim Limits) error {
	out := &counter{w: w}
	var head bytes.Buffer
	if lim.Marker {
		head.WriteString(Marker + "\n")
	}
	b.writeHead(&head)
	b.writeErrors(&head, lim.Digest)
	order := make([]int, len(b.rows))
	for i := range order {
		order[i] = i
	}
	if lim.Digest {
		slices.SortStableFunc(order, func(x, y int) int { return b.rows[x].priority - b.rows[y].priority })
		order = order[:min(len(order), digestRows)]
	}
	tbl := b.casesTable(order, lim.Digest)
	var chart bytes.Buffer
	writeCharts(&chart, b.rows)
	var tail bytes.Buffer
	b.writeSkipped(&tail)

	budget := math.MaxInt
	if lim.MaxBytes > 0 {
		budget = lim.MaxBytes - noteReserve
	}
	var notes []string
	out.Write(head.Bytes())
	// Skipped files come early when space is short: a reader must see
	// that something was not published.
	if tail.Len() > 0 && out.n+tail.Len() <= budget {
		out.Write(tail.Bytes())
		tail.Reset()
	}
	if shown := fitLines(out, tbl, budget, 4); shown < len(b.rows) { // title, blank, header, rule
		notes = append(notes, fmt.Sprintf("%d of %d cases are not in the table above", len(b.rows)-shown, len(b.rows)))
	}
	if chart.Len() > 0 && out.n+chart.Len() <= budget {
		out.Write(chart.Bytes())
	}
	want := order
	if lim.Digest {
		want = order[:min(len(order), lim.MaxDetails)]
	}
	details := 0
	if len(want) > 0 {
		const title = "### Details\n\n"
		room := budget - out.n - len(title)
		for details < len(want) && b.detailSize(want[details]) <= room {
			room -= b.detailSize(want[details])
			details++
		}
		if details > 0 {
			io.WriteString(out, title)
			if err := b.copyDetails(out, want[:details]); err != nil {
				return err
			}
		}
	}
	if details < len(want) {
		notes = append(notes, fmt.Sprintf("details of %d of %d cases are left out", len(want)-details, len(want)))
	}
	if tail.Len() > 0 {
		notes = append(notes, "the list of unreadable result files is left out")
	}
	if len(notes) > 0 || lim.Digest {
		io.WriteString(out, b.note(notes, lim))
	}
	return out.err
}

// casesTable renders (once per ordering, then from cache) the cases table.
func (b *Builder) casesTable(order []int, digest bool) []byte {
	if t, ok := b.caseTables[digest]; ok {
		return t
	}
	var buf bytes.Buffer
	b.writeCases(&buf, order)
	if b.caseTables == nil {
		b.caseTables = map[bool][]byte{}
	}
	b.caseTables[digest] = buf.Bytes()
	return buf.Bytes()
}

// fitLines writes the lines of block to out while they fit in budget,
// always keeping the first keep lines together (a table without its
// header is not a table). It returns how many lines after those it wrote.
func fitLines(out *counter, block []byte, budget, keep int) int {
	lines := bytes.SplitAfter(block, []byte("\n"))
	if len(lines) > 0 && len(lines[len(lines)-1]) == 0 {
		lines = lines[:len(lines)-1]
	}
	// The block ends with a blank line after the table.
	body := lines
	trailer := []byte(nil)
	if n := len(body); n > 0 && string(body[n-1]) == "\n" {
		trailer, body = body[n-1], body[:n-1]
	}
	if len(body) <= keep {
		if out.n+len(block) <= budget {
			out.Write(block)
		}
		return 0
	}
	headLen := 0
	for _, l := range body[:keep] {
		headLen += len(l)
	}
	if out.n+headLen+len(trailer) > budget {
		return 0
	}
	for _, l := range body[:keep] {
		out.Write(l)
	}
	n := 0
	for _, l := range body[keep:] {
		if out.n+len(l)+len(trailer) > budget {
			break
		}
		out.Write(l)
		n++
	}
	out.Write(trailer)
	return n
}

func (b *Builder) note(notes []string, lim Limits) string {
	var s strings.Builder
	if len(notes) > 0 {
		fmt.Fprintf(&s, "> [!NOTE]\n> Truncated to stay under GitHub's %s limit: %s.", limitName(lim), strings.Join(notes, "; "))
		if b.meta.FullReport != "" {
			fmt.Fprintf(&s, " The full report is in %s.", inline(b.meta.FullReport))
		}
		s.WriteString("\n\n")
	}
	if lim.Digest && lim.MoreURL != "" {
		fmt.Fprintf(&s, "Full report with every case's details: [run summary](%s).\n", lim.MoreURL)
	}
	return s.String()
}

func limitName(lim Limits) string {
	if lim.Digest {
		return "65,536-character comment"
	}
	return "1 MiB job-summary"
}

func (b *Builder) writeHead(w *bytes.Buffer) {
	a := b.Agg
	run := b.meta.RunID
	if b.meta.RunURL != "" {
		run = fmt.Sprintf("[%s](%s)", orDash(b.meta.RunID), b.meta.RunURL)
	}
	fmt.Fprintf(w, "## commitbench: %d cases · run %s\n\n", a.Total, orDash(run))
	fmt.Fprintf(w, "Classes are decided on the 95 %% interval of each headline improvement (+ = better): Beats > +%.0f %%, Similar within ±%.0f %%, Worse < −%.0f %%, Inconclusive when the interval straddles a boundary.\n\n",
		100*verdict.Margin, 100*verdict.Margin, 100*verdict.Margin)
	w.WriteString("### Status\n\n")
	b.tbl.Render(w, "rrrrrrr", []string{"cases", "successful", "with errors", "with baseline metrics", "with human metrics", "with agent metrics", "unreadable files"},
		[][]string{{fmt.Sprint(a.Total), fmt.Sprint(a.Successful), fmt.Sprint(a.Failed), fmt.Sprint(a.WithMetrics["baseline"]),
			fmt.Sprint(a.WithMetrics["human"]), fmt.Sprint(a.WithMetrics["agent"]), fmt.Sprint(len(b.skipped))}})
	w.WriteString("\n### Verdicts\n\n")
	header := []string{"comparison"}
	for _, c := range verdict.Classes {
		header = append(header, string(c))
	}
	header = append(header, "harmonic-mean speedup")
	means := []verdict.Mean{a.HumanSpeedup(), a.AgentSpeedup(), a.SpeedupRatio()}
	var rows [][]string
	for i, p := range verdict.Pairs {
		r := []string{p.String()}
		for _, c := range verdict.Classes {
			r = append(r, fmt.Sprint(a.Counts[p][c]))
		}
		r = append(r, meanCell(means[i]))
		rows = append(rows, r)
	}
	b.tbl.Render(w, "lrrrrrrr", header, rows)
	fmt.Fprintf(w, "\nSpeedups are on each case's headline metric; a failed agent counts as 1.0× over baseline (as SWE-fficiency scores it). GSO rule (agent ≥ %.1f× over baseline and ≥ %.2f× of human): %d of %d cases with a measured agent pass.\n\n",
		verdict.GSOSpeedup, verdict.GSOOfHuman, a.GSOPass, a.GSOTotal)
}

func meanCell(m verdict.Mean) string {
	if m.N == 0 {
		return "—"
	}
	return fmt.Sprintf("%.3f× (n=%d)", m.Value, m.N)
}

func (b *Builder) writeErrors(w *bytes.Buffer, digest bool) {
	groups := b.Agg.ErrorTable()
	if len(groups) == 0 {
		return
	}
	maxCases := verdict.MaxErrorCases
	if digest {
		maxCases = 5
	}
	var rows [][]string
	for _, g := range groups {
		cases := g.Cases
		more := g.More
		if len(cases) > maxCases {
			more += len(cases) - maxCases
			cases = cases[:maxCases]
		}
		list := strings.Join(cases, ", ")
		if more > 0 {
			list += fmt.Sprintf(", … %d more", more)
		}
		rows = append(rows, []string{"`" + string(g.Category) + "`", fmt.Sprint(g.Count), orDash(g.RootCause), orDash(g.Hint), list})
	}
	w.WriteString("### Errors\n\n")
	b.tbl.Render(w, "lrlll", []string{"category", "cases", "root cause", "fix", "cases (variants)"}, rows)
	w.WriteString("\n")
}

// writeCases renders the cases table with mdtable.Fast, tablewriter's
// byte-identical twin: tablewriter keeps per-cell state for every row until
// it renders, which for a 10,000-case nightly was most of publish's memory
// and a fifth of its time.
func (b *Builder) writeCases(w *bytes.Buffer, order []int) {
	if len(order) == 0 {
		return
	}
	w.WriteString("### Cases\n\n")
	header := []string{"case", "model", "headline metric", "baseline", "human", "agent",
		"Δ human vs baseline", "Δ agent vs human", "human vs baseline", "agent vs human", "flags"}
	rows := make([][]string, 0, len(order))
	for _, i := range order {
		r := &b.rows[i]
		rows = append(rows, []string{"`" + r.id + "`", orDash(r.model), r.metric, r.base, r.human, r.agent,
			r.dHuman, r.dAgentHuman, r.humanClass, r.agentClass, r.flags})
	}
	mdtable.Fast(w, "lllrrrrrlll", header, rows)
	w.WriteString("\n")
}

func (b *Builder) writeSkipped(w *bytes.Buffer) {
	if len(b.skipped) == 0 {
		return
	}
	w.WriteString("### Unreadable result files\n\nThese were skipped; everything else was published.\n\n")
	var rows [][]string
	for _, s := range b.skipped {
		rows = append(rows, []string{"`" + s.Path + "`", s.Problem})
	}
	b.tbl.Render(w, "ll", []string{"file", "problem"}, rows)
	w.WriteString("\n")
}
