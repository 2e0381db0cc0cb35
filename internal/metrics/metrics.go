// Package metrics turns a benchmark tool's output (its log, or its own
// result file) into result.Blocks named with the engine's own JSON keys,
// and says when a run produced none of the metrics it must (no phantom
// success).
//
// Metric names are the keys of the tool's result file: bench_serving's
// --output-file (request_throughput, output_throughput, median_ttft_ms,
// mean_tpot_ms, p99_itl_ms, total_throughput, ...), bench_one_batch's
// result.jsonl (prefill_latency, prefill_throughput, median_decode_latency,
// median_decode_throughput, total_latency, overall_throughput),
// bench_one_batch_server's result.jsonl (latency, ttft, input_throughput,
// output_throughput, overall_throughput, last_gen_throughput) and
// bench_offline_throughput's JSON (total_latency, request_throughput,
// input_throughput, output_throughput, total_throughput,
// last_gen_throughput). Text labels map to them through one table per tool,
// so text and JSONL of the same run give the same names. Units are the
// JSON's: serving latencies in ms, one-batch latencies in seconds (also
// where bench_latency's first releases printed "ms" for seconds). One value
// is derived rather than read: bench_serving's total_throughput, input +
// output token throughput, where an older output lacks it (deriveTotal).
//
// Block keys:
//   - bench_one_batch, bench_latency, bench_one_batch_server:
//     "bs=B,in=I,out=O", the combination. The JSONL states it; from text it
//     is inferred from the printed numbers (see obGroup.key), or for
//     bench_one_batch_server read from its "batch size:", "input_len:" and
//     "output_len:" lines ("bs=B" alone when the version printed only the
//     batch size). Where the text cannot determine it: "group=N", N counting
//     the measured groups from 1.
//   - bench_serving, bench_offline_throughput: "" for the first block, then
//     "run=2", "run=3", ... for further blocks of the same log or file.
//
// Warm-up output is not a result: bench_one_batch groups before its
// "Benchmark ..." line and bench_one_batch_server cases between its
// "Warmup Begin/End" banners are dropped.
package metrics

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"strings"

	"github.com/commitbench/commitbench/internal/engine"
	"github.com/commitbench/commitbench/internal/failure"
	"github.com/commitbench/commitbench/internal/result"
)

// ParseText parses a tool's stdout/stderr log: one Block per result block or group, in order.
func ParseText(tool engine.Tool, r io.Reader) ([]result.Block, error) {
	switch tool {
	case engine.BenchServing:
		blocks, err := servingBanner.parse(r)
		for _, b := range blocks {
			deriveTotal(b.Metrics)
		}
		return blocks, err
	case engine.BenchOfflineThroughput:
		return offlineBanner.parse(r)
	case engine.BenchOneBatch, engine.BenchLatency:
		return parseOneBatch(r)
	case engine.BenchOneBatchServer:
		return parseOneBatchServer(r)
	}
	return nil, unknownTool(tool)
}

// ParseJSONL parses the tool's own result file (bench_serving --output-file, bench_one_batch result.jsonl, offline --result-filename JSON).
func ParseJSONL(tool engine.Tool, r io.Reader) ([]result.Block, error) {
	if tool.Mode() == "" {
		return nil, unknownTool(tool)
	}
	return parseJSONL(tool, r)
}

func unknownTool(tool engine.Tool) error {
	names := make([]string, 0, 5)
	for _, t := range engine.Tools() {
		names = append(names, string(t))
	}
	return fmt.Errorf("tool %q: unknown; want one of %s", tool, strings.Join(names, ", "))
}

// required: a block must carry at least one of these to count. They are the
// numbers a comparison is made on; a block holding only, say, a duration
// or token counts is not a result.
var required = map[engine.Tool][]string{
	engine.BenchServing: {"request_throughput", "output_throughput", "total_throughput",
		"median_e2e_latency_ms", "median_ttft_ms", "median_itl_ms", "median_tpot_ms"},
	engine.BenchOneBatch: {"prefill_latency", "prefill_throughput", "median_decode_latency",
		"median_decode_throughput", "total_latency", "overall_throughput"},
	engine.BenchOneBatchServer: {"latency", "input_throughput", "output_throughput",
		"overall_throughput", "last_gen_throughput"},
	engine.BenchOfflineThroughput: {"request_throughput", "input_throughput", "output_throughput",
		"total_throughput"},
}

func init() { required[engine.BenchLatency] = required[engine.BenchOneBatch] }

