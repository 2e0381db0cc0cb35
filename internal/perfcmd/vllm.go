package perfcmd

import (
	"fmt"
	"strings"

	"github.com/commitbench/commitbench/internal/engine"
)

// vLLM's benchmarks/benchmark_serving.py flags that mean the same thing to
// sglang.bench_serving. Only these translate; any other flag refuses the
// translation, because a silently dropped flag changes what is measured.
var vllmSame = words(`--model --tokenizer --num-prompts --dataset-path --request-rate --max-concurrency --seed
	--random-input-len --random-output-len --sharegpt-output-len --host --port --base-url --disable-tqdm`)

// Flags that only steer where vLLM's script saves results; commitbench sets
// its own --output-file, so dropping them changes nothing measured.
var vllmDropped = words(`--save-result --result-dir --result-filename --metadata --trust-remote-code`)

// Parallelism flags are server settings: they size the GPUs and go to the
// server we launch, not to the client.
var vllmServer = words(`--tp --tp-size --tensor-parallel-size --dp --dp-size`)

func (c *Command) translateVLLM(flags []string, orig string) (*Command, error) {
	out := []string{"python3", "-m", "sglang.bench_serving", "--backend", "sglang"}
	known := vllmKnown
	sawRandom, sawRatio := false, false
	for i := 0; i < len(flags); i++ {
		f := flags[i]
		if !strings.HasPrefix(f, "-") {
			return nil, notRunnable("vLLM benchmark_serving.py argument %q cannot be translated to sglang.bench_serving", f)
		}
		key, val, hasEq := strings.Cut(f, "=")
		key = strings.ReplaceAll(key, "_", "-")
		full, ok := resolve(key, known)
		if !ok {
			return nil, notRunnable("vLLM benchmark_serving.py flag %s has no sglang.bench_serving equivalent; rewrite the perf command for sglang.bench_serving", key)
		}
		if !hasEq && i+1 < len(flags) && !isFlag(flags[i+1]) {
			i++
			val = flags[i]
			hasEq = true
		}
		switch {
		case contains(vllmServer, full):
			name := "--tp-size"
			if strings.HasPrefix(full, "--dp") {
				name = "--dp-size"
			}
			c.serverHints = append(c.serverHints, name, val)
		case contains(vllmDropped, full):
			c.Notes = append(c.Notes, fmt.Sprintf("dropped %s (vLLM result saving)", full))
		case full == "--backend", full == "--endpoint":
			// The server is SGLang's; its native backend replaces vLLM's.
		case full == "--dataset-name":
			if val != "sharegpt" && val != "random" {
				return nil, notRunnable("vLLM dataset %q has no sglang.bench_serving equivalent", val)
			}
			sawRandom = val == "random"
			out = append(out, full, val)
		case full == "--random-range-ratio":
			sawRatio = true
			return nil, notRunnable("vLLM's --random-range-ratio means a different length range in each vLLM version; give the sglang.bench_serving command instead")
		default:
			if hasEq {
				out = append(out, full, val)
			} else {
				out = append(out, full)
			}
		}
	}
	if sawRandom && !sawRatio {
		// Both vLLM eras draw exactly the requested lengths by default;
		// sglang's default 0.0 would draw uniformly from [1, len].
		out = append(out, "--random-range-ratio", "1")
	}
	c.Tool, c.Mode = engine.BenchServing, engine.ModeServer
	c.Args = out
	c.Flags = out[3:]
	c.TranslatedFrom = orig
	return c, nil
}

var vllmKnown = merge(merge(vllmSame, vllmDropped), merge(vllmServer, words(`--backend --dataset-name --random-range-ratio --endpoint`)))

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
