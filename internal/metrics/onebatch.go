package metrics

import (
	"bytes"
	"fmt"
	"io"
	"math"
	"regexp"
	"strconv"
	"strings"

	"github.com/commitbench/commitbench/internal/result"
)

// bench_one_batch (bench_latency before 2024-11-21) prints, per
// (batch, input_len, output_len) combination, a Prefill line, up to five
// (or every --log-decode-step) Decode step lines in one of three formats,
// a median (or, before 2024-08-30, avg) Decode line when output_len > 1 and
// a Total line (sglang.md §1.2). Lines are matched anywhere in the line so
// that prefixes (MPI tags, pasted prompts) do not matter.
var (
	num         = `(-?[0-9.]+(?:[eE][-+]?\d+)?|inf|nan)`
	unit        = ` (m?s)` // "ms" in the 2024-06/07 releases, though the values were seconds
	prefillRE   = regexp.MustCompile(`Prefill\. latency:\s*` + num + unit + `, throughput:\s*` + num + ` token/s`)
	decodeRE    = regexp.MustCompile(`Decode(?: \d+)?\.\s+(?:Batch size: (\d+), )?latency:\s*` + num + unit + `, throughput:\s*` + num + ` token/s`)
	medianRE    = regexp.MustCompile(`Decode\.\s+(median|avg) latency:\s*` + num + unit + `, (?:median|avg) throughput:\s*` + num + ` token/s`)
	totalRE     = regexp.MustCompile(`Total\. latency:\s*` + num + unit + `, throughput:\s*` + num + ` token/s`)
	warmupRE    = regexp.MustCompile(`^\s*Warmup \.\.\.\s*$`)
	benchmarkRE = regexp.MustCompile(`^\s*Benchmark \.\.\.\s*$`)
)

// val is a printed number and half a unit of its last printed digit: the
// error bound the key inference works with.
type val struct{ v, eps float64 }

func parseVal(s string) (val, bool) {
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsInf(v, 0) || math.IsNaN(v) {
		return val{}, false
	}
	eps := 0.5
	if i := strings.IndexByte(s, '.'); i >= 0 {
		eps = 0.5 * math.Pow10(-(len(s) - i - 1))
	}
	return val{v, eps}, true
}

// product is a*b with its worst-case error.
func product(a, b val) (lo, hi float64) {
	p := a.v * b.v
	e := math.Abs(a.v)*b.eps + math.Abs(b.v)*a.eps + a.eps*b.eps
	return p - e, p + e
}

type step struct {
	lat, thr val
	bs       int // 0 when the line does not say
}

type obGroup struct {
	prefill [2]val
	decodes []step
	med     *[2]val
	avg     bool
	total   *[2]val
}

func parseOneBatch(r io.Reader) ([]result.Block, error) {
	lr := newLineReader(r)
	var groups []*obGroup
	var cur *obGroup
	warmup := false // inside the Warmup ... section: its groups are not results
	for lr.next() {
		line := stripMPI(lr.line)
		switch {
		case warmupRE.Match(line):
			warmup, cur = true, nil
			continue
		case benchmarkRE.Match(line):
			warmup, cur = false, nil
			continue
		}
		if !bytes.Contains(line, []byte("latency:")) {
			continue
		}
		s := string(line)
		if m := prefillRE.FindStringSubmatch(s); m != nil {
			cur = nil
			lat, ok1 := parseVal(m[1])
			thr, ok2 := parseVal(m[3])
			if !ok1 || !ok2 {
				continue
			}
			cur = &obGroup{prefill: [2]val{lat, thr}}
			if !warmup {
				groups = append(groups, cur)
			}
			continue
		}
		if cur == nil {
			continue
		}
		if m := medianRE.FindStringSubmatch(s); m != nil {
			if lat, thr, ok := pair(m[2], m[4]); ok {
				cur.med, cur.avg = &[2]val{lat, thr}, m[1] == "avg"
			}
		} else if m := decodeRE.FindStringSubmatch(s); m != nil {
			if lat, thr, ok := pair(m[2], m[4]); ok {
				bs, _ := strconv.Atoi(m[1])
				cur.decodes = append(cur.decodes, step{lat, thr, bs})
			}
		} else if m := totalRE.FindStringSubmatch(s); m != nil {
			if lat, thr, ok := pair(m[1], m[3]); ok {
				cur.total = &[2]val{lat, thr}
			}
			cur = nil // Total closes the group
		}
	}
	var blocks []result.Block
	for i, g := range groups {
		blocks = append(blocks, g.block(i+1))
	}
	return blocks, lr.Err()
}

func pair(a, b string) (val, val, bool) {
	x, ok1 := parseVal(a)
	y, ok2 := parseVal(b)
	return x, y, ok1 && ok2
}

// block converts a group to the keys of bench_one_batch's result.jsonl.
// Latencies are seconds whatever unit the line printed.
func (g *obGroup) block(n int) result.Block {
	m := map[string]float64{}
	put := func(k string, x val) {
		if x.v >= 0 {
			m[k] = x.v
		}
	}
	put("prefill_latency", g.prefill[0])
	put("prefill_throughput", g.prefill[1])
	if g.med != nil {
		prefix := "median_decode_"
		if g.avg {
			prefix = "avg_decode_"
		}
		put(prefix+"latency", g.med[0])
		put(prefix+"throughput", g.med[1])
	}
	if g.total != nil {
		put("total_latency", g.total[0])
		put("overall_throughput", g.total[1])
	}
	return result.Block{Key: g.key(n), Metrics: m}
}

