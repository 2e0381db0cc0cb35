// Package planner turns cases into a plan: each case validated, its perf
// command read, its model resolved to a Hub id, its GPUs sized, its
// variants listed, and a reason for everything that cannot run. A bad case
// never stops the others.
package planner

import (
	"cmp"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/commitbench/commitbench/internal/cases"
	"github.com/commitbench/commitbench/internal/engine"
	"github.com/commitbench/commitbench/internal/gpusize"
	"github.com/commitbench/commitbench/internal/perfcmd"
	"github.com/commitbench/commitbench/internal/plan"
	"github.com/commitbench/commitbench/internal/result"
)

// Options steer planning.
type Options struct {
	GPU    gpusize.GPUType
	Models *gpusize.Table
	// DefaultRepo is the engine repository of cases that name none.
	DefaultRepo string
	// DefaultPerfCommand, when set, runs cases that have no perf command;
	// such cases are marked generic_command everywhere downstream.
	DefaultPerfCommand string
	// BaseDir resolves relative agent_patch paths (the cases file's folder).
	BaseDir string
	// PatchesDir holds agent patches named <case-id>.diff or .patch.
	PatchesDir string
	// AgentName and AgentModel identify the agent of cases that do not.
	AgentName, AgentModel string
}

// Problem is a malformed field of a case.
type Problem struct {
	Case, Field, Problem, Fix string
}

func (p Problem) Error() string {
	return fmt.Sprintf("case %s: %s: %s; %s", p.Case, p.Field, p.Problem, p.Fix)
}

