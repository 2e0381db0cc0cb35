package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/commitbench/commitbench/internal/actionsio"
	"github.com/commitbench/commitbench/internal/bench"
	"github.com/commitbench/commitbench/internal/cli"
	"github.com/commitbench/commitbench/internal/gpu"
	"github.com/commitbench/commitbench/internal/plan"
	"github.com/commitbench/commitbench/internal/result"
)

// seconds is a duration input: "90", "90s", "10m".
type seconds struct{ d *time.Duration }

func (s seconds) String() string {
	if s.d == nil || *s.d == 0 {
		return ""
	}
	return s.d.String()
}

func (s seconds) Set(v string) error {
	if n, err := strconv.ParseFloat(v, 64); err == nil {
		*s.d = time.Duration(n * float64(time.Second))
		return nil
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		return fmt.Errorf("want seconds or a duration like 10m")
	}
	*s.d = d
	return nil
}

// benchCommand measures one case (docs/run-bench.md).
func benchCommand(ctx context.Context, args []string, o actionsio.Options) error {
	x := actionsio.New("run-bench", o)
	fs := x.Flags()
	planPath := fs.String("plan", "plan.json", "plan.json written by the plan stage")
	caseID := fs.String("case", "", "id of the case to measure")
	images := map[string]*string{}
	for _, v := range []string{result.Baseline, result.Human, result.Agent} {
		images[v] = fs.String("image-"+v, "", "image ref of the "+v+" variant (build-image output)")
	}
	backendName := fs.String("backend", "docker", "where containers run: docker (a GPU runner) or modal (docs/modal.md)")
	reps := fs.Int("repetitions", 5, "measured repetitions per variant")
	warmup := fs.Int("warmup", 1, "warm-up runs per server start (server mode) or per variant (direct mode)")
	rounds := fs.Int("rounds", 0, "rounds the repetitions are spread over (0: repetitions; at most 3 in server mode)")
	var startTO, benchTO, fetchTO time.Duration
	fs.Var(seconds{&startTO}, "timeout-server-start", "server start limit (default 10m + 2m per GPU beyond the first)")
	fs.Var(seconds{&benchTO}, "timeout-benchmark", "limit per benchmark run (default 20m + 5m per GPU beyond the first)")
	fs.Var(seconds{&fetchTO}, "timeout-model-fetch", "limit of the model download (default 1h)")
	gpus := fs.String("gpus", "all", "GPUs to use: all, or indexes/UUIDs separated by commas")
	gpuSource := fs.String("gpu-source", "nvidia-smi", "nvidia-smi, or fixture[:PATH] to SIMULATE GPUs from a recording (stand-in runs)")
	port := fs.Int("port", 30000, "port the server listens on inside its container")
	cache := fs.String("model-cache", "", "host directory or volume for the Hugging Face cache (default $HOME/.cache/commitbench/huggingface)")
	token := fs.String("hf-token", "", "Hugging Face token; used only by the model-fetch step")
	out := fs.String("out", "results", "results directory; the result goes to OUT/<case>/result.json")
	runID := fs.String("run-id", "", "unique id of this run (default from GITHUB_RUN_ID, else the time)")
	scope := fs.String("scope", "", "who may reap this run's leftovers (default $RUNNER_NAME, else the host name)")
	ext := declareModal(fs)
	if err := x.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return cli.Usagef("%v", err)
	}
	x.Mask(*token)
	ext.mask(x)
	if *ext.all {
		return runBatch(ctx, x, ext, args, o)
	}
	if *caseID == "" {
		return cli.Usagef("case: empty; pass the id of a case in %s", *planPath)
	}
	p, err := plan.Read(*planPath)
	if err != nil {
		return cli.Usagef("plan: %v", err)
	}
	c, err := p.Find(*caseID)
	if err != nil {
		return cli.Usagef("case: %v", err)
	}
	src, err := gpuSourceOf(*gpuSource)
	if err != nil {
		return err
	}
	cfg := bench.Config{Case: c, Images: map[string]string{}, GPUs: src, GPUSelect: *gpus,
		Repetitions: *reps, Warmup: *warmup, Rounds: *rounds, ServerStartTimeout: startTO, BenchmarkTimeout: benchTO, FetchTimeout: fetchTO,
		Port: *port, ModelCache: defaultCache(x, *cache), HFToken: *token, OutDir: *out, RunID: defaultRunID(x, *runID),
		Scope: defaultScope(x, *scope), Runner: x.Getenv("RUNNER_NAME"), RunURL: runURL(x), Redact: x.Redact, Log: x.Stderr()}
	for v, ref := range images {
		cfg.Images[v] = *ref
	}
	closeBackend, err := openBackend(ctx, x, *backendName, ext, &cfg)
	if err != nil {
		return err
	}
	defer closeBackend()
	res, err := bench.Run(ctx, cfg)
	if res != nil {
		path := filepath.Join(*out, c.ID, result.FileName)
		x.SetOutput("result", path)
		x.SetOutput("status", res.Status)
		x.AddSummary(summary(res))
	}
	return err
}

