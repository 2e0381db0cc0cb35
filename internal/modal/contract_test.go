package modal_test

import (
	"testing"

	"github.com/commitbench/commitbench/internal/backend"
	"github.com/commitbench/commitbench/internal/bench"
	"github.com/commitbench/commitbench/internal/contracttest"
	"github.com/commitbench/commitbench/internal/fakemodal"
	"github.com/commitbench/commitbench/internal/gpu"
	"github.com/commitbench/commitbench/internal/modal"
	"github.com/commitbench/commitbench/internal/plan"
	"github.com/commitbench/commitbench/internal/standin"
)

// modalHarness runs the contract on the modal backend, through the
// unmodified SDK, against the fake Modal (sandboxes are local processes
// of the stand-in) and a private registry.
type modalHarness struct {
	h *fakemodal.Harness
	b *modal.Backend
}

func newModalHarness(t *testing.T) *modalHarness {
	h := fakemodal.NewHarness(t, true)
	return &modalHarness{h: h, b: newBackend(t, h, modal.Config{})}
}

func (m *modalHarness) Name() string { return "modal" }

func (m *modalHarness) Image(t *testing.T, cfg standin.Config, archs string) string {
	return m.h.Image(t, cfg, map[string]string{gpu.ArchsLabel: archs})
}

func (m *modalHarness) Config(t *testing.T, c *plan.Case) bench.Config {
	run := "run-" + contracttest.RandID()
	t.Cleanup(func() {
		for _, sb := range m.h.Sandboxes() {
			if sb.Tags[backend.LabelRun] == run && m.h.Result(sb.ID) == nil {
				t.Errorf("sandbox %s of the run is still running", sb.ID)
			}
		}
	})
	return bench.Config{Backend: m.b, GPUs: &modal.GPUs{Backend: m.b, RunID: run, Type: c.GPU.Type, Count: c.GPU.Count},
		ModelCache: "commitbench-hf-cache", RunID: run, Scope: "test-" + contracttest.RandID()}
}

// TestContract: the table the Docker backend passes
// (internal/docker/contract_test.go), passed by the modal backend.
func TestContract(t *testing.T) {
	contracttest.Run(t, newModalHarness(t))
}
