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
	"sync"
	"unicode/utf8"

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

// A tab becomes a space too: tablewriter would expand it to the next tab
// stop, which depends on where the cell starts.
var cellEscaper = strings.NewReplacer("|", `\|`, "\r\n", " ", "\n", " ", "\r", " ", "\t", " ", "<", "&lt;")

// Escape makes s safe inside one table cell (or one list item).
func Escape(s string) string {
	// Most cells need nothing, and the replacer (generic, because of
	// "\r\n") would still copy them.
	if !strings.ContainsAny(s, "|\r\n\t<") {
		return s
	}
	return cellEscaper.Replace(s)
}

// EscapeRow escapes every cell of a row.
func EscapeRow(r []string) []string {
	out := make([]string, len(r))
	for i, c := range r {
		out[i] = escapeCell(c)
	}
	return out
}

func escapeCell(c string) string {
	if c == "" {
		return " " // tablewriter drops trailing empty cells' padding otherwise
	}
	return Escape(c)
}

// Fast writes the same bytes as Tables.Render for one-line cells and 'l'/'r'
// alignment, without tablewriter's per-table machinery: a 10,000-case
// publish renders 20,000 small tables and one of 10,000 rows, where
// tablewriter cost ≈ 0.3 ms per small table, a third of publish's CPU.
// TestFastMatchesTablewriter holds it to tablewriter's output.
func Fast(w io.Writer, align string, header []string, rows [][]string) error {
	cols := len(align)
	cells := make([]string, 0, (len(rows)+1)*cols)
	widths := make([]int, cols)
	add := func(r []string) {
		for i := range cols {
			c := ""
			if i < len(r) {
				c = escapeCell(r[i])
			}
			cells = append(cells, c)
			widths[i] = max(widths[i], width(c))
		}
	}
	add(header)
	for _, r := range rows {
		add(r)
	}
	lineLen := 2
	for _, wd := range widths {
		lineLen += wd + 3
	}
	size := (len(rows) + 2) * lineLen
	for _, c := range cells {
		size += len(c) // multi-byte runes are wider in bytes than in columns
	}
	var b []byte
	bb, direct := w.(*bytes.Buffer)
	if direct {
		bb.Grow(size)
		b = bb.AvailableBuffer()
	} else {
		b = make([]byte, 0, size)
	}
	line := func(r []string) {
		b = append(b, '|')
		for i, wd := range widths {
			c := r[i]
			pad := wd - width(c)
			b = append(b, ' ')
			if align[i] == 'r' {
				b = appendRepeat(b, ' ', pad)
				b = append(b, c...)
			} else {
				b = append(b, c...)
				b = appendRepeat(b, ' ', pad)
			}
			b = append(b, " |"...)
		}
		b = append(b, '\n')
	}
	line(cells[:cols])
	b = append(b, '|')
	for i, wd := range widths {
		if align[i] == 'r' {
			b = appendRepeat(b, '-', wd+1)
			b = append(b, ":|"...)
		} else {
			b = append(b, ':')
			b = appendRepeat(b, '-', wd+1)
			b = append(b, '|')
		}
	}
	b = append(b, '\n')
	for i := cols; i < len(cells); i += cols {
		line(cells[i : i+cols])
	}
	_, err := w.Write(b)
	return err
}

func appendRepeat(b []byte, c byte, n int) []byte {
	for range n {
		b = append(b, c)
	}
	return b
}

// width is tablewriter's display width: the sum of its runes' widths
// (twwidth strips ANSI escapes first, then adds rune by rune), read from
// a table for the runes below U+3000 that reports print (ASCII, Latin,
// Greek, punctuation, arrows, math, ⚠) instead of twwidth's locked cache.
func width(s string) int {
	n := 0
	var table *[runeTableSize]int8
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c < 0x7f {
			n++
			continue
		}
		if c == 0x1b {
			return twwidth.Width(s)
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r >= runeTableSize || r == utf8.RuneError {
			return twwidth.Width(s)
		}
		if table == nil {
			table = runeWidths()
		}
		n += int(table[r])
		i += size - 1
	}
	return n
}

const runeTableSize = 0x3000

var runeWidths = sync.OnceValue(func() *[runeTableSize]int8 {
	var t [runeTableSize]int8
	for r := range rune(runeTableSize) {
		if r != 0x1b {
			t[r] = int8(twwidth.WidthNoCache(string(r)))
		}
	}
	return &t
})
