package bench

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/commitbench/commitbench/internal/backend"
	"github.com/commitbench/commitbench/internal/cli"
	"github.com/commitbench/commitbench/internal/engine"
	"github.com/commitbench/commitbench/internal/failure"
	"github.com/commitbench/commitbench/internal/gpu"
	"github.com/commitbench/commitbench/internal/result"
)

// CleanupTimeout bounds the removal of a run's containers after a cancel:
// the runner sends SIGKILL a few seconds after SIGTERM.
const CleanupTimeout = 10 * time.Second

type runner struct {
	cfg     *Config
	tool    engine.Tool
	cmd     command
	caseDir string
	started time.Time
	gpus    []gpu.GPU
	sim     bool

	mu  sync.Mutex
	res *result.Result
}

// Run measures the case and returns its result, also written to
// OutDir/<case>/result.json after every repetition. The error is a
// *cli.UsageError for bad input, else non-nil when a variant failed or the
// run was cancelled.
func Run(ctx context.Context, cfg Config) (*result.Result, error) {
	r, err := newRunner(&cfg)
	if err != nil {
		return nil, err
	}
	if err := r.save(); err != nil {
		return r.res, err
	}
	r.logf("run %s: case %s (%s, %s mode) on %s", cfg.RunID, cfg.Case.ID, r.tool, cfg.mode(), cfg.Backend.Name())
	r.reapLeftovers(ctx)
	defer r.cleanup()

	f, err := r.preflight(ctx)
	if err != nil {
		return r.res, err
	}
	if f == nil {
		f = r.fetchModel(ctx)
	}
	if f != nil {
		for _, v := range r.active() {
			r.fail(v, f)
		}
	} else {
		r.rounds(ctx)
	}
	return r.res, r.finish(ctx)
}

func newRunner(cfg *Config) (*runner, error) {
	if err := cfg.defaults(); err != nil {
		return nil, cli.Usagef("%v", err)
	}
	c := cfg.Case
	if !c.Runnable {
		return nil, cli.Usagef("case %s: runnable: false (%s); plan marks it unrunnable, so it must not be sent to run-bench", c.ID, c.Reason)
	}
	tool := engine.Tool(c.Bench.Tool)
	if tool.Mode() == "" || string(tool.Mode()) != c.Bench.Mode {
		return nil, cli.Usagef("case %s: bench.tool/mode: %q/%q is not a known tool and its mode; re-run plan", c.ID, c.Bench.Tool, c.Bench.Mode)
	}
	cmd, err := splitCommand(c.Bench.Args)
	if err != nil {
		return nil, cli.Usagef("case %s: bench.args: %v; re-run plan", c.ID, err)
	}
	if cmd.Module != (engine.SGLang{}).Module(tool) {
		return nil, cli.Usagef("case %s: bench.args: runs %s, but bench.tool is %s; re-run plan", c.ID, cmd.Module, tool)
	}
	for _, k := range []string{"HF_TOKEN", "HUGGING_FACE_HUB_TOKEN"} {
		delete(cmd.Env, k) // the token never reaches a variant
	}
	r := &runner{cfg: cfg, tool: tool, cmd: cmd, caseDir: filepath.Join(cfg.OutDir, c.ID), started: time.Now().UTC()}
	r.res = &result.Result{Schema: result.Schema, ToolkitVersion: cfg.ToolkitVersion, RunID: cfg.RunID, RunURL: cfg.RunURL,
		Backend: cfg.Backend.Name(), Status: result.RunRunning, Started: r.started, Host: result.Host{Runner: cfg.Runner},
		Case: result.Case{ID: c.ID, Repo: c.Repo, Commit: c.Commit, Parent: c.Parent, Subject: c.Subject, PR: c.PR, Model: c.Model,
			PerfCommand: c.PerfCommand, Tool: c.Bench.Tool, Mode: c.Bench.Mode, GPUType: c.GPU.Type, GPUCount: c.GPU.Count, TP: c.TP, GenericCommand: c.GenericCommand},
		Settings: &result.Settings{Repetitions: cfg.Repetitions, Warmup: cfg.Warmup, Rounds: cfg.Rounds, GPUs: cfg.GPUSelect,
			ServerStartTimeoutSeconds: cfg.ServerStartTimeout.Seconds(), BenchmarkTimeoutSeconds: cfg.BenchmarkTimeout.Seconds()}}
	for _, name := range variantOrder {
		pv := c.Variant(name)
		if pv == nil {
			continue
		}
		v := &result.Variant{Name: name, Status: result.StatusRunning, Image: cfg.Images[name], Repetitions: []*result.Repetition{},
			AgentName: pv.AgentName, AgentModel: pv.AgentModel}
		switch {
		case !pv.Runnable:
			v.Status, v.Reason = result.StatusNotRun, pv.Reason
		case v.Image == "":
			return nil, cli.Usagef("case %s: image-%s: empty; pass the image ref build-image output for the %s variant", c.ID, name, name)
		}
		r.res.Variants = append(r.res.Variants, v)
	}
	if len(r.active()) == 0 {
		return nil, cli.Usagef("case %s: variants: none is runnable; nothing to measure", c.ID)
	}
	return r, nil
}

// active lists the variants still being measured, in round-0 order.
func (r *runner) active() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, v := range r.res.Variants {
		if v.Status == result.StatusRunning {
			out = append(out, v.Name)
		}
	}
	return out
}

func (r *runner) variant(name string) *result.Variant { return r.res.Variant(name) }

