// Package report renders publish's Markdown: the full report, the job
// summary (≤ 1 MiB) and the PR-comment digest (≤ 65,536 characters), all
// from one Builder that cases stream through. Per-case details are spooled
// to a temporary file as they arrive, so a nightly of thousands of cases
// keeps only one compact row per case in memory.
package report

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"

	"github.com/commitbench/commitbench/internal/mdtable"
	"github.com/commitbench/commitbench/internal/verdict"
)

// Limits of the places the report goes (docs/publish.md).
const (
	// SummaryLimit: GitHub drops a step summary above 1024 KiB whole.
	SummaryLimit = 1 << 20
	// CommentLimit: an issue or PR comment body holds 65,536 characters.
	// We count bytes, which is never fewer than characters.
	CommentLimit = 65536
)

// Meta describes the publish run.
type Meta struct {
	RunID, RunURL, ToolkitVersion string
	// FullReport names where the untruncated report is (an artifact name
	// or path), for the truncation note.
	FullReport string
}

// Skipped is a result file that could not be read.
type Skipped struct{ Path, Problem string }

// row is what the summary table, chart and digest need of one case.
type row struct {
	id, model, metric      string
	base, human, agent     string
	dHuman, dAgentHuman    string
	humanClass, agentClass string
	flags                  string
	chartHuman, chartAgent float64 // NaN when not measured
	priority               int
}

// Builder collects cases. It is not safe for concurrent use: publish feeds
// it in a fixed order so that the report is deterministic.
type Builder struct {
	meta    Meta
	Agg     *verdict.Aggregate
	rows    []row
	skipped []Skipped
	spool   *os.File
	// spoolW buffers the spool: a write per case was 10,000 system
	// calls on the publish's one serial goroutine.
	spoolW *bufio.Writer
	// ends[i] is the spool offset where case i's details end.
	ends []int64
	buf  bytes.Buffer
	tbl  mdtable.Tables
	// caseTables caches the rendered cases table per ordering.
	caseTables map[bool][]byte
}

// NewBuilder returns a Builder spooling details to a file in dir ("" for
// the system temporary directory). Close removes it.
func NewBuilder(meta Meta, agg *verdict.Aggregate, dir string) (*Builder, error) {
	f, err := os.CreateTemp(dir, "commitbench-details-*.md")
	if err != nil {
		return nil, fmt.Errorf("report: spool for case details: %w", err)
	}
	return &Builder{meta: meta, Agg: agg, spool: f, spoolW: bufio.NewWriterSize(f, 1<<16)}, nil
}

// Close removes the spool.
func (b *Builder) Close() error {
	name := b.spool.Name()
	err := b.spool.Close()
	if rerr := os.Remove(name); err == nil {
		err = rerr
	}
	return err
}

// Add folds c into the aggregate, keeps its row and spools its details.
func (b *Builder) Add(c *verdict.Case) error {
	b.buf.Reset()
	writeDetails(&b.buf, c)
	return b.AddRendered(c, b.buf.Bytes())
}

// Details renders cases' details blocks. Publish gives each worker its
// own, so that the per-case Markdown (the costliest part of a report)
// is rendered in parallel; it is not safe for concurrent use.
type Details struct {
	buf bytes.Buffer
}

// Render returns c's details block; the slice is valid until the next call.
func (d *Details) Render(c *verdict.Case) []byte {
	d.buf.Reset()
	writeDetails(&d.buf, c)
	return d.buf.Bytes()
}

// AddRendered is Add with the details already rendered (by Details).
func (b *Builder) AddRendered(c *verdict.Case, details []byte) error {
	b.Agg.Add(c)
	b.rows = append(b.rows, newRow(c))
	b.caseTables = nil
	if _, err := b.spoolW.Write(details); err != nil {
		return fmt.Errorf("report: spool: %w", err)
	}
	prev := int64(0)
	if n := len(b.ends); n > 0 {
		prev = b.ends[n-1]
	}
	b.ends = append(b.ends, prev+int64(len(details)))
	return nil
}

// Skip records a result file that could not be read.
func (b *Builder) Skip(path string, err error) {
	b.skipped = append(b.skipped, Skipped{Path: path, Problem: err.Error()})
}

// Cases is the number of cases added.
func (b *Builder) Cases() int { return len(b.rows) }

// detailSize is the size of case i's spooled details.
func (b *Builder) detailSize(i int) int {
	start := int64(0)
	if i > 0 {
		start = b.ends[i-1]
	}
	return int(b.ends[i] - start)
}

// copyDetails copies the details of cases idx, in that order, to w. Runs
// of consecutive cases (the whole full report) are copied as one range.
func (b *Builder) copyDetails(w io.Writer, idx []int) error {
	if err := b.spoolW.Flush(); err != nil {
		return fmt.Errorf("report: spool: %w", err)
	}
	for len(idx) > 0 {
		n := 1
		for n < len(idx) && idx[n] == idx[n-1]+1 {
			n++
		}
		start := int64(0)
		if idx[0] > 0 {
			start = b.ends[idx[0]-1]
		}
		end := b.ends[idx[n-1]]
		if _, err := io.Copy(w, io.NewSectionReader(b.spool, start, end-start)); err != nil {
			return err
		}
		idx = idx[n:]
	}
	return nil
}

// digestPriority orders the comment digest: what needs a reader's eyes
// first (a regression, then failures, then undecided) before the rest.
func digestPriority(c *verdict.Case) int {
	switch {
	case c.Class(verdict.HumanVsBaseline) == verdict.Worse:
		return 0
	case !c.Successful():
		return 1
	case c.Class(verdict.AgentVsHuman) == verdict.Worse:
		return 2
	case c.Class(verdict.HumanVsBaseline) == verdict.Inconclusive || c.Class(verdict.AgentVsHuman) == verdict.Inconclusive:
		return 3
	case c.Class(verdict.HumanVsBaseline) == verdict.Beats || c.Class(verdict.AgentVsHuman) == verdict.Beats:
		return 4
	}
	return 5
}
