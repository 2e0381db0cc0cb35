package bench

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"syscall"

	"github.com/commitbench/commitbench/internal/backend"
	"github.com/commitbench/commitbench/internal/cli"
	"github.com/commitbench/commitbench/internal/cudaarch"
	"github.com/commitbench/commitbench/internal/failure"
	"github.com/commitbench/commitbench/internal/gpu"
	"github.com/commitbench/commitbench/internal/result"
)

// defaultMemFraction is the share of each GPU's memory that must be free
// when the perf command does not set --mem-fraction-static: SGLang sizes
// its static pool at roughly 0.8–0.88 of the total on an 80 GB GPU, so a
// GPU with less free than this would OOM or be measured while shared.
const defaultMemFraction = 0.80

// preflight checks, before any container starts, that the machine can run
// the case: GPUs visible and enough of them, free memory, disk space for
// the logs, and each image's kernels built for these GPUs. A failure for
// the whole run comes back as a Failure; a bad gpus input as an error.
func (r *runner) preflight(ctx context.Context) (*failure.Failure, error) {
	inv, err := r.cfg.GPUs.Inventory(ctx)
	if err != nil {
		return &failure.Failure{Category: failure.NoGPU, Rule: "preflight-nvidia-smi", Evidence: err.Error(),
			RootCause: "nvidia-smi could not list the GPUs", Hint: "check the NVIDIA driver on the runner (nvidia-smi must work)"}, nil
	}
	r.sim = inv.Simulated
	if inv.Simulated {
		r.logf("GPUs are SIMULATED (%s): no real GPU is used, and the result says so", inv.Source)
	}
	if len(inv.GPUs) == 0 {
		return &failure.Failure{Category: failure.NoGPU, Rule: "preflight-no-gpu", RootCause: "nvidia-smi lists no GPU"}, nil
	}
	sel, err := gpu.Select(inv.GPUs, r.cfg.GPUSelect)
	if err != nil {
		return nil, cli.Usagef("case %s: %v", r.cfg.Case.ID, err)
	}
	c := r.cfg.Case
	need := max(c.GPU.Count, max(c.TP, 1)*max(c.DP, 1), 1)
	if len(sel) < need {
		return &failure.Failure{Category: failure.NoGPU, Rule: "preflight-gpu-count",
			RootCause: fmt.Sprintf("the case needs %d GPUs (plan: gpu.count %d, tp %d), the runner offers %d (gpus: %q)", need, c.GPU.Count, c.TP, len(sel), r.cfg.GPUSelect),
			Hint:      "run it on a runner with enough GPUs, or re-plan it for this one"}, nil
	}
	r.gpus = sel[:need]
	r.recordHost(inv)

	frac := defaultMemFraction
	if v, ok := flagValue(r.cmd.Args, "--mem-fraction-static"); ok {
		if x, err := strconv.ParseFloat(v, 64); err == nil && x > 0 && x < 1 {
			frac = x
		}
	}
	for _, g := range r.gpus {
		if g.MemoryTotalMiB > 0 && g.FreeMiB() < frac*g.MemoryTotalMiB {
			return &failure.Failure{Category: failure.Infra, Retriable: true, Rule: "preflight-gpu-busy",
				Evidence:  fmt.Sprintf("GPU %d (%s): %.0f MiB used of %.0f MiB", g.Index, g.Name, g.MemoryUsedMiB, g.MemoryTotalMiB),
				RootCause: fmt.Sprintf("GPU %d has %.0f MiB free; the server needs %.0f%% of its memory", g.Index, g.FreeMiB(), frac*100),
				Hint:      "another process holds the GPU (see nvidia-smi); stop it or pick other GPUs with the gpus input"}, nil
		}
	}
	if f := r.checkDisk(); f != nil {
		return f, nil
	}
	for _, name := range r.active() {
		if f := r.checkImage(ctx, name); f != nil {
			r.fail(name, f)
		}
	}
	return nil, nil
}

