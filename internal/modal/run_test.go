package modal_test

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	pb "github.com/modal-labs/modal-client/go/proto/modal_proto"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/commitbench/commitbench/internal/backend"
	"github.com/commitbench/commitbench/internal/bench"
	"github.com/commitbench/commitbench/internal/contracttest"
	"github.com/commitbench/commitbench/internal/failure"
	"github.com/commitbench/commitbench/internal/fakemodal"
	"github.com/commitbench/commitbench/internal/gpu"
	"github.com/commitbench/commitbench/internal/modal"
	"github.com/commitbench/commitbench/internal/plan"
	"github.com/commitbench/commitbench/internal/result"
	"github.com/commitbench/commitbench/internal/standin"
)

// runEnv is one bench.Run on the modal backend against the fake.
type runEnv struct {
	h   *fakemodal.Harness
	b   *modal.Backend
	log *syncBuffer
}

func newRunEnv(t *testing.T, cfg modal.Config) *runEnv {
	h := fakemodal.NewHarness(t, true)
	e := &runEnv{h: h, log: &syncBuffer{}}
	cfg.Log = e.log
	e.b = newBackend(t, h, cfg)
	return e
}

func (e *runEnv) config(t *testing.T, c *plan.Case, images map[string]string) bench.Config {
	run := "run-" + contracttest.RandID()
	return bench.Config{Case: c, Images: images, Backend: e.b, GPUs: &modal.GPUs{Backend: e.b, RunID: run, Type: c.GPU.Type, Count: c.GPU.Count},
		GPUSelect: "all", Repetitions: 1, ServerStartTimeout: 30 * time.Second, BenchmarkTimeout: 30 * time.Second,
		ModelCache: "commitbench-hf-cache", HFToken: contracttest.Token, OutDir: t.TempDir(), RunID: run, Scope: "test",
		TelemetryInterval: 100 * time.Millisecond, Log: contracttest.LogWriter{T: t}}
}

func (e *runEnv) image(t *testing.T, cfg standin.Config) string {
	return e.h.Image(t, cfg, map[string]string{gpu.ArchsLabel: "sm_90a"})
}

