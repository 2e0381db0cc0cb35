// Package bench runs one case's variants on one GPU allocation and writes
// its result.json: preflight checks before anything starts, the model
// fetched once by the only step that holds the Hub token, the variants
// interleaved round by round, readiness detected from the server's log or
// /health_generate, GPU telemetry per repetition, the result rewritten
// after every repetition, and every container removed at the end or on
// cancellation. The scheme is documented in docs/run-bench.md.
package bench

import (
	"fmt"
	"io"
	"time"

	"github.com/commitbench/commitbench/internal/backend"
	"github.com/commitbench/commitbench/internal/gpu"
	"github.com/commitbench/commitbench/internal/plan"
	"github.com/commitbench/commitbench/internal/result"
)

// Paths inside the containers.
const (
	// CacheTarget is where the model cache is mounted; HF_HOME points
	// here.
	CacheTarget = "/root/.cache/huggingface"
	// outDir is the process's scratch directory (backend.Spec.ScratchDir),
	// where tools write the result files read back after each run.
	outDir = "/commitbench-out"
)

// Config is one run-bench invocation.
type Config struct {
	Case    *plan.Case
	Images  map[string]string // variant → image ref
	Backend backend.Backend
	GPUs    gpu.Source
	// GPUSelect names the devices ("all", "0,1").
	GPUSelect string

	Repetitions int
	Warmup      int
	// Rounds: server mode starts each variant's server once per round;
	// direct mode runs each variant once per round. 0: the default
	// (repetitions, capped at 3 in server mode).
	Rounds int

	ServerStartTimeout time.Duration
	BenchmarkTimeout   time.Duration
	// FetchTimeout bounds the model download (default DefaultFetchTimeout):
	// hundreds of GB can take far longer than a server start.
	FetchTimeout time.Duration
	Port         int
	// ModelCache is a host directory or volume name for the Hub cache.
	ModelCache string
	// HFToken goes to the model-fetch container only.
	HFToken string
	// OutDir is the results root: the result is OutDir/<case>/result.json.
	OutDir string
	RunID  string
	// Scope limits the reaping of earlier runs' leftovers to runs of the
	// same scope (the runner's name).
	Scope string
	// TelemetryInterval is the GPU sampling period (default 1 s).
	TelemetryInterval time.Duration
	// LogCap bounds each saved log (default DefaultLogCap).
	LogCap   int64
	ShmBytes int64

	ToolkitVersion string
	RunURL         string
	Runner         string
	// Redact removes secrets from logs and progress lines.
	Redact func(string) string
	// Log receives progress lines.
	Log io.Writer
}

// DefaultServerStartTimeout grows with the GPU count: more GPUs mean a
// bigger model to load and more processes to bring up.
func DefaultServerStartTimeout(gpus int) time.Duration {
	return 10*time.Minute + time.Duration(max(gpus-1, 0))*2*time.Minute
}

// DefaultBenchmarkTimeout grows with the GPU count for the same reason.
func DefaultBenchmarkTimeout(gpus int) time.Duration {
	return 20*time.Minute + time.Duration(max(gpus-1, 0))*5*time.Minute
}

// DefaultFetchTimeout bounds the model fetch.
const DefaultFetchTimeout = time.Hour

// DefaultRounds is the rounds a run of mode ("server" or "direct") gets
// when it names none: one repetition per round, but at most 3 server
// starts per variant, since each start costs minutes of GPU time.
func DefaultRounds(repetitions int, mode string) int {
	if mode == "server" {
		return min(repetitions, 3)
	}
	return repetitions
}

// defaults fills zero values and checks the rest; errors are the user's.
func (c *Config) defaults() error {
	if c.Case == nil {
		return fmt.Errorf("case: missing")
	}
	if c.Repetitions < 1 {
		return fmt.Errorf("repetitions: %d; give at least 1 (3 or more for a verdict)", c.Repetitions)
	}
	if c.Warmup < 0 {
		return fmt.Errorf("warmup: %d; give 0 or more", c.Warmup)
	}
	if c.Rounds < 0 || c.Rounds > c.Repetitions {
		return fmt.Errorf("rounds: %d; give 1..repetitions (%d), or 0 for the default", c.Rounds, c.Repetitions)
	}
	if c.Rounds == 0 {
		c.Rounds = DefaultRounds(c.Repetitions, c.mode())
	}
	n := max(c.Case.GPU.Count, 1)
	if c.ServerStartTimeout == 0 {
		c.ServerStartTimeout = DefaultServerStartTimeout(n)
	}
	if c.BenchmarkTimeout == 0 {
		c.BenchmarkTimeout = DefaultBenchmarkTimeout(n)
	}
	if c.FetchTimeout == 0 {
		c.FetchTimeout = DefaultFetchTimeout
	}
	if c.Port == 0 {
		c.Port = 30000
	}
	if c.TelemetryInterval == 0 {
		c.TelemetryInterval = time.Second
	}
	if c.LogCap == 0 {
		c.LogCap = DefaultLogCap
	}
	if c.ShmBytes == 0 {
		c.ShmBytes = 32 << 30
	}
	if c.Redact == nil {
		c.Redact = func(s string) string { return s }
	}
	if c.Log == nil {
		c.Log = io.Discard
	}
	if c.RunID == "" || c.OutDir == "" || c.Backend == nil || c.GPUs == nil {
		return fmt.Errorf("run-id, out, backend and the GPU source are required")
	}
	return nil
}

func (c *Config) mode() string { return c.Case.Bench.Mode }

// Variants in the order round 0 runs them.
var variantOrder = []string{result.Baseline, result.Human, result.Agent}

// rotate is round r's order: each round starts one variant later, so
// every variant runs first, middle and last equally often (B,H,A then
// H,A,B then A,B,H).
func rotate(vs []string, r int) []string {
	if len(vs) == 0 {
		return nil
	}
	k := r % len(vs)
	return append(append([]string(nil), vs[k:]...), vs[:k]...)
}

// repsIn is how many measured repetitions round r gets: reps spread over
// rounds, the earlier rounds taking the remainder.
func repsIn(reps, rounds, r int) int {
	n := reps / rounds
	if r < reps%rounds {
		n++
	}
	return n
}
