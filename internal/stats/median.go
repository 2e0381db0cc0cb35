// Package stats holds the distribution-free statistics publish uses to
// compare variants: medians with exact order-statistic intervals, the
// Mann–Whitney U test, an exact interval for a ratio of scales, Spearman's
// rank correlation and Theil–Sen slopes for drift, and harmonic means.
//
// Everything is deterministic: no resampling, no seeds, so a re-published
// run gives byte-identical reports. docs/statistics.md explains each choice.
package stats

import (
	"math"
	"slices"
	"sync"
)

// Interval is a confidence interval. Level is the coverage the interval
// actually guarantees, which for exact order-statistic intervals is at
// least, and usually above, the level that was asked for.
type Interval struct {
	Lo, Hi float64
	Level  float64
}

// Median returns the median of xs (mean of the middle two for an even
// count), or NaN when xs is empty. xs is not modified.
func Median(xs []float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	return sortedMedian(s)
}

func sortedMedian(s []float64) float64 {
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// MedianCI returns the exact distribution-free confidence interval of the
// median: [x(k), x(n+1-k)] with the largest k such that
// P(Binomial(n, ½) ≤ k−1) ≤ (1−conf)/2. It needs no assumption about the
// shape of the distribution. ok is false when n is too small for any order
// statistic interval to reach conf (n < 6 at 95 %): we say so rather than
// invent a narrower interval.
func MedianCI(xs []float64, conf float64) (iv Interval, ok bool) {
	n := len(xs)
	r := medianRanks(n, conf)
	if r.k < 1 {
		return Interval{}, false
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	return Interval{Lo: s[r.k-1], Hi: s[n-r.k], Level: r.level}, true
}

// medianRanks caches medianRank and the coverage it guarantees: each costs
// O(n²) log-gamma calls, and a publish asks for the same few sample sizes
// thousands of times.
func medianRanks(n int, conf float64) rank {
	key := medianKey{n, conf}
	if r, ok := medianCache.Load(key); ok {
		return r.(rank)
	}
	r := rank{k: medianRank(n, conf)}
	if r.k >= 1 {
		r.level = 1 - 2*binomCDF(n, r.k-1)
	}
	medianCache.Store(key, r)
	return r
}

type medianKey struct {
	n    int
	conf float64
}

var medianCache sync.Map

// medianRank returns the k of MedianCI, or 0 when none exists.
func medianRank(n int, conf float64) int {
	alpha := (1 - conf) / 2
	k := 0
	for j := 1; j <= (n+1)/2; j++ {
		if binomCDF(n, j-1) > alpha {
			break
		}
		k = j
	}
	return k
}

// MinSamplesMedianCI is the smallest n for which MedianCI gives an interval
// at conf (6 at 95 %, 8 at 99 %, matching benchstat's floors).
func MinSamplesMedianCI(conf float64) int {
	n := 1
	for medianRanks(n, conf).k < 1 {
		n++
	}
	return n
}

// binomCDF is P(Binomial(n, ½) ≤ k), summed in log space so that large n
// neither overflows nor loses the tail.
func binomCDF(n, k int) float64 {
	if k < 0 {
		return 0
	}
	if k >= n {
		return 1
	}
	lgN, _ := math.Lgamma(float64(n + 1))
	sum := 0.0
	for i := 0; i <= k; i++ {
		a, _ := math.Lgamma(float64(i + 1))
		b, _ := math.Lgamma(float64(n - i + 1))
		sum += math.Exp(lgN - a - b - float64(n)*math.Ln2)
	}
	return math.Min(sum, 1)
}

// HarmonicMean returns n / Σ 1/x over xs, the aggregate SWE-fficiency and
// GSO use for speedup ratios because it is not dominated by one large
// speedup. It returns NaN for an empty slice or any x ≤ 0.
func HarmonicMean(xs []float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	sum := 0.0
	for _, x := range xs {
		if !(x > 0) {
			return math.NaN()
		}
		sum += 1 / x
	}
	return float64(len(xs)) / sum
}

// Ranks returns the midranks (1-based, ties share their average rank) of xs
// and Σ(t³−t) over tie groups, which the normal approximations need.
func Ranks(xs []float64) (ranks []float64, tieSum float64) {
	n := len(xs)
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int {
		switch {
		case xs[a] < xs[b]:
			return -1
		case xs[a] > xs[b]:
			return 1
		}
		return 0
	})
	ranks = make([]float64, n)
	for i := 0; i < n; {
		j := i
		for j+1 < n && xs[idx[j+1]] == xs[idx[i]] {
			j++
		}
		r := float64(i+j)/2 + 1
		for m := i; m <= j; m++ {
			ranks[idx[m]] = r
		}
		if t := float64(j - i + 1); t > 1 {
			tieSum += t*t*t - t
		}
		i = j + 1
	}
	return ranks, tieSum
}
