package fakemodal

import (
	"slices"
	"strings"
	"testing"
)

// TestMapArgs: what ties a command to its container is mapped onto this
// machine; everything else passes unchanged.
func TestMapArgs(t *testing.T) {
	sb := &sandbox{root: "/fake/sb", ports: map[int]int{30000: 41000},
		mounts: []mount{{target: "/root/.cache/huggingface", dir: "/fake/vol"}}}
	for _, tc := range []struct {
		in, want []string
	}{
		{[]string{"--port", "30000", "--host", "0.0.0.0"}, []string{"--port", "41000", "--host", "127.0.0.1"}},
		{[]string{"--port=30000", "--base-url", "http://127.0.0.1:30000/v1"}, []string{"--port=41000", "--base-url", "http://127.0.0.1:41000/v1"}},
		{[]string{"--output-file", "/commitbench-out/r.jsonl"}, []string{"--output-file", "/fake/sb/commitbench-out/r.jsonl"}},
		{[]string{"--result-filename=/tmp/x"}, []string{"--result-filename=/fake/sb/tmp/x"}},
		{[]string{"--model-path", "/root/.cache/huggingface/hub/m"}, []string{"--model-path", "/fake/vol/hub/m"}},
		{[]string{"--num-prompts", "30000", "Qwen/Qwen2.5", "a=b"}, []string{"--num-prompts", "30000", "Qwen/Qwen2.5", "a=b"}},
	} {
		if got := sb.mapArgs(tc.in); !slices.Equal(got, tc.want) {
			t.Errorf("mapArgs(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// TestReplay: nvidia-smi's CSV for n GPUs from the recorded H100.
func TestReplay(t *testing.T) {
	rows, err := replay(2, []string{"index", "name", "memory.total", "clocks.sm", "clocks_event_reasons.active"}, false)
	if err != nil || len(rows) != 2 || rows[1][0] != "1" || !strings.Contains(rows[0][1], "H100") || rows[0][2] != "81559" ||
		!strings.HasPrefix(rows[0][4], "0x") {
		t.Errorf("replay = %q, %v", rows, err)
	}
	if _, err := replay(1, []string{"pcie.link.gen.max"}, false); err == nil {
		t.Error("a field not in the recording was invented")
	}
}
