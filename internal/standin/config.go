// Package standin is a stand-in for SGLang: one static binary, installed as
// /usr/bin/python3 in a FROM scratch image, that answers the argv run-bench
// gives the real engine (python3 -m sglang.launch_server / bench_serving /
// bench_one_batch, and the model-fetch one-liner). It serves real HTTP,
// measures real latencies, prints SGLang's real output formats and replays
// real failures recorded on an H100, so that every path of run-bench runs
// against the Docker engine on a machine without GPUs. docs/standin.md.
package standin

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"time"
)

// ConfigPath is where build-image's standin mode puts the variant's
// standin.json.
const ConfigPath = "/etc/commitbench-standin.json"

// ConfigEnv, when set, holds JSON merged over the file: a way to change one
// run without rebuilding the image (never set by run-bench).
const ConfigEnv = "COMMITBENCH_STANDIN_CONFIG"

// Failure modes (Config.Fail).
const (
	FailOOM             = "oom"              // the real CUDA OOM traceback, exit 1
	FailUndefinedSymbol = "undefined-symbol" // the real sgl_kernel ImportError, exit 1
	FailNCCL            = "nccl"             // the real DistStoreError, exit 1
	FailCrash           = "crash"            // "Segmentation fault", exit 139
	FailHang            = "hang"             // never ready / never finishes
	FailExit            = "exit-nonzero"     // bench_serving's warmup ValueError, exit 1
	FailNoOutput        = "no-output"        // exit 0, no result block, no result file
)

// Config is standin.json. Times are milliseconds; Speed divides every delay
// so that a variant "made 20 % faster" is {"speed": 1.25}.
type Config struct {
	// StartupMS is the model-load time before the server listens.
	StartupMS float64 `json:"startup_ms"`
	// TTFTMS is the fixed part of a request's prefill time.
	TTFTMS float64 `json:"ttft_ms"`
	// PrefillUSPerToken adds prefill time per input token.
	PrefillUSPerToken float64 `json:"prefill_us_per_token"`
	// TokenDelayMS is the time per decoded token.
	TokenDelayMS float64 `json:"token_delay_ms"`
	Speed        float64 `json:"speed"`
	// Fail selects a failure mode (constants above); "" runs normally.
	Fail string `json:"fail"`
	// FailIn limits Fail to one module ("launch_server", "bench_serving",
	// "bench_one_batch", "fetch", or "import": build-image's import check);
	// "" applies it to every module.
	FailIn string `json:"fail_in"`
	// FailAfterMS is how long a failing process runs before failing.
	FailAfterMS float64 `json:"fail_after_ms"`
}

// Defaults are the values of fields a config leaves out.
func Defaults() Config {
	return Config{StartupMS: 300, TTFTMS: 5, PrefillUSPerToken: 2, TokenDelayMS: 2, Speed: 1}
}

// LoadConfig reads ConfigPath (absent: defaults) and ConfigEnv.
func LoadConfig(getenv func(string) string) (Config, error) {
	c := Defaults()
	data, err := os.ReadFile(ConfigPath)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return c, err
	default:
		if err := decodeStrict(data, &c); err != nil {
			return c, fmt.Errorf("%s: %w", ConfigPath, err)
		}
	}
	if s := getenv(ConfigEnv); s != "" {
		if err := decodeStrict([]byte(s), &c); err != nil {
			return c, fmt.Errorf("%s: %w", ConfigEnv, err)
		}
	}
	return c, c.Validate()
}

// decodeStrict rejects unknown fields: a typo in standin.json must not
// silently run the variant at default speed.
func decodeStrict(data []byte, c *Config) error {
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.DisallowUnknownFields()
	return dec.Decode(c)
}

// Validate checks the values.
func (c Config) Validate() error {
	switch c.Fail {
	case "", FailOOM, FailUndefinedSymbol, FailNCCL, FailCrash, FailHang, FailExit, FailNoOutput:
	default:
		return fmt.Errorf("fail: %q is not a failure mode; use oom, undefined-symbol, nccl, crash, hang, exit-nonzero or no-output", c.Fail)
	}
	switch c.FailIn {
	case "", "launch_server", "bench_serving", "bench_one_batch", "fetch", "import":
	default:
		return fmt.Errorf("fail_in: %q is not a module; use launch_server, bench_serving, bench_one_batch, fetch or import", c.FailIn)
	}
	if c.Speed <= 0 {
		return fmt.Errorf("speed: %v must be > 0 (1 = normal, 1.25 = 20 %% less time)", c.Speed)
	}
	for name, v := range map[string]float64{"startup_ms": c.StartupMS, "ttft_ms": c.TTFTMS,
		"prefill_us_per_token": c.PrefillUSPerToken, "token_delay_ms": c.TokenDelayMS, "fail_after_ms": c.FailAfterMS} {
		if v < 0 {
			return fmt.Errorf("%s: %v must be >= 0", name, v)
		}
	}
	return nil
}

// failsIn reports whether the configured failure applies to module.
func (c Config) failsIn(module string) bool {
	return c.Fail != "" && (c.FailIn == "" || c.FailIn == module)
}

// ms converts a configured delay to a duration, scaled by Speed.
func (c Config) ms(v float64) time.Duration {
	return time.Duration(v / c.Speed * float64(time.Millisecond))
}

// prefill is the time to prefill n input tokens.
func (c Config) prefill(n int) time.Duration {
	return c.ms(c.TTFTMS + c.PrefillUSPerToken*float64(n)/1000)
}
