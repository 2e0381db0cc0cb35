package standin

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// metrics are bench_serving's results, in milliseconds where it uses them.
type metrics struct {
	duration                                     float64 // seconds
	completed, totalIn, totalOut, peakConc       int
	reqTput, inTput, outTput, totalTput, peakOut float64
	concurrency                                  float64
	e2e, ttft, tpot, itl                         dist
}

// dist summarises a sample the way bench_serving does with numpy.
type dist struct{ mean, median, std, p90, p95, p99, max float64 }

func summarize(xs []float64) dist {
	if len(xs) == 0 {
		return dist{}
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	var sum float64
	for _, x := range s {
		sum += x
	}
	mean := sum / float64(len(s))
	var ss float64
	for _, x := range s {
		ss += (x - mean) * (x - mean)
	}
	return dist{mean: mean, median: percentile(s, 50), std: math.Sqrt(ss / float64(len(s))),
		p90: percentile(s, 90), p95: percentile(s, 95), p99: percentile(s, 99), max: s[len(s)-1]}
}

// percentile is numpy's default (linear interpolation) on sorted s.
func percentile(s []float64, p float64) float64 {
	pos := p / 100 * float64(len(s)-1)
	lo := int(math.Floor(pos))
	if lo+1 >= len(s) {
		return s[len(s)-1]
	}
	return s[lo] + (pos-float64(lo))*(s[lo+1]-s[lo])
}

func msOf(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func computeMetrics(res []outcome, dur time.Duration) metrics {
	m := metrics{duration: dur.Seconds()}
	var e2e, ttft, tpot, itl []float64
	buckets := map[int64]int{}
	type edge struct {
		t     time.Time
		delta int
	}
	var edges []edge
	var first time.Time
	for _, o := range res {
		if first.IsZero() || (!o.start.IsZero() && o.start.Before(first)) {
			first = o.start
		}
	}
	for _, o := range res {
		if o.err != nil || o.out == 0 {
			continue
		}
		m.completed++
		m.totalIn += o.in
		m.totalOut += o.out
		e2e = append(e2e, msOf(o.e2e))
		ttft = append(ttft, msOf(o.ttft))
		if o.out > 1 {
			tpot = append(tpot, msOf(o.e2e-o.ttft)/float64(o.out-1))
		}
		for _, d := range o.itls {
			itl = append(itl, msOf(d))
		}
		for _, t := range o.tokenTimes {
			buckets[int64(t.Sub(first)/time.Second)]++
		}
		edges = append(edges, edge{o.start, 1}, edge{o.start.Add(o.e2e), -1})
	}
	for _, n := range buckets {
		m.peakOut = max(m.peakOut, float64(n))
	}
	slices.SortFunc(edges, func(a, b edge) int {
		if c := a.t.Compare(b.t); c != 0 {
			return c
		}
		return a.delta - b.delta
	})
	cur := 0
	for _, e := range edges {
		cur += e.delta
		m.peakConc = max(m.peakConc, cur)
	}
	if m.duration > 0 {
		m.reqTput = float64(m.completed) / m.duration
		m.inTput = float64(m.totalIn) / m.duration
		m.outTput = float64(m.totalOut) / m.duration
		m.totalTput = m.inTput + m.outTput
		var sum float64
		for _, x := range e2e {
			sum += x
		}
		m.concurrency = sum / 1000 / m.duration
	}
	m.e2e, m.ttft, m.tpot, m.itl = summarize(e2e), summarize(ttft), summarize(tpot), summarize(itl)
	return m
}

// writeBlock prints the result block in SGLang's format of 2025-12
// (python/sglang/bench_serving.py): labels padded to 40, values to 10,
// floats with 2 decimals, plus the P90/P99 E2E lines of 2026.
func writeBlock(w io.Writer, a servingArgs, m metrics) {
	line := func(label string, v any) {
		var s string
		switch x := v.(type) {
		case float64:
			s = fmt.Sprintf("%-10.2f", x)
		default:
			s = fmt.Sprintf("%-10v", x)
		}
		fmt.Fprintf(w, "%-40s %s\n", label, s)
	}
	rule := func(title string, fill byte) {
		n := 50 - len(title)
		left := n / 2
		fmt.Fprintln(w, strings.Repeat(string(fill), left)+title+strings.Repeat(string(fill), n-left))
	}
	fmt.Fprintln(w)
	rule(" Serving Benchmark Result ", '=')
	line("Backend:", a.backend)
	line("Traffic request rate:", pyRate(a.rate))
	conc := "not set"
	if a.maxConc > 0 {
		conc = strconv.Itoa(a.maxConc)
	}
	line("Max request concurrency:", conc)
	line("Successful requests:", m.completed)
	line("Benchmark duration (s):", m.duration)
	line("Total input tokens:", m.totalIn)
	line("Total input text tokens:", m.totalIn)
	line("Total input vision tokens:", 0)
	line("Total generated tokens:", m.totalOut)
	line("Total generated tokens (retokenized):", m.totalOut)
	line("Request throughput (req/s):", m.reqTput)
	line("Input token throughput (tok/s):", m.inTput)
	line("Output token throughput (tok/s):", m.outTput)
	line("Peak output token throughput (tok/s):", m.peakOut)
	line("Peak concurrent requests:", m.peakConc)
	line("Total token throughput (tok/s):", m.totalTput)
	line("Concurrency:", m.concurrency)
	rule("End-to-End Latency", '-')
	line("Mean E2E Latency (ms):", m.e2e.mean)
	line("Median E2E Latency (ms):", m.e2e.median)
	line("P90 E2E Latency (ms):", m.e2e.p90)
	line("P99 E2E Latency (ms):", m.e2e.p99)
	rule("Time to First Token", '-')
	line("Mean TTFT (ms):", m.ttft.mean)
	line("Median TTFT (ms):", m.ttft.median)
	line("P99 TTFT (ms):", m.ttft.p99)
	rule("Time per Output Token (excl. 1st token)", '-')
	line("Mean TPOT (ms):", m.tpot.mean)
	line("Median TPOT (ms):", m.tpot.median)
	line("P99 TPOT (ms):", m.tpot.p99)
	rule("Inter-Token Latency", '-')
	line("Mean ITL (ms):", m.itl.mean)
	line("Median ITL (ms):", m.itl.median)
	line("P95 ITL (ms):", m.itl.p95)
	line("P99 ITL (ms):", m.itl.p99)
	line("Max ITL (ms):", m.itl.max)
	fmt.Fprintln(w, strings.Repeat("=", 50))
}

// jsonLine is the --output-file record, keys in bench_serving's order,
// values as Python's json.dumps writes them (Infinity included: the real
// file is not RFC 8259 JSON, and readers must cope).
func jsonLine(a servingArgs, m metrics) string {
	var b strings.Builder
	kv := func(k, v string) {
		if b.Len() > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%q: %s", k, v)
	}
	f, i := pyFloat, strconv.Itoa
	kv("backend", strconv.Quote(a.backend))
	kv("dataset_name", strconv.Quote(a.dataset))
	kv("request_rate", pyFloat(a.rate))
	kv("max_concurrency", map[bool]string{true: i(a.maxConc), false: "null"}[a.maxConc > 0])
	kv("sharegpt_output_len", "null")
	kv("random_input_len", i(a.inLen))
	kv("random_output_len", i(a.outLen))
	kv("random_range_ratio", f(a.rangeRatio))
	kv("duration", f(m.duration))
	kv("completed", i(m.completed))
	kv("total_input_tokens", i(m.totalIn))
	kv("total_input_text_tokens", i(m.totalIn))
	kv("total_input_vision_tokens", "0")
	kv("total_output_tokens", i(m.totalOut))
	kv("total_output_tokens_retokenized", i(m.totalOut))
	kv("request_throughput", f(m.reqTput))
	kv("input_throughput", f(m.inTput))
	kv("output_throughput", f(m.outTput))
	kv("total_throughput", f(m.totalTput))
	kv("max_output_tokens_per_s", f(m.peakOut))
	kv("max_concurrent_requests", i(m.peakConc))
	for _, d := range []struct {
		name string
		d    dist
	}{{"e2e_latency", m.e2e}, {"ttft", m.ttft}, {"tpot", m.tpot}} {
		kv("mean_"+d.name+"_ms", f(d.d.mean))
		kv("median_"+d.name+"_ms", f(d.d.median))
		kv("std_"+d.name+"_ms", f(d.d.std))
		kv("p99_"+d.name+"_ms", f(d.d.p99))
	}
	kv("mean_itl_ms", f(m.itl.mean))
	kv("median_itl_ms", f(m.itl.median))
	kv("std_itl_ms", f(m.itl.std))
	kv("p95_itl_ms", f(m.itl.p95))
	kv("p99_itl_ms", f(m.itl.p99))
	kv("concurrency", f(m.concurrency))
	kv("accept_length", "null")
	return "{" + b.String() + "}"
}

// pyFloat formats like Python's repr of a float.
func pyFloat(x float64) string {
	switch {
	case math.IsInf(x, 1):
		return "Infinity"
	case math.IsInf(x, -1):
		return "-Infinity"
	case math.IsNaN(x):
		return "NaN"
	}
	ax := math.Abs(x)
	if ax != 0 && (ax < 1e-4 || ax >= 1e16) {
		s := strconv.FormatFloat(x, 'e', -1, 64)
		mant, exp, _ := strings.Cut(s, "e")
		sign, digits := exp[:1], strings.TrimLeft(exp[1:], "0")
		if len(digits) < 2 {
			digits = "0" + digits
		}
		return mant + "e" + sign + digits
	}
	s := strconv.FormatFloat(x, 'f', -1, 64)
	if !strings.Contains(s, ".") {
		s += ".0"
	}
	return s
}

// pyRate is how the block prints --request-rate: inf, or Python's float.
func pyRate(r float64) string {
	if math.IsInf(r, 1) {
		return "inf"
	}
	return pyFloat(r)
}
