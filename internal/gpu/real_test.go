package gpu

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestRealNvidiaSMI runs the preflight inventory and the telemetry sampler
// against a real nvidia-smi. CI has no GPU, so it skips there; on a GPU box
// (and with COMMITBENCH_REQUIRE_GPU=1, where a missing nvidia-smi fails) it
// checks that the queries this package sends are ones the driver answers.
func TestRealNvidiaSMI(t *testing.T) {
	if _, err := exec.LookPath("nvidia-smi"); err != nil {
		if os.Getenv("COMMITBENCH_REQUIRE_GPU") == "1" {
			t.Fatal("COMMITBENCH_REQUIRE_GPU=1 but nvidia-smi is not on PATH")
		}
		t.Skip("no nvidia-smi: this test needs a GPU machine")
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var smi SMI
	inv, err := smi.Inventory(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(inv.GPUs) == 0 {
		t.Fatal("nvidia-smi lists no GPU")
	}
	for _, g := range inv.GPUs {
		t.Logf("GPU %d: %s cc=%s mem=%.0f/%.0f MiB driver=%s uuid=%s", g.Index, g.Name, g.ComputeCap, g.MemoryUsedMiB, g.MemoryTotalMiB, g.Driver, g.UUID)
		if g.MemoryTotalMiB <= 0 || !strings.Contains(g.ComputeCap, ".") || g.Driver == "" || !strings.HasPrefix(g.UUID, "GPU-") {
			t.Errorf("GPU %d parsed incompletely: %+v", g.Index, g)
		}
	}
	t.Logf("CUDA version from the banner: %q", inv.CUDAVersion)
	samples, err := smi.Sample(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(samples) != len(inv.GPUs) {
		t.Errorf("%d samples for %d GPUs", len(samples), len(inv.GPUs))
	}
	for _, s := range samples {
		t.Logf("sample %+v", s)
		if s.SMClockMHz <= 0 || s.PowerW <= 0 {
			t.Errorf("sample of GPU %d lacks clock or power: %+v", s.Index, s)
		}
	}
	sampler := StartSampler(ctx, smi, 250*time.Millisecond, []int{inv.GPUs[0].Index}, false)
	time.Sleep(1200 * time.Millisecond)
	tel := sampler.Stop()
	t.Logf("telemetry over 1.2 s: %+v", *tel)
	if tel.Samples < 2 || tel.MaxSMClockMHz <= 0 || tel.Simulated {
		t.Errorf("telemetry: %+v", *tel)
	}
}
