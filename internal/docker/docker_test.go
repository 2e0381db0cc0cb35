package docker

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/moby/moby/client"

	"github.com/commitbench/commitbench/internal/backend"
	"github.com/commitbench/commitbench/internal/standin"
	"github.com/commitbench/commitbench/internal/standin/standintest"
	"github.com/commitbench/commitbench/internal/testenv"
)

// syncBuffer is testenv.SyncBuffer, named for this package's tests.
type syncBuffer = testenv.SyncBuffer

func newBackend(t *testing.T) *Backend {
	t.Helper()
	testenv.RequireDocker(t)
	b, err := New(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

func randID() string {
	var b [6]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// labels gives each test its own scope and run, and removes whatever
// carries them when the test ends, passed or failed.
func labels(t *testing.T, b *Backend) map[string]string {
	scope := "test-" + randID()
	l := map[string]string{backend.LabelManaged: "true", backend.LabelScope: scope, backend.LabelRun: "run-" + randID(), standintest.TestLabel: "1"}
	t.Cleanup(func() {
		if _, err := b.Reap(context.Background(), backend.Selector{Labels: map[string]string{backend.LabelScope: scope}}); err != nil {
			t.Errorf("reap: %v", err)
		}
		assertNone(t, b, backend.LabelScope, scope)
	})
	return l
}

func assertNone(t *testing.T, b *Backend, k, v string) {
	t.Helper()
	list, err := b.c.ContainerList(context.Background(), client.ContainerListOptions{All: true, Filters: client.Filters{}.Add("label", k+"="+v)})
	if err != nil {
		t.Fatal(err)
	}
	if len(list.Items) != 0 {
		t.Errorf("%d containers with %s=%s left behind", len(list.Items), k, v)
	}
}

func TestServerExecReadFile(t *testing.T) {
	b := newBackend(t)
	img := standintest.Image(t, b.c, standin.Config{StartupMS: 50, TTFTMS: 1, TokenDelayMS: 1, Speed: 1}, nil)
	info, err := b.Image(context.Background(), img)
	if err != nil || info.Digest == "" || info.Labels[standintest.TestLabel] != "1" {
		t.Fatalf("Image(%s) = %+v, %v; want a digest and the test label", img, info, err)
	}
	if _, err := b.Image(context.Background(), "commitbench-absent-image:"+randID()); !errors.Is(err, backend.ErrNotFound) {
		t.Errorf("Image(absent) error = %v, want ErrNotFound", err)
	}
	out := &syncBuffer{}
	ctx := context.Background()
	p, err := b.Start(ctx, backend.Spec{Name: "cb-test-server", Image: img, Labels: labels(t, b), Port: 30000, ShmBytes: 1 << 30, ScratchDir: "/out",
		Cmd: []string{"python3", "-m", "sglang.launch_server", "--model-path", "/models/x", "--host", "0.0.0.0", "--port", "30000"}, Output: out})
	if err != nil {
		t.Fatal(err)
	}
	url, err := p.Endpoint()
	if err != nil || !strings.HasPrefix(url, "http://127.0.0.1:") {
		t.Fatalf("Endpoint() = %q, %v", url, err)
	}
	waitReady(t, url+"/health_generate", p)

	var client syncBuffer
	code, err := p.Exec(ctx, backend.ExecSpec{Output: &client, Cmd: []string{"python3", "-m", "sglang.bench_serving", "--host", "127.0.0.1", "--port", "30000",
		"--dataset-name", "random", "--num-prompts", "4", "--random-input-len", "8", "--random-output-len", "4", "--output-file", "/out/rep-1.jsonl"}})
	if err != nil || code != 0 {
		t.Fatalf("Exec = %d, %v; output:\n%s", code, err, client.String())
	}
	if !strings.Contains(client.String(), "Serving Benchmark Result") {
		t.Errorf("exec output lacks the result block:\n%s", client.String())
	}
	// From the scratch directory (read on the host), and elsewhere
	// (through the daemon's archive API).
	data, err := p.ReadFile(ctx, "/out/rep-1.jsonl")
	if err != nil || !strings.Contains(string(data), `"output_throughput": `) {
		t.Errorf("ReadFile(scratch) = %q, %v", data, err)
	}
	data, err = p.ReadFile(ctx, standin.ConfigPath)
	if err != nil || !strings.Contains(string(data), `"startup_ms": 50`) {
		t.Errorf("ReadFile(%s) = %q, %v", standin.ConfigPath, data, err)
	}
	if _, err := p.ReadFile(ctx, "/out/absent.jsonl"); !errors.Is(err, backend.ErrNotFound) {
		t.Errorf("ReadFile(absent) error = %v, want ErrNotFound", err)
	}
	code, err = p.Exec(ctx, backend.ExecSpec{Output: &client, Cmd: []string{"python3", "-m", "sglang.no_such_tool"}})
	if err != nil || code != 1 {
		t.Errorf("Exec(missing module) = %d, %v; want 1, nil", code, err)
	}
	if err := p.Remove(ctx, 0); err != nil {
		t.Fatal(err)
	}
	select {
	case <-p.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("Done not closed after Remove")
	}
	if !strings.Contains(out.String(), standin.ReadyLine) {
		t.Errorf("server output lacks the ready line:\n%s", out.String())
	}
}

func waitReady(t *testing.T, url string, p backend.Process) {
	t.Helper()
	testenv.WaitHTTP200(t, url, p.Done())
}

// TestExitSeen: a process that dies is reported through Done with its
// exit status and its complete output, whatever the failure.
func TestExitSeen(t *testing.T) {
	b := newBackend(t)
	for _, tc := range []struct {
		fail     string
		code     int
		evidence string
	}{
		{standin.FailUndefinedSymbol, 1, "undefined symbol: _ZN3c1017RegisterOperatorsD1Ev_missing"},
		{standin.FailOOM, 1, "torch.OutOfMemoryError: CUDA out of memory"},
		{standin.FailCrash, 139, "Segmentation fault"},
	} {
		t.Run(tc.fail, func(t *testing.T) {
			img := standintest.Image(t, b.c, standin.Config{StartupMS: 10, Speed: 1, Fail: tc.fail}, nil)
			out := &syncBuffer{}
			p, err := b.Start(context.Background(), backend.Spec{Name: "cb-test-exit", Image: img, Labels: labels(t, b), Output: out,
				Cmd: []string{"python3", "-m", "sglang.launch_server", "--model-path", "/m"}, Port: 30000})
			// A server that dies at once is the server's failure, for the
			// caller to classify from its log: not a Start error.
			if err != nil {
				t.Fatal(err)
			}
			defer p.Remove(context.Background(), 0)
			select {
			case <-p.Done():
			case <-time.After(15 * time.Second):
				t.Fatal("Done not closed")
			}
			// Start usually inspects before the exit; once exited, the port
			// is gone and that still is no error.
			if err := p.(*process).resolveEndpoint(context.Background()); err != nil {
				t.Errorf("endpoint of an exited server: %v", err)
			}
			if code, err := p.ExitCode(); code != tc.code || err != nil {
				t.Errorf("ExitCode() = %d, %v; want %d", code, err, tc.code)
			}
			if !strings.Contains(out.String(), tc.evidence) {
				t.Errorf("output lacks %q:\n%s", tc.evidence, out.String())
			}
		})
	}
}

// TestReapKeepsCurrentRun: leftovers of other runs in the same scope go;
// the current run's containers and other scopes' stay.
func TestReapKeepsCurrentRun(t *testing.T) {
	b := newBackend(t)
	img := standintest.Image(t, b.c, standin.Config{StartupMS: 10, Speed: 1, Fail: standin.FailHang}, nil)
	old, cur, other := labels(t, b), labels(t, b), labels(t, b)
	cur[backend.LabelScope] = old[backend.LabelScope]
	start := func(l map[string]string) backend.Process {
		p, err := b.Start(context.Background(), backend.Spec{Name: "cb-test-reap", Image: img, Labels: l, Cmd: []string{"python3", "-m", "sglang.launch_server", "--model-path", "/m"}})
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	pOld, pCur, pOther := start(old), start(cur), start(other)
	removed, err := b.Reap(context.Background(), backend.Selector{Labels: map[string]string{backend.LabelManaged: "true", backend.LabelScope: old[backend.LabelScope]},
		KeepRun: cur[backend.LabelRun], Before: time.Now().Add(time.Second)})
	if err != nil || len(removed) != 1 || removed[0] != pOld.ID() {
		t.Errorf("Reap = %v, %v; want only %s", removed, err, pOld.ID())
	}
	for _, p := range []backend.Process{pCur, pOther} {
		if _, err := b.c.ContainerInspect(context.Background(), p.ID(), client.ContainerInspectOptions{}); err != nil {
			t.Errorf("container %s was removed: %v", p.ID(), err)
		}
	}
}

// TestExecCancel: a command that hangs returns as soon as its context ends.
func TestExecCancel(t *testing.T) {
	b := newBackend(t)
	img := standintest.Image(t, b.c, standin.Config{StartupMS: 10, Speed: 1, Fail: standin.FailHang, FailIn: "bench_serving"}, nil)
	p, err := b.Start(context.Background(), backend.Spec{Name: "cb-test-exec", Image: img, Labels: labels(t, b), Cmd: []string{"python3", "-m", "sglang.launch_server", "--model-path", "/m"}})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Remove(context.Background(), 0)
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err = p.Exec(ctx, backend.ExecSpec{Cmd: []string{"python3", "-m", "sglang.bench_serving"}})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Exec error = %v, want DeadlineExceeded", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Exec returned %v after its deadline", d)
	}
}
