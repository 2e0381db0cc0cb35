package modal_test

import (
	"context"
	"errors"
	"github.com/commitbench/commitbench/internal/testenv"
	"strings"
	"testing"
	"time"

	"github.com/commitbench/commitbench/internal/backend"
	"github.com/commitbench/commitbench/internal/fakemodal"
	"github.com/commitbench/commitbench/internal/modal"
	"github.com/commitbench/commitbench/internal/standin"
)

// syncBuffer is testenv.SyncBuffer, named for this package's tests.
type syncBuffer = testenv.SyncBuffer

var fastRetry = modal.Retry{Attempts: 3, Base: 10 * time.Millisecond, Max: 50 * time.Millisecond}

func newBackend(t *testing.T, h *fakemodal.Harness, cfg modal.Config) *modal.Backend {
	t.Helper()
	cfg.RegistryUsername, cfg.RegistryPassword = h.Auth.Username, h.Auth.Password
	if cfg.Retry.Attempts == 0 {
		cfg.Retry = fastRetry
	}
	b, err := modal.New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Close)
	return b
}

func labels(role string) map[string]string {
	return map[string]string{backend.LabelManaged: "true", backend.LabelRun: "run-1", backend.LabelScope: "test",
		backend.LabelCase: "c1", backend.LabelVariant: "baseline", backend.LabelRole: role}
}

var serverCmd = []string{"python3", "-m", "sglang.launch_server", "--model-path", "/models/x", "--host", "0.0.0.0", "--port", "30000"}

// TestServerSandbox: the server is the sandbox's entrypoint, reachable
// through the tunnel; the client is exec'd beside it and its result file
// read back; Remove ends the sandbox.
func TestServerSandbox(t *testing.T) {
	h := fakemodal.NewHarness(t, true)
	img := h.Image(t, standin.Config{StartupMS: 50, TTFTMS: 1, TokenDelayMS: 1}, nil)
	b := newBackend(t, h, modal.Config{})
	ctx := context.Background()
	if _, err := b.Image(ctx, img); err != nil {
		t.Fatalf("Image: %v", err)
	}
	if _, err := b.Image(ctx, h.Registry+"/absent:tag"); !errors.Is(err, backend.ErrNotFound) {
		t.Errorf("Image(absent) = %v, want ErrNotFound", err)
	}
	out := &syncBuffer{}
	p, err := b.Start(ctx, backend.Spec{Name: "server", Image: img, Cmd: serverCmd, Port: 30000, Labels: labels(backend.RoleServer),
		GPUs: backend.GPUs{Devices: []string{"0"}, Type: "H100"}, Output: out})
	if err != nil {
		t.Fatal(err)
	}
	url, err := p.Endpoint()
	if err != nil || !strings.HasPrefix(url, "https://127.0.0.1:") {
		t.Fatalf("Endpoint = %q, %v", url, err)
	}
	waitHealthy(t, url+"/health_generate", p)
	var client syncBuffer
	code, err := p.Exec(ctx, backend.ExecSpec{Output: &client, Cmd: []string{"python3", "-m", "sglang.bench_serving", "--host", "127.0.0.1", "--port", "30000",
		"--dataset-name", "random", "--num-prompts", "4", "--random-input-len", "8", "--random-output-len", "4", "--output-file", "/tmp/rep-1.jsonl"}})
	if err != nil || code != 0 {
		t.Fatalf("Exec = %d, %v; output:\n%s", code, err, client.String())
	}
	data, err := p.ReadFile(ctx, "/tmp/rep-1.jsonl")
	if err != nil || !strings.Contains(string(data), `"output_throughput": `) {
		t.Errorf("ReadFile = %q, %v", data, err)
	}
	if _, err := p.ReadFile(ctx, "/tmp/absent.jsonl"); !errors.Is(err, backend.ErrNotFound) {
		t.Errorf("ReadFile(absent) = %v, want ErrNotFound", err)
	}
	if err := p.Remove(ctx, 0); err != nil {
		t.Fatal(err)
	}
	select {
	case <-p.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("Done not closed after Remove")
	}
	if !strings.Contains(out.String(), standin.ReadyLine) {
		t.Errorf("server output lacks the ready line:\n%s", out.String())
	}
	if len(h.Running()) != 0 {
		t.Errorf("sandboxes still running: %v", h.Running())
	}
	if h.TunnelRequests() == 0 {
		t.Error("no request went through the tunnel")
	}
}

