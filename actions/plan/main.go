// Command plan reads a cases file and says which cases can run, on what
// GPUs, and why the others cannot. It writes plan.json, the GitHub matrices
// and a job summary. See docs/plan.md.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/commitbench/commitbench/internal/actionsio"
	"github.com/commitbench/commitbench/internal/cli"
	"github.com/commitbench/commitbench/internal/gpusize"
	"github.com/commitbench/commitbench/internal/plan"
	"github.com/commitbench/commitbench/internal/planner"
	"github.com/commitbench/commitbench/internal/source"
)

func main() {
	os.Exit(cli.Run("plan", os.Stderr, func(ctx context.Context) error {
		return run(ctx, os.Args[1:], actionsio.Options{})
	}))
}

type options struct {
	cases, format, gpuType, defaultPerf, models, planPath, patchesDir, repo, engineRepo, kernel string
	strict                                                                                      bool
	agentName, agentModel                                                                       string
	// One case given directly (workflow_dispatch of a single commit).
	commit, parent, perfCommand, model, agentPatch, caseID string
}

func run(ctx context.Context, args []string, o actionsio.Options) error {
	x := actionsio.New("plan", o)
	var opt options
	f := x.Flags()
	f.StringVar(&opt.cases, "cases", "", "cases file: JSONL, JSON or the ISO-Bench CSV (required)")
	f.StringVar(&opt.format, "format", "markdown", "what to print on stdout: markdown, json or none")
	f.StringVar(&opt.gpuType, "gpu-type", "H100", "GPU type to size for: H100, H200 or A100")
	f.StringVar(&opt.defaultPerf, "default-perf-command", "", "perf command for cases that have none (marked generic_command)")
	f.StringVar(&opt.models, "models", "", "JSON file of model sizes that override the built-in table")
	f.StringVar(&opt.planPath, "plan-path", "plan.json", "where to write the plan")
	f.StringVar(&opt.patchesDir, "patches-dir", "", "folder of agent patches named <case-id>.diff or .patch")
	f.StringVar(&opt.agentName, "agent-name", "", "who wrote the agent patches (e.g. claude-code), for cases that do not say")
	f.StringVar(&opt.agentModel, "agent-model", "", "the agent's model (e.g. claude-sonnet-4-20250514), for cases that do not say")
	f.StringVar(&opt.repo, "repo", "sgl-project/sglang", "engine repository of cases that name none")
	f.StringVar(&opt.engineRepo, "engine-repo", "", "local clone of the engine: count the base images the plan needs")
	f.StringVar(&opt.kernel, "kernel", "auto", "kernel policy for the base-image count: auto, pinned or source")
	f.BoolVar(&opt.strict, "strict", false, "fail when any case has a problem")
	f.StringVar(&opt.commit, "commit", "", "plan one case: the commit (instead of --cases)")
	f.StringVar(&opt.parent, "parent", "", "the commit's parent (default: resolved in --engine-repo)")
	f.StringVar(&opt.perfCommand, "perf-command", "", "the case's perf command")
	f.StringVar(&opt.model, "model", "", "the case's model Hub id")
	f.StringVar(&opt.agentPatch, "agent-patch", "", "the agent's patch file")
	f.StringVar(&opt.caseID, "case-id", "", "the case's id (default: the commit's first 12 digits)")
	if err := x.Parse(args); err != nil {
		return &cli.UsageError{Err: err}
	}
	if opt.cases == "" && opt.commit == "" {
		return cli.Usagef("cases: missing; pass --cases FILE (JSONL, JSON or CSV), or --commit for one case")
	}
	switch opt.format {
	case "markdown", "json", "none":
	default:
		return cli.Usagef("format: %q is not markdown, json or none", opt.format)
	}
	gpu, err := gpusize.LookupType(opt.gpuType)
	if err != nil {
		return cli.Usagef("gpu-type: %v", err)
	}
	user, err := loadModels(opt.models)
	if err != nil {
		return err
	}
	cs, rowErrs, err := loadCases(ctx, opt)
	if err != nil {
		return err
	}
	p, problems := planner.Plan(cs, planner.Options{
		GPU: gpu, Models: gpusize.NewTable(user), DefaultRepo: opt.repo, DefaultPerfCommand: opt.defaultPerf,
		BaseDir: baseDir(opt), PatchesDir: opt.patchesDir, AgentName: opt.agentName, AgentModel: opt.agentModel,
	})
	if isDir(opt.engineRepo) {
		problems = append(problems, planner.CheckTools(ctx, &source.Repo{Dir: opt.engineRepo}, p)...)
	}
	for _, e := range rowErrs {
		x.Errorf("%v", e)
	}
	for _, pr := range problems {
		x.Warningf("%v", pr)
	}
	if err := writePlan(opt.planPath, p); err != nil {
		return err
	}
	if err := emit(x, opt, p, problems); err != nil {
		return err
	}
	if opt.engineRepo != "" {
		if err := countBases(ctx, x, opt, p); err != nil {
			return err
		}
	}
	if n := len(rowErrs) + len(problems); n > 0 && opt.strict {
		return cli.Usagef("cases: %d problems (--strict); fix them or drop --strict", n)
	}
	if len(rowErrs) > 0 && len(cs) == 0 {
		return cli.Usagef("cases: no row could be read (%d errors)", len(rowErrs))
	}
	return nil
}

func loadModels(path string) (map[string]gpusize.Model, error) {
	if path == "" {
		return nil, nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, cli.Usagef("models: %v", err)
	}
	var m map[string]gpusize.Model
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, cli.Usagef("models: %s is not {\"org/name\": {\"params_b\": N, \"bytes_per_param\": B}}: %v", path, err)
	}
	for id, v := range m {
		if v.GB() <= 0 {
			return nil, cli.Usagef("models: %s: give params_b and bytes_per_param, or weights_gb", id)
		}
	}
	return m, nil
}

func writePlan(path string, p *plan.Plan) error {
	data, err := json.MarshalIndent(p, "", "  ")
	if err != nil {
		return &cli.InternalError{Err: err}
	}
	if dir := filepath.Dir(path); dir != "." {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
	}
	return os.WriteFile(path, append(data, '\n'), 0o644)
}

func emit(x *actionsio.IO, opt options, p *plan.Plan, problems []planner.Problem) error {
	bench, build := planner.Matrices(p)
	x.SetOutput("plan-path", opt.planPath)
	x.SetOutput("matrix", planner.MustJSON(bench[0]))
	x.SetOutput("build-matrix", planner.MustJSON(build[0]))
	x.SetOutput("matrix-chunks", planner.MustJSON(bench))
	x.SetOutput("build-matrix-chunks", planner.MustJSON(build))
	x.SetOutput("chunk-count", fmt.Sprint(len(bench)))
	x.SetOutput("runnable", fmt.Sprint(p.Counts.Runnable))
	if len(bench) > 1 {
		x.Warningf("%d runnable cases exceed GitHub's %d-job matrix: use matrix-chunks (docs/plan.md)", p.Counts.Runnable, planner.MaxMatrix)
	}
	if opt.format == "json" {
		data, _ := json.MarshalIndent(p, "", "  ")
		fmt.Fprintln(x.Stdout(), string(data))
	}
	underActions := x.Getenv("GITHUB_STEP_SUMMARY") != ""
	if opt.format != "markdown" && !underActions {
		return nil
	}
	summary, err := planner.Summary(p, problems)
	if err != nil {
		return &cli.InternalError{Err: err}
	}
	if underActions {
		x.AddSummary(summary)
	}
	if opt.format == "markdown" {
		fmt.Fprint(x.Stdout(), summary)
	}
	return nil
}
