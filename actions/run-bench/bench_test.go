package main

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/moby/moby/client"

	"github.com/commitbench/commitbench/internal/backend"
	"github.com/commitbench/commitbench/internal/docker"
	"github.com/commitbench/commitbench/internal/gpu"
	"github.com/commitbench/commitbench/internal/plan"
	"github.com/commitbench/commitbench/internal/result"
	"github.com/commitbench/commitbench/internal/standin"
	"github.com/commitbench/commitbench/internal/standin/standintest"
	"github.com/commitbench/commitbench/internal/testenv"
)

func writePlan(t *testing.T, dir string, c *plan.Case) string {
	t.Helper()
	p := plan.Plan{Schema: plan.Schema, Cases: []*plan.Case{c}}
	data, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "plan.json")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func buildRunBench(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "run-bench")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// TestSIGTERM runs the built binary, sends SIGTERM once a repetition has
// been recorded, and checks what an Actions cancel relies on: exit soon,
// no container left (asked from the Engine API by label), and the partial
// result holding the finished repetitions.
func TestSIGTERM(t *testing.T) {
	testenv.RequireDocker(t)
	be, err := docker.New(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer be.Close()
	img := standintest.Image(t, be.Client(), standin.Config{StartupMS: 50, TTFTMS: 5, TokenDelayMS: 20, Speed: 1}, map[string]string{gpu.ArchsLabel: "sm_90"})
	dir := t.TempDir()
	c := &plan.Case{ID: "sigterm-case", Commit: strings.Repeat("a", 40), Parent: strings.Repeat("b", 40), Model: "org/model", Runnable: true,
		GPU: plan.GPU{Type: "H100", Count: 1}, TP: 1, Bench: plan.Bench{Tool: "bench_serving", Mode: "server",
			Args: []string{"python3", "-m", "sglang.bench_serving", "--dataset-name", "random", "--num-prompts", "4",
				"--random-input-len", "16", "--random-output-len", "24", "--random-range-ratio", "1"}},
		Variants: []plan.Variant{{Name: "baseline", Runnable: true}, {Name: "human", Runnable: true}, {Name: "agent", Runnable: false, Reason: "no patch"}}}
	runID, scope := "sigterm-"+time.Now().Format("150405.000000"), "test-sigterm-"+time.Now().Format("150405.000000")
	cmd := exec.Command(buildRunBench(t), "--plan", writePlan(t, dir, c), "--case", c.ID, "--image-baseline", img, "--image-human", img,
		"--repetitions", "20", "--rounds", "2", "--warmup", "0", "--gpu-source", "fixture", "--out", filepath.Join(dir, "results"),
		"--model-cache", filepath.Join(dir, "cache"), "--run-id", runID, "--scope", scope, "--hf-token", "hf_sigtermSECRET")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	resPath := filepath.Join(dir, "results", c.ID, result.FileName)
	deadline := time.Now().Add(60 * time.Second)
	for {
		if r, err := result.Read(resPath); err == nil && len(r.Order) >= 2 {
			break
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatalf("no repetition recorded in 60 s; stderr:\n%s", stderr.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	sent := time.Now()
	cmd.Process.Signal(syscall.SIGTERM)
	err = cmd.Wait()
	took := time.Since(sent)
	t.Logf("exited %v after SIGTERM in %v", err, took)
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 {
		t.Errorf("exit: %v; want exit status 1 (the work did not finish)", err)
	}
	if took > 15*time.Second {
		t.Errorf("took %v to exit after SIGTERM", took)
	}
	list, err := be.Client().ContainerList(context.Background(), client.ContainerListOptions{All: true,
		Filters: client.Filters{}.Add("label", backend.LabelRun+"="+runID)})
	if err != nil {
		t.Fatal(err)
	}
	if len(list.Items) != 0 {
		t.Errorf("%d containers of the run left after SIGTERM", len(list.Items))
		be.Reap(context.Background(), backend.Selector{Labels: map[string]string{backend.LabelRun: runID}})
	}
	r, err := result.Read(resPath)
	if err != nil {
		t.Fatalf("partial result: %v", err)
	}
	measured := 0
	for _, v := range r.Variants {
		measured += len(v.Measured())
		if v.Name != "agent" && (v.Status != result.StatusFailed || v.Failure == nil || v.Failure.Category != "CANCELLED") {
			t.Errorf("%s: %s %+v; want failed CANCELLED", v.Name, v.Status, v.Failure)
		}
	}
	if r.Status != result.RunCancelled || measured < 2 {
		t.Errorf("result: status %s with %d measured repetitions; want cancelled with the finished ones (>= 2)", r.Status, measured)
	}
	if strings.Contains(stderr.String(), "hf_sigtermSECRET") {
		t.Error("the token appears in run-bench's output")
	}
}

// TestBadInput: wrong inputs exit 2 with the field named, before anything
// starts.
func TestBadInput(t *testing.T) {
	dir := t.TempDir()
	c := &plan.Case{ID: "c1", Runnable: true, GPU: plan.GPU{Count: 1}, TP: 1, Bench: plan.Bench{Tool: "bench_serving", Mode: "server",
		Args: []string{"python3", "-m", "sglang.bench_serving"}}, Variants: []plan.Variant{{Name: "baseline", Runnable: true}}}
	planPath := writePlan(t, dir, c)
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"no case", []string{"--plan", planPath}, "case: empty"},
		{"unknown case", []string{"--plan", planPath, "--case", "nope"}, `case "nope" is not in the plan`},
		{"missing image", []string{"--plan", planPath, "--case", "c1", "--gpu-source", "fixture"}, "image-baseline: empty"},
		{"bad gpu source", []string{"--plan", planPath, "--case", "c1", "--gpu-source", "cuda"}, "gpu-source"},
		{"bad duration", []string{"--plan", planPath, "--case", "c1", "--timeout-benchmark", "soon"}, "timeout-benchmark"},
		{"unknown backend", []string{"--plan", planPath, "--case", "c1", "--gpu-source", "fixture", "--backend", "k8s"}, "backend"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.name == "missing image" {
				testenv.RequireDocker(t)
			}
			var stderr strings.Builder
			code := runCLI(tc.args, &stderr)
			if code != 2 || !strings.Contains(stderr.String(), tc.want) {
				t.Errorf("exit %d, stderr %q; want 2 and %q", code, stderr.String(), tc.want)
			}
		})
	}
}
