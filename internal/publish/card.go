package publish

import (
	"fmt"
	"strings"
)

// column documents one top-level column of Row for the dataset card.
// TestCardMatchesRow keeps this list and Row in step.
type column struct{ name, dtype, about string }

var oldColumns = []column{
	{"commit_hash", "string", "full SHA of the commit under test (the human variant)"},
	{"commit_subject", "string", "its subject line"},
	{"repo", "string", "engine repository (sgl-project/sglang)"},
	{"model", "string", "model served"},
	{"gpu_config", "string", "GPU type and count, e.g. H100:1"},
	{"benchmark_mode", "string", "serving, standalone, offline or unknown (from the perf command)"},
	{"perf_command", "string", "the benchmark command"},
	{"status", "string", "success (every planned variant measured), baseline_failed, or error"},
	{"error", "string", "failed variants with category and root cause, or empty"},
	{"duration_s", "float64?", "wall time of the run"},
	{"has_agent_patch", "bool", "an agent variant was planned"},
	{"install_method", "string", "always docker: each variant is an image built from its own tree"},
	{"baseline_ttft_mean", "float64?", "median over repetitions of mean_ttft_ms (ms)"},
	{"baseline_ttft_median", "float64?", "median over repetitions of median_ttft_ms (ms)"},
	{"baseline_tpot_mean", "float64?", "… of mean_tpot_ms (ms)"},
	{"baseline_itl_mean", "float64?", "… of mean_itl_ms (ms)"},
	{"baseline_request_throughput", "float64?", "… of request_throughput (req/s)"},
	{"baseline_output_throughput", "float64?", "… of output_throughput (tok/s)"},
	{"human_ttft_mean", "float64?", "as baseline_*, for the commit"},
	{"human_ttft_median", "float64?", ""},
	{"human_ttft_p99", "float64?", "… of p99_ttft_ms"},
	{"human_tpot_mean", "float64?", ""},
	{"human_tpot_median", "float64?", "… of median_tpot_ms"},
	{"human_tpot_p99", "float64?", "… of p99_tpot_ms"},
	{"human_itl_mean", "float64?", ""},
	{"human_itl_median", "float64?", "… of median_itl_ms"},
	{"human_itl_p99", "float64?", "… of p99_itl_ms"},
	{"human_request_throughput", "float64?", ""},
	{"human_output_throughput", "float64?", ""},
	{"human_input_throughput", "float64?", "… of input_throughput (tok/s)"},
	{"human_e2e_latency_mean", "float64?", "… of mean_e2e_latency_ms"},
	{"human_e2e_latency_median", "float64?", "… of median_e2e_latency_ms"},
	{"agent_ttft_mean", "float64?", "as baseline_*, for the agent's patch"},
	{"agent_ttft_median", "float64?", ""},
	{"agent_tpot_mean", "float64?", ""},
	{"agent_itl_mean", "float64?", ""},
	{"agent_request_throughput", "float64?", ""},
	{"agent_output_throughput", "float64?", ""},
	{"human_improvement_tpot_mean", "float64?", "% improvement of human over baseline in mean TPOT (+ = better)"},
	{"human_improvement_throughput", "float64?", "% improvement in request throughput (+ = better)"},
	{"agent_improvement_tpot_mean", "float64?", "% improvement of agent over baseline in mean TPOT"},
	{"agent_improvement_throughput", "float64?", "% improvement of agent over baseline in request throughput"},
	{"agent_vs_human_tpot_mean", "float64?", "% improvement of agent over human in mean TPOT"},
	{"agent_name", "string?", "who wrote the agent patch (the case's or the plan's agent_name); null when not given"},
	{"agent_model", "string?", "the agent's model (agent_model); null when not given"},
	{"benchmark_date", "string", "UTC date the run started, YYYY-MM-DD"},
	{"parent_commit", "string", "full SHA of the baseline (the parent commit)"},
}

var newColumns = []column{
	{"schema", "string", "row layout version, " + RowSchema},
	{"case_id", "string", "the case id from the plan"},
	{"run_id", "string", "workflow run id; the file data/<run_id>.jsonl holds the run's rows"},
	{"run_url", "string", "link to the workflow run"},
	{"toolkit_version", "string", "commitbench version"},
	{"backend", "string", "docker or modal"},
	{"run_status", "string", "complete, cancelled or running (written before the end)"},
	{"pr", "string", "engine PR number, when known"},
	{"tool", "string", "benchmark tool (bench_serving, bench_one_batch, …)"},
	{"tp", "int", "tensor parallelism"},
	{"driver_version", "string", "NVIDIA driver"},
	{"cuda_version", "string", "CUDA version"},
	{"primary_metric", "string", "the headline metric the verdicts use (empty when none was measured)"},
	{"primary_block", "string", "its result-block key (bench_one_batch: bs=…,in=…,out=…)"},
	{"baseline", "struct", "status, failure_category, failure_rule, image_digest, n (measured repetitions), median, ci_low/ci_high (exact 95 % CI of the median; null below 6 repetitions), values (every repetition, run order) of the headline metric"},
	{"human", "struct", "as baseline"},
	{"agent", "struct", "as baseline"},
	{"human_vs_baseline", "struct", "speedup (+ = better orientation), delta_low/delta_high (95 % CI of speedup−1), p_value (Mann–Whitney), verdict (Beats, Similar, Worse, Inconclusive, Failed, n/a), need_reps"},
	{"agent_vs_baseline", "struct", "as human_vs_baseline"},
	{"agent_vs_human", "struct", "as human_vs_baseline"},
	{"gso_pass", "bool?", "GSO's rule: agent ≥ 1.2× over baseline and ≥ 0.95× of human"},
	{"speedup_ratio", "float64?", "agent speedup / human speedup over baseline; a failed agent counts as 1.0×"},
	{"flags", "list<struct>", "kind (incomplete, generic, throttled, drift) and text"},
	{"comparisons", "list<struct>", "every primary metric × pair: block, metric, from, to, ratio, speedup, delta_low, delta_high, p_value, verdict"},
}

// Card is the dataset card (README.md) written with the first commit.
func Card(repoID string) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, `---
configs:
- config_name: default
  data_files:
  - split: train
    path: data/*.jsonl
tags:
- benchmark
- llm-serving
- performance
---

# %s

Benchmark results of LLM serving engine commits, published by
[commitbench](https://github.com/commitbench/commitbench). Each workflow run
writes one file, `+"`data/<run_id>.jsonl`"+`, one row per case; re-publishing a run
replaces its file.

Each case measures three variants on the same GPU, interleaved: **baseline**
(the parent commit), **human** (the commit), **agent** (the parent plus an
agent's patch). Verdicts are decided on exact 95 %% intervals (see the
toolkit's docs/statistics.md).

The first 47 columns are those of the earlier ISO-Bench SGLang dataset,
with the same meaning, so existing readers keep working; metrics there are
medians over repetitions. Null means not measured.

## Columns

| column | type | meaning |
|---|---|---|
`, repoID)
	for _, c := range append(append([]column(nil), oldColumns...), newColumns...) {
		about := c.about
		if about == "" {
			about = "…"
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s |\n", c.name, c.dtype, strings.ReplaceAll(about, "|", `\|`))
	}
	b.WriteString("\n`?` marks a nullable column.\n")
	return []byte(b.String())
}
