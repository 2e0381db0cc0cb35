package bench

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/commitbench/commitbench/internal/backend"
	"github.com/commitbench/commitbench/internal/failure"
	"github.com/commitbench/commitbench/internal/result"
)

// fetchCode downloads the model into the mounted cache with
// huggingface_hub, which every SGLang image has.
const fetchCode = "import sys; from huggingface_hub import snapshot_download; print(snapshot_download(sys.argv[1]))"

// variantEnv is every variant process's environment: offline, no token.
// The agent's variant runs an untrusted patch; it gets nothing it could
// leak, and the weights come from the cache the fetch filled.
func (r *runner) variantEnv() map[string]string {
	env := map[string]string{"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "HF_HOME": CacheTarget}
	for k, v := range r.cmd.Env {
		env[k] = v
	}
	return env
}

// cacheMounts mounts the model cache; read-only for the variants, so that
// one variant's code cannot alter the weights another one loads.
func (r *runner) cacheMounts(readOnly bool) []backend.Mount {
	if r.cfg.ModelCache == "" {
		return nil
	}
	return []backend.Mount{{Source: r.cfg.ModelCache, Target: CacheTarget, ReadOnly: readOnly}}
}

// fetchModel fills the cache once per case, in the only container that
// ever sees the Hub token. It runs the baseline image (upstream code),
// else the human one: never the agent's.
func (r *runner) fetchModel(ctx context.Context) *failure.Failure {
	model := r.cfg.Case.Model
	if model == "" || filepath.IsAbs(model) || r.cfg.ModelCache == "" {
		return nil
	}
	if filepath.IsAbs(r.cfg.ModelCache) {
		if err := os.MkdirAll(r.cfg.ModelCache, 0o755); err != nil {
			return &failure.Failure{Category: failure.Infra, Evidence: err.Error(), RootCause: "cannot create the model cache " + r.cfg.ModelCache}
		}
	}
	var image string
	for _, name := range []string{result.Baseline, result.Human} {
		if v := r.variant(name); v != nil && v.Status == result.StatusRunning {
			image = r.cfg.Images[name]
			break
		}
	}
	if image == "" {
		r.logf("warning: no baseline or human image to fetch %s with (the agent's never gets the token); using the cache as it is", model)
		return nil
	}
	abs, rel := r.logPath("", "fetch.log")
	lf, err := r.openLog(abs, nil)
	if err != nil {
		return &failure.Failure{Category: failure.Infra, Evidence: err.Error(), RootCause: "cannot write logs"}
	}
	defer lf.Close()
	env := map[string]string{"HF_HOME": CacheTarget}
	if r.cfg.HFToken != "" {
		env["HF_TOKEN"] = r.cfg.HFToken
	}
	r.logf("fetching %s into the model cache", model)
	p, err := r.cfg.Backend.Start(ctx, backend.Spec{Name: "cb-" + r.cfg.RunID + "-fetch", Image: image, Env: env,
		Cmd: []string{"python3", "-c", fetchCode, model}, Labels: r.labels("", backend.RoleFetch), Mounts: r.cacheMounts(false), Output: lf})
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return &failure.Failure{Category: failure.Infra, Evidence: err.Error(), RootCause: "cannot start the model fetch"}
	}
	defer r.remove(p)
	timer := time.NewTimer(r.cfg.FetchTimeout)
	defer timer.Stop()
	select {
	case <-p.Done():
	case <-timer.C:
		lf.Close()
		return r.classify(abs, lf, failure.ModelAccess, fmt.Sprintf("the model fetch did not finish in %v", r.cfg.FetchTimeout), rel)
	case <-ctx.Done():
		return nil
	}
	code, err := p.ExitCode()
	lf.Close()
	if err != nil || code != 0 {
		return r.classify(abs, lf, failure.ModelAccess, fmt.Sprintf("the model fetch exited %d", code), rel)
	}
	return nil
}

// remove deletes a process with a context of its own, so that it also
// happens when the run is being cancelled.
func (r *runner) remove(p backend.Process) {
	ctx, cancel := context.WithTimeout(context.Background(), CleanupTimeout)
	defer cancel()
	if err := p.Remove(ctx, 0); err != nil {
		r.logf("warning: %v", err)
	}
}

// classify names a failure from a closed log: the classifier's rule when
// one matches, else fallback with the log's last lines as evidence.
func (r *runner) classify(abs string, lf *logFile, fallback failure.Category, cause, rel string) *failure.Failure {
	var f *failure.Failure
	if fh := readLog(abs); fh != nil {
		f = failure.Classify(fh)
		fh.Close()
	}
	if f == nil || f.Category == failure.Unknown {
		return &failure.Failure{Category: fallback, Evidence: evidence(lf.Last()), RootCause: cause + " (log: " + rel + ")"}
	}
	if f.RootCause == "" {
		f.RootCause = cause
	}
	return f
}