var (
	hexRe   = regexp.MustCompile(`^[0-9a-fA-F]{40}$`)
	hubIDRe = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.\-]*/[A-Za-z0-9][A-Za-z0-9_.\-]*$`)
)

// IsHubID reports whether s looks like a Hub model id "org/name".
func IsHubID(s string) bool { return hubIDRe.MatchString(s) && !strings.Contains(s, "..") }

func isLocalPath(s string) bool {
	return strings.HasPrefix(s, "/") || strings.HasPrefix(s, "./") || strings.HasPrefix(s, "../") || strings.HasPrefix(s, "~")
}

// Plan plans every case, in order.
func Plan(cs []cases.Case, o Options) (*plan.Plan, []Problem) {
	p := &plan.Plan{Schema: plan.Schema, Cases: make([]*plan.Case, 0, len(cs))}
	var problems []Problem
	seen := map[string]string{}
	for i := range cs {
		pc, probs := planOne(&cs[i], o)
		if prev, dup := seen[pc.ID]; dup && pc.ID != "" {
			probs = append(probs, Problem{pc.ID, "id", "duplicates " + prev, "give every case a unique id"})
			pc.Runnable, pc.Reason = false, "duplicate id"
		}
		seen[pc.ID] = cs[i].Where
		problems = append(problems, probs...)
		p.Cases = append(p.Cases, pc)
	}
	p.Counts = count(p.Cases)
	return p, problems
}

func count(cs []*plan.Case) plan.Counts {
	var n plan.Counts
	for _, c := range cs {
		n.Total++
		if !c.Runnable {
			n.NotRunnable++
			continue
		}
		n.Runnable++
		for _, v := range c.Variants {
			if v.Runnable {
				n.VariantImages++
			}
		}
	}
	return n
}

// planOne plans one case. The first reason found stays the case's reason;
// later checks still run so that every problem of a row is reported at once.
func planOne(c *cases.Case, o Options) (*plan.Case, []Problem) {
	pc := &plan.Case{
		ID: c.ID, Repo: c.Repo, Subject: c.Subject, PR: string(c.PR),
		Commit: strings.ToLower(c.Commit), Parent: strings.ToLower(c.Parent),
		PerfCommand: c.PerfCommand, FilesChanged: c.FilesChanged, Runnable: true,
		GPU: plan.GPU{Type: o.GPU.Name},
	}
	if pc.Repo == "" {
		pc.Repo = o.DefaultRepo
	}
	var probs []Problem
	fail := func(reason string) {
		if pc.Runnable {
			pc.Runnable, pc.Reason = false, reason
		}
	}
	bad := func(field, problem, fix string) {
		p := Problem{c.ID, field, problem, fix}
		probs = append(probs, p)
		fail(field + ": " + problem)
	}
	if c.ID == "" {
		pc.ID = strings.TrimPrefix(c.Where, "case ")
		bad("id", "is empty", "give the case an id")
	}
	checkCommit := func(field, v string) {
		switch {
		case v == "":
			bad(field, "is empty", "give the full 40-hex commit hash")
		case !hexRe.MatchString(v):
			bad(field, fmt.Sprintf("%q is not a 40-hex commit hash", v), "give the full hash (git rev-parse "+v+")")
		}
	}
	checkCommit("commit", c.Commit)
	checkCommit("parent", c.Parent)
	if pc.Commit != "" && pc.Commit == pc.Parent {
		bad("parent", "equals commit", "give the commit's parent (git rev-parse COMMIT^)")
	}
	gpu := o.GPU
	if c.GPUType != "" {
		t, err := gpusize.LookupType(c.GPUType)
		if err != nil {
			bad("gpu_type", err.Error(), "fix gpu_type")
		} else {
			gpu = t
			pc.GPU.Type = t.Name
		}
	}
	if c.GPUCount != 0 && (c.GPUCount < 0 || c.GPUCount > gpusize.MaxGPUsPerNode) {
		bad("gpu_count", fmt.Sprintf("%d is not between 1 and %d", c.GPUCount, gpusize.MaxGPUsPerNode), "give 1, 2, 4 or 8")
	}

	cmdText := c.PerfCommand
	if strings.TrimSpace(cmdText) == "" && o.DefaultPerfCommand != "" {
		cmdText, pc.GenericCommand = o.DefaultPerfCommand, true
		pc.PerfCommand = cmdText
		pc.Warnings = append(pc.Warnings, "no perf command: runs the generic default-perf-command instead")
	}
	cmd, err := perfcmd.Parse(cmdText)
	var facts perfcmd.Facts
	if err == nil {
		facts, err = cmd.Facts()
		if err != nil {
			bad("perf_command", err.Error(), "fix the flag's value")
		}
	} else {
		fail(err.Error())
	}
	if cmd != nil {
		pc.Bench = plan.Bench{Tool: string(cmd.Tool), Mode: string(cmd.Mode), Env: cmd.Env,
			Dataset: facts.Dataset, NeedsDownload: facts.NeedsDownload, LoRA: facts.LoRA,
			TranslatedFrom: cmd.TranslatedFrom, Args: cmd.Args, ServerArgs: facts.ServerArgs}
		if cmd.Mode == engine.ModeServer {
			pc.Bench.Args = facts.ClientArgs
		}
		pc.Warnings = append(pc.Warnings, facts.Warnings...)
		pc.TP, pc.DP = facts.TP, facts.DP
	}

	resolveModel(pc, c, facts.Model, fail)
	if pc.Model != "" && cmd != nil {
		est := o.Models.Estimate(pc.Model)
		pc.WeightsGB, pc.WeightsSource = est.GB, est.Source
		if est.Warning != "" {
			pc.Warnings = append(pc.Warnings, est.Warning)
		}
		s := gpusize.Size(est.GB, gpu, facts.TP, facts.DP)
		if c.GPUCount > 0 && s.Fits {
			if c.GPUCount < s.Count {
				fail(fmt.Sprintf("gpu_count %d is fewer than the %d×%s the weights need", c.GPUCount, s.Count, gpu.Name))
			}
			s.Count = c.GPUCount
			if facts.TP == 0 {
				s.TP = c.GPUCount
			}
		}
		pc.GPU.Count, pc.TP = s.Count, s.TP
		if !s.Fits {
			fail(s.Reason)
		}
	}
	if facts.LoRA != "" {
		if len(c.LoRAPaths) == 0 {
			fail(fmt.Sprintf("perf command uses --lora-name %s but the case names no adapter; add lora_paths (e.g. %s=org/adapter)", facts.LoRA, facts.LoRA))
		} else {
			pc.Bench.ServerArgs = append(pc.Bench.ServerArgs, append([]string{"--lora-paths"}, c.LoRAPaths...)...)
		}
	}
	pc.Variants, probs = variants(pc, c, o, probs)
	return pc, probs
}

// resolveModel picks the Hub id to serve. A local path in the command
// (/data/..., /dev/shm/...) exists only on the machine it was written on;
// it is replaced by the case's Hub id when one is given, and recorded.
func resolveModel(pc *plan.Case, c *cases.Case, fromCmd string, fail func(string)) {
	var hub []string
	if c.Model != "" {
		hub = append(hub, c.Model)
	}
	for _, m := range c.Models {
		if IsHubID(m) {
			hub = append(hub, m)
		}
	}
	switch {
	case fromCmd != "" && IsHubID(fromCmd):
		pc.Model = fromCmd
	case fromCmd != "" && isLocalPath(fromCmd):
		if len(hub) == 0 {
			fail(fmt.Sprintf("model: local path %s is not on the runner and the case gives no Hub id; set the case's model", fromCmd))
			return
		}
		pc.Model, pc.ModelSubstitutedFrom = bestMatch(fromCmd, hub), fromCmd
		pc.Bench.Args = replaceValue(pc.Bench.Args, fromCmd, pc.Model)
		pc.Warnings = append(pc.Warnings, fmt.Sprintf("model path %s replaced by %s", fromCmd, pc.Model))
	case fromCmd != "":
		fail(fmt.Sprintf("model: %q is not a Hub id (org/name); fix the perf command's --model", fromCmd))
	case len(hub) > 0:
		pc.Model = hub[0]
	case c.Model != "":
		fail(fmt.Sprintf("model: %q is not a Hub id (org/name); fix the case's model", c.Model))
	default:
		fail("no model: the perf command names none and the case gives none; set the case's model")
	}
	if pc.Model != "" && !IsHubID(pc.Model) {
		fail(fmt.Sprintf("model: %q is not a Hub id (org/name); fix the case's model", pc.Model))
	}
}

// bestMatch prefers the Hub id whose name the path's last element starts
// with ("/dev/shm/DeepSeek-V3-0324" → "deepseek-ai/DeepSeek-V3").
func bestMatch(path string, hub []string) string {
	base := strings.ToLower(filepath.Base(path))
	best, bestLen := "", 0
	for _, h := range hub {
		name := strings.ToLower(h[strings.Index(h, "/")+1:])
		if strings.HasPrefix(base, name) && len(name) > bestLen {
			best, bestLen = h, len(name)
		}
	}
	if best == "" {
		return hub[0]
	}
	return best
}

func replaceValue(args []string, old, new string) []string {
	out := append([]string{}, args...)
	for i, a := range out {
		if a == old {
			out[i] = new
		} else if k, v, ok := strings.Cut(a, "="); ok && v == old {
			out[i] = k + "=" + new
		}
	}
	return out
}

func variants(pc *plan.Case, c *cases.Case, o Options, probs []Problem) ([]plan.Variant, []Problem) {
	vs := []plan.Variant{
		{Name: result.Baseline, Commit: pc.Parent, Runnable: pc.Runnable},
		{Name: result.Human, Commit: pc.Commit, Runnable: pc.Runnable},
	}
	patch := c.AgentPatch
	if patch != "" && !filepath.IsAbs(patch) {
		patch = filepath.Join(o.BaseDir, patch)
	}
	if patch == "" && o.PatchesDir != "" {
		for _, ext := range []string{".diff", ".patch"} {
			if p := filepath.Join(o.PatchesDir, pc.ID+ext); fileExists(p) {
				patch = p
				break
			}
		}
	}
	if patch == "" {
		return vs, probs
	}
	agent := plan.Variant{Name: result.Agent, Commit: pc.Parent, Patch: patch, Runnable: pc.Runnable,
		AgentName: cmp.Or(c.AgentName, o.AgentName), AgentModel: cmp.Or(c.AgentModel, o.AgentModel)}
	st, err := os.Stat(patch)
	switch {
	case err != nil:
		agent.Runnable, agent.Reason = false, "agent patch "+patch+" is missing"
		probs = append(probs, Problem{pc.ID, "agent_patch", patch + " does not exist", "fix the path (relative to the cases file)"})
	case st.Size() == 0:
		agent.Runnable, agent.Reason = false, "agent patch "+patch+" is empty (the agent produced no change)"
	}
	return append(vs, agent), probs
}

func fileExists(p string) bool {
	st, err := os.Stat(p)
	return err == nil && !st.IsDir()
}