// key infers "bs=B,in=I,out=O" from the printed numbers, since the text
// never prints the combination: throughput = tokens / latency, so
// latency × throughput is the token count (prefill: B·I; decode step: B;
// total: B·(I+O)). A part is taken only when the printed digits leave
// exactly one integer; otherwise the key is "group=N", N counting the
// measured groups from 1. A group without Decode lines has output_len 1.
func (g *obGroup) key(n int) string {
	fallback := "group=" + strconv.Itoa(n)
	bs := 0
	for _, d := range g.decodes {
		if d.bs > 0 {
			bs = d.bs
			break
		}
	}
	if bs == 0 && len(g.decodes) > 0 {
		lo, hi := product(g.decodes[0].lat, g.decodes[0].thr)
		bs, _ = unique(lo, hi, 1)
	}
	pl, ph := product(g.prefill[0], g.prefill[1])
	if g.total == nil {
		return fallback
	}
	tl, th := product(g.total[0], g.total[1])
	if len(g.decodes) == 0 && g.med == nil {
		// output_len 1: total − prefill tokens = B.
		first, last := math.Max(1, math.Floor(tl-ph)), math.Ceil(th-pl)
		if last-first > 1000 {
			return fallback // digits too coarse to say
		}
		var sol [][2]int
		for b := int(first); float64(b) <= last && len(sol) < 2; b++ {
			if in, ok := unique(pl, ph, b); ok && in > 0 && within(float64(b)*float64(in+1), tl, th) {
				sol = append(sol, [2]int{b, in})
			}
		}
		if len(sol) != 1 {
			return fallback
		}
		return fmt.Sprintf("bs=%d,in=%d,out=1", sol[0][0], sol[0][1])
	}
	if bs <= 0 {
		return fallback
	}
	in, ok := unique(pl, ph, bs)
	if !ok || in <= 0 {
		return fallback
	}
	all, ok := unique(tl, th, bs)
	if !ok || all-in < 2 {
		return fallback
	}
	return fmt.Sprintf("bs=%d,in=%d,out=%d", bs, in, all-in)
}

// unique returns the one integer n with lo ≤ n·k ≤ hi, if there is exactly
// one.
func unique(lo, hi float64, k int) (int, bool) {
	a, b := math.Ceil(lo/float64(k)), math.Floor(hi/float64(k))
	if a != b || a > math.MaxInt32 || a < math.MinInt32 {
		return 0, false
	}
	return int(a), true
}

func within(x, lo, hi float64) bool { return x >= lo && x <= hi }

// bench_one_batch_server prints lower-case "key: value unit" lines per
// case, opened by "batch size:"; from 2025 a "Warmup Begin/End" pair of
// banners fences the warm-up cases, which are not results.
var serverLabels = map[string]string{
	"latency":                     "latency",
	"ttft":                        "ttft",
	"last_ttft":                   "last_ttft",
	"last generation throughput":  "last_gen_throughput",
	"input throughput":            "input_throughput",
	"output throughput":           "output_throughput",
	"(input + output) throughput": "overall_throughput",
	"acc_length":                  "acc_length",
	"cache hit rate":              "cache_hit_rate",
}

var serverLineRE = regexp.MustCompile(`^([a-z_()+ ]+): (\S+)`)

func parseOneBatchServer(r io.Reader) ([]result.Block, error) {
	lr := newLineReader(r)
	var blocks []result.Block
	var cur *result.Block
	var bs, in, out string
	warmup := false
	flush := func() {
		if cur != nil && !warmup {
			cur.Key = "bs=" + bs
			if in != "" && out != "" {
				cur.Key += ",in=" + in + ",out=" + out
			}
			blocks = append(blocks, *cur)
		}
		cur, bs, in, out = nil, "", "", ""
	}
	for lr.next() {
		line := bytes.TrimSpace(stripMPI(lr.line))
		if bytes.HasPrefix(line, []byte("====")) {
			switch {
			case bytes.Contains(line, []byte("Warmup Begin")):
				flush()
				warmup = true
			case bytes.Contains(line, []byte("Warmup End")):
				flush()
				warmup = false
			}
			continue
		}
		m := serverLineRE.FindSubmatch(line)
		if m == nil {
			continue
		}
		label, v := string(m[1]), string(m[2])
		switch label {
		case "batch size":
			flush()
			if _, err := strconv.Atoi(v); err == nil {
				cur, bs = &result.Block{Metrics: map[string]float64{}}, v
			}
			continue
		case "input_len", "output_len":
			if cur != nil {
				if _, err := strconv.Atoi(v); err == nil {
					if label == "input_len" {
						in = v
					} else {
						out = v
					}
				}
			}
			continue
		}
		if k, ok := serverLabels[label]; ok && cur != nil {
			if x, ok := finite(v); ok {
				if _, dup := cur.Metrics[k]; !dup {
					cur.Metrics[k] = x
				}
			}
		}
	}
	flush()
	return blocks, lr.Err()
}
