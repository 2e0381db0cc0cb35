package gpusize

import (
	"strings"
	"testing"
)

func TestSize(t *testing.T) {
	h100, _ := LookupType("H100")
	h200, _ := LookupType("h200")
	gb := func(id string) float64 {
		g, ok := GBOf(id)
		if !ok {
			t.Fatalf("%s not in table", id)
		}
		return g
	}
	for _, tc := range []struct {
		name      string
		weights   float64
		gpu       GPUType
		tp, dp    int
		count, wt int
		fits      bool
		reason    string
	}{
		{"8B on one H100", gb("meta-llama/Llama-3.1-8B-Instruct"), h100, 0, 0, 1, 1, true, ""},
		{"Scout needs 4 H100", gb("meta-llama/Llama-4-Scout-17B-16E-Instruct"), h100, 0, 0, 4, 4, true, ""},
		{"Maverick FP8 on 8 H100", gb("meta-llama/Llama-4-Maverick-17B-128E-Instruct-FP8"), h100, 0, 0, 8, 8, true, ""},
		{"70B bf16 needs 4 H100", gb("meta-llama/Llama-3.1-70B-Instruct"), h100, 0, 0, 4, 4, true, ""},
		{"Mixtral on 2 H100", gb("mistralai/Mixtral-8x7B-Instruct-v0.1"), h100, 0, 0, 2, 2, true, ""},
		{"DeepSeek-V3 does not fit 8 H100", gb("deepseek-ai/DeepSeek-V3"), h100, 0, 0, 16, 16, false, "needs 16×H100 for ~671 GB of weights: multi-node is not supported yet"},
		{"DeepSeek-V3 fits 8 H200", gb("deepseek-ai/DeepSeek-V3"), h200, 0, 0, 8, 8, true, ""},
		{"command TP kept", gb("meta-llama/Llama-3.1-8B-Instruct"), h100, 8, 0, 8, 8, true, ""},
		{"TP 16 refused", gb("deepseek-ai/DeepSeek-V3"), h100, 16, 0, 16, 16, false, "needs 16×H100 (TP 16 × DP 1): multi-node is not supported yet"},
		{"TP too small for weights", gb("meta-llama/Llama-3.1-70B-Instruct"), h100, 1, 0, 1, 1, false, "TP 1 cannot hold ~141 GB"},
		{"DP multiplies", gb("meta-llama/Llama-3.1-8B-Instruct"), h100, 0, 2, 2, 1, true, ""},
		{"TP×DP over a node", gb("meta-llama/Llama-3.1-8B-Instruct"), h100, 4, 4, 16, 4, false, "needs 16×H100 (TP 4 × DP 4)"},
		{"odd TP rounds the count", gb("meta-llama/Llama-3.1-8B-Instruct"), h100, 3, 0, 4, 3, true, ""},
	} {
		s := Size(tc.weights, tc.gpu, tc.tp, tc.dp)
		if s.Count != tc.count || s.TP != tc.wt || s.Fits != tc.fits || !strings.Contains(s.Reason, tc.reason) {
			t.Errorf("%s: got %+v, want count=%d tp=%d fits=%v reason~%q", tc.name, s, tc.count, tc.wt, tc.fits, tc.reason)
		}
	}
}

func TestEstimate(t *testing.T) {
	tab := NewTable(map[string]Model{"Org/Custom": {WeightsGB: 300}})
	for _, tc := range []struct {
		model  string
		gb     float64
		source string
	}{
		{"org/custom", 300, "user"},
		{"deepseek-ai/DeepSeek-V3", 671, "table"},
		{"Qwen/Qwen2.5-32B-Instruct", 64, "pattern"},
		{"someone/Mixtral-8x22B-v0.1", 352, "pattern"},
		{"someone/Qwen3-235B-A22B-FP8", 235, "pattern"},
		{"someone/Llama-3-70B-Instruct-AWQ", 35, "pattern"},
		{"lmsys/sglang-ci-dsv3-test", 0, "unknown"},
	} {
		e := tab.Estimate(tc.model)
		if e.GB != tc.gb || e.Source != tc.source {
			t.Errorf("%s: got %+v, want %v GB from %s", tc.model, e, tc.gb, tc.source)
		}
		if (tc.source == "pattern" || tc.source == "unknown") && e.Warning == "" {
			t.Errorf("%s: a guess must carry a warning", tc.model)
		}
	}
}

func TestLookupType(t *testing.T) {
	if _, err := LookupType("B200"); err == nil || !strings.Contains(err.Error(), "use one of H100, H200, A100") {
		t.Errorf("err = %v", err)
	}
	if g, err := LookupType("H100-80GB"); err != nil || g.MemoryGB != 80 {
		t.Errorf("got %+v %v", g, err)
	}
}