func gpuSourceOf(s string) (gpu.Source, error) {
	switch {
	case s == "" || s == "nvidia-smi":
		return gpu.SMI{}, nil
	case s == "fixture":
		f, err := gpu.EmbeddedFixture()
		if err != nil {
			return nil, &cli.InternalError{Err: err}
		}
		return f, nil
	case strings.HasPrefix(s, "fixture:"):
		f, err := gpu.LoadFixture(strings.TrimPrefix(s, "fixture:"))
		if err != nil {
			return nil, cli.Usagef("gpu-source: %v; give a recorded nvidia-smi -q -x or --query-gpu csv file", err)
		}
		return f, nil
	}
	return nil, cli.Usagef("gpu-source: %q; use nvidia-smi, fixture or fixture:PATH", s)
}

func defaultCache(x *actionsio.IO, v string) string {
	if v != "" {
		if abs, err := filepath.Abs(v); err == nil && strings.ContainsAny(v, "/.") {
			return abs // a path; a bare name is a volume
		}
		return v
	}
	home := x.Getenv("HOME")
	if home == "" {
		home, _ = os.UserHomeDir()
	}
	return filepath.Join(home, ".cache", "commitbench", "huggingface")
}

func defaultRunID(x *actionsio.IO, v string) string {
	if v != "" {
		return v
	}
	if id := x.Getenv("GITHUB_RUN_ID"); id != "" {
		return fmt.Sprintf("gh-%s-%s-%s", id, x.Getenv("GITHUB_RUN_ATTEMPT"), x.Getenv("GITHUB_JOB"))
	}
	return fmt.Sprintf("local-%d", time.Now().UnixNano())
}

func defaultScope(x *actionsio.IO, v string) string {
	if v != "" {
		return v
	}
	if n := x.Getenv("RUNNER_NAME"); n != "" {
		return n
	}
	h, _ := os.Hostname()
	return h
}

func runURL(x *actionsio.IO) string {
	if x.Getenv("GITHUB_RUN_ID") == "" {
		return ""
	}
	return fmt.Sprintf("%s/%s/actions/runs/%s", x.Getenv("GITHUB_SERVER_URL"), x.Getenv("GITHUB_REPOSITORY"), x.Getenv("GITHUB_RUN_ID"))
}

// summary is the job-summary table: status per variant, never a
// comparison (publish makes those).
func summary(r *result.Result) string {
	var b strings.Builder
	fmt.Fprintf(&b, "### run-bench: %s (%s)\n\n", r.Case.ID, r.Status)
	if r.Host.GPUsSimulated {
		fmt.Fprintf(&b, "GPUs simulated (%s).\n\n", r.Host.GPUSource)
	}
	b.WriteString("| variant | status | repetitions | failure |\n|---|---|---:|---|\n")
	for _, v := range r.Variants {
		f := v.Reason
		if v.Failure != nil {
			f = string(v.Failure.Category) + ": " + strings.ReplaceAll(firstLine(v.Failure.RootCause), "|", "\\|")
		}
		fmt.Fprintf(&b, "| %s | %s | %d | %s |\n", v.Name, v.Status, len(v.Measured()), f)
	}
	return b.String()
}

func firstLine(s string) string {
	l, _, _ := strings.Cut(s, "\n")
	return l
}
