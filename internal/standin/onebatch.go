package standin

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
)

// benchOneBatch plays `python3 -m sglang.bench_one_batch`: no server; one
// warm-up, then for every (batch, input, output) combination the Prefill,
// Decode i, median and Total lines of the format in use since 2025-04-27,
// and one JSON line per combination in --result-filename (default
// result.jsonl, relative to the working directory, as upstream).
func benchOneBatch(ctx context.Context, cfg Config, e Env, args []string) int {
	f := parseFlags(args, "trust-remote-code", "disable-cuda-graph", "disable-radix-cache", "enable-torch-compile", "correctness-test", "profile")
	bs, err := f.ints("batch-size", 1)
	var ins, outs []int
	if err == nil {
		ins, err = f.ints("input-len", 1024)
	}
	if err == nil {
		outs, err = f.ints("output-len", 16)
	}
	if err != nil {
		fmt.Fprintf(e.Stderr, "bench_one_batch.py: error: %v\n", err)
		return 2
	}
	model := f.str("model-path", f.str("model", ""))
	if model == "" {
		fmt.Fprintln(e.Stderr, "bench_one_batch.py: error: the following arguments are required: --model-path")
		return 2
	}
	if code, ok := checkModel(e, model); !ok {
		return code
	}
	if code, ok := failNow(ctx, cfg, e, "bench_one_batch"); ok {
		return code
	}
	if !sleep(ctx, cfg.ms(cfg.StartupMS)) {
		return 143
	}
	fmt.Fprintln(e.Stdout, "max_total_num_tokens=413917")
	if cfg.failsIn("bench_one_batch") && cfg.Fail == FailNoOutput {
		return 0
	}
	fmt.Fprintln(e.Stdout, "Warmup ...")
	if _, ok := oneBatch(ctx, cfg, e.Stdout, bs[0], ins[0], min(outs[0], 32)); !ok {
		return 143
	}
	fmt.Fprintln(e.Stdout, "Benchmark ...")
	var lines []string
	for _, b := range bs {
		for _, il := range ins {
			for _, ol := range outs {
				r, ok := oneBatch(ctx, cfg, e.Stdout, b, il, ol)
				if !ok {
					return 143
				}
				r.runName = f.str("run-name", "default")
				lines = append(lines, r.json())
			}
		}
	}
	name := f.str("result-filename", "result.jsonl")
	if err := appendFile(name, strings.Join(lines, "\n")+"\n"); err != nil {
		fmt.Fprintf(e.Stderr, "FileNotFoundError: [Errno 2] No such file or directory: '%s'\n", name)
		return 1
	}
	return 0
}

type batchResult struct {
	runName                     string
	bs, il, ol                  int
	prefillLat, prefillTput     float64
	medDecodeLat, medDecodeTput float64
	hasMed                      bool
	totalLat, overallTput       float64
}

// oneBatch times one prefill and ol-1 decode steps by really sleeping
// through them, and prints what bench_one_batch prints.
func oneBatch(ctx context.Context, cfg Config, w io.Writer, bs, il, ol int) (batchResult, bool) {
	r := batchResult{bs: bs, il: il, ol: ol}
	t0 := time.Now()
	if !sleep(ctx, cfg.prefill(bs*il)) {
		return r, false
	}
	r.prefillLat = time.Since(t0).Seconds()
	r.prefillTput = float64(bs*il) / r.prefillLat
	fmt.Fprintf(w, "Prefill. latency: %6.5f s, throughput: %9.2f token/s\n", r.prefillLat, r.prefillTput)
	var decode []float64
	for i := 0; i < ol-1; i++ {
		t := time.Now()
		if !sleep(ctx, cfg.ms(cfg.TokenDelayMS)) {
			return r, false
		}
		lat := time.Since(t).Seconds()
		decode = append(decode, lat)
		if i < 5 {
			fmt.Fprintf(w, "Decode %d. Batch size: %d, latency: %6.5f s, throughput: %9.2f token/s\n", i, bs, lat, float64(bs)/lat)
		}
	}
	if ol > 1 {
		slices.Sort(decode)
		r.medDecodeLat = percentile(decode, 50)
		r.medDecodeTput = float64(bs) / r.medDecodeLat
		r.hasMed = true
		fmt.Fprintf(w, "Decode.  median latency: %6.5f s, median throughput: %9.2f token/s\n", r.medDecodeLat, r.medDecodeTput)
	}
	r.totalLat = time.Since(t0).Seconds()
	r.overallTput = float64(bs*(il+ol)) / r.totalLat
	fmt.Fprintf(w, "Total. latency: %6.3f s, throughput: %9.2f token/s\n", r.totalLat, r.overallTput)
	return r, true
}

// json is one result.jsonl line; the median keys are absent when
// output_len == 1, as upstream.
func (r batchResult) json() string {
	s := fmt.Sprintf(`{"run_name": %q, "batch_size": %d, "input_len": %d, "output_len": %d, "prefill_latency": %s, "prefill_throughput": %s`,
		r.runName, r.bs, r.il, r.ol, pyFloat(r.prefillLat), pyFloat(r.prefillTput))
	if r.hasMed {
		s += fmt.Sprintf(`, "median_decode_latency": %s, "median_decode_throughput": %s`, pyFloat(r.medDecodeLat), pyFloat(r.medDecodeTput))
	}
	return s + fmt.Sprintf(`, "total_latency": %s, "overall_throughput": %s}`, pyFloat(r.totalLat), pyFloat(r.overallTput))
}