func read(t *testing.T, cfg bench.Config) *result.Result {
	t.Helper()
	r, err := result.Read(filepath.Join(cfg.OutDir, cfg.Case.ID, result.FileName))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestRequests: what the run asks Modal for. Every variant sandbox gets
// the plan's GPUs, the lifetime derived from the run's limits, the
// launch command, the offline environment and the cache read-only; only
// the fetch sandbox (no GPU) sees the Hub token; the registry login goes
// to image pulls, never into a sandbox; the benchmark runs in the server's
// sandbox against 127.0.0.1.
func TestRequests(t *testing.T) {
	life := modal.LifetimesFor(30*time.Second, 30*time.Second, time.Minute, 2, 0, 2)
	e := newRunEnv(t, modal.Config{Lifetimes: life})
	img := e.image(t, standin.Config{StartupMS: 50, TTFTMS: 1, TokenDelayMS: 1})
	c := contracttest.ServingCase(result.Baseline, result.Human, result.Agent)
	c.GPU.Count, c.TP = 2, 2
	cfg := e.config(t, c, map[string]string{result.Baseline: img, result.Human: img, result.Agent: img})
	cfg.Repetitions = 2
	if _, err := bench.Run(context.Background(), cfg); err != nil {
		t.Fatalf("Run: %v", err)
	}
	r := read(t, cfg)
	if r.Host.GPUsSimulated || len(r.Host.GPUs) != 2 || r.Host.GPUs[0].ComputeCap != "9.0" {
		t.Errorf("host %+v; want 2 requested H100s (9.0), not simulated", r.Host)
	}
	if tm := r.Variant(result.Agent).Measured()[0].Telemetry; tm == nil || tm.Simulated || tm.Samples == 0 {
		t.Errorf("agent telemetry %+v; want samples from nvidia-smi in the sandbox", tm)
	}
	var servers, fetches int
	for _, sb := range e.h.Sandboxes() {
		d, env := sb.Definition, sb.Env
		_, hasToken := env["HF_TOKEN"]
		if sb.Tags[backend.LabelRun] != cfg.RunID || sb.Tags[backend.LabelManaged] != "true" || sb.Tags[modal.TagCreated] == "" {
			t.Errorf("%s: tags %v lack the run's labels", sb.ID, sb.Tags)
		}
		if _, ok := env["REGISTRY_PASSWORD"]; ok || slices.ContainsFunc(mapValues(env), func(v string) bool { return v == e.h.Auth.Password }) {
			t.Errorf("%s: the registry login is in the sandbox's environment", sb.ID)
		}
		switch sb.Tags[backend.LabelRole] {
		case backend.RoleFetch:
			fetches++
			if !sb.V2 || d.GetResources().GetGpuConfig().GetCount() != 0 || !hasToken || d.GetTimeoutSecs() != uint32(life.Fetch.Seconds()) {
				t.Errorf("fetch %s: v2 %v gpus %v token %v timeout %d; want a CPU sandbox with the token and %v", sb.ID, sb.V2,
					d.GetResources().GetGpuConfig(), hasToken, d.GetTimeoutSecs(), life.Fetch)
			}
			if m := d.GetVolumeMounts(); len(m) != 1 || m[0].GetReadOnly() || m[0].GetMountPath() != bench.CacheTarget {
				t.Errorf("fetch %s: mounts %v; want the cache read-write", sb.ID, m)
			}
		case backend.RoleServer:
			servers++
			gc := d.GetResources().GetGpuConfig()
			if sb.V2 || gc.GetGpuType() != "H100" || gc.GetCount() != 2 {
				t.Errorf("%s: gpu %v (v2 %v); want H100 x2 on a V1 sandbox", sb.ID, gc, sb.V2)
			}
			if d.GetTimeoutSecs() != uint32(life.Server.Seconds()) || d.GetResources().GetMilliCpu() != 16000 || d.GetResources().GetMemoryMb() != 64<<10 {
				t.Errorf("%s: timeout %ds cpu %d mem %d; want %v, 16 cores, 64 GiB", sb.ID, d.GetTimeoutSecs(), d.GetResources().GetMilliCpu(), d.GetResources().GetMemoryMb(), life.Server)
			}
			args := d.GetEntrypointArgs()
			if !slices.Equal(args[:3], []string{"python3", "-m", "sglang.launch_server"}) || !slices.Contains(args, "--tp-size") || !slices.Contains(args, "30000") {
				t.Errorf("%s: entrypoint %q; want launch_server --tp-size 2 --port 30000", sb.ID, args)
			}
			if hasToken || env["HF_HUB_OFFLINE"] != "1" || env["HF_HOME"] != bench.CacheTarget {
				t.Errorf("%s (%s): env %v; want offline, no token", sb.ID, sb.Tags[backend.LabelVariant], env)
			}
			if m := d.GetVolumeMounts(); len(m) != 1 || !m[0].GetReadOnly() {
				t.Errorf("%s: mounts %v; want the cache read-only", sb.ID, m)
			}
			if p := d.GetOpenPorts().GetPorts(); len(p) != 1 || p[0].GetPort() != 30000 || p[0].GetUnencrypted() {
				t.Errorf("%s: ports %v; want one encrypted tunnel to 30000", sb.ID, p)
			}
		}
	}
	if fetches != 1 || servers != 6 {
		t.Errorf("%d fetch and %d server sandboxes; want 1 and 6 (3 variants x 2 rounds)", fetches, servers)
	}
	agentSecrets := 0
	for _, sb := range e.h.Sandboxes() {
		if sb.Tags[backend.LabelVariant] == result.Agent {
			for _, id := range sb.Definition.GetSecretIds() {
				agentSecrets++
				if s := e.h.Secret(id); s["HF_TOKEN"] != "" || s["HUGGING_FACE_HUB_TOKEN"] != "" {
					t.Errorf("agent sandbox %s got a secret with a Hub token", sb.ID)
				}
			}
		}
	}
	if agentSecrets == 0 {
		t.Error("no agent sandbox secret recorded: the environment assertion checked nothing")
	}
	for _, ex := range e.h.Execs() {
		if slices.Contains(ex.Args, "sglang.bench_serving") && !slices.Contains(ex.Args, "127.0.0.1") {
			t.Errorf("benchmark exec %q does not target 127.0.0.1", ex.Args)
		}
		if ex.Env["HF_TOKEN"] != "" && !strings.Contains(strings.Join(ex.Args, " "), "snapshot_download") {
			t.Errorf("exec %q got the Hub token", ex.Args)
		}
	}
	for _, call := range e.h.CallsOf("ImageGetOrCreate") {
		if first := call.Metadata.Get("x-modal-token-id"); len(first) == 0 || first[0] != fakemodal.TestTokenID {
			t.Errorf("ImageGetOrCreate without the token id: %v", call.Metadata)
		}
	}
	if e.h.TunnelRequests() == 0 {
		t.Error("the readiness probe never went through a tunnel")
	}
}

func mapValues(m map[string]string) []string {
	var out []string
	for _, v := range m {
		out = append(out, v)
	}
	return out
}

// TestCancel: cancelling a run mid-benchmark terminates every sandbox it
// created, and the result says cancelled.
func TestCancel(t *testing.T) {
	e := newRunEnv(t, modal.Config{})
	img := e.image(t, standin.Config{StartupMS: 50, Fail: standin.FailHang, FailIn: "bench_serving"})
	c := contracttest.ServingCase(result.Baseline, result.Human)
	cfg := e.config(t, c, map[string]string{result.Baseline: img, result.Human: img})
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		for ctx.Err() == nil {
			if slices.ContainsFunc(e.h.Execs(), func(x fakemodal.ExecRecord) bool { return slices.Contains(x.Args, "sglang.bench_serving") }) {
				cancel()
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
	}()
	if _, err := bench.Run(ctx, cfg); err == nil {
		t.Fatal("Run succeeded after a cancel")
	}
	cancel()
	if r := read(t, cfg); r.Status != result.RunCancelled {
		t.Errorf("status %q, want cancelled", r.Status)
	}
	if n := len(e.h.Sandboxes()); n < 2 {
		t.Fatalf("%d sandboxes created; want the fetch and a server", n)
	}
	if run := e.h.Running(); len(run) != 0 {
		t.Errorf("sandboxes still running after the cancel: %v", run)
	}
	if len(e.h.CallsOf("SandboxTerminate")) == 0 {
		t.Error("no SandboxTerminate was sent")
	}
}

// TestCapacity: a create refused for capacity is retried with backoff;
// one refusal then succeeds, a refusal every time is INFRA with Modal's
// text and the number of attempts as evidence.
func TestCapacity(t *testing.T) {
	for _, tc := range []struct {
		name     string
		refusals int
		want     string
	}{
		{"one refusal", 1, result.StatusSuccess},
		{"no capacity at all", 3, result.StatusFailed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newRunEnv(t, modal.Config{})
			img := e.image(t, standin.Config{StartupMS: 50, TTFTMS: 1, TokenDelayMS: 1})
			cfg := e.config(t, contracttest.ServingCase(result.Baseline), map[string]string{result.Baseline: img})
			for i := 0; i < tc.refusals; i++ {
				e.h.FailNext("SandboxCreate", status.Error(codes.ResourceExhausted, "Insufficient capacity: no H100 available in any region"))
			}
			bench.Run(context.Background(), cfg)
			v := read(t, cfg).Variant(result.Baseline)
			if v.Status != tc.want {
				t.Fatalf("status %s (failure %+v), want %s", v.Status, v.Failure, tc.want)
			}
			if !strings.Contains(e.log.String(), "no capacity (attempt 1 of 3)") {
				t.Errorf("no retry logged:\n%s", e.log.String())
			}
			if tc.want == result.StatusFailed && (v.Failure.Category != failure.Infra || !strings.Contains(v.Failure.Evidence, "Insufficient capacity") ||
				!strings.Contains(v.Failure.Evidence, "gave up after 3 attempts")) {
				t.Errorf("failure %+v; want INFRA with Modal's text and the attempts", v.Failure)
			}
		})
	}
}

// TestModalEndsSandbox: what Modal decides is classified, never UNKNOWN:
// a sandbox's time limit as the timeout it cut short, an internal
// failure or a preemption as INFRA with Modal's text.
func TestModalEndsSandbox(t *testing.T) {
	hangServer := standin.Config{StartupMS: 50, Fail: standin.FailHang, FailIn: "launch_server"}
	hangBench := standin.Config{StartupMS: 50, Fail: standin.FailHang, FailIn: "bench_serving"}
	hangDirect := standin.Config{StartupMS: 50, Fail: standin.FailHang, FailIn: "bench_one_batch"}
	for _, tc := range []struct {
		name     string
		c        *plan.Case
		cfg      standin.Config
		life     modal.Lifetimes
		fail     pb.GenericResult_GenericStatus // set by the fake during the benchmark
		want     failure.Category
		evidence string
	}{
		{"server never ready", contracttest.ServingCase(result.Baseline), hangServer, modal.Lifetimes{Server: 2 * time.Second}, 0,
			failure.TimeoutServerStart, "reached its time limit"},
		{"server benchmark hangs", contracttest.ServingCase(result.Baseline), hangBench, modal.Lifetimes{Server: 3 * time.Second}, 0,
			failure.TimeoutBenchmark, "reached its time limit"},
		{"direct benchmark hangs", contracttest.DirectCase(result.Baseline), hangDirect, modal.Lifetimes{Bench: 2 * time.Second}, 0,
			failure.TimeoutBenchmark, "reached its time limit"},
		{"internal failure", contracttest.ServingCase(result.Baseline), hangBench, modal.Lifetimes{},
			pb.GenericResult_GENERIC_STATUS_INTERNAL_FAILURE, failure.Infra, "worker lost contact"},
		{"preempted", contracttest.ServingCase(result.Baseline), hangBench, modal.Lifetimes{},
			pb.GenericResult_GENERIC_STATUS_TERMINATED, failure.Infra, "worker lost contact"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newRunEnv(t, modal.Config{Lifetimes: tc.life})
			cfg := e.config(t, tc.c, map[string]string{result.Baseline: e.image(t, tc.cfg)})
			if tc.fail != 0 {
				go e.failDuringBenchmark(tc.fail, "worker lost contact with the sandbox")
			}
			if _, err := bench.Run(context.Background(), cfg); err == nil {
				t.Fatal("Run succeeded")
			}
			f := read(t, cfg).Variant(result.Baseline).Failure
			if f == nil || f.Category != tc.want || !strings.Contains(f.Evidence, tc.evidence) {
				t.Errorf("failure %+v; want %s with %q in the evidence", f, tc.want, tc.evidence)
			}
		})
	}
}

// failDuringBenchmark makes Modal end the sandbox a benchmark runs in.
func (e *runEnv) failDuringBenchmark(st pb.GenericResult_GenericStatus, exception string) {
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		for _, x := range e.h.Execs() {
			if slices.Contains(x.Args, "sglang.bench_serving") {
				time.Sleep(100 * time.Millisecond)
				e.h.Fail(x.SandboxID, st, exception)
				return
			}
		}
	}
}
