package bench

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/commitbench/commitbench/internal/cli"
	"github.com/commitbench/commitbench/internal/failure"
	"github.com/commitbench/commitbench/internal/gpu"
	"github.com/commitbench/commitbench/internal/result"
)

// Preflight failures stop the run before any container starts; a bad
// gpus input is a usage error.
func TestPreflight(t *testing.T) {
	e := newEnv(t)
	busy := filepath.Join(t.TempDir(), "busy.csv")
	os.WriteFile(busy, []byte("index, name, uuid, compute_cap, memory.total [MiB], memory.used [MiB]\n0, NVIDIA H100 80GB HBM3, GPU-1, 9.0, 81559 MiB, 40000 MiB\n"), 0o644)
	for _, tc := range []struct {
		name      string
		gpus      int
		select_   string
		source    string
		want      failure.Category
		wantUsage bool
	}{
		{"too few GPUs", 2, "all", "", failure.NoGPU, false},
		{"GPU busy", 1, "all", busy, failure.Infra, false},
		{"unknown device", 1, "5", "", "", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := servingCase(result.Baseline)
			c.GPU.Count = tc.gpus
			cfg := e.config(c, map[string]string{result.Baseline: "commitbench-never-started:latest"})
			cfg.GPUSelect = tc.select_
			if tc.source != "" {
				src, err := gpu.LoadFixture(tc.source)
				if err != nil {
					t.Fatal(err)
				}
				cfg.GPUs = src
			}
			_, err := Run(context.Background(), cfg)
			var u *cli.UsageError
			if tc.wantUsage != errors.As(err, &u) {
				t.Fatalf("err %v; usage error wanted: %v", err, tc.wantUsage)
			}
			if tc.wantUsage {
				return
			}
			got, rerr := result.Read(filepath.Join(e.out, c.ID, result.FileName))
			if rerr != nil {
				t.Fatal(rerr)
			}
			if v := got.Variant(result.Baseline); v.Failure == nil || v.Failure.Category != tc.want {
				t.Errorf("baseline failure %+v, want %s", v.Failure, tc.want)
			}
			e.rec.mu.Lock()
			defer e.rec.mu.Unlock()
			if len(e.rec.imgs) != 0 {
				t.Errorf("containers started: %v", e.rec.imgs)
			}
		})
	}
}
