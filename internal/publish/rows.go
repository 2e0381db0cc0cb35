package publish

import (
	"fmt"
	"math"
	"strings"

	"github.com/commitbench/commitbench/internal/result"
	"github.com/commitbench/commitbench/internal/stats"
	"github.com/commitbench/commitbench/internal/verdict"
)

// RowSchema names the HF rows' layout; it is a column of every row.
const RowSchema = "commitbench.hf/v1"

// Row is one case in the HF dataset. Its first 47 fields are the old
// pipeline's columns (fixtures/isobench/hf-schemas.json,
// sglang_push_row_47col), in their order and with their meaning, so that
// existing readers keep working; nil pointers are JSON nulls. The rest are
// new. Field order is column order; columns.go documents each one.
type Row struct {
	CommitHash    string   `json:"commit_hash"`
	CommitSubject string   `json:"commit_subject"`
	Repo          string   `json:"repo"`
	Model         string   `json:"model"`
	GPUConfig     string   `json:"gpu_config"`
	BenchmarkMode string   `json:"benchmark_mode"`
	PerfCommand   string   `json:"perf_command"`
	Status        string   `json:"status"`
	Error         string   `json:"error"`
	DurationS     *float64 `json:"duration_s"`
	HasAgentPatch bool     `json:"has_agent_patch"`
	InstallMethod string   `json:"install_method"`

	BaselineTTFTMean          *float64 `json:"baseline_ttft_mean"`
	BaselineTTFTMedian        *float64 `json:"baseline_ttft_median"`
	BaselineTPOTMean          *float64 `json:"baseline_tpot_mean"`
	BaselineITLMean           *float64 `json:"baseline_itl_mean"`
	BaselineRequestThroughput *float64 `json:"baseline_request_throughput"`
	BaselineOutputThroughput  *float64 `json:"baseline_output_throughput"`
	HumanTTFTMean             *float64 `json:"human_ttft_mean"`
	HumanTTFTMedian           *float64 `json:"human_ttft_median"`
	HumanTTFTP99              *float64 `json:"human_ttft_p99"`
	HumanTPOTMean             *float64 `json:"human_tpot_mean"`
	HumanTPOTMedian           *float64 `json:"human_tpot_median"`
	HumanTPOTP99              *float64 `json:"human_tpot_p99"`
	HumanITLMean              *float64 `json:"human_itl_mean"`
	HumanITLMedian            *float64 `json:"human_itl_median"`
	HumanITLP99               *float64 `json:"human_itl_p99"`
	HumanRequestThroughput    *float64 `json:"human_request_throughput"`
	HumanOutputThroughput     *float64 `json:"human_output_throughput"`
	HumanInputThroughput      *float64 `json:"human_input_throughput"`
	HumanE2EMean              *float64 `json:"human_e2e_latency_mean"`
	HumanE2EMedian            *float64 `json:"human_e2e_latency_median"`
	AgentTTFTMean             *float64 `json:"agent_ttft_mean"`
	AgentTTFTMedian           *float64 `json:"agent_ttft_median"`
	AgentTPOTMean             *float64 `json:"agent_tpot_mean"`
	AgentITLMean              *float64 `json:"agent_itl_mean"`
	AgentRequestThroughput    *float64 `json:"agent_request_throughput"`
	AgentOutputThroughput     *float64 `json:"agent_output_throughput"`
	HumanImprovementTPOTMean  *float64 `json:"human_improvement_tpot_mean"`
	HumanImprovementTput      *float64 `json:"human_improvement_throughput"`
	AgentImprovementTPOTMean  *float64 `json:"agent_improvement_tpot_mean"`
	AgentImprovementTput      *float64 `json:"agent_improvement_throughput"`
	AgentVsHumanTPOTMean      *float64 `json:"agent_vs_human_tpot_mean"`
	AgentName                 *string  `json:"agent_name"`
	AgentModel                *string  `json:"agent_model"`
	BenchmarkDate             string   `json:"benchmark_date"`
	ParentCommit              string   `json:"parent_commit"`

	Schema         string `json:"schema"`
	CaseID         string `json:"case_id"`
	RunID          string `json:"run_id"`
	RunURL         string `json:"run_url"`
	ToolkitVersion string `json:"toolkit_version"`
	Backend        string `json:"backend"`
	RunStatus      string `json:"run_status"`
	PR             string `json:"pr"`
	Tool           string `json:"tool"`
	TP             int    `json:"tp"`
	DriverVersion  string `json:"driver_version"`
	CUDAVersion    string `json:"cuda_version"`
	PrimaryMetric  string `json:"primary_metric"`
	PrimaryBlock   string `json:"primary_block"`

	Baseline VariantCols `json:"baseline"`
	Human    VariantCols `json:"human"`
	Agent    VariantCols `json:"agent"`

	HumanVsBaseline PairCols `json:"human_vs_baseline"`
	AgentVsBaseline PairCols `json:"agent_vs_baseline"`
	AgentVsHuman    PairCols `json:"agent_vs_human"`

	GSOPass      *bool           `json:"gso_pass"`
	SpeedupRatio *float64        `json:"speedup_ratio"`
	Flags        []verdict.Flag  `json:"flags"`
	Comparisons  []ComparisonCol `json:"comparisons"`
}

