package planner

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/commitbench/commitbench/internal/cases"
	"github.com/commitbench/commitbench/internal/gpusize"
	"github.com/commitbench/commitbench/internal/plan"
	"github.com/commitbench/commitbench/internal/testenv"
)

var update = flag.Bool("update", false, "rewrite golden files")

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	testenv.Golden(t, filepath.Join("testdata", name), got, *update)
}

func itoa(i int) string { b, _ := json.Marshal(i); return string(b) }

func opts(gpu string) Options {
	g, _ := gpusize.LookupType(gpu)
	return Options{GPU: g, Models: gpusize.NewTable(nil), DefaultRepo: "sgl-project/sglang"}
}

func loadFixture(t testing.TB) []cases.Case {
	cs, rowErrs, err := cases.Load("../../testdata/fixtures/isobench/sglang-cases.csv")
	if err != nil || len(rowErrs) > 0 {
		t.Fatalf("load: %v %v", err, rowErrs)
	}
	return cs
}

// The plan of the 80 ISO-Bench cases on H100, reviewed by hand.
func TestGoldenPlanIsoBench(t *testing.T) {
	cs := loadFixture(t)
	if len(cs) != 80 {
		t.Fatalf("%d cases, want 80", len(cs))
	}
	p, problems := Plan(cs, opts("H100"))
	if len(problems) != 0 {
		t.Errorf("problems in a well-formed export: %v", problems)
	}
	data, _ := json.MarshalIndent(p, "", "  ")
	golden(t, "isobench-h100.golden", append(data, '\n'))
	md, err := Summary(p, problems)
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "isobench-h100-summary.golden", []byte(md))

	byID := map[string]*plan.Case{}
	for _, c := range p.Cases {
		byID[c.ID] = c
	}
	// The facts the issue names, checked directly so a careless -update
	// cannot bless them away.
	for _, tc := range []struct {
		id, reason string
		runnable   bool
		gpus       int
		mode       string
	}{
		{"sglang_022_5239d795", "needs 16×H100", false, 16, "server"},        // DeepSeek-V3 bench_serving
		{"sglang_036_86a876d8", "", true, 4, "server"},                       // Llama-4-Scout
		{"sglang_018_2f427491", "needs 16×H100 (TP 16", false, 16, "server"}, // --tp 16
		{"sglang_069_ddcf9fe3", "accuracy benchmark", false, 0, ""},          // gsm8k
		{"sglang_001_09deb20d", "no perf command", false, 0, ""},
		{"sglang_066_dc188132", "", true, 8, "direct"}, // bench_offline_throughput --tp 8
		{"sglang_016_2bd18e2d", "", true, 1, "self-serving"},
	} {
		c := byID[tc.id]
		if c.Runnable != tc.runnable || !strings.Contains(c.Reason, tc.reason) || c.GPU.Count != tc.gpus || c.Bench.Mode != tc.mode {
			t.Errorf("%s: runnable=%v reason=%q gpus=%d mode=%q", tc.id, c.Runnable, c.Reason, c.GPU.Count, c.Bench.Mode)
		}
	}
	if c := byID["sglang_016_2bd18e2d"]; c.Model != "meta-llama/Llama-2-7b-hf" || c.ModelSubstitutedFrom != "/data/Llama-2-7b-hf" ||
		strings.Contains(strings.Join(c.Bench.Args, " "), "/data/") {
		t.Errorf("local path not substituted: %+v", c)
	}
}

func TestDeepSeekRunsOnEightH200(t *testing.T) {
	p, _ := Plan(loadFixture(t), opts("H200"))
	for _, c := range p.Cases {
		if c.ID == "sglang_022_5239d795" {
			if !c.Runnable || c.GPU.Count != 8 || c.GPU.Type != "H200" || c.TP != 8 {
				t.Errorf("DeepSeek-V3 on H200: %+v", c)
			}
			return
		}
	}
	t.Fatal("case missing")
}

