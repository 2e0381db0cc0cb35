package bench

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/commitbench/commitbench/internal/backend"
	"github.com/commitbench/commitbench/internal/engine"
	"github.com/commitbench/commitbench/internal/failure"
)

// healthPoll is how often /health_generate is asked while a server
// starts; the log line usually wins, this bounds the worst case.
const healthPoll = 200 * time.Millisecond

// rounds runs the schedule: in each round every variant still standing
// runs, in an order rotated by one per round (docs/run-bench.md).
func (r *runner) rounds(ctx context.Context) {
	order := r.active()
	for round := 0; round < r.cfg.Rounds; round++ {
		for _, v := range rotate(order, round) {
			if ctx.Err() != nil {
				return
			}
			if r.variant(v).Status != "running" {
				continue
			}
			if r.cfg.mode() == string(engine.ModeServer) {
				r.serverRound(ctx, v, round)
			} else {
				r.directRound(ctx, v, round)
			}
		}
	}
}

// serverRound starts v's server, waits until it is ready, runs the
// warm-ups and this round's repetitions against it, and removes it.
func (r *runner) serverRound(ctx context.Context, v string, round int) {
	n := repsIn(r.cfg.Repetitions, r.cfg.Rounds, round)
	if n == 0 {
		return
	}
	ready := make(chan struct{})
	var once sync.Once
	readyLine := engine.SGLang{}.ReadyLine()
	lf, abs, rel, ok := r.variantLog(v, fmt.Sprintf("r%d-server.log", round), func(line string) {
		if strings.Contains(line, readyLine) {
			once.Do(func() { close(ready) })
		}
	})
	if !ok {
		return
	}
	defer lf.Close()
	srvCmd, _ := serverCommand(r.cfg.Case.Model, r.cfg.Case.TP, r.cfg.Case.DP, r.cfg.Port, r.cfg.Case.Bench.LoRA, r.cmd.Args)
	r.logf("%s: round %d: starting server", v, round)
	start := time.Now()
	p, err := r.cfg.Backend.Start(ctx, backend.Spec{Name: fmt.Sprintf("cb-%s-%s-r%d-server", r.cfg.RunID, v, round), Image: r.cfg.Images[v],
		Cmd: srvCmd, Env: r.variantEnv(), Labels: r.labels(v, backend.RoleServer), GPUs: r.gpuRequest(), Port: r.cfg.Port,
		ShmBytes: r.cfg.ShmBytes, HostIPC: true, Mounts: r.cacheMounts(true), ScratchDir: outDir, Output: lf})
	if p != nil {
		defer r.remove(p)
	}
	if err != nil {
		if ctx.Err() == nil {
			r.fail(v, &failure.Failure{Category: failure.Infra, Evidence: err.Error(), RootCause: "the server container could not start"})
		}
		return
	}
	f := r.waitReady(ctx, p, lf, ready, abs, rel)
	if ctx.Err() != nil {
		return
	}
	if f != nil {
		r.fail(v, f)
		return
	}
	secs := time.Since(start).Seconds()
	r.mu.Lock()
	r.variant(v).ServerReadySeconds = append(r.variant(v).ServerReadySeconds, secs)
	r.mu.Unlock()
	r.logf("%s: round %d: server ready in %.1fs", v, round, secs)
	s := &serverRun{p: p, log: lf, abs: abs, rel: rel}
	for i := 1; i <= r.cfg.Warmup; i++ {
		if !r.clientRep(ctx, s, v, round, i, true) {
			return
		}
	}
	for i := 0; i < n; i++ {
		if !r.clientRep(ctx, s, v, round, r.nextIndex(v), false) {
			return
		}
	}
}

// waitReady returns nil once the server is ready: its log printed the
// ready line or /health_generate answered 200 (never /health, which said
// 200 before the warm-up finished until 2025-08). An exit first is a
// failure at once, classified from the log.
func (r *runner) waitReady(ctx context.Context, p backend.Process, lf *logFile, ready <-chan struct{}, abs, rel string) *failure.Failure {
	healthy := make(chan struct{})
	pctx, stop := context.WithCancel(ctx)
	defer stop()
	go pollHealth(pctx, p, healthy)
	timer := time.NewTimer(r.cfg.ServerStartTimeout)
	defer timer.Stop()
	select {
	case <-ready:
	case <-healthy:
	case <-ctx.Done():
	case <-p.Done():
		code, _ := p.ExitCode()
		lf.Close()
		return r.classify(abs, lf, failure.ServerCrash, fmt.Sprintf("the server exited %d before it was ready", code), rel)
	case <-timer.C:
		lf.Close()
		return r.timeout(failure.TimeoutServerStart, abs, lf, fmt.Sprintf("the server was not ready after %v", r.cfg.ServerStartTimeout), rel)
	}
	return nil
}

// pollHealth closes healthy when /health_generate first answers 200.
func pollHealth(ctx context.Context, p backend.Process, healthy chan<- struct{}) {
	c := &http.Client{Timeout: 30 * time.Second}
	t := time.NewTicker(healthPoll)
	defer t.Stop()
	for {
		if base, err := p.Endpoint(); err == nil {
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/health_generate", nil)
			if resp, err := c.Do(req); err == nil {
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					close(healthy)
					return
				}
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// timeout is a TIMEOUT_* failure carrying the log's best evidence: the
// classifier's match when there is one (a hang after an NCCL error says
// so), else the last lines.
func (r *runner) timeout(cat failure.Category, abs string, lf *logFile, cause, rel string) *failure.Failure {
	f := r.classify(abs, lf, cat, cause, rel)
	out := &failure.Failure{Category: cat, Retriable: true, Evidence: f.Evidence, RootCause: cause + " (log: " + rel + ")", Rule: f.Rule}
	if f.Category != cat {
		out.RootCause += "; the log shows " + string(f.Category)
	}
	return out
}

// nextIndex is the 1-based number of v's next measured repetition.
func (r *runner) nextIndex(v string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 1
	for _, rep := range r.variant(v).Repetitions {
		if !rep.Warmup {
			n++
		}
	}
	return n
}
