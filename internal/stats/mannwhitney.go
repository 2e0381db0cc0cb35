package stats

import (
	"encoding/binary"
	"math"
	"slices"
	"sync"
)

// ExactLimit is the largest n1+n2 for which MannWhitney and RatioCI use the
// exact permutation distribution; above it they use the normal
// approximation, which is accurate to about 0.001 there.
const ExactLimit = 50

// MWResult is a two-sided Mann–Whitney U test.
type MWResult struct {
	// U counts the pairs (xi, yj) with yj > xi, ties counting ½.
	U float64
	// P is the two-sided p-value.
	P float64
	// Exact says P comes from the exact permutation distribution (ties
	// included) rather than the normal approximation.
	Exact bool
}

// MannWhitney tests whether y tends to be larger or smaller than x. For
// n1+n2 ≤ ExactLimit the p-value is exact under the permutation null, ties
// included (the distribution of the rank sum over the actual midranks). Above
// it, the normal approximation with tie-corrected variance and a continuity
// correction of ½ (R's wilcox.test with correct=TRUE). P is NaN when either
// sample is empty.
func MannWhitney(x, y []float64) MWResult {
	n1, n2 := len(x), len(y)
	if n1 == 0 || n2 == 0 || hasNaN(x) || hasNaN(y) {
		// NaN has no rank; a rank sum over it would be meaningless (and
		// its integer conversion would send the exact DP off the rails).
		return MWResult{U: math.NaN(), P: math.NaN()}
	}
	all := make([]float64, 0, n1+n2)
	all = append(append(all, x...), y...)
	ranks, tieSum := Ranks(all)
	ry := 0.0
	for _, r := range ranks[n1:] {
		ry += r
	}
	u := ry - float64(n2*(n2+1))/2
	n := n1 + n2
	if n <= ExactLimit {
		return MWResult{U: u, P: exactP(ranks, n1, n2), Exact: true}
	}
	mean := float64(n1*n2) / 2
	variance := float64(n1*n2) / 12 * (float64(n+1) - tieSum/float64(n*(n-1)))
	if variance <= 0 { // every value equal: no evidence of any difference
		return MWResult{U: u, P: 1}
	}
	z := math.Max(math.Abs(u-mean)-0.5, 0) / math.Sqrt(variance)
	return MWResult{U: u, P: math.Min(1, math.Erfc(z/math.Sqrt2))}
}

func hasNaN(xs []float64) bool {
	for _, x := range xs {
		if math.IsNaN(x) {
			return true
		}
	}
	return false
}

// exactP is the two-sided exact p-value of the rank sum of the last n2
// ranks: 2·min(P(S ≤ s), P(S ≥ s)), capped at 1.
func exactP(ranks []float64, n1, n2 int) float64 {
	// Doubled midranks are integers, so the distribution is over integers;
	// without ties they are 2, 4, …, 2n.
	doubled := make([]int, len(ranks))
	obs := 0
	for i, r := range ranks {
		doubled[i] = int(math.Round(2 * r))
		if i >= n1 {
			obs += doubled[i]
		}
	}
	lo, hi := 0.0, 0.0
	for s, p := range cachedRankSumDist(doubled, n2) {
		if s <= obs {
			lo += p
		}
		if s >= obs {
			hi += p
		}
	}
	return math.Min(1, 2*math.Min(lo, hi))
}

// rankSumDist returns P(S = s) where S is the sum of k values drawn without
// replacement from vals (non-negative integers), each subset equally likely.
// Counts are float64: exact up to 2^53, far above C(50, 25) ≈ 1.3e14.
func rankSumDist(vals []int, k int) []float64 {
	maxSum := 0
	for _, v := range vals {
		maxSum += v
	}
	// dp[j][s]: number of j-subsets of the values seen so far with sum s.
	dp := make([][]float64, k+1)
	for j := range dp {
		dp[j] = make([]float64, maxSum+1)
	}
	dp[0][0] = 1
	// Only sums reachable by the values seen so far, and only subset sizes
	// that can still grow to k with the values left, are updated: the other
	// cells never contribute to dp[k].
	reach := 0
	for i, v := range vals {
		reach += v
		left := len(vals) - i - 1
		for j := min(k, i+1); j >= max(1, k-left); j-- {
			prev, cur := dp[j-1], dp[j]
			for s := reach; s >= v; s-- {
				cur[s] += prev[s-v]
			}
		}
	}
	total := 0.0
	for _, c := range dp[k] {
		total += c
	}
	out := dp[k]
	for s := range out {
		out[s] /= total
	}
	return out
}

// cachedRankSumDist is rankSumDist cached by the multiset of vals and k:
// the distribution depends only on the sample sizes and the tie pattern,
// and a nightly asks for the same few thousands of times. Each entry holds
// a few KB; the cache is emptied when full, so a hostile set of tie
// patterns cannot grow it while the common entries come back at once.
func cachedRankSumDist(vals []int, k int) []float64 {
	sorted := slices.Clone(vals)
	slices.Sort(sorted)
	key := make([]byte, 0, 2*len(sorted)+2)
	key = binary.AppendUvarint(key, uint64(k))
	for _, v := range sorted {
		key = binary.AppendUvarint(key, uint64(v))
	}
	distCache.RLock()
	d, ok := distCache.m[string(key)]
	distCache.RUnlock()
	if ok {
		return d
	}
	d = rankSumDist(sorted, k)
	distCache.Lock()
	if len(distCache.m) >= maxCachedDists {
		clear(distCache.m)
	}
	distCache.m[string(key)] = d
	distCache.Unlock()
	return d
}

const maxCachedDists = 1024

var distCache = struct {
	sync.RWMutex
	m map[string][]float64
}{m: map[string][]float64{}}

// uCDF returns P(U ≤ u) for the untied null with sample sizes n1, n2, where
// U is the number of pairs with y > x.
func uCDF(n1, n2, u int) float64 {
	if u < 0 {
		return 0
	}
	vals := make([]int, n1+n2)
	for i := range vals {
		vals[i] = 2 * (i + 1)
	}
	dist := cachedRankSumDist(vals, n2)
	// S (doubled) = 2U + n2(n2+1).
	limit := 2*u + n2*(n2+1)
	sum := 0.0
	for s := 0; s <= limit && s < len(dist); s++ {
		sum += dist[s]
	}
	return math.Min(sum, 1)
}
