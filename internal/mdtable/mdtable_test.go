package mdtable

import (
	"testing"
)

func TestRenderEscapesAndAligns(t *testing.T) {
	got, err := Render([]Column{L("case"), R("p99_ttft_ms")}, [][]string{
		{"a|b", "12.5"},
		{"line1\nline2", ""},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := "| case           | p99_ttft_ms |\n" +
		"|:---------------|------------:|\n" +
		"| a\\|b           |        12.5 |\n" +
		"| line1<br>line2 |             |\n"
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}
