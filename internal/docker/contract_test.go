package docker_test

import (
	"context"
	"testing"

	"github.com/moby/moby/client"

	"github.com/commitbench/commitbench/internal/backend"
	"github.com/commitbench/commitbench/internal/bench"
	"github.com/commitbench/commitbench/internal/contracttest"
	"github.com/commitbench/commitbench/internal/docker"
	"github.com/commitbench/commitbench/internal/gpu"
	"github.com/commitbench/commitbench/internal/plan"
	"github.com/commitbench/commitbench/internal/standin"
	"github.com/commitbench/commitbench/internal/standin/standintest"
	"github.com/commitbench/commitbench/internal/testenv"
)

// dockerHarness runs the contract on the Docker engine with stand-in
// images and simulated GPUs.
type dockerHarness struct{ b *docker.Backend }

func (d dockerHarness) Name() string { return "docker" }

func (d dockerHarness) Image(t *testing.T, cfg standin.Config, archs string) string {
	return standintest.Image(t, d.b.Client(), cfg, map[string]string{gpu.ArchsLabel: archs})
}

func (d dockerHarness) Config(t *testing.T, c *plan.Case) bench.Config {
	src, err := gpu.EmbeddedFixture()
	if err != nil {
		t.Fatal(err)
	}
	scope := "test-" + contracttest.RandID()
	t.Cleanup(func() {
		left, err := d.b.Client().ContainerList(context.Background(), client.ContainerListOptions{All: true,
			Filters: client.Filters{}.Add("label", backend.LabelScope+"="+scope)})
		if err != nil || len(left.Items) > 0 {
			t.Errorf("containers left behind: %d (%v)", len(left.Items), err)
			d.b.Reap(context.Background(), backend.Selector{Labels: map[string]string{backend.LabelScope: scope}})
		}
	})
	return bench.Config{Backend: d.b, GPUs: src, ModelCache: t.TempDir(), RunID: "run-" + contracttest.RandID(), Scope: scope, ShmBytes: 64 << 20}
}

// TestContract: the run-bench contract (internal/contracttest), the same
// table the modal backend passes (internal/modal/contract_test.go).
func TestContract(t *testing.T) {
	testenv.RequireDocker(t)
	b, err := docker.New(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	contracttest.Run(t, dockerHarness{b})
}
