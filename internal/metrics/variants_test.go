package metrics

import (
	"reflect"
	"strings"
	"testing"

	"github.com/commitbench/commitbench/internal/engine"
	"github.com/commitbench/commitbench/internal/result"
)

type m = map[string]float64

const servingBlock = `
============ Serving Benchmark Result ============
Backend:                                 sglang    
Traffic request rate:                    inf       
Successful requests:                     10        
Request throughput (req/s):              1.50      
Output token throughput (tok/s):         100.25    
Median TTFT (ms):                        20.00     
==================================================
`

// Variants of the text formats the fixtures do not show, each written the
// way the tool's print statements (sglang.md §1) produce them.
func TestParseTextVariants(t *testing.T) {
	for name, tc := range map[string]struct {
		tool engine.Tool
		log  string
		want []result.Block
	}{
		"serving under mpirun": {engine.BenchServing, prefixLines(servingBlock, "[1,0]<stdout>:"),
			[]result.Block{{Metrics: m{"completed": 10, "request_throughput": 1.5, "output_throughput": 100.25, "median_ttft_ms": 20}}}},
		"serving after ANSI and a \\r progress bar": {engine.BenchServing,
			"\x1b[32m100%|██████████| 10/10 [00:06<00:00,  1.50it/s]\x1b[0m\r" + strings.TrimPrefix(servingBlock, "\n"),
			[]result.Block{{Metrics: m{"completed": 10, "request_throughput": 1.5, "output_throughput": 100.25, "median_ttft_ms": 20}}}},
		"serving with ANSI inside the block": {engine.BenchServing,
			strings.Replace(servingBlock, "Successful requests:", "\x1b[1mSuccessful requests:\x1b[0m", 1),
			[]result.Block{{Metrics: m{"completed": 10, "request_throughput": 1.5, "output_throughput": 100.25, "median_ttft_ms": 20}}}},
		"serving header with nothing after it": {engine.BenchServing, "============ Serving Benchmark Result ============\nTraceback (most recent call last)\n",
			[]result.Block{{Metrics: m{}}}},
		"serving -1 and -0.00 from a fork": {engine.BenchServing, "============ Serving Benchmark Result ============\nMedian TPOT (ms): -0.00\nMedian ITL (ms): -1\nElapsed time (s): 3\n",
			[]result.Block{{Metrics: m{"median_tpot_ms": 0}}}},
		"offline under mpirun with stderr interleaved": {engine.BenchOfflineThroughput,
			"[1,0]<stdout>:====== Offline Throughput Benchmark Result =======\n[1,0]<stdout>:Backend:  engine\n[1,1]<stderr>:[2025-09-03 14:47:27 TP13] Config file not found\n[1,0]<stdout>:Request throughput (req/s):  12.36\n[1,0]<stdout>:==================================================\n",
			[]result.Block{{Metrics: m{"request_throughput": 12.36}}}},
		"one_batch 2025-04-20 decode format": {engine.BenchOneBatch,
			"Benchmark ...\nPrefill. latency: 0.01788 s, throughput:   3355.60 token/s\nDecode. Batch size: 2, latency: 0.00695 s, throughput:    287.77 token/s\nDecode.  median latency: 0.00689 s, median throughput:    290.28 token/s\nTotal. latency:  0.080 s, throughput:   1750.00 token/s\n",
			[]result.Block{{Key: "bs=2,in=30,out=40", Metrics: m{"prefill_latency": 0.01788, "prefill_throughput": 3355.6, "median_decode_latency": 0.00689, "median_decode_throughput": 290.28, "total_latency": 0.08, "overall_throughput": 1750}}}},
		"one_batch avg era, skipped combination": {engine.BenchOneBatch,
			"Warmup ...\nPrefill. latency: 1.00000 s, throughput:    128.00 token/s\nTotal. latency:  2.000 s, throughput:     68.00 token/s\nBenchmark ...\nskipping (64, 4096, 512) due to max batch size limit\nPrefill. latency: 0.10000 s, throughput:   1280.00 token/s\nDecode.  latency: 0.01000 s, throughput:    100.00 token/s\nDecode.  avg latency: 0.01000 s, avg throughput:    100.00 token/s\nTotal. latency:  0.180 s, throughput:    800.00 token/s\n",
			[]result.Block{{Key: "bs=1,in=128,out=16", Metrics: m{"prefill_latency": 0.1, "prefill_throughput": 1280, "avg_decode_latency": 0.01, "avg_decode_throughput": 100, "total_latency": 0.18, "overall_throughput": 800}}}},
		"one_batch warmup only (crashed in the benchmark)": {engine.BenchOneBatch,
			"Warmup ...\nPrefill. latency: 1.00000 s, throughput:    128.00 token/s\nBenchmark ...\nTraceback (most recent call last):\n", nil},
		"one_batch_server 2025 with warmup banners": {engine.BenchOneBatchServer,
			"======== Warmup Begin ========\nWarmup with batch_size=[1]\nbatch size: 1\ninput_len: 1024\noutput_len: 16\nlatency: 0.50 s\n======== Warmup End   ========\n\nbatch size: 1\ninput_len: 128\noutput_len: 8\nlatency: 0.12 s\ninput throughput: 5000.00 tok/s\noutput throughput: 80.00 tok/s\nlast_ttft: 0.03 s\nlast generation throughput: 85.50 tok/s\n[2025-01-01 TP0] Decode batch. #running-req: 1, gen throughput (token/s): 85.5\nbatch size: 8\ninput_len: 128\noutput_len: 1\nlatency: 0.20 s\ninput throughput: 6000.00 tok/s\nlast generation throughput: -1.00 tok/s\n\nResults are saved to result.jsonl\n",
			[]result.Block{
				{Key: "bs=1,in=128,out=8", Metrics: m{"latency": 0.12, "input_throughput": 5000, "output_throughput": 80, "last_ttft": 0.03, "last_gen_throughput": 85.5}},
				{Key: "bs=8,in=128,out=1", Metrics: m{"latency": 0.2, "input_throughput": 6000}}}},
		"one_batch_server first release": {engine.BenchOneBatchServer,
			"batch size: 16\nlatency: 1.50 s\noutput throughput: 170.67 token/s\n(input + output) throughput: 11093.33 token/s\n",
			[]result.Block{{Key: "bs=16", Metrics: m{"latency": 1.5, "output_throughput": 170.67, "overall_throughput": 11093.33}}}},
	} {
		got, err := ParseText(tc.tool, strings.NewReader(tc.log))
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s:\ngot  %+v\nwant %+v", name, got, tc.want)
		}
	}
}

