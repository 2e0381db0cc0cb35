package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/commitbench/commitbench/internal/actionsio"
	"github.com/commitbench/commitbench/internal/batch"
	"github.com/commitbench/commitbench/internal/bench"
	"github.com/commitbench/commitbench/internal/cli"
	"github.com/commitbench/commitbench/internal/docker"
	"github.com/commitbench/commitbench/internal/modal"
	"github.com/commitbench/commitbench/internal/plan"
	"github.com/commitbench/commitbench/internal/result"
)

// DefaultModalCache is the Modal volume that holds the Hugging Face cache
// when model-cache is not given (docs/modal.md).
const DefaultModalCache = "commitbench-hf-cache"

// extInputs are the inputs of the modal backend and of batch mode.
type extInputs struct {
	tokenID, tokenSecret, app, environment *string
	regUser, regPass                       *string
	all                                    *bool
	parallel                               *int
	images                                 *string
}

func declareModal(fs *flag.FlagSet) *extInputs {
	return &extInputs{
		tokenID:     fs.String("modal-token-id", "", "Modal token id (backend modal; default MODAL_TOKEN_ID or ~/.modal.toml)"),
		tokenSecret: fs.String("modal-token-secret", "", "Modal token secret (backend modal; default MODAL_TOKEN_SECRET); masked"),
		app:         fs.String("modal-app", "commitbench", "Modal app the sandboxes belong to"),
		environment: fs.String("modal-environment", "", "Modal environment (default: the profile's)"),
		regUser:     fs.String("registry-username", "", "login of a private image registry (backend modal: run-bench reads labels with it, Modal pulls with it)"),
		regPass:     fs.String("registry-password", "", "password or token of that registry; masked"),
		all:         fs.Bool("all", false, "batch mode: run every runnable case of the plan, images from -images"),
		parallel:    fs.Int("parallel", 1, "batch mode: cases run at once"),
		images:      fs.String("images", "", `batch mode: JSON file {"<case>": {"baseline": REF, "human": REF, "agent": REF}}`),
	}
}

// mask hides the credentials, also those the SDK reads from the
// environment.
func (e *extInputs) mask(x *actionsio.IO) {
	for _, s := range []string{*e.tokenID, *e.tokenSecret, *e.regPass, x.Getenv("MODAL_TOKEN_ID"), x.Getenv("MODAL_TOKEN_SECRET")} {
		x.Mask(s)
	}
}

// openBackend sets cfg.Backend (and, for modal, the GPU source and the
// model cache) and returns what closes it.
func openBackend(ctx context.Context, x *actionsio.IO, name string, e *extInputs, cfg *bench.Config) (func(), error) {
	switch name {
	case "docker":
		be, err := docker.New(ctx)
		if err != nil {
			return nil, err
		}
		cfg.Backend = be
		return func() { be.Close() }, nil
	case "modal":
	default:
		return nil, cli.Usagef("backend: %q; use docker (a GPU runner) or modal", name)
	}
	for name, def := range map[string]string{"gpu-source": "nvidia-smi", "gpus": "all"} {
		if v := x.Flags().Lookup(name).Value.String(); v != def {
			x.Warningf("%s: %q is not used with backend modal: the GPUs are the plan's gpu.type and gpu.count, requested from Modal", name, v)
		}
	}
	switch cache := x.Flags().Lookup("model-cache").Value.String(); {
	case cache == "":
		cfg.ModelCache = DefaultModalCache
	case filepath.IsAbs(cfg.ModelCache):
		return nil, cli.Usagef("model-cache: %q is a path; with backend modal give a Modal volume name (default %s)", cache, DefaultModalCache)
	}
	be, err := modal.New(ctx, modal.Config{App: *e.app, TokenID: *e.tokenID, TokenSecret: *e.tokenSecret, Environment: *e.environment,
		RegistryUsername: *e.regUser, RegistryPassword: *e.regPass, Lifetimes: lifetimes(cfg), Log: x.Stderr()})
	if err != nil {
		return nil, err
	}
	cfg.Backend = be
	cfg.GPUs = &modal.GPUs{Backend: be, RunID: cfg.RunID, Type: cfg.Case.GPU.Type, Count: cfg.Case.GPU.Count}
	return be.Close, nil
}

// lifetimes are the sandbox limits for the run's limits, with bench's
// defaults where the run leaves them to it.
func lifetimes(cfg *bench.Config) modal.Lifetimes {
	n := max(cfg.Case.GPU.Count, 1)
	start, bt, ft, rounds := cfg.ServerStartTimeout, cfg.BenchmarkTimeout, cfg.FetchTimeout, cfg.Rounds
	if start == 0 {
		start = bench.DefaultServerStartTimeout(n)
	}
	if bt == 0 {
		bt = bench.DefaultBenchmarkTimeout(n)
	}
	if ft == 0 {
		ft = bench.DefaultFetchTimeout
	}
	if rounds == 0 {
		rounds = bench.DefaultRounds(cfg.Repetitions, cfg.Case.Bench.Mode)
	}
	return modal.LifetimesFor(start, bt, ft, cfg.Repetitions, cfg.Warmup, rounds)
}

