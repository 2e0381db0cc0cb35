// Package e2e runs the real workflows with act on this machine: the
// bench-commit workflow dispatched for the demo case, on the host executor,
// with the Docker backend and the stand-in engine, offline. Only GitHub's
// own services are stood in for (see testdata/actions/README.md).
package e2e

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/commitbench/commitbench/internal/demo"
	"github.com/commitbench/commitbench/internal/docker"
	"github.com/commitbench/commitbench/internal/testenv"
)

const actModule = "github.com/nektos/act@v0.2.89"

// actBinary finds act, installing the pinned version when it is missing:
// the suite installs what it needs rather than skipping.
func actBinary(t *testing.T) string {
	t.Helper()
	if p, err := exec.LookPath("act"); err == nil {
		return p
	}
	gopath, err := exec.Command("go", "env", "GOPATH").Output()
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(strings.TrimSpace(string(gopath)), "bin", "act")
	if _, err := os.Stat(bin); err == nil {
		return bin
	}
	t.Logf("installing %s (about 2 minutes, once)", actModule)
	if out, err := exec.Command("go", "install", actModule).CombinedOutput(); err != nil {
		t.Fatalf("go install %s: %v\n%s", actModule, err, out)
	}
	return bin
}

func TestBenchCommitWorkflowUnderAct(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the whole pipeline under act (minutes)")
	}
	testenv.RequireDocker(t)
	act := actBinary(t)
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	engine, err := demo.CreateEngineRepo(filepath.Join(tmp, "engine"))
	if err != nil {
		t.Fatal(err)
	}
	r, err := demo.StartRegistry()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	reg := r.Host
	t.Cleanup(func() {
		if err := docker.RemoveTagged(context.Background(), reg+"/"); err != nil {
			t.Logf("cleanup: %v", err)
		}
	})
	artifacts := filepath.Join(tmp, "artifacts")
	stub := func(name string) string { return filepath.Join(root, "e2e", "testdata", "actions", name) }

	ctx, cancel := context.WithTimeout(context.Background(), 25*time.Minute)
	defer cancel()
	args := []string{"workflow_dispatch", "-W", ".github/workflows/bench-commit.yml",
		"-P", "ubuntu-latest=-self-hosted", "-P", "self-hosted=-self-hosted", "-P", "gpu=-self-hosted",
		"--action-offline-mode",
		"--local-repository", "actions/setup-go@v5=" + stub("setup-go"),
		"--local-repository", "actions/upload-artifact@v4=" + stub("upload-artifact"),
		"--local-repository", "actions/download-artifact@v4=" + stub("download-artifact"),
		"--env", "COMMITBENCH_ARTIFACTS=" + artifacts,
		"--input", "commit=" + engine.Human,
		"--input", "cases-file=examples/demo/cases.jsonl",
		"--input", "agent-patch=examples/demo/agent.diff",
		"--input", "engine=standin",
		"--input", "engine-repo=" + engine.Dir,
		"--input", "registry=" + reg,
		"--input", "image-repo=commitbench/e2e",
		"--input", "gpu-source=fixture",
		"--input", "repetitions=4",
	}
	cmd := exec.CommandContext(ctx, act, args...)
	cmd.Dir = root
	// The job environment must not think it runs inside another Actions
	// job (CI itself may): act sets what the workflow needs.
	cmd.Env = demo.EnvOutsideActions()
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err = cmd.Run()
	logPath := filepath.Join(tmp, "act.log")
	os.WriteFile(logPath, out.Bytes(), 0o644)
	text := out.String()
	if err != nil {
		t.Fatalf("act: %v\n%s", err, tail(text, 8000))
	}

	// Every job succeeded, the matrix built all three variants.
	for _, job := range []string{"plan", "build-1", "build-2", "build-3", "bench", "publish"} {
		if !regexp.MustCompile(`\[bench-commit/` + regexp.QuoteMeta(job) + `\s*\]\s+🏁  Job succeeded`).MatchString(text) {
			t.Errorf("job %s did not succeed", job)
		}
	}
	// The publish job's summary carries the verdict table. act prints a
	// summary as "⚙  Summary - <first line>" followed by its other lines,
	// unprefixed, up to the next job-prefixed log line.
	var summary []string
	inSummary := false
	for _, line := range strings.Split(text, "\n") {
		if i := strings.Index(line, "⚙  Summary - "); i >= 0 {
			inSummary = strings.Contains(line, "bench-commit/publish")
			if inSummary {
				summary = append(summary, line[i+len("⚙  Summary - "):])
			}
			continue
		}
		if strings.HasPrefix(line, "[bench-commit/") {
			inSummary = false
		}
		if inSummary {
			summary = append(summary, line)
		}
	}
	joined := strings.Join(summary, "\n")
	for _, want := range []string{"### Verdicts", "| human vs baseline |", "`demo-decode-speedup`", "| agent vs human "} {
		if !strings.Contains(joined, want) {
			t.Errorf("publish summary lacks %q:\n%s", want, tail(joined, 4000))
		}
	}
	// The results travelled as artifacts and say what ran.
	res, err := os.ReadFile(filepath.Join(artifacts, "results-demo-decode-speedup", "demo-decode-speedup", "result.json"))
	if err != nil {
		t.Fatalf("result artifact: %v", err)
	}
	for _, want := range []string{`"name": "agent"`, `"status": "success"`, `"gpus_simulated": true`} {
		if !bytes.Contains(res, []byte(want)) {
			t.Errorf("result.json lacks %s", want)
		}
	}
	if t.Failed() {
		t.Logf("act log: %s\n%s", logPath, tail(text, 6000))
	}
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n:]
}
