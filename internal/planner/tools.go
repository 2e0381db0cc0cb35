package planner

import (
	"bytes"
	"context"
	"fmt"
	"strings"

	"github.com/commitbench/commitbench/internal/engine"
	"github.com/commitbench/commitbench/internal/plan"
)

// Tree is what CheckTools reads of the engine's history: source.Repo.
type Tree interface {
	Show(ctx context.Context, rev, path string) ([]byte, error)
	TreeID(ctx context.Context, rev, path string) (string, error)
}

// renamedStub is what sglang/bench_latency.py held from #2118 (2024-11-21)
// until it was deleted (2025-03-03): an import that only raises.
var renamedStub = []byte("has been renamed to")

// CheckTools marks not runnable the cases whose benchmark module is not in
// a tree it must run in: the parent (baseline and agent) or the commit
// (human). Without this, a perf command naming a tool newer than the
// commit (bench_serving before it existed, bench_latency after its rename)
// costs three image builds and a GPU slot to fail as IMPORT_ERROR. Trees
// without python/sglang (the stand-in engine, a commit missing from the
// clone) are not judged. It updates p.Counts.
func CheckTools(ctx context.Context, t Tree, p *plan.Plan) []Problem {
	var probs []Problem
	for _, c := range p.Cases {
		if !c.Runnable || c.Bench.Tool == "" {
			continue
		}
		module := (engine.SGLang{}).Module(engine.Tool(c.Bench.Tool))
		for _, rev := range []struct{ name, sha string }{{"parent", c.Parent}, {"commit", c.Commit}} {
			problem, fix := missingModule(ctx, t, rev.sha, module)
			if problem == "" {
				continue
			}
			problem = fmt.Sprintf("%s at %s %s", problem, rev.name, short(rev.sha))
			c.Runnable, c.Reason = false, problem
			for i := range c.Variants {
				c.Variants[i].Runnable = false
			}
			probs = append(probs, Problem{c.ID, "perf_command", problem, fix})
			break
		}
	}
	p.Counts = count(p.Cases)
	return probs
}

// missingModule says what is wrong with module in rev's tree, or "".
func missingModule(ctx context.Context, t Tree, rev, module string) (problem, fix string) {
	if _, err := t.TreeID(ctx, rev, "python/sglang"); err != nil {
		return "", ""
	}
	base := "python/" + strings.ReplaceAll(module, ".", "/")
	src, err := t.Show(ctx, rev, base+".py")
	if err != nil {
		if _, perr := t.TreeID(ctx, rev, base); perr == nil {
			return "", "" // a package: python -m runs its __main__
		}
		return fmt.Sprintf("%s does not exist (no %s.py)", module, base),
			"the perf command's tool is newer than this commit; give a command its tree has (e.g. sglang.bench_latency before 2024-11-21)"
	}
	if bytes.Contains(src, renamedStub) {
		return fmt.Sprintf("%s only raises %q", module, firstLineWith(src, renamedStub)),
			"use the module it names (sglang.bench_one_batch for bench_latency)"
	}
	return "", ""
}

func firstLineWith(src, sub []byte) string {
	for _, line := range bytes.Split(src, []byte("\n")) {
		if bytes.Contains(line, sub) {
			return strings.TrimSpace(string(line))
		}
	}
	return ""
}
