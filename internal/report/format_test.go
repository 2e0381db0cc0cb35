package report

import (
	"math"
	"strings"
	"testing"
)

func TestFormatting(t *testing.T) {
	for _, tc := range []struct{ got, want string }{
		{num(1815.83), "1,815.8"},
		{num(-1234567.0), "-1,234,567.0"},
		{num(43.601), "43.60"},
		{num(0.0412), "0.0412"},
		{num(math.NaN()), "—"},
		{pct(0.0851), "+8.5 %"},
		{pct(-0.0951), "−9.5 %"},
		{pct(0.00001), "±0.0 %"},
		{inline("fix </details> now\nplease"), "fix &lt;/details> now please"},
		{code("a `b` c"), "``` a `b` c ```"},
		{fence("x ``` y"), "````text\nx ``` y\n````\n"},
		{trimEvidence(strings.Repeat("l\n", 20)), strings.Repeat("l\n", 8) + "…"},
	} {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
}
