package perfcmd

import (
	"reflect"
	"strings"
	"testing"

	"github.com/commitbench/commitbench/internal/engine"
)

// want describes the expected reading of one fixture command: either a tool
// with its facts, or the start of the not-runnable reason.
type want struct {
	tool       engine.Tool
	model      string
	tp, dp     int
	dataset    string
	download   bool
	lora       string
	translated bool
	server     []string
	refused    string
}

// Every perf command in the ISO-Bench export, read by hand.
var fixtureWants = map[string]want{
	"sglang_000_021f76e4": {tool: engine.BenchServing, dataset: "sharegpt", download: true, lora: "lora"},
	"sglang_008_205d5cb4": {tool: engine.BenchServing, dataset: "random", download: true},
	"sglang_009_23c764b1": {tool: engine.BenchServing, dataset: "random", download: true},
	"sglang_010_25c83fff": {refused: "multi-node launch (--nnodes 2)"},
	"sglang_011_25e1816e": {tool: engine.BenchServing, dataset: "sharegpt", download: true},
	"sglang_012_27168308": {tool: engine.BenchOneBatchServer, model: "/dev/shm/DeepSeek-R1"},
	"sglang_016_2bd18e2d": {tool: engine.BenchOneBatchServer, model: "/data/Llama-2-7b-hf"},
	"sglang_018_2f427491": {tool: engine.BenchServing, model: "deepseek-ai/DeepSeek-V3", tp: 16, dataset: "sharegpt", download: true, translated: true, server: []string{"--tp-size", "16"}},
	"sglang_019_31589e17": {tool: engine.BenchServing, model: "/dev/shm/DeepSeek-V3-0324", dataset: "random", download: true},
	"sglang_021_4418f599": {tool: engine.BenchOneBatch, model: "lmsys/sglang-ci-dsv3-test"},
	"sglang_022_5239d795": {tool: engine.BenchServing, model: "deepseek-ai/DeepSeek-V3", dataset: "random", download: true, translated: true},
	"sglang_024_5e023301": {refused: "vLLM benchmark_serving.py flag --batch-size has no sglang.bench_serving equivalent"},
	"sglang_028_6b7038ba": {tool: engine.BenchServing, model: "deepseek-ai/DeepSeek-V3", dataset: "sharegpt", download: true, translated: true},
	"sglang_035_7ce36068": {tool: engine.BenchServing, model: "meta-llama/Llama-3.1-8B-Instruct", dataset: "sharegpt", download: true},
	"sglang_036_86a876d8": {tool: engine.BenchServing, dataset: "random", download: true},
	"sglang_039_912788c0": {tool: engine.BenchServing, model: "Llama4-Maverick-FP8", dataset: "sharegpt", download: true, translated: true},
	"sglang_040_915140fd": {tool: engine.BenchServing, dataset: "random", download: true},
	"sglang_043_93470a14": {tool: engine.BenchServing, model: "meta-llama/Llama-3.1-8B-Instruct", dataset: "sharegpt", download: true, translated: true},
	"sglang_048_a37e1247": {tool: engine.BenchServing, model: "Qwen/Qwen2.5-VL-7B-Instruct", dataset: "mmmu", download: true},
	"sglang_049_a73c4df4": {tool: engine.BenchServing, model: "deepseek-ai/DeepSeek-R1", dataset: "sharegpt", download: true, translated: true},
	"sglang_053_adca585b": {tool: engine.BenchServing, model: "deepseek-ai/DeepSeek-V3", dataset: "sharegpt", download: true, translated: true},
	"sglang_057_bb3a3b66": {tool: engine.BenchServing, model: "llava-hf/llava-1.5-7b-hf", dataset: "sharegpt", download: true, translated: true},
	"sglang_058_bc3f6db2": {tool: engine.BenchServing, dataset: "random", download: true},
	"sglang_060_c2bd094d": {tool: engine.BenchServing, dataset: "random", download: true},
	"sglang_061_c2f212d6": {tool: engine.BenchServing, model: "MiniMax-Text-01", dataset: "random", download: true, translated: true},
	"sglang_063_cd7e32e2": {tool: engine.BenchServing, dataset: "random", download: true},
	"sglang_064_d1112d85": {tool: engine.BenchServing, model: "google/gemma-2-2b", dataset: "sharegpt", download: true, translated: true},
	"sglang_066_dc188132": {tool: engine.BenchOfflineThroughput, model: "meta-llama/Llama-3.1-8B-Instruct", tp: 8, dataset: "random", download: true},
	"sglang_067_dc67d976": {tool: engine.BenchServing, dataset: "sharegpt", download: true},
	"sglang_069_ddcf9fe3": {refused: "benchmark/gsm8k/bench_sglang.py is an accuracy benchmark"},
	"sglang_073_e822e590": {refused: "script benchmark/latency_throughput/bench_throughput.py is not an SGLang benchmark tool"},
	"sglang_075_f0653886": {tool: engine.BenchServing, model: "deepseek-ai/DeepSeek-V3", dataset: "random", download: true, translated: true},
	"sglang_077_f0815419": {refused: "script benchmark/benchmark_batch/benchmark_batch.py is not an SGLang benchmark tool"},
	"sglang_079_ff00895c": {tool: engine.BenchServing, model: "Qwen/Qwen2.5-7B-Instruct", dataset: "random", download: true, translated: true},
}

