package bench

import (
	"bufio"
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/moby/moby/client"

	"github.com/commitbench/commitbench/internal/backend"
	"github.com/commitbench/commitbench/internal/result"
	"github.com/commitbench/commitbench/internal/standin"
)

// stampWriter notes when each progress line was written.
type stampWriter struct {
	mu    sync.Mutex
	lines []stamped
}

type stamped struct {
	at   time.Time
	line string
}

func (w *stampWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.lines = append(w.lines, stamped{time.Now(), string(p)})
	return len(p), nil
}

func (w *stampWriter) first(sub string) time.Time {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, l := range w.lines {
		if strings.Contains(l.line, sub) {
			return l.at
		}
	}
	return time.Time{}
}

// readyStamps reads the stand-in's "ready unix_nano=" lines of a log.
func readyStamp(b *testing.B, path string) time.Time {
	f, err := os.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), standin.ReadyStampPrefix); ok {
			n, _ := strconv.ParseInt(v, 10, 64)
			return time.Unix(0, n)
		}
	}
	b.Fatalf("%s: no ready stamp", path)
	return time.Time{}
}

// BenchmarkOrchestration runs one variant of a server-mode case (1 warm-up,
// 5 repetitions, one server start) against the stand-in and reports what
// run-bench adds: wall time not spent serving, per repetition; the exec
// overhead of one repetition; and how late readiness was noticed after
// the server printed its ready line.
func BenchmarkOrchestration(b *testing.B) {
	e := newEnv(b)
	cfgStandin := standin.Config{StartupMS: 100, TTFTMS: 5, TokenDelayMS: 5}
	img := e.image(cfgStandin, "sm_90")
	var overhead, execOver, ready float64
	const reps, warm = 5, 1
	for i := 0; i < b.N; i++ {
		c := servingCase(result.Baseline)
		cfg := e.config(c, map[string]string{result.Baseline: img})
		cfg.Repetitions, cfg.Warmup, cfg.Rounds = reps, warm, 1
		cfg.Log = &stampWriter{}
		start := time.Now()
		res, err := Run(context.Background(), cfg)
		wall := time.Since(start).Seconds()
		if err != nil {
			b.Fatal(err)
		}
		v := res.Variant(result.Baseline)
		var serving float64
		for _, rep := range v.Repetitions {
			d := rep.Blocks[0].Metrics["duration"]
			serving += d
			execOver += rep.DurationSeconds - d
		}
		// The stand-in's own start: model load + its self-warm-up (8 tokens).
		standinStart := (cfgStandin.StartupMS + cfgStandin.TTFTMS + 7*cfgStandin.TokenDelayMS) / 1000
		overhead += (wall - serving - standinStart) / (reps + warm)
		stamp := readyStamp(b, filepath.Join(e.out, c.ID, v.Repetitions[0].Logs.Server))
		ready += res.Order[0].Started.Sub(stamp).Seconds()
	}
	n := float64(b.N)
	b.ReportMetric(overhead/n*1000, "ms-overhead/rep")
	b.ReportMetric(execOver/n/(reps+warm)*1000, "ms-exec-overhead/rep")
	b.ReportMetric(ready/n*1000, "ms-ready-detect")
}

// finishRecorder notes when each removed container had exited.
type finishRecorder struct {
	*recorder
	mu       sync.Mutex
	finished []time.Time
}

func (f *finishRecorder) Start(ctx context.Context, s backend.Spec) (backend.Process, error) {
	p, err := f.recorder.Start(ctx, s)
	if err != nil {
		return p, err
	}
	return &finishProc{Process: p, f: f}, nil
}

type finishProc struct {
	backend.Process
	f *finishRecorder
}

func (p *finishProc) Remove(ctx context.Context, grace time.Duration) error {
	if ci, err := p.f.Client().ContainerInspect(ctx, p.ID(), client.ContainerInspectOptions{}); err == nil && ci.Container.State != nil {
		if t, err := time.Parse(time.RFC3339Nano, ci.Container.State.FinishedAt); err == nil && t.Year() > 2000 {
			p.f.mu.Lock()
			p.f.finished = append(p.f.finished, t)
			p.f.mu.Unlock()
		}
	}
	return p.Process.Remove(ctx, grace)
}

// BenchmarkCrashDetection: a server that dies during start (the real CUDA
// OOM traceback); reported is the time from the container's exit (the
// daemon's FinishedAt) to run-bench recording the failure.
func BenchmarkCrashDetection(b *testing.B) {
	e := newEnv(b)
	img := e.image(standin.Config{StartupMS: 50, Fail: standin.FailOOM, FailIn: "launch_server"}, "sm_90")
	fr := &finishRecorder{recorder: e.rec}
	var delay float64
	for i := 0; i < b.N; i++ {
		c := servingCase(result.Baseline)
		cfg := e.config(c, map[string]string{result.Baseline: img})
		cfg.Backend = fr
		log := &stampWriter{}
		cfg.Log = log
		if _, err := Run(context.Background(), cfg); err == nil {
			b.Fatal("the crash was not reported")
		}
		fr.mu.Lock()
		exited := fr.finished[len(fr.finished)-1]
		fr.mu.Unlock()
		delay += log.first("baseline: failed: GPU_OOM").Sub(exited).Seconds()
	}
	b.ReportMetric(delay/float64(b.N)*1000, "ms-crash-detect")
}
