// Package contracttest is run-bench's contract, written once and run
// against every backend: the same scenarios (stand-in variants that
// succeed, fail, hang, lack kernels), run through bench.Run, must yield
// result.json files that pass the same checks. A backend's test file
// supplies a Harness and calls Run; Check is also usable on its own.
package contracttest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/commitbench/commitbench/internal/bench"
	"github.com/commitbench/commitbench/internal/engine"
	"github.com/commitbench/commitbench/internal/failure"
	"github.com/commitbench/commitbench/internal/metrics"
	"github.com/commitbench/commitbench/internal/plan"
	"github.com/commitbench/commitbench/internal/result"
	"github.com/commitbench/commitbench/internal/standin"
)

// Token is the Hub token every run is given: only the model fetch may see
// it, and no file a run writes may contain it.
const Token = "hf_CONTRACTtoken0123456789abcdefSECRET"

// Harness is one backend under test.
type Harness interface {
	// Name is the backend's name, as result.json records it.
	Name() string
	// Image makes a stand-in variant image with cfg whose kernels are
	// labelled as built for archs ("sm_90,sm_90a"), and returns its ref.
	Image(t *testing.T, cfg standin.Config, archs string) string
	// Config is a run of c on this backend: Backend, GPUs, ModelCache,
	// Scope and the like; Run fills the case, images, limits, token and
	// output directory. The harness checks in t.Cleanup that the run left
	// nothing running.
	Config(t *testing.T, c *plan.Case) bench.Config
}

// Want is what one variant must end as.
type Want struct {
	Status   string
	Category failure.Category // for a failed variant
}

// Scenario is one run of the table.
type Scenario struct {
	Name string
	// Case builds the case (ServingCase, DirectCase) with these variants.
	Case     func(variants ...string) *plan.Case
	Variants map[string]standin.Config
	// Archs per variant; default sm_90,sm_90a.
	Archs        map[string]string
	Repetitions  int
	Warmup       int
	StartTimeout time.Duration
	Want         map[string]Want
	// Faster, when set, is a variant made twice as fast as the human one
	// (every delay halved): its median of Metric (in block Key) must be
	// 0.3..0.85 of human's. The band is wide because a shared 2-core
	// machine stretches sleeps; what it checks is that each variant's
	// numbers come from its own image.
	Faster, Key, Metric string
}

var (
	base = standin.Config{StartupMS: 100, TTFTMS: 10, TokenDelayMS: 10, Speed: 1}
	fast = standin.Config{StartupMS: 100, TTFTMS: 10, TokenDelayMS: 10, Speed: 2}
	ok   = Want{Status: result.StatusSuccess}
)

func fails(c failure.Category) Want { return Want{Status: result.StatusFailed, Category: c} }

// Scenarios is the contract's table.
var Scenarios = []Scenario{
	{Name: "server three variants", Case: ServingCase, Repetitions: 3, Warmup: 1,
		Variants: map[string]standin.Config{result.Baseline: base, result.Human: base, result.Agent: fast},
		Want:     map[string]Want{result.Baseline: ok, result.Human: ok, result.Agent: ok},
		Faster:   result.Agent, Metric: "median_e2e_latency_ms"},
	{Name: "direct three variants", Case: DirectCase, Repetitions: 3, Warmup: 1,
		Variants: map[string]standin.Config{result.Baseline: base, result.Human: base, result.Agent: fast},
		Want:     map[string]Want{result.Baseline: ok, result.Human: ok, result.Agent: ok},
		Faster:   result.Agent, Key: "bs=1,in=64,out=24", Metric: "total_latency"},
	{Name: "server OOM at start", Case: ServingCase, Repetitions: 1,
		Variants: map[string]standin.Config{result.Baseline: {StartupMS: 50, Fail: standin.FailOOM, FailIn: "launch_server"}},
		Want:     map[string]Want{result.Baseline: fails(failure.GPUOOM)}},
	{Name: "server hangs", Case: ServingCase, Repetitions: 1, StartTimeout: 2 * time.Second,
		Variants: map[string]standin.Config{result.Baseline: {StartupMS: 50, Fail: standin.FailHang, FailIn: "launch_server"}},
		Want:     map[string]Want{result.Baseline: fails(failure.TimeoutServerStart)}},
	{Name: "benchmark without metrics", Case: ServingCase, Repetitions: 1,
		Variants: map[string]standin.Config{result.Baseline: {StartupMS: 50, Fail: standin.FailNoOutput, FailIn: "bench_serving"}},
		Want:     map[string]Want{result.Baseline: fails(failure.MetricsMissing)}},
	{Name: "direct OOM", Case: DirectCase, Repetitions: 1,
		Variants: map[string]standin.Config{result.Baseline: {StartupMS: 50, Fail: standin.FailOOM}},
		Want:     map[string]Want{result.Baseline: fails(failure.GPUOOM)}},
	{Name: "agent image without sm_90", Case: ServingCase, Repetitions: 1,
		Variants: map[string]standin.Config{result.Baseline: {StartupMS: 50}, result.Agent: {StartupMS: 50}},
		Archs:    map[string]string{result.Agent: "sm_80,sm_86"},
		Want:     map[string]Want{result.Baseline: ok, result.Agent: fails(failure.CUDAArch)}},
}

