package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/commitbench/commitbench/internal/cases"
	"github.com/commitbench/commitbench/internal/cli"
)

func loadCases(ctx context.Context, opt options) ([]cases.Case, []error, error) {
	if opt.cases != "" {
		cs, rowErrs, err := cases.Load(opt.cases)
		if err != nil {
			return nil, nil, cli.Usagef("cases: %v", err)
		}
		if opt.commit == "" {
			return cs, rowErrs, nil
		}
		return pick(ctx, cs, opt)
	}
	c, err := singleCase(ctx, opt)
	if err != nil {
		return nil, nil, err
	}
	return []cases.Case{c}, nil, nil
}

func baseDir(opt options) string {
	if opt.cases != "" {
		return filepath.Dir(opt.cases)
	}
	return "."
}

// pick keeps the case of --commit from the cases file, with the inputs
// given beside it (perf command, model, patch) taking precedence: a dispatch
// can rerun a listed case with another command without editing the file.
func pick(ctx context.Context, cs []cases.Case, opt options) ([]cases.Case, []error, error) {
	if opt.agentPatch != "" && !filepath.IsAbs(opt.agentPatch) {
		// The input is relative to where plan runs, not to the cases file
		// (which is what a patch named inside the file is relative to).
		abs, err := filepath.Abs(opt.agentPatch)
		if err != nil {
			return nil, nil, err
		}
		opt.agentPatch = abs
	}
	for _, c := range cs {
		if !strings.EqualFold(c.Commit, opt.commit) {
			continue
		}
		for _, o := range []struct {
			dst *string
			v   string
		}{
			{&c.Parent, opt.parent}, {&c.PerfCommand, opt.perfCommand}, {&c.Model, opt.model},
			{&c.AgentPatch, opt.agentPatch}, {&c.ID, opt.caseID},
		} {
			if o.v != "" {
				*o.dst = o.v
			}
		}
		return []cases.Case{c}, nil, nil
	}
	c, err := singleCase(ctx, opt)
	if err != nil {
		return nil, nil, err
	}
	return []cases.Case{c}, nil, nil
}

// singleCase builds the one case of a workflow_dispatch from its inputs, so
// a dispatch goes through exactly the validation a cases file does.
func singleCase(ctx context.Context, opt options) (cases.Case, error) {
	c := cases.Case{
		ID: opt.caseID, Repo: opt.repo, Commit: opt.commit, Parent: opt.parent,
		PerfCommand: opt.perfCommand, Model: opt.model, AgentPatch: opt.agentPatch,
	}
	if c.ID == "" {
		c.ID = c.Commit
		if len(c.ID) > 12 {
			c.ID = c.ID[:12]
		}
	}
	c.Where = "case " + c.ID
	if c.Parent == "" {
		if opt.engineRepo == "" {
			return c, cli.Usagef("parent: empty; give the parent commit, or engine-repo (a clone or its URL) to resolve it")
		}
		p, err := resolveParent(ctx, opt.engineRepo, opt.commit)
		if err != nil {
			return c, cli.Usagef("parent: cannot resolve %s^1 in %s (%v); give the parent commit", opt.commit, opt.engineRepo, err)
		}
		c.Parent = p
	}
	if c.Commit == "" {
		return c, fmt.Errorf("internal: single case without commit")
	}
	return c, nil
}

// resolveParent reads COMMIT^1 from a local clone, or from a URL by fetching
// just the commit and its parent (GitHub serves any reachable commit by hash).
func resolveParent(ctx context.Context, repo, commit string) (string, error) {
	if st, err := os.Stat(repo); err == nil && st.IsDir() {
		return git(ctx, repo, "rev-parse", "--verify", commit+"^1")
	}
	tmp, err := os.MkdirTemp("", "commitbench-parent-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tmp)
	if _, err := git(ctx, tmp, "init", "-q"); err != nil {
		return "", err
	}
	if _, err := git(ctx, tmp, "fetch", "-q", "--depth=2", "--filter=blob:none", repo, commit); err != nil {
		return "", err
	}
	return git(ctx, tmp, "rev-parse", "--verify", "FETCH_HEAD^1")
}

func git(ctx context.Context, dir string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, "git", append([]string{"-C", dir}, args...)...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("git %s: %v: %s", args[0], err, strings.TrimSpace(stderr.String()))
	}
	return strings.TrimSpace(string(out)), nil
}