func (r *runner) recordHost(inv gpu.Inventory) {
	r.mu.Lock()
	defer r.mu.Unlock()
	h := &r.res.Host
	h.CUDAVersion, h.GPUsSimulated = inv.CUDAVersion, inv.Simulated
	if inv.Simulated {
		h.GPUSource = inv.Source
	}
	for _, g := range r.gpus {
		h.DriverVersion = g.Driver
		h.GPUs = append(h.GPUs, result.GPU{Index: g.Index, Name: g.Name, UUID: g.UUID, MemoryMiB: int(g.MemoryTotalMiB),
			ComputeCap: g.ComputeCap, MemoryUsedMB: g.MemoryUsedMiB})
	}
}

// checkDisk asks for room for every log the run can write at its cap.
func (r *runner) checkDisk() *failure.Failure {
	logs := int64(len(r.active())) * int64(r.cfg.Rounds+r.cfg.Repetitions+r.cfg.Warmup*r.cfg.Rounds+1)
	need := logs*r.cfg.LogCap + 64<<20
	var st syscall.Statfs_t
	if err := syscall.Statfs(r.caseDir, &st); err != nil {
		return nil // not knowable here; the writes themselves will say
	}
	if free := int64(st.Bavail) * int64(st.Bsize); free < need {
		return &failure.Failure{Category: failure.DiskFull, Rule: "preflight-disk",
			RootCause: fmt.Sprintf("%s has %d MiB free; the run's logs may take %d MiB", r.caseDir, free>>20, need>>20),
			Hint:      "free disk space on the runner or point out at a larger disk"}
	}
	return nil
}

// checkImage records the image digest and checks its kernels' archs
// against the GPUs: a mismatch is CUDA_ARCH, found without starting it.
func (r *runner) checkImage(ctx context.Context, name string) *failure.Failure {
	ref := r.cfg.Images[name]
	info, err := r.cfg.Backend.Image(ctx, ref)
	if err != nil {
		return &failure.Failure{Category: failure.Infra, Retriable: true, Rule: "preflight-image", Evidence: err.Error(),
			RootCause: "image " + ref + " is not available", Hint: "check that build-image pushed it and that the runner can pull it"}
	}
	r.mu.Lock()
	r.variant(name).ImageDigest = info.Digest
	r.mu.Unlock()
	archs, ok := info.Labels[gpu.ArchsLabel]
	if !ok {
		r.logf("warning: %s: image %s has no %s label; its kernels' archs cannot be checked before it runs", name, ref, gpu.ArchsLabel)
		return nil
	}
	for _, g := range r.gpus {
		if g.ComputeCap == "" {
			continue
		}
		switch gpu.Support(archs, g.ComputeCap) {
		case cudaarch.Native:
			continue
		case cudaarch.PTXOnly:
			r.logf("warning: %s: image %s has only PTX for %s: kernels are JIT-compiled at load (slow first start)", name, ref, gpu.SMName(g.ComputeCap))
			continue
		}
		return &failure.Failure{Category: failure.CUDAArch, Rule: "preflight-cuda-archs",
			Evidence:  fmt.Sprintf("%s=%q; GPU %d (%s) is compute capability %s (%s)", gpu.ArchsLabel, archs, g.Index, g.Name, g.ComputeCap, gpu.SMName(g.ComputeCap)),
			RootCause: fmt.Sprintf("image %s has no kernels for %s", ref, gpu.SMName(g.ComputeCap)),
			Hint:      "rebuild the image with " + gpu.SMName(g.ComputeCap) + " in its CUDA archs"}
	}
	return nil
}

// gpuRequest is what each variant process gets: the preflighted devices,
// or none when the GPUs are simulated (the stand-in needs none, and the
// daemon may have no NVIDIA runtime).
func (r *runner) gpuRequest() backend.GPUs {
	if r.sim {
		return backend.GPUs{}
	}
	g := backend.GPUs{Type: r.cfg.Case.GPU.Type}
	for _, d := range r.gpus {
		g.Devices = append(g.Devices, strconv.Itoa(d.Index))
	}
	return g
}

func (r *runner) deviceIndexes() []int {
	var out []int
	for _, g := range r.gpus {
		out = append(out, g.Index)
	}
	return out
}

// evidence trims a log excerpt for a result.
func evidence(s string) string {
	if len(s) > 4000 {
		s = "…" + s[len(s)-4000:]
	}
	return strings.TrimSpace(s)
}
