package bench

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
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

const testToken = "hf_TESTtoken0123456789abcdefSECRET"

func randID() string {
	var b [5]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// recorder is the Docker backend with a note of every container's
// environment, read from the Engine API while the container runs.
type recorder struct {
	*docker.Backend
	mu   sync.Mutex
	envs map[string][]string // "variant/role" → Config.Env
	imgs []string
}

func (r *recorder) Start(ctx context.Context, s backend.Spec) (backend.Process, error) {
	p, err := r.Backend.Start(ctx, s)
	if err != nil {
		return p, err
	}
	ci, ierr := r.Client().ContainerInspect(ctx, p.ID(), client.ContainerInspectOptions{})
	r.mu.Lock()
	defer r.mu.Unlock()
	r.imgs = append(r.imgs, s.Image)
	if ierr == nil && ci.Container.Config != nil {
		r.envs[s.Labels[backend.LabelVariant]+"/"+s.Labels[backend.LabelRole]] = ci.Container.Config.Env
	}
	return p, nil
}

type env struct {
	t     testing.TB
	rec   *recorder
	scope string
	out   string
	cache string
}

// newEnv gives a test a backend, its own scope, and an assertion at the
// end that nothing of that scope is left on the daemon.
func newEnv(t testing.TB) *env {
	t.Helper()
	testenv.RequireDocker(t)
	b, err := docker.New(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, rec: &recorder{Backend: b, envs: map[string][]string{}}, scope: "test-" + randID(), out: t.TempDir(), cache: t.TempDir()}
	t.Cleanup(func() {
		ctx := context.Background()
		left, err := b.Client().ContainerList(ctx, client.ContainerListOptions{All: true, Filters: client.Filters{}.Add("label", backend.LabelScope+"="+e.scope)})
		if err != nil {
			t.Error(err)
		} else if len(left.Items) > 0 {
			t.Errorf("%d containers left behind by the run", len(left.Items))
			b.Reap(ctx, backend.Selector{Labels: map[string]string{backend.LabelScope: e.scope}})
		}
		b.Close()
	})
	return e
}

// image builds a stand-in variant image that declares sm_90 kernels.
func (e *env) image(cfg standin.Config, archs string) string {
	e.t.Helper()
	if cfg.Speed == 0 {
		cfg.Speed = 1
	}
	return standintest.Image(e.t, e.rec.Client(), cfg, map[string]string{gpu.ArchsLabel: archs})
}

func (e *env) config(c *plan.Case, images map[string]string) Config {
	src, err := gpu.EmbeddedFixture()
	if err != nil {
		e.t.Fatal(err)
	}
	return Config{Case: c, Images: images, Backend: e.rec, GPUs: src, GPUSelect: "all", Repetitions: 1, Warmup: 0,
		ServerStartTimeout: 60 * time.Second, BenchmarkTimeout: 60 * time.Second, ModelCache: e.cache, HFToken: testToken,
		OutDir: e.out, RunID: "run-" + randID(), Scope: e.scope, TelemetryInterval: 100 * time.Millisecond, ShmBytes: 64 << 20,
		Log: testWriter{e.t}}
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// servingCase is a bench_serving case: a small fixed-length random
// workload that the stand-in serves in a fraction of a second.
func servingCase(variants ...string) *plan.Case {
	return newCase("serving", plan.Bench{Tool: "bench_serving", Mode: "server", Args: []string{"python3", "-m", "sglang.bench_serving",
		"--backend", "sglang", "--dataset-name", "random", "--num-prompts", "6", "--random-input-len", "32", "--random-output-len", "24",
		"--random-range-ratio", "1", "--trust-remote-code", "--port", "8000"}}, variants)
}

func directCase(variants ...string) *plan.Case {
	return newCase("onebatch", plan.Bench{Tool: "bench_one_batch", Mode: "direct", Args: []string{"python", "-m", "sglang.bench_one_batch",
		"--model-path", "Qwen/Qwen2.5-0.5B-Instruct", "--batch-size", "1", "--input-len", "64", "--output-len", "24"}}, variants)
}

func newCase(id string, b plan.Bench, variants []string) *plan.Case {
	if len(variants) == 0 {
		variants = []string{result.Baseline, result.Human, result.Agent}
	}
	c := &plan.Case{ID: id + "-" + randID(), Commit: strings.Repeat("a", 40), Parent: strings.Repeat("b", 40), Model: "Qwen/Qwen2.5-0.5B-Instruct",
		PerfCommand: strings.Join(b.Args, " "), Runnable: true, GPU: plan.GPU{Type: "H100", Count: 1}, TP: 1, Bench: b}
	for _, v := range []string{result.Baseline, result.Human, result.Agent} {
		c.Variants = append(c.Variants, plan.Variant{Name: v, Runnable: slices.Contains(variants, v), Reason: "not in this test"})
	}
	return c
}

// assertNoToken walks every file the run wrote.
func assertNoToken(t *testing.T, dir string) {
	t.Helper()
	n := 0
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		n++
		f, _ := os.Open(p)
		defer f.Close()
		data, _ := io.ReadAll(f)
		if strings.Contains(string(data), testToken) {
			t.Errorf("%s contains the Hub token", p)
		}
		return nil
	})
	if n == 0 {
		t.Errorf("no files under %s", dir)
	}
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s) == 0 {
		return 0
	}
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