// VariantCols is one variant's new columns (a struct column).
type VariantCols struct {
	Status          string    `json:"status"`
	FailureCategory *string   `json:"failure_category"`
	FailureRule     *string   `json:"failure_rule"`
	ImageDigest     string    `json:"image_digest"`
	N               int       `json:"n"`
	Median          *float64  `json:"median"`
	CILow           *float64  `json:"ci_low"`
	CIHigh          *float64  `json:"ci_high"`
	Values          []float64 `json:"values"`
}

// PairCols is one headline comparison's new columns.
type PairCols struct {
	Speedup   *float64 `json:"speedup"`
	DeltaLow  *float64 `json:"delta_low"`
	DeltaHigh *float64 `json:"delta_high"`
	PValue    *float64 `json:"p_value"`
	Verdict   string   `json:"verdict"`
	NeedReps  int      `json:"need_reps"`
}

// ComparisonCol is every primary metric's comparison, not only the headline.
type ComparisonCol struct {
	Block     string   `json:"block"`
	Metric    string   `json:"metric"`
	From      string   `json:"from"`
	To        string   `json:"to"`
	Ratio     *float64 `json:"ratio"`
	Speedup   *float64 `json:"speedup"`
	DeltaLow  *float64 `json:"delta_low"`
	DeltaHigh *float64 `json:"delta_high"`
	PValue    *float64 `json:"p_value"`
	Verdict   string   `json:"verdict"`
}

// f is a nullable float: NaN and ±Inf are null (JSON has neither).
func f(x float64) *float64 {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return nil
	}
	return &x
}

// s is a nullable string: null, not "", when nothing was given.
func s(x string) *string {
	if x == "" {
		return nil
	}
	return &x
}

// NewRow maps one result and its summary to a row.
func NewRow(r *result.Result, c *verdict.Case, runID, runURL, version string) Row {
	row := Row{
		CommitHash: r.Case.Commit, CommitSubject: r.Case.Subject, Repo: r.Case.Repo, Model: r.Case.Model,
		GPUConfig: gpuConfig(r.Case), BenchmarkMode: benchmarkMode(r.Case), PerfCommand: r.Case.PerfCommand,
		Status: oldStatus(c), Error: c.ErrorText(), InstallMethod: "docker",
		BenchmarkDate: r.Started.UTC().Format("2006-01-02"), ParentCommit: r.Case.Parent,
		Schema: RowSchema, CaseID: r.Case.ID, RunID: first(runID, r.RunID), RunURL: first(runURL, r.RunURL),
		ToolkitVersion: first(version, r.ToolkitVersion), Backend: r.Backend, RunStatus: r.Status, PR: r.Case.PR,
		Tool: r.Case.Tool, TP: r.Case.TP, DriverVersion: r.Host.DriverVersion, CUDAVersion: r.Host.CUDAVersion,
		PrimaryMetric: c.Metric, PrimaryBlock: c.Key, Flags: c.Flags,
	}
	if row.Repo == "" {
		row.Repo = "sgl-project/sglang" // the old column's constant
	}
	if r.Finished != nil {
		row.DurationS = f(r.Finished.Sub(r.Started).Seconds())
	}
	if a := r.Variant(result.Agent); a != nil {
		row.HasAgentPatch = a.Status != result.StatusNotRun
		row.AgentName, row.AgentModel = s(a.AgentName), s(a.AgentModel)
	}
	key := c.Key
	m := func(variant, metric string) *float64 {
		v := r.Variant(variant)
		if v == nil || v.Status != result.StatusSuccess {
			return nil
		}
		vals := v.Values(key, metric)
		if len(vals) == 0 {
			return nil
		}
		return f(stats.Median(vals))
	}
	row.BaselineTTFTMean, row.BaselineTTFTMedian = m("baseline", "mean_ttft_ms"), m("baseline", "median_ttft_ms")
	row.BaselineTPOTMean, row.BaselineITLMean = m("baseline", "mean_tpot_ms"), m("baseline", "mean_itl_ms")
	row.BaselineRequestThroughput, row.BaselineOutputThroughput = m("baseline", "request_throughput"), m("baseline", "output_throughput")
	row.HumanTTFTMean, row.HumanTTFTMedian, row.HumanTTFTP99 = m("human", "mean_ttft_ms"), m("human", "median_ttft_ms"), m("human", "p99_ttft_ms")
	row.HumanTPOTMean, row.HumanTPOTMedian, row.HumanTPOTP99 = m("human", "mean_tpot_ms"), m("human", "median_tpot_ms"), m("human", "p99_tpot_ms")
	row.HumanITLMean, row.HumanITLMedian, row.HumanITLP99 = m("human", "mean_itl_ms"), m("human", "median_itl_ms"), m("human", "p99_itl_ms")
	row.HumanRequestThroughput, row.HumanOutputThroughput = m("human", "request_throughput"), m("human", "output_throughput")
	row.HumanInputThroughput = m("human", "input_throughput")
	row.HumanE2EMean, row.HumanE2EMedian = m("human", "mean_e2e_latency_ms"), m("human", "median_e2e_latency_ms")
	row.AgentTTFTMean, row.AgentTTFTMedian = m("agent", "mean_ttft_ms"), m("agent", "median_ttft_ms")
	row.AgentTPOTMean, row.AgentITLMean = m("agent", "mean_tpot_ms"), m("agent", "mean_itl_ms")
	row.AgentRequestThroughput, row.AgentOutputThroughput = m("agent", "request_throughput"), m("agent", "output_throughput")
	// The old improvement columns: percent, + = better (lower TPOT, higher
	// request throughput), from medians over repetitions.
	row.HumanImprovementTPOTMean = improve(row.BaselineTPOTMean, row.HumanTPOTMean, true)
	row.HumanImprovementTput = improve(row.BaselineRequestThroughput, row.HumanRequestThroughput, false)
	row.AgentImprovementTPOTMean = improve(row.BaselineTPOTMean, row.AgentTPOTMean, true)
	row.AgentImprovementTput = improve(row.BaselineRequestThroughput, row.AgentRequestThroughput, false)
	row.AgentVsHumanTPOTMean = improve(row.HumanTPOTMean, row.AgentTPOTMean, true)

	row.Baseline = variantCols(r, c, result.Baseline)
	row.Human = variantCols(r, c, result.Human)
	row.Agent = variantCols(r, c, result.Agent)
	row.HumanVsBaseline = pairCols(c, verdict.HumanVsBaseline)
	row.AgentVsBaseline = pairCols(c, verdict.AgentVsBaseline)
	row.AgentVsHuman = pairCols(c, verdict.AgentVsHuman)
	if pass, ok := c.GSO(); ok {
		row.GSOPass = &pass
	}
	if _, _, ratio := c.Speedups(); ratio > 0 {
		row.SpeedupRatio = f(ratio)
	}
	if row.Flags == nil {
		row.Flags = []verdict.Flag{}
	}
	row.Comparisons = []ComparisonCol{}
	for _, x := range c.Comparisons {
		col := ComparisonCol{Block: x.Key, Metric: x.Metric, From: x.From, To: x.To, Verdict: string(x.Class)}
		if x.Valid() {
			col.Ratio, col.Speedup, col.PValue = f(x.Ratio), f(x.Speedup), f(x.P)
			if x.HasInterval {
				col.DeltaLow, col.DeltaHigh = f(x.DeltaLo), f(x.DeltaHi)
			}
		}
		row.Comparisons = append(row.Comparisons, col)
	}
	return row
}

