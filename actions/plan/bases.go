package main

import (
	"context"
	"fmt"
	"os"

	"github.com/commitbench/commitbench/internal/actionsio"
	"github.com/commitbench/commitbench/internal/cli"
	"github.com/commitbench/commitbench/internal/image"
	"github.com/commitbench/commitbench/internal/plan"
)

// countBases reports how many base images, and among them kernel builds
// (15-60 min each), the plan needs: the figure that decides how long a
// nightly's build phase takes. It needs a local clone; a URL only serves to
// resolve parents.
func countBases(ctx context.Context, x *actionsio.IO, opt options, p *plan.Plan) error {
	if !isDir(opt.engineRepo) {
		x.Noticef("engine-repo %s is not a local clone: base images not counted", opt.engineRepo)
		return nil
	}
	policy, err := image.ParsePolicy(opt.kernel)
	if err != nil {
		return cli.Usagef("kernel: %v", err)
	}
	s, err := image.BaseKeys(ctx, opt.engineRepo, p.Cases, policy)
	if err != nil {
		return cli.Usagef("engine-repo: %v", err)
	}
	for _, pr := range s.Problems {
		x.Warningf("engine-repo: %s", pr)
	}
	x.Infof("%s", s)
	x.SetOutput("kernel-builds", fmt.Sprint(s.KernelBuilds))
	x.SetOutput("base-images", fmt.Sprint(s.BaseImages))
	if x.Getenv("GITHUB_STEP_SUMMARY") != "" {
		x.AddSummary(s.String() + "\n")
	}
	return nil
}

// isDir: engine-repo is a local clone (it may also be a URL, which only
// resolves parents).
func isDir(path string) bool {
	st, err := os.Stat(path)
	return path != "" && err == nil && st.IsDir()
}
