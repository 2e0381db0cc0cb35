// Package mdtable renders GitHub-flavoured markdown tables for every report
// commitbench writes (the plan summary, the publish report). Tables go
// through tablewriter, with the two things tablewriter leaves to its caller
// done once here: cells are escaped (a "|" would end the cell, a newline
// the row, a "<" could open HTML) and header auto-formatting is off (it
// would upper-case "p99_ttft_ms" into "P 99 TTFT MS"). Fast writes the same
// bytes without tablewriter for the many small tables of a large report.
package mdtable

import (
	"bytes"
	"io"
	"reflect"
	"strings"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/pkg/twcache"
	"github.com/olekukonko/tablewriter/pkg/twwidth"
	"github.com/olekukonko/tablewriter/renderer"
	"github.com/olekukonko/tablewriter/tw"
)

// Tables renders tables through tablewriter, reusing one tablewriter.Table
// per column layout: a fresh Table allocates a 10,240-entry stringer cache
// (about 350 KB), which made per-case tables the top cost of a
// 10,000-case publish. Not safe for concurrent use. The zero value is ready.
type Tables struct{ byAlign map[string]*cachedTable }

type cachedTable struct {
	t   *tablewriter.Table
	buf bytes.Buffer
}

// Render writes a table. align has one letter per column, 'l' or 'r'.
func (ts *Tables) Render(w io.Writer, align string, header []string, rows [][]string) error {
	if ts.byAlign == nil {
		ts.byAlign = map[string]*cachedTable{}
	}
	c := ts.byAlign[align]
	if c == nil {
		al := make([]tw.Align, len(align))
		for i, a := range align {
			al[i] = tw.AlignLeft
			if a == 'r' {
				al[i] = tw.AlignRight
			}
		}
		c = &cachedTable{}
		c.t = tablewriter.NewTable(&c.buf,
			tablewriter.WithRenderer(renderer.NewMarkdown()),
			tablewriter.WithHeaderAutoFormat(tw.Off),
			tablewriter.WithRowAutoWrap(tw.WrapNone),
			tablewriter.WithHeaderAutoWrap(tw.WrapNone),
			tablewriter.WithHeaderAlignmentConfig(tw.CellAlignment{PerColumn: al}),
			tablewriter.WithRowAlignmentConfig(tw.CellAlignment{PerColumn: al}),
			// Cells are strings: the stringer cache is never used, and a
			// small one keeps Reset (which re-makes it) cheap.
			tablewriter.WithStringerCacheCustom(twcache.NewLRU[reflect.Type, reflect.Value](1)),
		)
		ts.byAlign[align] = c
	}
	c.t.Reset()
	c.buf.Reset()
	c.t.Header(EscapeRow(header))
	for _, r := range rows {
		if err := c.t.Append(EscapeRow(r)); err != nil {
			return err
		}
	}
	if err := c.t.Render(); err != nil {
		return err
	}
	_, err := w.Write(c.buf.Bytes())
	return err
}

var cellEscaper = strings.NewReplacer("|", `\|`, "\r\n", " ", "\n", " ", "\r", " ", "<", "&lt;")

// Escape makes s safe inside one table cell (or one list item).
func Escape(s string) string { return cellEscaper.Replace(s) }

// EscapeRow escapes every cell of a row.
func EscapeRow(r []string) []string {
	out := make([]string, len(r))
	for i, c := range r {
		if c == "" {
			c = " " // tablewriter drops trailing empty cells' padding otherwise
		}
		out[i] = Escape(c)
	}
	return out
}

// Fast writes the same bytes as Tables.Render for one-line cells and 'l'/'r'
// alignment, without tablewriter's per-table machinery: a 10,000-case
// publish renders 20,000 small tables, where tablewriter cost ≈ 0.3 ms
// each, a third of publish's CPU. TestFastMatchesTablewriter holds it to
// tablewriter's output.
func Fast(w io.Writer, align string, header []string, rows [][]string) error {
	cells := make([][]string, 0, len(rows)+1)
	cells = append(cells, EscapeRow(header))
	for _, r := range rows {
		cells = append(cells, EscapeRow(r))
	}
	widths := make([]int, len(align))
	for _, r := range cells {
		for i := range widths {
			if i < len(r) {
				widths[i] = max(widths[i], width(r[i]))
			}
		}
	}
	var sb strings.Builder
	line := func(r []string) {
		sb.WriteByte('|')
		for i, wd := range widths {
			c := ""
			if i < len(r) {
				c = r[i]
			}
			pad := strings.Repeat(" ", wd-width(c))
			sb.WriteByte(' ')
			if align[i] == 'r' {
				sb.WriteString(pad + c)
			} else {
				sb.WriteString(c + pad)
			}
			sb.WriteString(" |")
		}
		sb.WriteByte('\n')
	}
	line(cells[0])
	sb.WriteByte('|')
	for i, wd := range widths {
		if align[i] == 'r' {
			sb.WriteString(strings.Repeat("-", wd+1) + ":|")
		} else {
			sb.WriteString(":" + strings.Repeat("-", wd+1) + "|")
		}
	}
	sb.WriteByte('\n')
	for _, r := range cells[1:] {
		line(r)
	}
	_, err := io.WriteString(w, sb.String())
	return err
}

// width is tablewriter's display width, with the common all-ASCII case
// answered without its locked cache.
func width(s string) int {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return twwidth.Width(s)
		}
	}
	return len(s)
}