// batchFlags are given per case by runBatch, never passed through.
var batchFlags = map[string]bool{"all": true, "parallel": true, "images": true, "case": true, "run-id": true, "scope": true,
	"image-baseline": true, "image-human": true, "image-agent": true}

// runBatch runs every runnable case of the plan, parallel at a time, each
// as its own run-bench invocation (same code path, own run id and scope,
// its log in OUT/<case>/run-bench.log), with a line per case as it ends
// and a summary. It fails when any case failed.
func runBatch(ctx context.Context, x *actionsio.IO, e *extInputs, args []string, o actionsio.Options) error {
	flagValue := func(n string) string { return x.Flags().Lookup(n).Value.String() }
	if *e.images == "" {
		return cli.Usagef("images: empty; batch mode (-all) needs a JSON file mapping each case to its variants' image refs")
	}
	p, err := plan.Read(flagValue("plan"))
	if err != nil {
		return cli.Usagef("plan: %v", err)
	}
	var refs map[string]map[string]string
	data, err := os.ReadFile(*e.images)
	if err == nil {
		err = json.Unmarshal(data, &refs)
	}
	if err != nil {
		return cli.Usagef("images: %v; want {\"<case>\": {\"baseline\": REF, ...}}", err)
	}
	out, runID, scope := flagValue("out"), defaultRunID(x, flagValue("run-id")), defaultScope(x, flagValue("scope"))
	base := passThrough(x.Flags(), args)
	var jobs []batch.Job
	for i, c := range p.Cases {
		j := batch.Job{ID: c.ID}
		switch imgs, ok := refs[c.ID]; {
		case !c.Runnable:
			j.Skip = "not runnable: " + c.Reason
		case !ok:
			j.Skip = "no images in " + *e.images
		default:
			a := append([]string(nil), base...)
			a = append(a, "-case", c.ID, "-run-id", fmt.Sprintf("%s-%d", runID, i), "-scope", scope+"/"+c.ID)
			for v, ref := range imgs {
				a = append(a, "-image-"+v, ref)
			}
			j.Run = func(ctx context.Context) error { return runCase(ctx, a, o, filepath.Join(out, c.ID)) }
		}
		jobs = append(jobs, j)
	}
	fmt.Fprintf(x.Stderr(), "batch: %d cases of %s, %d at a time\n", len(jobs), flagValue("plan"), max(*e.parallel, 1))
	start := time.Now()
	outcomes := batch.Run(ctx, jobs, *e.parallel, func(done, total int, oc batch.Outcome) {
		fmt.Fprintf(x.Stderr(), "[%d/%d] %s\n", done, total, batch.Line(oc, readResult(out, oc.ID)))
	})
	return summarize(x, out, outcomes, time.Since(start))
}

// passThrough is args without the flags runBatch sets per case.
func passThrough(fs *flag.FlagSet, args []string) []string {
	var keep []string
	for i := 0; i < len(args); i++ {
		name, _, hasValue := strings.Cut(strings.TrimLeft(args[i], "-"), "=")
		f := fs.Lookup(name)
		if !strings.HasPrefix(args[i], "-") || f == nil || !batchFlags[name] {
			keep = append(keep, args[i])
			continue
		}
		if b, ok := f.Value.(interface{ IsBoolFlag() bool }); !hasValue && !(ok && b.IsBoolFlag()) {
			i++ // its value is the next argument
		}
	}
	return keep
}

// runCase runs one case with its own log and an environment without the
// batch's inputs or the job's output files (cases must not race on them).
func runCase(ctx context.Context, args []string, o actionsio.Options, dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	f, err := os.Create(filepath.Join(dir, "run-bench.log"))
	if err != nil {
		return err
	}
	defer f.Close()
	getenv := o.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	child := actionsio.Options{Stdout: io.Discard, Stderr: &lockedWriter{w: f}, Getenv: func(k string) string {
		name := strings.ToLower(strings.ReplaceAll(strings.TrimPrefix(k, "INPUT_"), "_", "-"))
		if k == "GITHUB_OUTPUT" || k == "GITHUB_STEP_SUMMARY" || strings.HasPrefix(k, "INPUT_") && batchFlags[name] {
			return ""
		}
		return getenv(k)
	}}
	return benchCommand(ctx, args, child)
}

type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// readResult is a case's result, nil when it wrote none.
func readResult(out, id string) *result.Result {
	r, err := result.Read(filepath.Join(out, id, result.FileName))
	if err != nil {
		return nil
	}
	return r
}

// summarize prints the batch's summary (and adds it to the job summary)
// and returns an error naming the failed cases, if any.
func summarize(x *actionsio.IO, out string, outcomes []batch.Outcome, took time.Duration) error {
	results := make([]*result.Result, len(outcomes))
	var failed []string
	ran := 0
	for i, oc := range outcomes {
		results[i] = readResult(out, oc.ID)
		if oc.Skipped == "" {
			ran++
		}
		if oc.Err != nil {
			failed = append(failed, oc.ID)
		}
	}
	line, md := batch.Summary(outcomes, results, took)
	fmt.Fprintln(x.Stderr(), line)
	x.AddSummary(md)
	if len(failed) > 0 {
		return fmt.Errorf("batch: %d of %d cases failed: %s (logs: %s/<case>/run-bench.log)", len(failed), ran, strings.Join(failed, ", "), out)
	}
	return nil
}
