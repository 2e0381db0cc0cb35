package bench

import (
	"fmt"
	"slices"
	"strings"

	"github.com/commitbench/commitbench/internal/engine"
)

// serverFlags are launch_server options a perf command may carry for the
// server's sake. In server mode they move from the client's command line
// to the server's (bench_serving would reject them); true means the flag
// takes a value. Documented in docs/run-bench.md.
var serverFlags = map[string]bool{
	"--trust-remote-code":            false,
	"--dtype":                        true,
	"--quantization":                 true,
	"--kv-cache-dtype":               true,
	"--context-length":               true,
	"--disable-radix-cache":          false,
	"--disable-cuda-graph":           false,
	"--enable-torch-compile":         false,
	"--mem-fraction-static":          true,
	"--chunked-prefill-size":         true,
	"--max-running-requests":         true,
	"--max-prefill-tokens":           true,
	"--schedule-policy":              true,
	"--attention-backend":            true,
	"--sampling-backend":             true,
	"--cuda-graph-max-bs":            true,
	"--load-format":                  true,
	"--lora-paths":                   true,
	"--max-loras-per-batch":          true,
	"--lora-backend":                 true,
	"--enable-lora":                  false,
	"--max-lora-rank":                true,
	"--lora-target-modules":          true,
	"--speculative-algorithm":        true,
	"--speculative-draft-model-path": true,
	"--speculative-num-steps":        true,
	"--speculative-eagle-topk":       true,
	"--speculative-num-draft-tokens": true,
	"--random-seed":                  true,
}

// parallelFlags are dropped from perf commands: the plan's TP/DP decide,
// so that a command saying --tp 16 never runs on 8 GPUs.
var parallelFlags = []string{"--tp", "--tp-size", "--tensor-parallel-size", "--dp", "--dp-size", "--data-parallel-size"}

// command is a perf command split into its parts.
type command struct {
	Env    map[string]string // VAR=value words before the interpreter
	Module string            // "sglang.bench_serving"
	Args   []string          // after the module
}

// splitCommand finds `python -m MODULE` in a tokenized perf command (also
// behind `uv run`, `env`, or VAR=value prefixes).
func splitCommand(argv []string) (command, error) {
	c := command{Env: map[string]string{}}
	i := 0
	for ; i < len(argv); i++ {
		k, v, ok := strings.Cut(argv[i], "=")
		if !ok || strings.HasPrefix(argv[i], "-") || k == "" {
			break
		}
		c.Env[k] = v
	}
	for ; i+1 < len(argv); i++ {
		if argv[i] == "-m" {
			c.Module, c.Args = argv[i+1], slices.Clone(argv[i+2:])
			return c, nil
		}
	}
	return c, fmt.Errorf("no `python -m <module>` in %q", strings.Join(argv, " "))
}

// flagValue returns the value of flag in args (--f v or --f=v).
func flagValue(args []string, flag string) (string, bool) {
	for i, a := range args {
		if a == flag && i+1 < len(args) {
			return args[i+1], true
		}
		if v, ok := strings.CutPrefix(a, flag+"="); ok {
			return v, true
		}
	}
	return "", false
}

// removeFlag drops every occurrence of flag (with its value when
// hasValue) and returns what was removed, in order.
func removeFlag(args []string, flag string, hasValue bool) (kept, removed []string) {
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == flag:
			removed = append(removed, a)
			if hasValue && i+1 < len(args) {
				removed = append(removed, args[i+1])
				i++
			}
		case strings.HasPrefix(a, flag+"="):
			removed = append(removed, a)
		default:
			kept = append(kept, a)
		}
	}
	return kept, removed
}

// serverCommand is launch_server's argv for a case, and the client's args
// with the server's flags taken out.
func serverCommand(model string, tp, dp, port int, lora string, client []string) (server, rest []string) {
	server = []string{"python3", "-m", engine.LaunchServerModule, "--model-path", model,
		"--tp-size", fmt.Sprint(max(tp, 1)), "--host", "0.0.0.0", "--port", fmt.Sprint(port)}
	if dp > 1 {
		server = append(server, "--dp-size", fmt.Sprint(dp))
	}
	rest = client
	for _, f := range parallelFlags {
		rest, _ = removeFlag(rest, f, true)
	}
	flags := make([]string, 0, len(serverFlags))
	for f := range serverFlags {
		flags = append(flags, f)
	}
	slices.Sort(flags)
	hasLoRA := false
	for _, f := range flags {
		var moved []string
		rest, moved = removeFlag(rest, f, serverFlags[f])
		server = append(server, moved...)
		hasLoRA = hasLoRA || f == "--lora-paths" && len(moved) > 0
	}
	// A LoRA case names the adapter on the client (--lora-name); the
	// server must load it under that name.
	if lora != "" && !hasLoRA {
		name, ok := flagValue(rest, "--lora-name")
		if !ok {
			name = "lora0"
		}
		server = append(server, "--lora-paths", name+"="+lora)
	}
	return server, rest
}

// clientArgs points a bench_serving command at the server on 127.0.0.1
// and at a fresh output file.
func clientArgs(args []string, port int, outFile string) []string {
	for _, f := range []string{"--host", "--port", "--base-url", "--output-file"} {
		args, _ = removeFlag(args, f, true)
	}
	return append(args, "--host", "127.0.0.1", "--port", fmt.Sprint(port), "--output-file", outFile)
}

// resultFileFlag is the flag with which a direct tool names its result
// file.
func resultFileFlag(t engine.Tool) string {
	if t == engine.BenchServing {
		return "--output-file"
	}
	return "--result-filename"
}

// directArgs gives a direct or self-serving tool its result file and the
// plan's parallelism.
func directArgs(t engine.Tool, args []string, tp int, outFile string) []string {
	flag := resultFileFlag(t)
	args, _ = removeFlag(args, flag, true)
	for _, f := range parallelFlags {
		args, _ = removeFlag(args, f, true)
	}
	if tp > 1 {
		args = append(args, "--tp-size", fmt.Sprint(tp))
	}
	return append(args, flag, outFile)
}
