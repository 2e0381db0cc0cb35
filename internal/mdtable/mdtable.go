// Package mdtable renders GitHub-flavoured markdown tables through
// tablewriter, with the two things tablewriter leaves to its caller done
// once here: cells are escaped (a "|" would end the cell and break the
// table; a newline would end the row) and header auto-formatting is off (it
// would upper-case "p99_ttft_ms" into "P 99 TTFT MS").
package mdtable

import (
	"strings"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/renderer"
	"github.com/olekukonko/tablewriter/tw"
)

// Align is a column's alignment.
type Align int

const (
	Left Align = iota
	Right
	Center
)

// Column is a header cell and its alignment.
type Column struct {
	Header string
	Align  Align
}

// Escape makes s safe inside one markdown table cell.
func Escape(s string) string {
	s = strings.ReplaceAll(s, `\`, `\\`)
	s = strings.ReplaceAll(s, "|", `\|`)
	s = strings.ReplaceAll(s, "\r\n", "<br>")
	s = strings.ReplaceAll(s, "\n", "<br>")
	return s
}

// Render returns the table as markdown, ending in a newline.
func Render(cols []Column, rows [][]string) (string, error) {
	var sb strings.Builder
	aligns := make([]tw.Align, len(cols))
	headers := make([]string, len(cols))
	for i, c := range cols {
		headers[i] = Escape(c.Header)
		switch c.Align {
		case Right:
			aligns[i] = tw.AlignRight
		case Center:
			aligns[i] = tw.AlignCenter
		default:
			aligns[i] = tw.AlignLeft
		}
	}
	t := tablewriter.NewTable(&sb,
		tablewriter.WithRenderer(renderer.NewMarkdown()),
		tablewriter.WithHeaderAutoFormat(tw.Off),
		tablewriter.WithRowAutoWrap(tw.WrapNone),
		tablewriter.WithHeaderAutoWrap(tw.WrapNone),
		tablewriter.WithRowAlignmentConfig(tw.CellAlignment{PerColumn: aligns}),
		tablewriter.WithHeaderAlignmentConfig(tw.CellAlignment{PerColumn: aligns}),
	)
	t.Header(toAny(headers)...)
	for _, r := range rows {
		cells := make([]string, len(cols))
		for i := range cells {
			if i < len(r) {
				cells[i] = Escape(r[i])
			}
		}
		if err := t.Append(cells); err != nil {
			return "", err
		}
	}
	if err := t.Render(); err != nil {
		return "", err
	}
	return sb.String(), nil
}

func toAny(s []string) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}

// L is a left-aligned column.
func L(header string) Column { return Column{Header: header, Align: Left} }

// R is a right-aligned column, for numbers.
func R(header string) Column { return Column{Header: header, Align: Right} }