func prefixLines(s, p string) string {
	lines := strings.Split(strings.TrimPrefix(s, "\n"), "\n")
	for i := range lines {
		if lines[i] != "" {
			lines[i] = p + lines[i]
		}
	}
	return strings.Join(lines, "\n")
}

func TestParseJSONLVariants(t *testing.T) {
	for name, tc := range map[string]struct {
		tool engine.Tool
		in   string
		want []result.Block
	}{
		"serving: NaN, -Infinity, nested details, two runs": {engine.BenchServing,
			`{"backend": "sglang", "request_rate": -Infinity, "duration": NaN, "output_throughput": 10.5, "input_throughput": 1, "server_info": {"tp": 1, "x": [1, {"y": Infinity}]}, "ttfts": [0.1, 0.2], "generated_texts": ["a \"}\" b"], "tag": "t"}
{"output_throughput": 11, "total_throughput": 99}
`,
			[]result.Block{{Metrics: m{"output_throughput": 10.5, "input_throughput": 1, "total_throughput": 11.5}}, {Key: "run=2", Metrics: m{"output_throughput": 11, "total_throughput": 99}}}},
		"one_batch result.jsonl; bench_latency names": {engine.BenchLatency,
			`{"run_name": "before", "batch_size": 1, "input_len": 128, "output_len": 1, "prefill_latency": 0.01, "prefill_throughput": 12800.0, "total_latency": 0.011, "total_throughput": 11727.27}
`,
			[]result.Block{{Key: "bs=1,in=128,out=1", Metrics: m{"prefill_latency": 0.01, "prefill_throughput": 12800, "total_latency": 0.011, "overall_throughput": 11727.27}}}},
		"one_batch_server result.jsonl": {engine.BenchOneBatchServer,
			`{"run_name": "default", "batch_size": 16, "input_len": 1024, "output_len": 16, "latency": 1.2345, "output_throughput": 207.38, "overall_throughput": 13479.96, "last_gen_throughput": -1}
`,
			[]result.Block{{Key: "bs=16,in=1024,out=16", Metrics: m{"latency": 1.2345, "output_throughput": 207.38, "overall_throughput": 13479.96}}}},
		"offline --result-filename": {engine.BenchOfflineThroughput,
			`{"backend": "engine", "successful_requests": 1000, "total_latency": 15.48, "total_input_tokens": 296523, "total_output_tokens": 193000, "request_throughput": 64.6, "input_throughput": 19156.4, "output_throughput": 12467.7, "total_throughput": 31624.1, "last_gen_throughput": 0.0}
`,
			[]result.Block{{Metrics: m{"successful_requests": 1000, "total_latency": 15.48, "total_input_tokens": 296523, "total_output_tokens": 193000, "request_throughput": 64.6, "input_throughput": 19156.4, "output_throughput": 12467.7, "total_throughput": 31624.1, "last_gen_throughput": 0}}}},
		"junk lines and a python dict are skipped": {engine.BenchServing,
			"Namespace(extra_request_body='{\"a\": 1}')\n{'temperature': 0.6}\n  {\"output_throughput\": 3}\n",
			[]result.Block{{Metrics: m{"output_throughput": 3}}}},
	} {
		got, err := ParseJSONL(tc.tool, strings.NewReader(tc.in))
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s:\ngot  %+v\nwant %+v", name, got, tc.want)
		}
	}
}