// fail marks a variant failed: one failure of any process ends it (the
// rest of its rounds would only repeat the failure and spend GPU time).
func (r *runner) fail(name string, f *failure.Failure) {
	r.mu.Lock()
	v := r.variant(name)
	if v.Status == result.StatusRunning {
		v.Status, v.Failure = result.StatusFailed, describe(f)
	}
	r.mu.Unlock()
	r.logf("%s: failed: %s: %s | %s", name, f.Category, firstLine(f.RootCause), firstLine(f.Evidence))
	r.save()
}

// describe fills RootCause and Hint from the category when the failure
// does not carry its own.
func describe(f *failure.Failure) *failure.Failure {
	if f.RootCause == "" || f.Hint == "" {
		rc, hint := failure.Describe(f.Category)
		if f.RootCause == "" {
			f.RootCause = rc
		}
		if f.Hint == "" {
			f.Hint = hint
		}
	}
	return f
}

// save writes result.json atomically; the result is valid at every save.
func (r *runner) save() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := result.WriteFile(filepath.Join(r.caseDir, result.FileName), r.res); err != nil {
		return fmt.Errorf("write result: %w", err)
	}
	return nil
}

func (r *runner) logf(format string, args ...any) {
	fmt.Fprintf(r.cfg.Log, "%s\n", r.cfg.Redact(fmt.Sprintf(format, args...)))
}

// labels are put on every process of the run.
func (r *runner) labels(variant, role string) map[string]string {
	return map[string]string{backend.LabelManaged: "true", backend.LabelRun: r.cfg.RunID, backend.LabelScope: r.cfg.Scope,
		backend.LabelCase: r.cfg.Case.ID, backend.LabelVariant: variant, backend.LabelRole: role}
}

// reapLeftovers removes what crashed runs of this scope left: containers
// still holding GPUs would skew, or break, this run.
func (r *runner) reapLeftovers(ctx context.Context) {
	ids, err := r.cfg.Backend.Reap(ctx, backend.Selector{Labels: map[string]string{backend.LabelManaged: "true", backend.LabelScope: r.cfg.Scope},
		KeepRun: r.cfg.RunID, Before: r.started})
	if len(ids) > 0 {
		r.logf("removed %d containers left by earlier runs on this runner", len(ids))
	}
	if err != nil {
		r.logf("warning: removing earlier runs' containers: %v", err)
	}
}

// cleanup removes every process of this run with a context of its own: the
// run's context is already cancelled when a SIGTERM brought us here.
func (r *runner) cleanup() {
	ctx, cancel := context.WithTimeout(context.Background(), CleanupTimeout)
	defer cancel()
	ids, err := r.cfg.Backend.Reap(ctx, backend.Selector{Labels: map[string]string{backend.LabelRun: r.cfg.RunID, backend.LabelManaged: "true"}})
	if err != nil {
		r.logf("warning: cleanup: %v (remove containers labelled %s=%s by hand)", err, backend.LabelRun, r.cfg.RunID)
	} else if len(ids) > 0 {
		r.logf("cleanup: removed %d containers", len(ids))
	}
}

// finish settles every variant's status and writes the final result.
func (r *runner) finish(ctx context.Context) error {
	cancelled := ctx.Err() != nil
	r.mu.Lock()
	now := time.Now().UTC()
	r.res.Finished = &now
	r.res.Status = result.RunComplete
	if cancelled {
		r.res.Status = result.RunCancelled
	}
	var failed []string
	for _, v := range r.res.Variants {
		if v.Status == result.StatusRunning {
			n := len(v.Measured())
			switch {
			case cancelled:
				v.Status = result.StatusFailed
				v.Failure = &failure.Failure{Category: failure.Cancelled, Retriable: true,
					RootCause: fmt.Sprintf("the run was cancelled after %d of %d repetitions", n, r.cfg.Repetitions), Hint: "re-run the job"}
			case n == r.cfg.Repetitions:
				v.Status = result.StatusSuccess
			default:
				v.Status = result.StatusFailed
				v.Failure = &failure.Failure{Category: failure.Infra, RootCause: fmt.Sprintf("%d of %d repetitions measured", n, r.cfg.Repetitions)}
			}
		}
		if v.Status == result.StatusFailed {
			failed = append(failed, fmt.Sprintf("%s (%s)", v.Name, v.Failure.Category))
		}
	}
	r.mu.Unlock()
	if err := r.save(); err != nil {
		return err
	}
	path := filepath.Join(r.caseDir, result.FileName)
	switch {
	case cancelled:
		return fmt.Errorf("case %s: cancelled; the repetitions that finished are in %s", r.cfg.Case.ID, path)
	case len(failed) > 0:
		return fmt.Errorf("case %s: %s failed; see %s", r.cfg.Case.ID, strings.Join(failed, ", "), path)
	}
	return nil
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(strings.TrimSpace(s), "\n")
	return line
}

// logPath is a log's path, absolute and relative to the case directory
// (as the result records it).
func (r *runner) logPath(variant, name string) (abs, rel string) {
	rel = filepath.Join("logs", variant, name)
	return filepath.Join(r.caseDir, rel), rel
}

// openLog creates a capped, redacted log.
func (r *runner) openLog(abs string, onLine func(string)) (*logFile, error) {
	return newLogFile(abs, r.cfg.LogCap, r.cfg.Redact, onLine)
}

// variantLog opens one of variant's logs; when it cannot, the variant
// fails (INFRA) and ok is false.
func (r *runner) variantLog(variant, name string, onLine func(string)) (lf *logFile, abs, rel string, ok bool) {
	abs, rel = r.logPath(variant, name)
	lf, err := r.openLog(abs, onLine)
	if err != nil {
		r.fail(variant, &failure.Failure{Category: failure.Infra, Evidence: err.Error(), RootCause: "cannot write logs"})
		return nil, "", "", false
	}
	return lf, abs, rel, true
}

// readLog returns a closed log's content for the classifier.
func readLog(path string) *os.File {
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	return f
}