func TestProblems(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty.diff")
	os.WriteFile(empty, nil, 0o644)
	good := filepath.Join(dir, "good.diff")
	os.WriteFile(good, []byte("diff --git a/x b/x\n"), 0o644)
	hex := strings.Repeat("a", 40)
	par := strings.Repeat("b", 40)
	cmd := "python3 -m sglang.bench_one_batch --model-path meta-llama/Llama-3.1-8B-Instruct --batch-size 1"
	cs := []cases.Case{
		{ID: "bad-commit", Commit: "abc123", Parent: par, PerfCommand: cmd, Where: "case bad-commit"},
		{ID: "same", Commit: hex, Parent: hex, PerfCommand: cmd, Where: "case same"},
		{ID: "local", Commit: hex, Parent: par, PerfCommand: "python3 -m sglang.bench_one_batch --model-path /data/x", Where: "case local"},
		{ID: "no-patch", Commit: hex, Parent: par, PerfCommand: cmd, AgentPatch: "missing.diff", Where: "case no-patch"},
		{ID: "empty-patch", Commit: hex, Parent: par, PerfCommand: cmd, AgentPatch: empty, AgentModel: "own-model", Where: "case empty-patch"},
		{ID: "good", Commit: strings.ToUpper(hex), Parent: par, PerfCommand: cmd, AgentPatch: good, AgentName: "aider", Where: "case good"},
		{ID: "good", Commit: hex, Parent: par, PerfCommand: cmd, Where: "line 7"},
		{ID: "lora", Commit: hex, Parent: par, Model: "meta-llama/Llama-3.1-8B-Instruct", PerfCommand: "python3 -m sglang.bench_serving --lora-name a", LoRAPaths: []string{"a=org/adapter"}, Where: "case lora"},
		{ID: "gpu", Commit: hex, Parent: par, PerfCommand: cmd, GPUType: "B200", Where: "case gpu"},
		{ID: "count", Commit: hex, Parent: par, PerfCommand: "python3 -m sglang.bench_one_batch --model-path meta-llama/Llama-3.1-70B-Instruct", GPUCount: 2, Where: "case count"},
	}
	o := opts("H100")
	o.BaseDir = dir
	o.AgentName, o.AgentModel = "claude-code", "claude-sonnet-4-20250514"
	p, problems := Plan(cs, o)
	var msgs []string
	for _, pr := range problems {
		msgs = append(msgs, pr.Error())
	}
	got := strings.Join(msgs, "\n")
	for _, want := range []string{
		`case bad-commit: commit: "abc123" is not a 40-hex commit hash; give the full hash (git rev-parse abc123)`,
		`case same: parent: equals commit; give the commit's parent (git rev-parse COMMIT^)`,
		"case no-patch: agent_patch: " + filepath.Join(dir, "missing.diff") + " does not exist; fix the path (relative to the cases file)",
		`case good: id: duplicates case good; give every case a unique id`,
		`case gpu: gpu_type: unknown GPU type "B200"; use one of H100, H200, A100; fix gpu_type`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("problems lack %q; got:\n%s", want, got)
		}
	}
	state := map[string]*plan.Case{}
	for _, c := range p.Cases {
		if _, ok := state[c.ID]; !ok {
			state[c.ID] = c
		}
	}
	if c := state["local"]; c.Runnable || !strings.Contains(c.Reason, "local path /data/x is not on the runner") {
		t.Errorf("local: %+v", c)
	}
	if c := state["empty-patch"]; !c.Runnable || c.Variant("agent").Runnable || !strings.Contains(c.Variant("agent").Reason, "empty") {
		t.Errorf("empty patch must only disable the agent: %+v", c.Variants)
	}
	if c := state["good"]; !c.Runnable || c.Commit != hex || !c.Variant("agent").Runnable || c.Variant("agent").Commit != par {
		t.Errorf("good: %+v", c)
	}
	// A case's own agent fields win over the plan's; only the agent
	// variant carries them.
	for id, want := range map[string][2]string{"good": {"aider", "claude-sonnet-4-20250514"}, "empty-patch": {"claude-code", "own-model"}} {
		a := state[id].Variant("agent")
		if a.AgentName != want[0] || a.AgentModel != want[1] || state[id].Variant("human").AgentName != "" {
			t.Errorf("%s: agent %q/%q, want %q/%q", id, a.AgentName, a.AgentModel, want[0], want[1])
		}
	}
	if c := state["lora"]; !c.Runnable || strings.Join(c.Bench.ServerArgs, " ") != "--lora-paths a=org/adapter" {
		t.Errorf("lora: %+v", c.Bench)
	}
	if c := state["count"]; c.Runnable || !strings.Contains(c.Reason, "gpu_count 2 is fewer than the 4×H100") {
		t.Errorf("count: %+v", c)
	}
	if p.Counts.Total != 10 || p.Counts.Runnable+p.Counts.NotRunnable != 10 {
		t.Errorf("counts %+v", p.Counts)
	}
}

func TestDefaultPerfCommandIsMarkedGeneric(t *testing.T) {
	o := opts("H100")
	o.DefaultPerfCommand = "python3 -m sglang.bench_serving --num-prompts 100"
	p, _ := Plan([]cases.Case{{ID: "x", Commit: strings.Repeat("a", 40), Parent: strings.Repeat("b", 40),
		Model: "meta-llama/Llama-3.1-8B-Instruct"}}, o)
	c := p.Cases[0]
	if !c.Runnable || !c.GenericCommand || c.PerfCommand != o.DefaultPerfCommand {
		t.Errorf("%+v", c)
	}
}

func TestMatrixChunks(t *testing.T) {
	p := &plan.Plan{}
	for i := 0; i < 600; i++ {
		p.Cases = append(p.Cases, &plan.Case{ID: itoa(i), Runnable: true, Variants: []plan.Variant{{Name: "baseline", Runnable: true}}})
	}
	bench, build := Matrices(p)
	if len(bench) != 3 || len(bench[0].Include) != 256 || len(bench[2].Include) != 88 || len(build) != 3 {
		t.Errorf("chunks: %d (%d, %d)", len(bench), len(bench[0].Include), len(bench[len(bench)-1].Include))
	}
	empty, _ := Matrices(&plan.Plan{})
	if MustJSON(empty[0]) != `{"include":[]}` {
		t.Errorf("empty matrix = %s", MustJSON(empty[0]))
	}
}
