package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/commitbench/commitbench/internal/actionsio"
	"github.com/commitbench/commitbench/internal/cli"
)

const fixture = "../../testdata/fixtures/isobench/sglang-cases.csv"

func runPlan(t *testing.T, env map[string]string, args ...string) (string, string, error) {
	t.Helper()
	var out, errb bytes.Buffer
	err := run(context.Background(), args, actionsio.Options{
		Getenv: func(k string) string { return env[k] }, Stdout: &out, Stderr: &errb})
	return out.String(), errb.String(), err
}

func TestJSONOnStdout(t *testing.T) {
	dir := t.TempDir()
	out, _, err := runPlan(t, nil, "--cases", fixture, "--format", "json", "--plan-path", filepath.Join(dir, "plan.json"))
	if err != nil {
		t.Fatal(err)
	}
	var p struct {
		Cases []struct {
			ID       string `json:"id"`
			Runnable bool   `json:"runnable"`
			GPU      struct {
				Type  string `json:"type"`
				Count int    `json:"count"`
			} `json:"gpu"`
			Bench struct{ Tool, Mode string } `json:"bench"`
		} `json:"cases"`
	}
	if err := json.Unmarshal([]byte(out), &p); err != nil || len(p.Cases) != 80 {
		t.Fatalf("stdout is not the plan: %v", err)
	}
	written, _ := os.ReadFile(filepath.Join(dir, "plan.json"))
	if strings.TrimSpace(string(written)) != strings.TrimSpace(out) {
		t.Error("plan.json differs from stdout")
	}
}

func TestUnderActions(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{
		"GITHUB_ACTIONS": "true", "GITHUB_OUTPUT": filepath.Join(dir, "out"), "GITHUB_STEP_SUMMARY": filepath.Join(dir, "sum"),
		"INPUT_CASES": fixture, "INPUT_GPU-TYPE": "H200", "INPUT_FORMAT": "none", "INPUT_PLAN-PATH": filepath.Join(dir, "plan.json"),
	}
	if _, _, err := runPlan(t, env); err != nil {
		t.Fatal(err)
	}
	outs, _ := os.ReadFile(env["GITHUB_OUTPUT"])
	sum, _ := os.ReadFile(env["GITHUB_STEP_SUMMARY"])
	for _, name := range []string{"matrix", "build-matrix", "matrix-chunks", "plan-path", "chunk-count", "runnable"} {
		if !strings.Contains(string(outs), name+"<<") {
			t.Errorf("output %s missing", name)
		}
	}
	if !strings.Contains(string(outs), `"case":"sglang_022_5239d795","gpu_type":"H200","gpus":8`) {
		t.Error("DeepSeek-V3 should be in the H200 matrix with 8 GPUs")
	}
	if !strings.Contains(string(sum), "| sglang_069_ddcf9fe3 |") || !strings.Contains(string(sum), "80 cases:") {
		t.Errorf("summary:\n%.500s", sum)
	}
}

func TestBadInput(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.jsonl")
	os.WriteFile(bad, []byte(`{"id":"x","commit":"123","parent":"`+strings.Repeat("b", 40)+`","perf_command":"python3 -m sglang.bench_serving"}`+"\n"), 0o644)
	for _, tc := range []struct {
		args []string
		code int
		msg  string
	}{
		{nil, cli.ExitUsage, "cases: missing; pass --cases FILE"},
		{[]string{"--cases", filepath.Join(dir, "none.csv")}, cli.ExitUsage, "no such file"},
		{[]string{"--cases", fixture, "--gpu-type", "B200"}, cli.ExitUsage, "gpu-type: unknown GPU type"},
		{[]string{"--cases", fixture, "--format", "yaml"}, cli.ExitUsage, `format: "yaml"`},
		{[]string{"--cases", bad, "--plan-path", filepath.Join(dir, "p.json")}, cli.ExitOK, ""},
		{[]string{"--cases", bad, "--strict", "--plan-path", filepath.Join(dir, "p.json")}, cli.ExitUsage, "1 problems (--strict)"},
	} {
		_, stderr, err := runPlan(t, nil, tc.args...)
		if code := cli.ExitCode(err); code != tc.code || (tc.msg != "" && !strings.Contains(err.Error(), tc.msg)) {
			t.Errorf("%v: code %d err %v", tc.args, code, err)
		}
		if strings.Contains(strings.Join(tc.args, " "), "bad.jsonl") && !strings.Contains(stderr, `case x: commit: "123" is not a 40-hex commit hash`) {
			t.Errorf("problem not reported: %s", stderr)
		}
	}
	// Partial output is still written under --strict.
	if _, err := os.Stat(filepath.Join(dir, "p.json")); err != nil {
		t.Error("plan.json must be written even when --strict fails")
	}
}

