package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/commitbench/commitbench/internal/demo"
	"github.com/commitbench/commitbench/internal/docker"
)

type options struct {
	work           string
	repetitions    int
	quiet, verbose bool
}

// stageError is a stage that exited non-zero; the demo exits with its code.
type stageError struct {
	stage, log string
	code       int
}

func (e *stageError) Error() string {
	return fmt.Sprintf("%s exited %d; its output is in %s", e.stage, e.code, e.log)
}

const caseID = "demo-decode-speedup"

// run returns the report's text, and an error naming the stage that failed.
// Progress lines go to progress; every stage's own output goes to
// WORK/demo.log (and to progress too with -v).
func run(ctx context.Context, o options, progress io.Writer) (string, error) {
	root, err := moduleRoot()
	if err != nil {
		return "", err
	}
	work, err := filepath.Abs(o.work)
	if err != nil {
		return "", err
	}
	if err := os.RemoveAll(work); err != nil {
		return "", err
	}
	if err := os.MkdirAll(work, 0o755); err != nil {
		return "", err
	}
	logFile, err := os.Create(filepath.Join(work, "demo.log"))
	if err != nil {
		return "", err
	}
	defer logFile.Close()
	var logw io.Writer = logFile
	if o.verbose {
		logw = io.MultiWriter(logFile, progress)
	}
	started := time.Now()
	step := func(format string, args ...any) {
		line := fmt.Sprintf("==> [%5.1fs] "+format, append([]any{time.Since(started).Seconds()}, args...)...)
		fmt.Fprintln(progress, line)
		fmt.Fprintln(logFile, "\n"+line)
	}
	fmt.Fprintf(progress, "commitbench demo: the whole pipeline on the local Docker engine with the stand-in engine (log: %s)\n", logFile.Name())

	step("creating the stand-in engine's repository")
	engine, err := demo.CreateEngineRepo(filepath.Join(work, "engine"))
	if err != nil {
		return "", err
	}
	fmt.Fprintf(progress, "    parent %.12s (baseline), human %.12s, agent = parent + %s\n", engine.Parent, engine.Human, "examples/demo/agent.diff")

	step("building the stage binaries")
	bin := filepath.Join(work, "bin")
	for _, stage := range []string{"plan", "build-image", "run-bench", "publish"} {
		cmd := exec.CommandContext(ctx, "go", "build", "-o", filepath.Join(bin, stage), "./actions/"+stage)
		cmd.Dir, cmd.Stdout, cmd.Stderr = root, logw, logw
		if err := cmd.Run(); err != nil {
			return "", fmt.Errorf("go build %s: %w", stage, err)
		}
	}

	step("starting a registry on 127.0.0.1")
	reg, err := demo.StartRegistry()
	if err != nil {
		return "", err
	}
	defer reg.Close()
	// The images are tagged for a registry that ends with the demo.
	defer docker.RemoveTagged(context.Background(), reg.Host+"/")
	fmt.Fprintf(progress, "    registry at %s\n", reg.Host)

	stage := func(name string, args ...string) error {
		fmt.Fprintf(logw, "$ %s %s\n", name, strings.Join(args, " "))
		cmd := exec.CommandContext(ctx, filepath.Join(bin, name), args...)
		cmd.Dir, cmd.Stdout, cmd.Stderr = root, logw, logw
		// A GitHub Actions environment would make the stages write there.
		cmd.Env = append(demo.EnvOutsideActions(), "COMMITBENCH_DEMO=1")
		cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
		cmd.WaitDelay = 15 * time.Second
		if err := cmd.Run(); err != nil {
			if ee, ok := err.(*exec.ExitError); ok {
				return &stageError{stage: name, code: ee.ExitCode(), log: logFile.Name()}
			}
			return err
		}
		return nil
	}

	step("plan")
	planPath := filepath.Join(work, "plan.json")
	if err := stage("plan", "--cases", "examples/demo/cases.jsonl", "--models", "examples/demo/models.json",
		"--plan-path", planPath, "--engine-repo", engine.Dir); err != nil {
		return "", err
	}

	images := map[string]string{}
	for _, v := range []string{"baseline", "human", "agent"} {
		step("build-image %s", v)
		out := filepath.Join(work, "images", v+".json")
		if err := stage("build-image", "--plan", planPath, "--case", caseID, "--variant", v, "--engine", "standin",
			"--engine-repo", engine.Dir, "--registry", reg.Host, "--repo", "commitbench/demo",
			"--out", out); err != nil {
			return "", err
		}
		img, err := builtImage(out)
		if err != nil {
			return "", err
		}
		images[v] = img
		fmt.Fprintf(progress, "    %s\n", img)
	}

	step("run-bench (Docker backend; GPUs simulated from a recorded H100)")
	results := filepath.Join(work, "results")
	benchErr := stage("run-bench", "--plan", planPath, "--case", caseID,
		"--image-baseline", images["baseline"], "--image-human", images["human"], "--image-agent", images["agent"],
		"--gpu-source", "fixture", "--repetitions", fmt.Sprint(o.repetitions), "--warmup", "1",
		"--out", results, "--model-cache", filepath.Join(work, "model-cache"), "--run-id", "demo-"+time.Now().UTC().Format("20060102-150405"))
	// A failed variant is still published: the report says why.

	step("publish")
	reportPath := filepath.Join(work, "report.md")
	if err := stage("publish", "--results", results, "--report", reportPath); err != nil {
		return "", err
	}
	report, err := os.ReadFile(reportPath)
	if err != nil {
		return "", err
	}
	step("done; the report (also in %s):\n", reportPath)
	return string(report), benchErr
}

func builtImage(path string) (string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	var r struct {
		Image  string `json:"image"`
		Status string `json:"status"`
	}
	if err := json.Unmarshal(data, &r); err != nil {
		return "", fmt.Errorf("%s: %w", path, err)
	}
	if r.Image == "" {
		return "", fmt.Errorf("%s: build-image reported %q and no image", path, r.Status)
	}
	return r.Image, nil
}

func moduleRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	mod := strings.TrimSpace(string(out))
	if mod == "" || mod == os.DevNull {
		return "", fmt.Errorf("run the demo from the commitbench checkout (go run ./cmd/demo)")
	}
	return filepath.Dir(mod), nil
}