// Required lists the metrics of which a run of tool must yield at least one per block.
func Required(tool engine.Tool) []string {
	return append([]string(nil), required[tool]...)
}

// Check returns a *failure.Failure with Category METRICS_MISSING (evidence
// saying what was missing) when blocks is empty or a block has none of the
// required metrics; nil otherwise. Every block must qualify, not just one:
// a block without its numbers is a result the run failed to produce.
func Check(tool engine.Tool, blocks []result.Block) *failure.Failure {
	req := Required(tool)
	var missing []string
	if len(blocks) == 0 {
		missing = append(missing, fmt.Sprintf("no %s result block in the output (%s)", tool, lookFor(tool)))
	}
	for i, b := range blocks {
		if !hasAny(b.Metrics, req) {
			name := fmt.Sprintf("block %d", i+1)
			if b.Key != "" {
				name += " (" + b.Key + ")"
			}
			if len(req) == 0 {
				missing = append(missing, name+" has no metrics")
			} else {
				missing = append(missing, fmt.Sprintf("%s has none of %s", name, strings.Join(req, ", ")))
			}
		}
	}
	if len(missing) == 0 {
		return nil
	}
	root, hint := failure.Describe(failure.MetricsMissing)
	ev := strings.Join(missing, "; ")
	if len(ev) > 2048 {
		ev = ev[:2048]
	}
	return &failure.Failure{Category: failure.MetricsMissing, Evidence: ev, RootCause: root, Hint: hint, Rule: "metrics-check"}
}

func hasAny(m map[string]float64, keys []string) bool {
	if len(keys) == 0 {
		return len(m) > 0
	}
	for _, k := range keys {
		if _, ok := m[k]; ok {
			return true
		}
	}
	return false
}

func lookFor(tool engine.Tool) string {
	switch tool {
	case engine.BenchServing:
		return `looked for "============ Serving Benchmark Result ============" or a --output-file line`
	case engine.BenchOfflineThroughput:
		return `looked for "====== Offline Throughput Benchmark Result =======" or the --result-filename JSON`
	case engine.BenchOneBatch, engine.BenchLatency:
		return `looked for "Prefill. latency:" lines after "Benchmark ..." or result.jsonl`
	case engine.BenchOneBatchServer:
		return `looked for "batch size:" cases or result.jsonl`
	}
	return "unknown tool"
}

// Detect guesses the tool from the start of a log (for `parse --tool auto`); "" when unknown.
// Result markers win over module names, which a log may merely mention.
func Detect(head []byte) engine.Tool {
	has := func(s string) bool { return bytes.Contains(head, []byte(s)) }
	switch {
	case has("Serving Benchmark Result"):
		return engine.BenchServing
	case has("Offline Throughput Benchmark Result"):
		return engine.BenchOfflineThroughput
	case prefillRE.Match(head):
		if m := prefillRE.FindSubmatch(head); m != nil && string(m[2]) == "ms" || has("sglang.bench_latency") {
			return engine.BenchLatency
		}
		return engine.BenchOneBatch
	case has(`"prefill_latency"`):
		return engine.BenchOneBatch
	case has(`"successful_requests"`):
		return engine.BenchOfflineThroughput
	case has(`"median_ttft_ms"`), has(`"request_rate"`), has(`"median_e2e_latency_ms"`):
		return engine.BenchServing
	case has(`"overall_throughput"`), has("\nbatch size: "), bytes.HasPrefix(head, []byte("batch size: ")):
		return engine.BenchOneBatchServer
	}
	for _, t := range []engine.Tool{engine.BenchOneBatchServer, engine.BenchOfflineThroughput, engine.BenchServing, engine.BenchOneBatch, engine.BenchLatency} {
		if has("sglang."+string(t)+" ") || has("sglang."+string(t)+"\n") {
			return t
		}
	}
	return ""
}

// IsJSONL reports whether head looks like a tool's result file rather than
// its log: it has a line opening a JSON object and none of the text
// results' markers.
func IsJSONL(head []byte) bool {
	if bytes.Contains(head, []byte("Benchmark Result")) || prefillRE.Match(head) {
		return false
	}
	sc := bufio.NewScanner(bytes.NewReader(head))
	sc.Buffer(nil, len(head)+1)
	for sc.Scan() {
		if l := bytes.TrimSpace(sc.Bytes()); bytes.HasPrefix(l, []byte(`{"`)) {
			return true
		}
	}
	return false
}