func BenchmarkPlan(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		b.Run(strings.Repeat("0", 0)+itoa(n)+"cases", func(b *testing.B) {
			dir := b.TempDir()
			path := filepath.Join(dir, "cases.jsonl")
			var sb strings.Builder
			for i := 0; i < n; i++ {
				sb.WriteString(`{"id":"c` + itoa(i) + `","commit":"` + strings.Repeat("a", 40) + `","parent":"` + strings.Repeat("b", 40) +
					`","perf_command":"python3 -m sglang.bench_serving --backend sglang --dataset-name random --num-prompts 512 --random-input 1000 --random-output 1000 --random-range-ratio 1 --max-concurrency 128","model":"meta-llama/Llama-3.1-8B-Instruct"}` + "\n")
			}
			os.WriteFile(path, []byte(sb.String()), 0o644)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, _, err := runPlanB(path, filepath.Join(dir, "plan.json")); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func runPlanB(cases, planPath string) (string, string, error) {
	var out, errb bytes.Buffer
	err := run(context.Background(), []string{"--cases", cases, "--plan-path", planPath, "--format", "none"},
		actionsio.Options{Getenv: func(string) string { return "" }, Stdout: &out, Stderr: &errb})
	return out.String(), errb.String(), err
}

func itoa(i int) string { b, _ := json.Marshal(i); return string(b) }

func TestSingleCaseResolvesParentInEngineRepo(t *testing.T) {
	repo := t.TempDir()
	git := func(args ...string) string {
		cmd := exec.Command("git", append([]string{"-C", repo, "-c", "user.email=t@t", "-c", "user.name=t"}, args...)...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("git %v: %v %s", args, err, out)
		}
		return strings.TrimSpace(string(out))
	}
	git("init", "-q")
	git("commit", "-q", "--allow-empty", "-m", "parent")
	parent := git("rev-parse", "HEAD")
	git("commit", "-q", "--allow-empty", "-m", "commit")
	commit := git("rev-parse", "HEAD")

	out, _, err := runPlan(t, nil, "--commit", commit, "--engine-repo", repo, "--model", "meta-llama/Llama-3.1-8B-Instruct",
		"--perf-command", "python3 -m sglang.bench_serving --num-prompts 10", "--format", "json", "--plan-path", filepath.Join(repo, "plan.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, `"parent": "`+parent+`"`) || !strings.Contains(out, `"id": "`+commit[:12]+`"`) || !strings.Contains(out, `"runnable": true`) {
		t.Errorf("plan:\n%s", out)
	}
	_, _, err = runPlan(t, nil, "--commit", commit, "--plan-path", filepath.Join(repo, "plan.json"))
	if cli.ExitCode(err) != cli.ExitUsage || !strings.Contains(err.Error(), "parent: empty") {
		t.Errorf("err = %v", err)
	}
}

func TestCommitPicksFromCasesFileWithOverrides(t *testing.T) {
	dir := t.TempDir()
	out, _, err := runPlan(t, nil, "--cases", fixture, "--commit", "7ce36068914503c3a53ad7be23ab29831fb8aa63",
		"--perf-command", "python3 -m sglang.bench_serving --num-prompts 7", "--model", "meta-llama/Llama-3.1-8B-Instruct", "--format", "json", "--plan-path", filepath.Join(dir, "p.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, `"id": "sglang_035_7ce36068"`) || !strings.Contains(out, `"--num-prompts",`+"\n"+`          "7"`) ||
		!strings.Contains(out, `"model": "meta-llama/Llama-3.1-8B-Instruct"`) || strings.Count(out, `"id":`) != 1 {
		t.Errorf("plan:\n%s", out)
	}
}

func TestParentFromURL(t *testing.T) {
	// A file:// URL goes through the same fetch-by-hash path as a remote.
	repo := t.TempDir()
	git := func(args ...string) string {
		out, err := exec.Command("git", append([]string{"-C", repo, "-c", "user.email=t@t", "-c", "user.name=t", "-c", "uploadpack.allowAnySHA1InWant=true"}, args...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("git %v: %v %s", args, err, out)
		}
		return strings.TrimSpace(string(out))
	}
	git("init", "-q")
	git("config", "uploadpack.allowAnySHA1InWant", "true")
	git("commit", "-q", "--allow-empty", "-m", "a")
	parent := git("rev-parse", "HEAD")
	git("commit", "-q", "--allow-empty", "-m", "b")
	commit := git("rev-parse", "HEAD")
	got, err := resolveParent(context.Background(), "file://"+repo, commit)
	if err != nil || got != parent {
		t.Fatalf("got %q, %v; want %s", got, err, parent)
	}
}

func TestAgentPatchInputIsRelativeToTheWorkingDirectory(t *testing.T) {
	dir := t.TempDir()
	out, _, err := runPlan(t, nil, "--cases", "../../examples/demo/cases.jsonl", "--models", "../../examples/demo/models.json",
		"--commit", "7937465dd8099912f03f6008462f6d11836ba2dc", "--agent-patch", "../../examples/demo/agent.diff",
		"--format", "json", "--plan-path", filepath.Join(dir, "p.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, `"name": "agent",`+"\n"+`          "runnable": true`) {
		t.Errorf("agent variant not runnable:\n%s", out)
	}
}
