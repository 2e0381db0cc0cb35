package stats

import (
	"math"
	"slices"
	"sync"
)

// RatioCI returns an exact, distribution-free confidence interval for the
// ratio of scales y/x: the Hodges–Lehmann/Moses interval for the shift of
// log y against log x, [d(k), d(m+1−k)] over the m = n1·n2 sorted pairwise
// log ratios, with the largest k such that P(U ≤ k−1) ≤ (1−conf)/2 under the
// Mann–Whitney null. It is the interval that inverts the Mann–Whitney test,
// so a comparison's interval and its p-value agree, and it needs no
// resampling (deterministic and fast).
//
// For n1+n2 > ExactLimit, k comes from the normal approximation of U.
// ok is false when a value is not positive or the samples are too small for
// any interval to reach conf (3 against 3 reaches only 90 %).
func RatioCI(x, y []float64, conf float64) (iv Interval, ok bool) {
	n1, n2 := len(x), len(y)
	if n1 == 0 || n2 == 0 {
		return Interval{}, false
	}
	for _, v := range append(slices.Clone(x), y...) {
		if !(v > 0) || math.IsInf(v, 0) {
			return Interval{}, false
		}
	}
	k, level := ratioRank(n1, n2, conf)
	if k < 1 {
		return Interval{}, false
	}
	d := make([]float64, 0, n1*n2)
	for _, xi := range x {
		lx := math.Log(xi)
		for _, yj := range y {
			d = append(d, math.Log(yj)-lx)
		}
	}
	slices.Sort(d)
	m := len(d)
	return Interval{Lo: math.Exp(d[k-1]), Hi: math.Exp(d[m-k]), Level: level}, true
}

type rankKey struct {
	n1, n2 int
	conf   float64
}

type rank struct {
	k     int
	level float64
}

// rankCache: k depends only on the sample sizes, and a nightly asks for
// the same few thousands of times.
var rankCache sync.Map

// ratioRank returns RatioCI's k and the coverage it guarantees, or k = 0.
func ratioRank(n1, n2 int, conf float64) (int, float64) {
	key := rankKey{n1, n2, conf}
	if r, ok := rankCache.Load(key); ok {
		return r.(rank).k, r.(rank).level
	}
	k, level := computeRatioRank(n1, n2, conf)
	rankCache.Store(key, rank{k, level})
	return k, level
}

func computeRatioRank(n1, n2 int, conf float64) (int, float64) {
	alpha := (1 - conf) / 2
	m := n1 * n2
	if n1+n2 > ExactLimit {
		z := normalQuantile(1 - alpha)
		k := int(math.Floor(float64(m)/2 - z*math.Sqrt(float64(m*(n1+n2+1))/12)))
		if k < 1 {
			return 0, 0
		}
		return k, conf
	}
	k := 0
	for j := 1; j <= (m+1)/2; j++ {
		if uCDF(n1, n2, j-1) > alpha {
			break
		}
		k = j
	}
	if k < 1 {
		return 0, 0
	}
	return k, 1 - 2*uCDF(n1, n2, k-1)
}

// MinSamplesRatioCI is the smallest n such that n against n repetitions
// give a RatioCI at conf (4 at 95 %).
func MinSamplesRatioCI(conf float64) int {
	n := 1
	for {
		if k, _ := ratioRank(n, n, conf); k >= 1 {
			return n
		}
		n++
	}
}

// normalQuantile is the standard normal quantile, by bisection on Erfc:
// called once per sample size, so simplicity beats speed.
func normalQuantile(p float64) float64 {
	lo, hi := -10.0, 10.0
	for range 100 {
		mid := (lo + hi) / 2
		if 0.5*math.Erfc(-mid/math.Sqrt2) < p {
			lo = mid
		} else {
			hi = mid
		}
	}
	return (lo + hi) / 2
}
