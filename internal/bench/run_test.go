package bench

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/commitbench/commitbench/internal/failure"
	"github.com/commitbench/commitbench/internal/plan"
	"github.com/commitbench/commitbench/internal/result"
	"github.com/commitbench/commitbench/internal/standin"
)

// The agent's variant is made 20 % faster ({"speed": 1.25}: every delay
// ×0.8); the run must measure that on medians, within a band wide enough
// for a shared 2-core machine's timer noise.
func TestThreeVariants(t *testing.T) {
	for _, tc := range []struct {
		name   string
		c      *plan.Case
		key    string
		metric string
	}{
		// Medians over many tokens (ITL, decode steps): on a machine
		// this loaded, a stall hits a few tokens, not the median.
		{"server", servingCase(), "", "median_itl_ms"},
		{"direct", directCase(), "bs=1,in=64,out=24", "median_decode_latency"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			base := standin.Config{StartupMS: 100, TTFTMS: 10, TokenDelayMS: 20}
			fast := base
			fast.Speed = 1.25
			img, imgFast := e.image(base, "sm_90,sm_90a"), e.image(fast, "sm_90,sm_90a")
			for i := range tc.c.Variants {
				if tc.c.Variants[i].Name == result.Agent {
					tc.c.Variants[i].AgentName, tc.c.Variants[i].AgentModel = "claude-code", "claude-sonnet-4-20250514"
				}
			}
			cfg := e.config(tc.c, map[string]string{result.Baseline: img, result.Human: img, result.Agent: imgFast})
			cfg.Repetitions, cfg.Warmup = 3, 1
			res, err := Run(context.Background(), cfg)
			if err != nil {
				t.Fatalf("Run: %v", err)
			}
			path := filepath.Join(e.out, tc.c.ID, result.FileName)
			got, err := result.Read(path)
			if err != nil {
				t.Fatalf("result.Read: %v", err)
			}
			if got.Status != result.RunComplete || !got.Host.GPUsSimulated || got.Host.GPUSource == "" {
				t.Errorf("status %q, gpus_simulated %v (%q); want complete and simulated", got.Status, got.Host.GPUsSimulated, got.Host.GPUSource)
			}
			for _, v := range got.Variants {
				if v.Status != result.StatusSuccess || len(v.Measured()) != 3 || v.ImageDigest == "" {
					t.Errorf("%s: status %s, %d measured, digest %q; want success, 3, a digest (failure %+v)", v.Name, v.Status, len(v.Measured()), v.ImageDigest, v.Failure)
				}
				for _, rep := range v.Measured() {
					if rep.Telemetry == nil || !rep.Telemetry.Simulated || rep.Telemetry.Samples == 0 || rep.Telemetry.MaxSMClockMHz == 0 {
						t.Errorf("%s rep %d: telemetry %+v; want simulated samples", v.Name, rep.Index, rep.Telemetry)
					}
				}
			}
			if a := got.Variant(result.Agent); a.AgentName != "claude-code" || a.AgentModel != "claude-sonnet-4-20250514" {
				t.Errorf("agent identity %q/%q did not reach result.json", a.AgentName, a.AgentModel)
			}
			checkOrder(t, got, tc.c.Bench.Mode)
			human, agent := median(got.Variant(result.Human).Values(tc.key, tc.metric)), median(got.Variant(result.Agent).Values(tc.key, tc.metric))
			if human == 0 {
				t.Fatalf("no %s in block %q: %+v", tc.metric, tc.key, got.Variant(result.Human).Repetitions[0].Blocks)
			}
			ratio := agent / human
			t.Logf("median %s: human %.2f, agent %.2f, ratio %.3f (want ≈0.80)", tc.metric, human, agent, ratio)
			if ratio < 0.70 || ratio > 0.90 {
				t.Errorf("agent/human %s = %.3f; the agent is 20 %% faster, want 0.70..0.90", tc.metric, ratio)
			}
			if res == nil || res.Status != got.Status || len(res.Order) != len(got.Order) {
				t.Error("Run returned a result other than the one it wrote")
			}
			assertNoToken(t, e.out)
			assertTokenOnlyInFetch(t, e)
		})
	}
}

// checkOrder: each round runs every variant, rotated one place per round,
// and every repetition's start is recorded.
func checkOrder(t *testing.T, r *result.Result, mode string) {
	t.Helper()
	var firsts []string
	seen := map[int]bool{}
	for _, s := range r.Order {
		if s.Started.IsZero() {
			t.Errorf("slot %+v has no start time", s)
		}
		if !seen[s.Round] {
			seen[s.Round] = true
			firsts = append(firsts, s.Variant)
		}
	}
	want := []string{result.Baseline, result.Human, result.Agent}
	if !slices.Equal(firsts, want) {
		t.Errorf("%s mode: rounds start with %v, want %v (order rotated each round)", mode, firsts, want)
	}
}