func waitHealthy(t *testing.T, url string, p backend.Process) {
	t.Helper()
	testenv.WaitHTTP200(t, url, p.Done())
}

// TestReap: leftovers of another run of the same scope are found by
// listing their tags, even when another backend (a crashed run-bench)
// created them; the current run's sandboxes, younger ones and other
// scopes' stay.
func TestReap(t *testing.T) {
	h := fakemodal.NewHarness(t, false)
	img := h.Image(t, standin.Config{StartupMS: 10, Fail: standin.FailHang, FailIn: "launch_server"}, nil)
	crashed, current := newBackend(t, h, modal.Config{}), newBackend(t, h, modal.Config{})
	start := func(b *modal.Backend, run, scope string) backend.Process {
		l := labels(backend.RoleServer)
		l[backend.LabelRun], l[backend.LabelScope] = run, scope
		p, err := b.Start(context.Background(), backend.Spec{Name: "reap", Image: img, Cmd: serverCmd, Port: 30000, Labels: l})
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	old, other := start(crashed, "run-old", "runner-1"), start(crashed, "run-other", "runner-2")
	mine := start(current, "run-new", "runner-1")
	before := time.Now()
	for _, tc := range []struct {
		name string
		sel  backend.Selector
		want []string
	}{
		{"younger than before", backend.Selector{Labels: map[string]string{backend.LabelScope: "runner-1"}, KeepRun: "run-new",
			Before: time.Now().Add(-time.Hour)}, nil},
		{"this scope's leftovers", backend.Selector{Labels: map[string]string{backend.LabelManaged: "true", backend.LabelScope: "runner-1"},
			KeepRun: "run-new", Before: before}, []string{old.ID()}},
		{"the current run", backend.Selector{Labels: map[string]string{backend.LabelRun: "run-new", backend.LabelManaged: "true"}}, []string{mine.ID()}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := current.Reap(context.Background(), tc.sel)
			if err != nil || strings.Join(got, ",") != strings.Join(tc.want, ",") {
				t.Errorf("Reap = %v, %v; want %v", got, err, tc.want)
			}
		})
	}
	if h.Result(other.ID()) != nil {
		t.Errorf("the other scope's sandbox was terminated")
	}
	if h.Result(old.ID()) == nil || h.Result(mine.ID()) == nil {
		t.Errorf("reaped sandboxes still run: %v", h.Running())
	}
	other.Remove(context.Background(), 0)
}

// TestPrivateRegistry: without the registry login the image is refused in
// preflight, before any sandbox; with it, Modal's pull gets it through the
// secret (the fake's registry checks).
func TestPrivateRegistry(t *testing.T) {
	h := fakemodal.NewHarness(t, true)
	img := h.Image(t, standin.Config{}, nil)
	anonymous, err := modal.New(context.Background(), modal.Config{Retry: fastRetry})
	if err != nil {
		t.Fatal(err)
	}
	defer anonymous.Close()
	if _, err := anonymous.Image(context.Background(), img); err == nil || !strings.Contains(err.Error(), "401 Unauthorized") {
		t.Errorf("Image without the login = %v; want the registry's refusal", err)
	}
	if _, err := newBackend(t, h, modal.Config{}).Image(context.Background(), img); err != nil {
		t.Errorf("Image with the login: %v", err)
	}
	if n := len(h.CallsOf("SandboxCreate")) + len(h.CallsOf("SandboxCreateV2")); n != 0 {
		t.Errorf("%d sandboxes created by an image check", n)
	}
}