// Run runs every scenario on h.
func Run(t *testing.T, h Harness) {
	for _, sc := range Scenarios {
		t.Run(sc.Name, func(t *testing.T) { RunScenario(t, h, sc) })
	}
}

// RunScenario runs one scenario on h and checks its result.
func RunScenario(t *testing.T, h Harness, sc Scenario) *result.Result {
	t.Helper()
	var names []string
	images := map[string]string{}
	for _, v := range []string{result.Baseline, result.Human, result.Agent} {
		cfg, ok := sc.Variants[v]
		if !ok {
			continue
		}
		names = append(names, v)
		archs := sc.Archs[v]
		if archs == "" {
			archs = "sm_90,sm_90a"
		}
		if cfg.Speed == 0 {
			cfg.Speed = 1
		}
		images[v] = h.Image(t, cfg, archs)
	}
	c := sc.Case(names...)
	cfg := h.Config(t, c)
	cfg.Case, cfg.Images, cfg.HFToken, cfg.OutDir = c, images, Token, t.TempDir()
	cfg.Repetitions, cfg.Warmup, cfg.GPUSelect = sc.Repetitions, sc.Warmup, "all"
	cfg.ServerStartTimeout, cfg.BenchmarkTimeout = 60*time.Second, 60*time.Second
	if sc.StartTimeout > 0 {
		cfg.ServerStartTimeout = sc.StartTimeout
	}
	if cfg.TelemetryInterval == 0 {
		cfg.TelemetryInterval = 100 * time.Millisecond
	}
	if cfg.Log == nil {
		cfg.Log = LogWriter{t}
	}
	res, err := bench.Run(context.Background(), cfg)
	allOK := true
	for _, w := range sc.Want {
		allOK = allOK && w.Status == result.StatusSuccess
	}
	if allOK != (err == nil) {
		t.Errorf("Run error = %v; want an error exactly when a variant fails", err)
	}
	if res == nil {
		t.Fatalf("Run returned no result: %v", err)
	}
	Check(t, filepath.Join(cfg.OutDir, c.ID), Expect{Backend: h.Name(), Case: c, Repetitions: sc.Repetitions, Warmup: sc.Warmup,
		Variants: sc.Want, Faster: sc.Faster, Key: sc.Key, Metric: sc.Metric})
	return res
}

// LogWriter sends a run's progress lines to the test log.
type LogWriter struct{ T testing.TB }

func (w LogWriter) Write(p []byte) (int, error) {
	w.T.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// RandID is a short random id for cases, runs and scopes.
func RandID() string {
	var b [5]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// ServingCase is a bench_serving case: a small fixed-length random
// workload that the stand-in serves in a fraction of a second.
func ServingCase(variants ...string) *plan.Case {
	return newCase("serving", plan.Bench{Tool: string(engine.BenchServing), Mode: "server", Args: []string{"python3", "-m", "sglang.bench_serving",
		"--backend", "sglang", "--dataset-name", "random", "--num-prompts", "6", "--random-input-len", "32", "--random-output-len", "24",
		"--random-range-ratio", "1", "--trust-remote-code", "--port", "8000"}}, variants)
}

// DirectCase is a bench_one_batch case.
func DirectCase(variants ...string) *plan.Case {
	return newCase("onebatch", plan.Bench{Tool: string(engine.BenchOneBatch), Mode: "direct", Args: []string{"python", "-m", "sglang.bench_one_batch",
		"--model-path", "Qwen/Qwen2.5-0.5B-Instruct", "--batch-size", "1", "--input-len", "64", "--output-len", "24"}}, variants)
}

func newCase(id string, b plan.Bench, variants []string) *plan.Case {
	c := &plan.Case{ID: id + "-" + RandID(), Commit: strings.Repeat("a", 40), Parent: strings.Repeat("b", 40), Model: "Qwen/Qwen2.5-0.5B-Instruct",
		PerfCommand: strings.Join(b.Args, " "), Runnable: true, GPU: plan.GPU{Type: "H100", Count: 1}, TP: 1, Bench: b}
	for _, v := range []string{result.Baseline, result.Human, result.Agent} {
		c.Variants = append(c.Variants, plan.Variant{Name: v, Runnable: slices.Contains(variants, v), Reason: "not in this scenario"})
	}
	return c
}

// requiredMetric is a metric every measured block of tool carries.
func requiredMetric(tool string) []string { return metrics.Required(engine.Tool(tool)) }

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