func assertTokenOnlyInFetch(t *testing.T, e *env) {
	t.Helper()
	e.rec.mu.Lock()
	defer e.rec.mu.Unlock()
	if len(e.rec.envs) < 2 {
		t.Fatalf("recorded %d container environments, want the fetch and the variants", len(e.rec.envs))
	}
	for who, env := range e.rec.envs {
		hasToken := slices.ContainsFunc(env, func(s string) bool { return strings.Contains(s, testToken) })
		offline := slices.Contains(env, "HF_HUB_OFFLINE=1")
		switch {
		case strings.HasSuffix(who, "/fetch"):
			if !hasToken {
				t.Errorf("fetch container env lacks the token: %v", env)
			}
		case hasToken:
			t.Errorf("%s container env holds the Hub token", who)
		case !offline:
			t.Errorf("%s container env lacks HF_HUB_OFFLINE=1: %v", who, env)
		}
	}
	if _, ok := e.rec.envs["agent/server"]; !ok {
		if _, ok := e.rec.envs["agent/bench"]; !ok {
			t.Errorf("no agent container was inspected: %v", keys(e.rec.envs))
		}
	}
}

func keys(m map[string][]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// Failures: each is reported with the category its log (or its absence
// of metrics) calls for, and the run fails.
func TestFailures(t *testing.T) {
	for _, tc := range []struct {
		name    string
		c       *plan.Case
		cfg     standin.Config
		want    failure.Category
		startTO time.Duration
	}{
		{"server OOM at start", servingCase(result.Baseline), standin.Config{Fail: standin.FailOOM, FailIn: "launch_server"}, failure.GPUOOM, 0},
		{"server import error", servingCase(result.Baseline), standin.Config{Fail: standin.FailUndefinedSymbol, FailIn: "launch_server"}, failure.ImportError, 0},
		{"server segfault", servingCase(result.Baseline), standin.Config{Fail: standin.FailCrash, FailIn: "launch_server"}, failure.ServerCrash, 0},
		{"server hangs", servingCase(result.Baseline), standin.Config{Fail: standin.FailHang, FailIn: "launch_server"}, failure.TimeoutServerStart, 2 * time.Second},
		{"bench exits 1", servingCase(result.Baseline), standin.Config{Fail: standin.FailExit, FailIn: "bench_serving"}, "", 0},
		{"bench no output", servingCase(result.Baseline), standin.Config{Fail: standin.FailNoOutput, FailIn: "bench_serving"}, failure.MetricsMissing, 0},
		{"direct no output", directCase(result.Baseline), standin.Config{Fail: standin.FailNoOutput}, failure.MetricsMissing, 0},
		{"direct OOM", directCase(result.Baseline), standin.Config{Fail: standin.FailOOM}, failure.GPUOOM, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			tc.cfg.StartupMS = 50
			cfg := e.config(tc.c, map[string]string{result.Baseline: e.image(tc.cfg, "sm_90")})
			if tc.startTO > 0 {
				cfg.ServerStartTimeout = tc.startTO
			}
			start := time.Now()
			_, err := Run(context.Background(), cfg)
			elapsed := time.Since(start)
			if err == nil {
				t.Fatal("Run succeeded; want a failed variant")
			}
			got, rerr := result.Read(filepath.Join(e.out, tc.c.ID, result.FileName))
			if rerr != nil {
				t.Fatal(rerr)
			}
			v := got.Variant(result.Baseline)
			if v.Status != result.StatusFailed || v.Failure == nil {
				t.Fatalf("baseline: status %s failure %+v; want failed", v.Status, v.Failure)
			}
			if tc.want != "" && v.Failure.Category != tc.want {
				t.Errorf("category %s, want %s (failure %+v)", v.Failure.Category, tc.want, v.Failure)
			}
			// A crash is seen at the exit, not at the start timeout (60 s).
			t.Logf("%s: %s in %v (evidence %q)", tc.name, v.Failure.Category, elapsed, firstLine(v.Failure.Evidence))
			if tc.startTO == 0 && elapsed > 30*time.Second {
				t.Errorf("took %v: the failure was not seen when the process exited", elapsed)
			}
		})
	}
}

// An image whose kernels lack the GPU's arch fails CUDA_ARCH in preflight;
// its container never starts and the other variants still run.
func TestCUDAArchPreflight(t *testing.T) {
	e := newEnv(t)
	good, bad := e.image(standin.Config{StartupMS: 50}, "sm_90a"), e.image(standin.Config{StartupMS: 50}, "sm_80,sm_86")
	c := servingCase(result.Baseline, result.Agent)
	cfg := e.config(c, map[string]string{result.Baseline: good, result.Agent: bad})
	if _, err := Run(context.Background(), cfg); err == nil {
		t.Fatal("Run succeeded; want the agent failed")
	}
	got, err := result.Read(filepath.Join(e.out, c.ID, result.FileName))
	if err != nil {
		t.Fatal(err)
	}
	if a := got.Variant(result.Agent); a.Status != result.StatusFailed || a.Failure.Category != failure.CUDAArch {
		t.Errorf("agent: %s %+v; want failed CUDA_ARCH", a.Status, a.Failure)
	}
	if b := got.Variant(result.Baseline); b.Status != result.StatusSuccess {
		t.Errorf("baseline: %s %+v; want success", b.Status, b.Failure)
	}
	if slices.Contains(e.rec.imgs, bad) {
		t.Errorf("a container was started from the sm_80 image")
	}
}
