package perfcmd

import (
	"sort"
	"strings"

	"github.com/commitbench/commitbench/internal/engine"
)

// Known long flags per tool, so that argparse's prefix abbreviations in
// real commands ("--num-prompt", "--random-input", "--tp") resolve the way
// the engine resolves them. The lists cover SGLang 2024-09 .. 2025-12.
var (
	servingFlags = words(`--backend --base-url --host --port --dataset-name --dataset-path --model --tokenizer
		--num-prompts --sharegpt-output-len --sharegpt-context-len --random-input-len --random-output-len
		--random-range-ratio --request-rate --max-concurrency --output-file --output-details --disable-tqdm
		--disable-stream --return-logprob --seed --disable-ignore-eos --extra-request-body --apply-chat-template
		--profile --lora-name --prompt-suffix --pd-separated --flush-cache --warmup-requests --tokenize-prompt
		--gsp-num-groups --gsp-prompts-per-group --gsp-system-prompt-len --gsp-question-len --gsp-output-len
		--tag --multi --plot-throughput --mooncake-slowdown-factor --mooncake-num-rounds`)
	serverFlags = words(`--model-path --tokenizer-path --tokenizer-mode --host --port --tp-size --tensor-parallel-size
		--dp-size --data-parallel-size --pp-size --ep-size --trust-remote-code --dtype --quantization --context-length
		--mem-fraction-static --disable-radix-cache --lora-paths --max-loras-per-batch --lora-backend --attention-backend
		--enable-torch-compile --cuda-graph-max-bs --disable-cuda-graph --disable-overlap-schedule --enable-dp-attention
		--enable-dp-lm-head --chunked-prefill-size --max-running-requests --max-total-tokens --kv-cache-dtype
		--load-format --random-seed --nnodes --node-rank --dist-init-addr --speculative-algorithm
		--speculative-draft-model-path --speculative-num-steps --speculative-eagle-topk --speculative-num-draft-tokens
		--enable-mixed-chunk --schedule-policy --schedule-conservativeness --stream-interval --log-level
		--enable-metrics --served-model-name --chat-template --revision --skip-server-warmup --enable-ep-moe
		--moe-dense-tp-size --deepep-mode --enable-deepep-moe --device --grammar-backend --sampling-backend
		--torch-compile-max-bs --cuda-graph-bs --disable-custom-all-reduce --enable-nan-detection
		--triton-attention-reduce-in-fp32 --num-continuous-decode-steps --watchdog-timeout --tool-call-parser
		--reasoning-parser --is-embedding --enable-lora --max-lora-rank --lora-target-modules`)
	oneBatchFlags = words(`--run-name --batch-size --input-len --output-len --result-filename --correctness-test
		--cut-len --log-decode-step --profile --profile-filename-prefix`)
	offlineFlags = words(`--backend --result-filename --dataset-name --dataset-path --num-prompts --sharegpt-output-len
		--sharegpt-context-len --random-input-len --random-output-len --random-range-ratio --gsp-num-groups
		--gsp-prompts-per-group --gsp-system-prompt-len --gsp-question-len --gsp-output-len --seed --skip-warmup
		--do-not-exit --profile --disable-ignore-eos --extra-request-body --apply-chat-template --prompt-suffix`)
	oneBatchServerFlags = words(`--run-name --batch-size --input-len --output-len --result-filename --base-url
		--skip-warmup --show-report --profile --return-logprob`)
)

func words(s string) []string {
	w := strings.Fields(s)
	sort.Strings(w)
	return w
}

// knownWithServer is each tool's flags plus the server's, computed once:
// Facts runs for every case of a plan, and a plan can hold ten thousand.
var knownWithServer = map[engine.Tool][]string{}

func init() {
	for _, t := range engine.Tools() {
		knownWithServer[t] = merge(toolFlags(t), serverFlags)
	}
}

func toolFlags(t engine.Tool) []string {
	switch t {
	case engine.BenchServing:
		return servingFlags
	case engine.BenchOneBatch, engine.BenchLatency:
		return merge(serverFlags, oneBatchFlags)
	case engine.BenchOfflineThroughput:
		return merge(serverFlags, offlineFlags)
	case engine.BenchOneBatchServer:
		return merge(serverFlags, oneBatchServerFlags)
	}
	return nil
}

func merge(a, b []string) []string {
	set := map[string]bool{}
	for _, x := range append(append([]string{}, a...), b...) {
		set[x] = true
	}
	out := make([]string, 0, len(set))
	for x := range set {
		out = append(out, x)
	}
	sort.Strings(out)
	return out
}

// resolve expands an argparse abbreviation against known: an exact match
// wins, else the unique flag with that prefix. ok is false when the flag is
// unknown or ambiguous; argparse itself would reject it then.
func resolve(flag string, known []string) (string, bool) {
	i := sort.SearchStrings(known, flag)
	if i < len(known) && known[i] == flag {
		return flag, true
	}
	var match string
	for j := i; j < len(known) && strings.HasPrefix(known[j], flag); j++ {
		if match != "" {
			return "", false
		}
		match = known[j]
	}
	return match, match != ""
}
