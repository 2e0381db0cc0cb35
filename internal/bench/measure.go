package bench

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/commitbench/commitbench/internal/backend"
	"github.com/commitbench/commitbench/internal/failure"
	"github.com/commitbench/commitbench/internal/gpu"
	"github.com/commitbench/commitbench/internal/metrics"
	"github.com/commitbench/commitbench/internal/result"
)

// serverRun is a ready server a round's client repetitions run against.
type serverRun struct {
	p        backend.Process
	log      *logFile
	abs, rel string
}

// repName names a repetition's log and result file.
func repName(round, idx int, warmup bool) string {
	if warmup {
		return fmt.Sprintf("r%d-warmup%d", round, idx)
	}
	return fmt.Sprintf("r%d-rep%d", round, idx)
}

// clientRep runs the perf command once inside the server's container
// (same image, same network namespace: 127.0.0.1:port) with its own
// output file. It reports whether the variant may go on.
func (r *runner) clientRep(ctx context.Context, s *serverRun, v string, round, idx int, warmup bool) bool {
	name := repName(round, idx, warmup)
	lf, abs, rel, ok := r.variantLog(v, name+".log", nil)
	if !ok {
		return false
	}
	defer lf.Close()
	_, rest := serverCommand(r.cfg.Case.Model, r.cfg.Case.TP, r.cfg.Case.DP, r.cfg.Port, r.cfg.Case.Bench.LoRA, r.cmd.Args)
	outFile := fmt.Sprintf("%s/commitbench-%s-%s-%s.jsonl", outDir, r.cfg.RunID, v, name)
	cmd := append([]string{"python3", "-m", r.cmd.Module}, clientArgs(rest, r.cfg.Port, outFile)...)
	rep := &result.Repetition{Index: idx, Round: round, Warmup: warmup, Started: time.Now().UTC(), Logs: result.Logs{Server: s.rel, Client: rel}}
	sampler := gpu.StartSampler(ctx, r.cfg.GPUs, r.cfg.TelemetryInterval, r.deviceIndexes(), r.sim)

	bctx, cancel := context.WithTimeout(ctx, r.cfg.BenchmarkTimeout)
	defer cancel()
	type execResult struct {
		code int
		err  error
	}
	done := make(chan execResult, 1)
	go func() {
		code, err := s.p.Exec(bctx, backend.ExecSpec{Cmd: cmd, Env: r.variantEnv(), Output: lf})
		done <- execResult{code, err}
	}()
	var er execResult
	serverDied := false
	select {
	case er = <-done:
	case <-s.p.Done():
		// The client would only wait on a dead server: stop it now.
		cancel()
		er, serverDied = <-done, true
	}
	rep.Telemetry = sampler.Stop()
	rep.DurationSeconds = time.Since(rep.Started).Seconds()
	rep.ExitCode = er.code
	lf.Close()
	switch {
	case ctx.Err() != nil:
		return false // cancelled: an interrupted repetition is not recorded
	case serverDied:
		code, _ := s.p.ExitCode()
		s.log.Close()
		rep.ExitCode = -1
		rep.Failure = r.classify(s.abs, s.log, failure.ServerCrash, fmt.Sprintf("the server exited %d during the benchmark", code), s.rel)
	case errors.Is(er.err, context.DeadlineExceeded):
		rep.ExitCode = -1
		rep.Failure = r.timeout(failure.TimeoutBenchmark, abs, lf, fmt.Sprintf("the benchmark did not finish in %v", r.cfg.BenchmarkTimeout), rel)
	case er.err != nil:
		rep.ExitCode = -1
		rep.Failure = &failure.Failure{Category: failure.Infra, Retriable: true, Evidence: er.err.Error(), RootCause: "the benchmark could not be run in the server's container"}
	case er.code != 0:
		rep.Failure = r.classify(abs, lf, failure.Unknown, fmt.Sprintf("the benchmark exited %d", er.code), rel)
	default:
		data, err := s.p.ReadFile(ctx, outFile)
		r.parse(rep, data, err, abs, rel)
	}
	return r.record(v, rep)
}

// directRound runs v's perf command as its own container with the GPUs:
// the warm-ups in the first round, then this round's repetitions.
func (r *runner) directRound(ctx context.Context, v string, round int) {
	if round == 0 {
		for i := 1; i <= r.cfg.Warmup; i++ {
			if !r.directRep(ctx, v, round, i, true) {
				return
			}
		}
	}
	for i := 0; i < repsIn(r.cfg.Repetitions, r.cfg.Rounds, round); i++ {
		if !r.directRep(ctx, v, round, r.nextIndex(v), false) {
			return
		}
	}
}

