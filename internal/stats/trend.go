package stats

import (
	"math"
	"slices"
)

// Spearman returns Spearman's rank correlation of xs with their order
// (1, 2, …, n): +1 for a series that only rises, −1 for one that only
// falls. It is NaN for fewer than 2 values or a constant series.
func Spearman(xs []float64) float64 {
	n := len(xs)
	if n < 2 {
		return math.NaN()
	}
	r, _ := Ranks(xs)
	mean := float64(n+1) / 2
	var sxy, sxx, syy float64
	for i, ri := range r {
		dx := float64(i+1) - mean
		dy := ri - mean
		sxy += dx * dy
		sxx += dx * dx
		syy += dy * dy
	}
	if syy == 0 {
		return math.NaN()
	}
	return sxy / math.Sqrt(sxx*syy)
}

// spearmanCrit01 are the exact two-sided 1 % critical values of |ρ| for
// n = 6…10: the smallest attainable |ρ| with P(|ρ| ≥ c) ≤ 0.01, found by
// enumerating all n! orderings (TestSpearmanCriticalExact re-derives them;
// they agree with Zar 1972, Table B.20). With 5 or fewer values no
// ordering is rare enough.
var spearmanCrit01 = map[int]float64{6: 1, 7: 13.0 / 14, 8: 37.0 / 42, 9: 5.0 / 6, 10: 131.0 / 165}

// SpearmanCritical returns the |ρ| at or above which a trend is significant
// at the two-sided 1 % level, or NaN when n < 6. 1 %, not 5 %: drift is
// tested once per variant and case, and at 5 % one clean case in seven
// would carry a false flag. Above 10 it uses 2.576/√(n−1), within 0.005 of
// the exact tables from n = 11.
func SpearmanCritical(n int) float64 {
	if n < 6 {
		return math.NaN()
	}
	if c, ok := spearmanCrit01[n]; ok {
		return c - 1e-9 // so that ρ computed in floating point still reaches it
	}
	return 2.576 / math.Sqrt(float64(n-1))
}

// TheilSen returns the median of the pairwise slopes (xs[j]−xs[i])/(j−i):
// a per-step trend that one outlier cannot swing. NaN for fewer than 2.
func TheilSen(xs []float64) float64 {
	n := len(xs)
	if n < 2 {
		return math.NaN()
	}
	s := make([]float64, 0, n*(n-1)/2)
	for i := range n {
		for j := i + 1; j < n; j++ {
			s = append(s, (xs[j]-xs[i])/float64(j-i))
		}
	}
	slices.Sort(s)
	return sortedMedian(s)
}