func TestParseJSONLTruncated(t *testing.T) {
	in := "{\"output_throughput\": 3}\n{\"output_throughput\": 4, \"median_tt"
	got, err := ParseJSONL(engine.BenchServing, strings.NewReader(in))
	if err == nil || !strings.Contains(err.Error(), "result object 2") {
		t.Errorf("err = %v, want one naming object 2", err)
	}
	if len(got) != 1 || got[0].Metrics["output_throughput"] != 3 {
		t.Errorf("the complete first object was lost: %+v", got)
	}
}

func TestUnknownTool(t *testing.T) {
	for _, parse := range []func(engine.Tool, string) error{
		func(tl engine.Tool, s string) error { _, err := ParseText(tl, strings.NewReader(s)); return err },
		func(tl engine.Tool, s string) error { _, err := ParseJSONL(tl, strings.NewReader(s)); return err },
	} {
		if err := parse("bench_nope", "x"); err == nil || !strings.Contains(err.Error(), "bench_serving") {
			t.Errorf("err = %v, want one listing the known tools", err)
		}
	}
}

// A line far longer than any buffer (a progress bar without \n) neither
// breaks the parse nor hides the block after it.
func TestVeryLongLines(t *testing.T) {
	long := strings.Repeat("█", 3<<20)
	for _, tool := range []engine.Tool{engine.BenchServing, engine.BenchOneBatch} {
		log := long + "\n" + servingBlock + long + "\nBenchmark ...\nPrefill. latency: 0.10000 s, throughput:   1280.00 token/s\n" + long
		got, err := ParseText(tool, strings.NewReader(log))
		if err != nil || len(got) != 1 {
			t.Errorf("%s: %d blocks, err %v", tool, len(got), err)
		}
	}
}

// One-batch keys: inferred only when the printed digits leave one answer.
func TestOneBatchKeyInference(t *testing.T) {
	group := func(prefill, decode, total string) string {
		s := "Benchmark ...\nPrefill. latency: " + prefill + " token/s\n"
		if decode != "" {
			s += "Decode.  latency: " + decode + " token/s\n"
		}
		if total != "" {
			s += "Total. latency: " + total + " token/s\n"
		}
		return s
	}
	for _, tc := range []struct{ why, log, key string }{
		{"B from the decode step, I from prefill, O from total",
			group("0.50000 s, throughput:  65536.00", "0.02000 s, throughput:   1600.00", "20.000 s, throughput:   3276.80"), "bs=32,in=1024,out=1024"},
		{"total says O = 0, impossible after decode steps",
			group("0.50000 s, throughput:  65536.00", "0.02000 s, throughput:   1600.00", "10.000 s, throughput:   3276.80"), "group=1"},
		{"no Total line (bench_latency v0): O unknown",
			group("0.019 ms, throughput:  52553.25", "0.009 ms, throughput:    108.23", ""), "group=1"},
		{"digits too coarse to tell",
			group("0.00010 s, throughput:   1000.00", "", "0.000 s, throughput:   1000.00"), "group=1"},
	} {
		got, _ := ParseText(engine.BenchOneBatch, strings.NewReader(tc.log))
		if len(got) != 1 || got[0].Key != tc.key {
			t.Errorf("%s: got %+v, want key %s", tc.why, got, tc.key)
		}
	}
}
