package main

import (
	"github.com/commitbench/commitbench/internal/actionsio"
	"github.com/commitbench/commitbench/internal/plan"
)

// countBases reports how many base images (kernel builds) the plan needs;
// wired to the image package's base keys.
func countBases(x *actionsio.IO, opt options, p *plan.Plan) error {
	x.Warningf("engine-repo: base-image counting is not available in this build")
	return nil
}
