package gpusize

import (
	"regexp"
	"strconv"
	"strings"
)

// builtin holds parameters × bytes per parameter for models that appear in
// the cases we benchmark. Sizes are the published parameter counts; FP8
// checkpoints store one byte per parameter, bf16 two.
var builtin = map[string]Model{
	"deepseek-ai/deepseek-v3":                           {ParamsB: 671, BytesPerParam: 1},
	"deepseek-ai/deepseek-v3-0324":                      {ParamsB: 671, BytesPerParam: 1},
	"deepseek-ai/deepseek-r1":                           {ParamsB: 671, BytesPerParam: 1},
	"deepseek-ai/deepseek-r1-0528":                      {ParamsB: 671, BytesPerParam: 1},
	"deepseek-ai/deepseek-v2":                           {ParamsB: 236, BytesPerParam: 2},
	"deepseek-ai/deepseek-v2-lite":                      {ParamsB: 15.7, BytesPerParam: 2},
	"deepseek-ai/deepseek-v2-lite-chat":                 {ParamsB: 15.7, BytesPerParam: 2},
	"meta-llama/llama-4-scout-17b-16e-instruct":         {ParamsB: 109, BytesPerParam: 2},
	"meta-llama/llama-4-maverick-17b-128e-instruct-fp8": {ParamsB: 400, BytesPerParam: 1},
	"meta-llama/llama-4-maverick-17b-128e-instruct":     {ParamsB: 400, BytesPerParam: 2},
	"meta-llama/llama-3.1-70b-instruct":                 {ParamsB: 70.6, BytesPerParam: 2},
	"meta-llama/llama-3.3-70b-instruct":                 {ParamsB: 70.6, BytesPerParam: 2},
	"meta-llama/meta-llama-3-70b-instruct":              {ParamsB: 70.6, BytesPerParam: 2},
	"meta-llama/llama-3.1-8b-instruct":                  {ParamsB: 8.03, BytesPerParam: 2},
	"meta-llama/llama-3.1-8b":                           {ParamsB: 8.03, BytesPerParam: 2},
	"meta-llama/meta-llama-3-8b-instruct":               {ParamsB: 8.03, BytesPerParam: 2},
	"meta-llama/llama-3.2-1b-instruct":                  {ParamsB: 1.24, BytesPerParam: 2},
	"meta-llama/llama-3.2-3b-instruct":                  {ParamsB: 3.21, BytesPerParam: 2},
	"meta-llama/llama-2-7b-hf":                          {ParamsB: 6.74, BytesPerParam: 2},
	"meta-llama/llama-2-7b-chat-hf":                     {ParamsB: 6.74, BytesPerParam: 2},
	"meta-llama/llama-2-13b-chat-hf":                    {ParamsB: 13, BytesPerParam: 2},
	"mistralai/mixtral-8x7b-instruct-v0.1":              {ParamsB: 46.7, BytesPerParam: 2},
	"mistralai/mixtral-8x22b-instruct-v0.1":             {ParamsB: 141, BytesPerParam: 2},
	"mistralai/mistral-7b-instruct-v0.3":                {ParamsB: 7.25, BytesPerParam: 2},
	"qwen/qwen2-72b-instruct":                           {ParamsB: 72.7, BytesPerParam: 2},
	"qwen/qwen2.5-72b-instruct":                         {ParamsB: 72.7, BytesPerParam: 2},
	"qwen/qwen2.5-7b-instruct":                          {ParamsB: 7.62, BytesPerParam: 2},
	"qwen/qwen2.5-vl-7b-instruct":                       {ParamsB: 8.29, BytesPerParam: 2},
	"qwen/qwen3-235b-a22b":                              {ParamsB: 235, BytesPerParam: 2},
	"qwen/qwen3-30b-a3b":                                {ParamsB: 30.5, BytesPerParam: 2},
	"google/gemma-2-2b":                                 {ParamsB: 2.61, BytesPerParam: 2},
	"google/gemma-2-9b-it":                              {ParamsB: 9.24, BytesPerParam: 2},
	"google/gemma-2-27b-it":                             {ParamsB: 27.2, BytesPerParam: 2},
	"opengvlab/internvl2_5-8b":                          {ParamsB: 8.08, BytesPerParam: 2},
	"llava-hf/llava-1.5-7b-hf":                          {ParamsB: 7.06, BytesPerParam: 2},
	"llava-hf/llava-1.5-13b-hf":                         {ParamsB: 13.4, BytesPerParam: 2},
	"minimaxai/minimax-text-01":                         {ParamsB: 456, BytesPerParam: 2},
	"neuralmagic/meta-llama-3.1-8b-instruct-fp8":        {ParamsB: 8.03, BytesPerParam: 1},
	"nvidia/llama-3.1-nemotron-70b-instruct-hf":         {ParamsB: 70.6, BytesPerParam: 2},
	"microsoft/phi-3-mini-4k-instruct":                  {ParamsB: 3.82, BytesPerParam: 2},
}

var (
	moeRe   = regexp.MustCompile(`(?i)(\d+)x(\d+(?:\.\d+)?)b`)
	sizeRe  = regexp.MustCompile(`(?i)(?:^|[^a-z0-9.])(\d+(?:\.\d+)?)b(?:$|[^a-z])`)
	totalRe = regexp.MustCompile(`(?i)(\d+(?:\.\d+)?)b-a\d+(?:\.\d+)?b`)
)

// fromName estimates weights from a model name: "72B" → 72e9 parameters,
// "8x7B" → 8×7e9 (an upper bound for a MoE; shared layers make it smaller),
// "235B-A22B" → the total 235e9; FP8 names one byte per parameter, 4-bit
// quantisations half a byte, everything else bf16.
func fromName(model string) (float64, bool) {
	name := model
	if i := strings.LastIndex(name, "/"); i >= 0 {
		name = name[i+1:]
	}
	var params float64
	switch {
	case moeRe.MatchString(name):
		m := moeRe.FindStringSubmatch(name)
		experts, _ := strconv.ParseFloat(m[1], 64)
		each, _ := strconv.ParseFloat(m[2], 64)
		params = experts * each
	case totalRe.MatchString(name):
		params, _ = strconv.ParseFloat(totalRe.FindStringSubmatch(name)[1], 64)
	case sizeRe.MatchString(name):
		params, _ = strconv.ParseFloat(sizeRe.FindStringSubmatch(name)[1], 64)
	default:
		return 0, false
	}
	lower := strings.ToLower(name)
	bytes := 2.0
	switch {
	case strings.Contains(lower, "fp8"), strings.Contains(lower, "int8"), strings.Contains(lower, "w8a8"):
		bytes = 1
	case strings.Contains(lower, "awq"), strings.Contains(lower, "gptq"), strings.Contains(lower, "int4"),
		strings.Contains(lower, "4bit"), strings.Contains(lower, "w4a16"), strings.Contains(lower, "fp4"):
		bytes = 0.5
	}
	return params * bytes, true
}