func TestEveryFixtureCommand(t *testing.T) {
	cmds := fixtureCommands(t)
	if len(cmds) != len(fixtureWants) {
		t.Errorf("fixture has %d commands, table covers %d", len(cmds), len(fixtureWants))
	}
	for id, cmd := range cmds {
		w, ok := fixtureWants[id]
		if !ok {
			t.Errorf("%s: no expectation for %q", id, cmd)
			continue
		}
		c, err := Parse(cmd)
		if w.refused != "" {
			if err == nil || !strings.Contains(err.Error(), w.refused) {
				t.Errorf("%s: err = %v, want refusal %q", id, err, w.refused)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", id, err)
			continue
		}
		f, err := c.Facts()
		if err != nil {
			t.Errorf("%s: facts: %v", id, err)
			continue
		}
		got := want{tool: c.Tool, model: f.Model, tp: f.TP, dp: f.DP, dataset: f.Dataset, download: f.NeedsDownload,
			lora: f.LoRA, translated: c.TranslatedFrom != "", server: f.ServerArgs}
		if len(got.server) == 0 {
			got.server = nil
		}
		if !reflect.DeepEqual(got, w) {
			t.Errorf("%s: %q\n got %+v\nwant %+v", id, cmd, got, w)
		}
		if c.Mode != c.Tool.Mode() {
			t.Errorf("%s: mode %s for tool %s", id, c.Mode, c.Tool)
		}
	}
}

func TestTranslationKeepsMeaning(t *testing.T) {
	c, err := Parse("python benchmarks/benchmark_serving.py --model Qwen/Qwen2.5-7B-Instruct --dataset-name random --random-input-len 256 --random-output-len 256 --save-result")
	if err != nil {
		t.Fatal(err)
	}
	want := "python3 -m sglang.bench_serving --backend sglang --model Qwen/Qwen2.5-7B-Instruct --dataset-name random --random-input-len 256 --random-output-len 256 --random-range-ratio 1"
	if got := Join(c.Args); got != want {
		t.Errorf("translated to\n%s\nwant\n%s", got, want)
	}
	if !strings.Contains(c.TranslatedFrom, "benchmarks/benchmark_serving.py") {
		t.Errorf("translated_from = %q", c.TranslatedFrom)
	}
	c, err = Parse("python benchmarks/benchmark_serving.py --model google/gemma-2-2b --num_prompts 100")
	if err != nil || Join(c.Args) != "python3 -m sglang.bench_serving --backend sglang --model google/gemma-2-2b --num-prompts 100" {
		t.Errorf("underscore flag: %q, %v", c.Args, err)
	}
}

func TestServerFlagsGoToTheServer(t *testing.T) {
	c, err := Parse("python3 -m sglang.bench_serving --num-prompt 10 --tp 2 --trust-remote-code --disable-radix-cache --port 8080")
	if err != nil {
		t.Fatal(err)
	}
	f, err := c.Facts()
	if err != nil {
		t.Fatal(err)
	}
	if f.TP != 2 {
		t.Errorf("tp = %d", f.TP)
	}
	if got := strings.Join(f.ClientArgs, " "); got != "python3 -m sglang.bench_serving --num-prompts 10 --port 8080" {
		t.Errorf("client = %s", got)
	}
	if got := strings.Join(f.ServerArgs, " "); got != "--tp-size 2 --trust-remote-code --disable-radix-cache" {
		t.Errorf("server = %s", got)
	}
}

func TestParseRefusals(t *testing.T) {
	for in, reason := range map[string]string{
		"":                                    "no perf command",
		"   ":                                 "no perf command",
		"python3 -m sglang.bench_serving; rm": "command chaining (;)",
		"python3 -m sglang.bench_serving && python3 -m sglang.bench_serving": "command chaining (&&)",
		"bash run.sh":                              `runs "bash", not python`,
		"python3 -m vllm.entrypoints.api":          "not an SGLang benchmark tool",
		"python3 -m sglang.launch_server":          "measures nothing",
		"python3 -m sglang.bench_nothing":          "not a known SGLang benchmark tool",
		"python3 -m sglang.bench_serving --tp two": "",
		"CUDA_VISIBLE_DEVICES=0":                   "only variable assignments",
		"python3":                                  "no module or script",
		"python3 -m":                               "-m without a module",
	} {
		c, err := Parse(in)
		if reason == "" {
			if err == nil {
				_, err = c.Facts()
			}
			if err == nil || !strings.Contains(err.Error(), "--tp-size") {
				t.Errorf("Parse(%q): want a TP error, got %v", in, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), reason) {
			t.Errorf("Parse(%q) err = %v, want %q", in, err, reason)
		}
	}
}

func TestEnvAssignmentsAndOldToolName(t *testing.T) {
	c, err := Parse("CUDA_VISIBLE_DEVICES=0,1 python3 -m sglang.bench_latency --model-path meta-llama/Llama-2-7b-hf --tp=2 --batch 1")
	if err != nil {
		t.Fatal(err)
	}
	f, _ := c.Facts()
	if c.Tool != engine.BenchLatency || c.Mode != engine.ModeDirect || f.TP != 2 || f.Model != "meta-llama/Llama-2-7b-hf" || len(c.Env) != 1 {
		t.Errorf("got %+v %+v", c, f)
	}
}
