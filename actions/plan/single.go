package main

import (
	"context"
	"fmt"
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
		return cs, rowErrs, nil
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
			return c, cli.Usagef("parent: empty; give the parent commit, or engine-repo (a local clone) to resolve it")
		}
		out, err := exec.CommandContext(ctx, "git", "-C", opt.engineRepo, "rev-parse", "--verify", opt.commit+"^1").Output()
		if err != nil {
			return c, cli.Usagef("parent: cannot resolve %s^1 in %s (%v); give the parent commit", opt.commit, opt.engineRepo, err)
		}
		c.Parent = strings.TrimSpace(string(out))
	}
	if c.Commit == "" {
		return c, fmt.Errorf("internal: single case without commit")
	}
	return c, nil
}
