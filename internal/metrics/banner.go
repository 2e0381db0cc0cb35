package metrics

import (
	"bytes"
	"io"
	"math"
	"regexp"
	"strconv"
	"strings"

	"github.com/commitbench/commitbench/internal/result"
)

// A banner tool (bench_serving, bench_offline_throughput) prints one block
// per run: a 50-column "==== Title ====" header, "Label:  value" lines laid
// out with "{:<40} {:<10}", "----Section----" rules and a row of '='. The
// parser keys on the label up to ':' and the first field after it, so the
// padding may be kept, stripped or collapsed to one space.
type banner struct {
	title  string            // text inside the header, e.g. "Serving Benchmark Result"
	header *regexp.Regexp    // the whole header line; group 1 is any prefix before it
	labels map[string]string // normalised label -> the tool's JSON key; "" skips
	stats  bool              // also map "<Stat> <metric> (ms)" latency lines
}

// Text labels -> the JSON keys of bench_serving's --output-file, the one
// table both its text and its JSONL answer to (sglang.md §1.1).
var servingBanner = banner{
	title:  "Serving Benchmark Result",
	header: headerRE("Serving Benchmark Result"),
	stats:  true,
	labels: map[string]string{
		"backend":                              "",
		"traffic request rate":                 "request_rate",
		"max request concurrency":              "max_concurrency", // also the 2024-11..2025-05 "reqeuest" typo, see normLabel
		"successful requests":                  "completed",
		"benchmark duration (s)":               "duration",
		"total input tokens":                   "total_input_tokens",
		"total input text tokens":              "total_input_text_tokens",
		"total input vision tokens":            "total_input_vision_tokens",
		"total generated tokens":               "total_output_tokens",
		"total generated tokens (retokenized)": "total_output_tokens_retokenized",
		"request throughput (req/s)":           "request_throughput",
		"input token throughput (tok/s)":       "input_throughput",
		"output token throughput (tok/s)":      "output_throughput",
		"peak output token throughput (tok/s)": "max_output_tokens_per_s",
		"peak concurrent requests":             "max_concurrent_requests",
		"total token throughput (tok/s)":       "total_throughput",
		"total throughput (tok/s)":             "total_throughput", // forks of late 2024 print this spelling
		"concurrency":                          "concurrency",
		"accept length":                        "accept_length",
	},
}

// bench_offline_throughput's labels -> the keys of its --result-filename
// JSON, which differ from bench_serving's for the same text
// ("Benchmark duration (s)" is total_latency there).
var offlineBanner = banner{
	title:  "Offline Throughput Benchmark Result",
	header: headerRE("Offline Throughput Benchmark Result"),
	labels: map[string]string{
		"backend":                            "",
		"successful requests":                "successful_requests",
		"benchmark duration (s)":             "total_latency",
		"total input tokens":                 "total_input_tokens",
		"total generated tokens":             "total_output_tokens",
		"last generation throughput (tok/s)": "last_gen_throughput",
		"request throughput (req/s)":         "request_throughput",
		"input token throughput (tok/s)":     "input_throughput",
		"output token throughput (tok/s)":    "output_throughput",
		"total token throughput (tok/s)":     "total_throughput",
	},
}

// statRE maps the latency distribution lines: "Median TTFT (ms)" ->
// median_ttft_ms, "P90 E2E Latency (ms)" -> p90_e2e_latency_ms.
var statRE = regexp.MustCompile(`^(mean|median|std|max|min|p\d{1,2}) (e2e latency|ttft|tpot|itl) \(ms\)$`)

// headerRE matches a banner line and nothing else: a header quoted inside
// prose (a comment naming it) is not a block.
func headerRE(title string) *regexp.Regexp {
	return regexp.MustCompile(`^(.*?)={3,} ` + regexp.QuoteMeta(title) + ` ={3,}\s*$`)
}

var spaceRE = regexp.MustCompile(`\s+`)

func normLabel(s string) string {
	s = strings.ToLower(strings.TrimSpace(spaceRE.ReplaceAllString(s, " ")))
	return strings.ReplaceAll(s, "reqeuest", "request")
}

func (b *banner) key(label string) (string, bool) {
	l := normLabel(label)
	if k, ok := b.labels[l]; ok {
		return k, k != ""
	}
	if b.stats {
		if m := statRE.FindStringSubmatch(l); m != nil {
			return m[1] + "_" + strings.ReplaceAll(m[2], " ", "_") + "_ms", true
		}
	}
	return "", false
}

// parse reads every block of b in r, in order. A block ends at its '='
// footer, at the next header, or (when the footer was cut off) at the first
// line that is not blank, a section rule or a "label: value" line.
func (b *banner) parse(r io.Reader) ([]result.Block, error) {
	lr := newLineReader(r)
	var blocks []result.Block
	var cur map[string]float64
	var prefix []byte
	in := false
	flush := func() {
		if in {
			blocks = append(blocks, result.Block{Metrics: cur})
		}
		in, cur = false, nil
	}
	title := []byte(" " + b.title + " ")
	for lr.next() {
		line := stripMPI(lr.line)
		if bytes.Contains(line, title) {
			if m := b.header.FindSubmatch(line); m != nil {
				flush()
				in, cur = true, map[string]float64{}
				// Whatever precedes the banner ("# ", "rank0: ") precedes
				// the block's other lines too.
				prefix = append(prefix[:0], m[1]...)
				continue
			}
		}
		if !in {
			continue
		}
		if len(prefix) > 0 {
			line = bytes.TrimPrefix(line, prefix)
		}
		t := bytes.TrimSpace(line)
		switch {
		case len(t) == 0:
			continue
		case len(t) >= 10 && isRun(t, '='):
			flush()
			continue
		case t[0] == '-' && t[len(t)-1] == '-':
			continue // section rule
		}
		colon := bytes.IndexByte(t, ':')
		if colon < 0 {
			flush() // a block cut off without its footer
			continue
		}
		k, ok := b.key(string(t[:colon]))
		if !ok {
			continue // unknown or text-valued label: tolerated
		}
		if v, ok := number(t[colon+1:]); ok {
			if _, dup := cur[k]; !dup {
				cur[k] = v
			}
		}
	}
	flush()
	return keyRuns(blocks), lr.Err()
}

func isRun(b []byte, c byte) bool {
	for _, x := range b {
		if x != c {
			return false
		}
	}
	return true
}

// number parses the first field of s. Values that are not finite numbers
// ("inf", "not set", "trace") are not metrics, and neither is a negative
// one: forks print -1 for "unknown", and no metric of these tools is below
// zero.
func number(s []byte) (float64, bool) {
	f := bytes.Fields(s)
	if len(f) == 0 {
		return 0, false
	}
	return finite(string(f[0]))
}

func finite(s string) (float64, bool) {
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsInf(v, 0) || math.IsNaN(v) || v < 0 {
		return 0, false
	}
	if v == 0 {
		v = 0 // "-0.00" is printed for tiny negative noise; JSON should say 0
	}
	return v, true
}

// keyRuns names the blocks of tools that have no natural key: the first
// block has the empty key (the usual single-run case), later ones "run=N",
// so that a command printing several runs keeps them apart.
func keyRuns(blocks []result.Block) []result.Block {
	for i := range blocks {
		if i > 0 {
			blocks[i].Key = "run=" + strconv.Itoa(i+1)
		}
	}
	return blocks
}
