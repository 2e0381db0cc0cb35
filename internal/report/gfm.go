package report

import (
	"io"
	"strings"

	"github.com/olekukonko/tablewriter/pkg/twwidth"
)

// renderFast writes the same bytes as tables.render for the narrow subset
// the per-case details use (one-line cells, 'l'/'r' alignment), without
// tablewriter's per-table machinery: a 10,000-case publish renders 20,000
// such tables, where tablewriter cost ≈ 0.3 ms each, a third of publish's
// CPU. TestFastRendererMatchesTablewriter holds it to tablewriter's output.
func renderFast(w io.Writer, align string, header []string, rows [][]string) error {
	cells := make([][]string, 0, len(rows)+1)
	cells = append(cells, escapeRow(header))
	for _, r := range rows {
		cells = append(cells, escapeRow(r))
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