func first(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func improve(from, to *float64, lower bool) *float64 {
	if from == nil || to == nil || *from == 0 {
		return nil
	}
	if lower {
		return f((*from - *to) / *from * 100)
	}
	return f((*to - *from) / *from * 100)
}

func variantCols(r *result.Result, c *verdict.Case, name string) VariantCols {
	vs := c.Variant(name)
	out := VariantCols{Status: vs.Status, N: vs.N, Values: []float64{}}
	if v := r.Variant(name); v != nil {
		out.ImageDigest = v.ImageDigest
	}
	if vs.Broken() {
		out.FailureCategory = s(string(vs.Category()))
		if vs.Failure != nil {
			out.FailureRule = s(vs.Failure.Rule)
		}
	}
	if st := vs.Stat(c.Key, c.Metric); st != nil {
		out.Median, out.Values = f(st.Median), st.Values
		if st.CI != nil {
			out.CILow, out.CIHigh = f(st.CI[0]), f(st.CI[1])
		}
	}
	return out
}

func pairCols(c *verdict.Case, p verdict.Pair) PairCols {
	out := PairCols{Verdict: string(c.Class(p))}
	if h := c.Headline(p); h.Valid() {
		out.Speedup, out.PValue, out.NeedReps = f(h.Speedup), f(h.P), h.NeedReps
		if h.HasInterval {
			out.DeltaLow, out.DeltaHigh = f(h.DeltaLo), f(h.DeltaHi)
		}
	}
	return out
}

// oldStatus keeps the old column's values: success, baseline_failed (the
// commit ran but its parent did not), error.
func oldStatus(c *verdict.Case) string {
	switch {
	case c.Successful():
		return "success"
	case c.Variant(result.Baseline).Broken() && c.Variant(result.Human).Measured():
		return "baseline_failed"
	}
	return "error"
}

func gpuConfig(k result.Case) string {
	t := k.GPUType
	if t == "" {
		t = "H100"
	}
	return fmt.Sprintf("%s:%d", t, max(k.GPUCount, 1))
}

// benchmarkMode follows the old derivation from the perf command.
func benchmarkMode(k result.Case) string {
	cmd := k.PerfCommand
	if cmd == "" {
		cmd = k.Tool
	}
	switch {
	case cmd == "":
		return "unknown"
	case strings.Contains(cmd, "bench_serving"):
		return "serving"
	case strings.Contains(cmd, "bench_one_batch"), strings.Contains(cmd, "bench_latency"):
		return "standalone"
	case strings.Contains(cmd, "bench_offline"):
		return "offline"
	}
	return "serving"
}
