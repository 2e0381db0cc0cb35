package verdict

import (
	"encoding/binary"
	"math"
	"testing"
)

// FuzzCompare: any two samples give a valid class, an ordered interval,
// and a p-value in [0, 1], without panicking (zeros, negatives, ties, NaN).
func FuzzCompare(f *testing.F) {
	f.Add([]byte{1, 2, 3, 4, 5, 6, 7, 8}, []byte{9, 10, 11, 12, 13, 14, 15, 16}, true)
	f.Add([]byte{0, 0, 0, 0, 0, 0, 0, 0}, []byte{255, 255, 255, 255, 255, 255, 255, 127}, false)
	f.Add(make([]byte, 48), make([]byte, 48), true)
	f.Fuzz(func(t *testing.T, a, b []byte, latency bool) {
		floats := func(p []byte) []float64 {
			var out []float64
			for len(p) >= 8 && len(out) < 40 {
				out = append(out, math.Float64frombits(binary.LittleEndian.Uint64(p)))
				p = p[8:]
			}
			return out
		}
		x, y := floats(a), floats(b)
		if len(x) == 0 || len(y) == 0 {
			return
		}
		metric := "output_throughput"
		if latency {
			metric = "median_ttft_ms"
		}
		c := Compare("", metric, "baseline", "human", x, y)
		switch c.Class {
		case Beats, Similar, Worse, Inconclusive:
		default:
			t.Fatalf("class %q", c.Class)
		}
		if c.HasInterval && !(c.DeltaLo <= c.DeltaHi) {
			t.Fatalf("interval [%v, %v]", c.DeltaLo, c.DeltaHi)
		}
		if !math.IsNaN(c.P) && (c.P < 0 || c.P > 1) {
			t.Fatalf("p = %v", c.P)
		}
	})
}