func (r *runner) directRep(ctx context.Context, v string, round, idx int, warmup bool) bool {
	name := repName(round, idx, warmup)
	lf, abs, rel, ok := r.variantLog(v, name+".log", nil)
	if !ok {
		return false
	}
	defer lf.Close()
	outFile := fmt.Sprintf("%s/commitbench-%s.jsonl", outDir, name)
	cmd := append([]string{"python3", "-m", r.cmd.Module}, directArgs(r.tool, r.cmd.Args, r.cfg.Case.TP, outFile)...)
	rep := &result.Repetition{Index: idx, Round: round, Warmup: warmup, Started: time.Now().UTC(), Logs: result.Logs{Client: rel}}
	sampler := gpu.StartSampler(ctx, r.cfg.GPUs, r.cfg.TelemetryInterval, r.deviceIndexes(), r.sim)
	p, err := r.cfg.Backend.Start(ctx, backend.Spec{Name: fmt.Sprintf("cb-%s-%s-%s", r.cfg.RunID, v, name), Image: r.cfg.Images[v], Cmd: cmd,
		Env: r.variantEnv(), Labels: r.labels(v, backend.RoleBench), GPUs: r.gpuRequest(), ShmBytes: r.cfg.ShmBytes, HostIPC: true,
		Mounts: r.cacheMounts(true), ScratchDir: outDir, Output: lf})
	if p != nil {
		defer r.remove(p)
	}
	if err != nil {
		sampler.Stop()
		if ctx.Err() == nil {
			r.fail(v, &failure.Failure{Category: failure.Infra, Evidence: err.Error(), RootCause: "the benchmark container could not start"})
		}
		return false
	}
	timer := time.NewTimer(r.cfg.BenchmarkTimeout)
	defer timer.Stop()
	timedOut := false
	select {
	case <-p.Done():
	case <-timer.C:
		timedOut = true
	case <-ctx.Done():
	}
	rep.Telemetry = sampler.Stop()
	rep.DurationSeconds = time.Since(rep.Started).Seconds()
	if ctx.Err() != nil {
		return false
	}
	if timedOut {
		lf.Close()
		rep.ExitCode = -1
		rep.Failure = r.timeout(failure.TimeoutBenchmark, abs, lf, fmt.Sprintf("the benchmark did not finish in %v", r.cfg.BenchmarkTimeout), rel)
		return r.record(v, rep)
	}
	code, err := p.ExitCode()
	rep.ExitCode = code
	lf.Close()
	switch {
	case err != nil:
		rep.ExitCode = -1
		rep.Failure = &failure.Failure{Category: failure.Infra, Retriable: true, Evidence: err.Error(), RootCause: "the benchmark's exit status is unknown"}
	case code != 0:
		rep.Failure = r.classify(abs, lf, failure.Unknown, fmt.Sprintf("the benchmark exited %d", code), rel)
	default:
		data, err := p.ReadFile(ctx, outFile)
		r.parse(rep, data, err, abs, rel)
	}
	return r.record(v, rep)
}

// parse fills a repetition's metrics from the tool's own result file,
// else from its printed output. A run that exited 0 without the metrics
// its tool must produce is METRICS_MISSING, never a success.
func (r *runner) parse(rep *result.Repetition, data []byte, readErr error, abs, rel string) {
	var blocks []result.Block
	if readErr == nil && len(data) > 0 {
		blocks, _ = metrics.ParseJSONL(r.tool, bytes.NewReader(data))
	} else if readErr != nil && !errors.Is(readErr, backend.ErrNotFound) {
		r.logf("warning: reading the result file: %v", readErr)
	}
	if len(blocks) == 0 {
		if fh := readLog(abs); fh != nil {
			blocks, _ = metrics.ParseText(r.tool, fh)
			fh.Close()
		}
	}
	rep.Blocks = blocks
	if f := metrics.Check(r.tool, blocks); f != nil {
		f.RootCause += " (log: " + rel + ")"
		rep.Failure = f
	} else if len(blocks) == 0 {
		rep.Failure = &failure.Failure{Category: failure.MetricsMissing, RootCause: "the benchmark exited 0 but printed no metrics (log: " + rel + ")"}
	}
}

// record appends a finished repetition and its slot in the run order,
// writes the result, and fails the variant when the repetition failed.
func (r *runner) record(v string, rep *result.Repetition) bool {
	if rep.Blocks == nil {
		rep.Blocks = []result.Block{}
	}
	r.mu.Lock()
	r.res.Order = append(r.res.Order, result.Slot{Variant: v, Round: rep.Round, Repetition: rep.Index, Warmup: rep.Warmup, Started: rep.Started})
	r.variant(v).Repetitions = append(r.variant(v).Repetitions, rep)
	r.mu.Unlock()
	kind := "repetition"
	if rep.Warmup {
		kind = "warm-up"
	}
	if rep.Failure != nil {
		r.fail(v, rep.Failure)
		return false
	}
	r.logf("%s: round %d: %s %d done in %.1fs", v, rep.Round, kind, rep.Index, rep.DurationSeconds)
	r.save()
	return true
}
