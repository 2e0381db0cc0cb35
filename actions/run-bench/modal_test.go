package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/commitbench/commitbench/internal/actionsio"
	"github.com/commitbench/commitbench/internal/cli"
	"github.com/commitbench/commitbench/internal/contracttest"
	"github.com/commitbench/commitbench/internal/fakemodal"
	"github.com/commitbench/commitbench/internal/gpu"
	"github.com/commitbench/commitbench/internal/plan"
	"github.com/commitbench/commitbench/internal/result"
	"github.com/commitbench/commitbench/internal/standin"
)

// batchFiles writes a plan of cases and an images file giving each case
// the refs in imgs (by case index), and returns their paths.
func batchFiles(t testing.TB, dir string, cases []*plan.Case, imgs func(i int) map[string]string) (string, string) {
	t.Helper()
	refs := map[string]map[string]string{}
	for i, c := range cases {
		if m := imgs(i); m != nil {
			refs[c.ID] = m
		}
	}
	write := func(name string, v any) string {
		data, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	return write("plan.json", plan.Plan{Schema: plan.Schema, Cases: cases}), write("images.json", refs)
}

func batchArgs(planPath, imagesPath, out string, parallel int) []string {
	return []string{"--plan", planPath, "--all", "--images", imagesPath, "--backend", "modal", "--parallel", fmt.Sprint(parallel),
		"--repetitions", "1", "--warmup", "0", "--timeout-server-start", "60", "--timeout-benchmark", "60", "--out", out,
		"--hf-token", contracttest.Token, "--modal-token-secret", fakemodal.TestTokenSecret, "--run-id", "batch-" + contracttest.RandID()}
}

// TestBatchModal: run-bench --all runs every runnable case of the plan on
// Modal, a line per case, a summary, and exit status 1 because one case
// failed; unrunnable cases and cases without images are skipped.
func TestBatchModal(t *testing.T) {
	h := fakemodal.NewHarness(t, true)
	good := h.Image(t, standin.Config{StartupMS: 50, TTFTMS: 1, TokenDelayMS: 1}, map[string]string{gpu.ArchsLabel: "sm_90a"})
	oom := h.Image(t, standin.Config{StartupMS: 50, Fail: standin.FailOOM, FailIn: "launch_server"}, map[string]string{gpu.ArchsLabel: "sm_90a"})
	var cases []*plan.Case
	for i := 0; i < 5; i++ {
		cases = append(cases, contracttest.ServingCase(result.Baseline, result.Human))
	}
	cases[3].Runnable, cases[3].Reason = false, "model does not fit"
	dir := t.TempDir()
	planPath, imagesPath := batchFiles(t, dir, cases, func(i int) map[string]string {
		switch i {
		case 1:
			return map[string]string{result.Baseline: good, result.Human: oom}
		case 4:
			return nil
		}
		return map[string]string{result.Baseline: good, result.Human: good}
	})
	out := filepath.Join(dir, "results")
	args := append(batchArgs(planPath, imagesPath, out, 2), "--registry-username", h.Auth.Username, "--registry-password", h.Auth.Password)
	var stderr strings.Builder
	err := run(context.Background(), args, actionsio.Options{Stdout: io.Discard, Stderr: &stderr})
	log := stderr.String()
	t.Log(log)
	if cli.ExitCode(err) != cli.ExitFailed || !strings.Contains(fmt.Sprint(err), cases[1].ID) {
		t.Errorf("err = %v (exit %d); want exit 1 naming %s", err, cli.ExitCode(err), cases[1].ID)
	}
	for i, c := range cases {
		if !strings.Contains(log, "] "+c.ID+": ") {
			t.Errorf("no progress line for case %d (%s)", i, c.ID)
		}
	}
	for _, want := range []string{cases[1].ID + ": FAILED, complete: baseline success, human failed (GPU_OOM)", cases[0].ID + ": ok, complete",
		cases[3].ID + ": skipped (not runnable: model does not fit)", cases[4].ID + ": skipped (no images in",
		"batch: 3 cases run, 2 succeeded, 1 failed, 2 skipped", fakemodal.TestTokenSecret} {
		if strings.Contains(log, want) == (want == fakemodal.TestTokenSecret) {
			t.Errorf("stderr: %q present = %v", want, !strings.Contains(log, want))
		}
	}
	for _, i := range []int{0, 2} {
		r, err := result.Read(filepath.Join(out, cases[i].ID, result.FileName))
		if err != nil || r.Backend != "modal" || r.Variant(result.Human).Status != result.StatusSuccess {
			t.Errorf("case %d: result %v, %v", i, r, err)
		}
		if _, err := os.Stat(filepath.Join(out, cases[i].ID, "run-bench.log")); err != nil {
			t.Errorf("case %d: no run-bench.log: %v", i, err)
		}
	}
	if run := h.Running(); len(run) != 0 {
		t.Errorf("sandboxes still running: %v", run)
	}
}

// BenchmarkBatch measures --parallel 10 against --parallel 1 over 50 fake
// cases (3 variants each, server mode) in one run, and reports both times
// and their ratio. The stand-in sleeps like a remote GPU keeps a runner
// waiting, so the ratio measures the scheduling, not this machine's cores.
//
//	go test -run '^$' -bench BenchmarkBatch -benchtime 1x ./actions/run-bench
func BenchmarkBatch(b *testing.B) {
	h := fakemodal.NewHarness(b, false)
	img := h.Image(b, standin.Config{StartupMS: 300, TTFTMS: 5, TokenDelayMS: 5}, map[string]string{gpu.ArchsLabel: "sm_90a"})
	timeBatch := func(parallel int) time.Duration {
		var cases []*plan.Case
		for i := 0; i < 50; i++ {
			cases = append(cases, contracttest.ServingCase(result.Baseline, result.Human, result.Agent))
		}
		dir := b.TempDir()
		planPath, imagesPath := batchFiles(b, dir, cases, func(int) map[string]string {
			return map[string]string{result.Baseline: img, result.Human: img, result.Agent: img}
		})
		start := time.Now()
		out := filepath.Join(dir, "results")
		if err := run(context.Background(), batchArgs(planPath, imagesPath, out, parallel),
			actionsio.Options{Stdout: io.Discard, Stderr: io.Discard}); err != nil {
			for _, c := range cases {
				if log, _ := os.ReadFile(filepath.Join(out, c.ID, "run-bench.log")); strings.Contains(string(log), "failed") {
					b.Logf("%s:\n%s", c.ID, log)
				}
			}
			b.Fatalf("batch --parallel %d: %v", parallel, err)
		}
		return time.Since(start)
	}
	for i := 0; i < b.N; i++ {
		serial, par := timeBatch(1), timeBatch(10)
		b.ReportMetric(serial.Seconds(), "serial-s")
		b.ReportMetric(par.Seconds(), "parallel10-s")
		b.ReportMetric(float64(par)/float64(serial), "parallel/serial")
	}
}
