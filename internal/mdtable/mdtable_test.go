package mdtable

import (
	"bytes"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/olekukonko/tablewriter/pkg/twwidth"
)

func TestRenderEscapesAndAligns(t *testing.T) {
	var ts Tables
	var got bytes.Buffer
	if err := ts.Render(&got, "lr", []string{"case", "p99_ttft_ms"}, [][]string{
		{"a|b", "12.5"},
		{"line1\nline2", ""},
		{"<img>", "1"},
	}); err != nil {
		t.Fatal(err)
	}
	want := "| case        | p99_ttft_ms |\n" +
		"|:------------|------------:|\n" +
		"| a\\|b        |        12.5 |\n" +
		"| line1 line2 |             |\n" +
		"| &lt;img>    |           1 |\n"
	if got.String() != want {
		t.Errorf("got\n%s\nwant\n%s", got.String(), want)
	}
	if got := strings.Join(EscapeRow([]string{"a | b", "x\ny", "<img>", ""}), "¦"); got != `a \| b¦x y¦&lt;img>¦ ` {
		t.Errorf("EscapeRow = %q", got)
	}
}

// Fast must be byte-identical to tablewriter on every table shape the
// reports use, including escaping, empty cells and the symbols they print
// (↑ ↓ · − × ⚠ …).
func TestFastMatchesTablewriter(t *testing.T) {
	words := []string{"", "baseline", "1,060.9", "none (n<6)", "a|b", "−2.6 %", "[−4.5, −1.5]", "output_throughput ↑",
		"13.72 · 13.36", "0.0286 (exact)", "⚠ simulated", "Inconclusive", "x\ny", "GSO ✅", "1.2×",
		"Δ (+ = better)", "p (Mann–Whitney)", "±0.0 %", "naïve café", "e\u0301", "表格", "a\tb", "\x1b[1mbold\x1b[0m", "🚀"}
	rng := rand.New(rand.NewPCG(1, 2))
	var ts Tables
	for n := 0; n < 2000; n++ {
		cols := 1 + rng.IntN(7)
		var align strings.Builder
		header := make([]string, cols)
		for i := range cols {
			align.WriteByte("lr"[rng.IntN(2)])
			header[i] = words[1+rng.IntN(len(words)-1)]
		}
		rows := make([][]string, rng.IntN(6))
		for r := range rows {
			rows[r] = make([]string, cols)
			for i := range cols {
				rows[r][i] = words[rng.IntN(len(words))]
			}
		}
		var slow, fast bytes.Buffer
		if err := ts.Render(&slow, align.String(), header, rows); err != nil {
			t.Fatal(err)
		}
		if err := Fast(&fast, align.String(), header, rows); err != nil {
			t.Fatal(err)
		}
		if slow.String() != fast.String() {
			t.Fatalf("align %s header %q rows %q:\ntablewriter:\n%s\nfast:\n%s", align.String(), header, rows, slow.String(), fast.String())
		}
	}
}

// width must agree with twwidth on every rune its table answers, alone
// and in strings mixing them with ASCII.
func TestWidthMatchesTwwidth(t *testing.T) {
	for r := range rune(runeTableSize + 64) {
		for _, s := range []string{string(r), "a" + string(r) + "b"} {
			if got, want := width(s), twwidth.Width(s); got != want {
				t.Fatalf("width(%q) = %d, twwidth says %d", s, got, want)
			}
		}
	}
}
