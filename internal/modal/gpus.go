package modal

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/commitbench/commitbench/internal/backend"
	"github.com/commitbench/commitbench/internal/gpu"
)

// computeCaps are the compute capabilities of Modal's GPU types, so that
// an image's kernels are checked against the GPU before one is paid for.
var computeCaps = map[string]string{
	"T4": "7.5", "L4": "8.9", "A10G": "8.6", "A100": "8.0", "A100-40GB": "8.0", "A100-80GB": "8.0",
	"L40S": "8.9", "H100": "9.0", "H100!": "9.0", "H200": "9.0", "B200": "10.0",
}

// GPUs is the gpu.Source of one run on Modal. Its inventory is the GPUs
// the run asks Modal for (no sandbox exists before the run starts one);
// its samples are nvidia-smi's, read inside the run's live GPU sandbox.
type GPUs struct {
	Backend *Backend
	// RunID picks the run's sandboxes (label dev.commitbench.run).
	RunID string
	// Type and Count are the plan's gpu.type and gpu.count.
	Type  string
	Count int
}

var _ gpu.Source = (*GPUs)(nil)

// Inventory implements gpu.Source. Memory is left unknown (Modal gives a
// sandbox whole GPUs, so the free-memory check has nothing to check).
func (g *GPUs) Inventory(context.Context) (gpu.Inventory, error) {
	t := strings.ToUpper(strings.TrimSpace(g.Type))
	if t == "" || g.Count < 1 {
		return gpu.Inventory{}, fmt.Errorf("modal: the plan gives gpu type %q and count %d; Modal needs both", g.Type, g.Count)
	}
	inv := gpu.Inventory{Source: fmt.Sprintf("modal:%s:%d (requested; telemetry from nvidia-smi in the sandbox)", t, g.Count)}
	for i := 0; i < g.Count; i++ {
		inv.GPUs = append(inv.GPUs, gpu.GPU{Index: i, Name: t, ComputeCap: computeCaps[t]})
	}
	return inv, nil
}

// sampleFields are those gpu.SMI samples, in its order.
var sampleFields = []string{"index", "memory.used", "clocks.sm", "power.draw", "temperature.gpu", "clocks_event_reasons.active"}

// Sample implements gpu.Source: nvidia-smi runs in the run's GPU sandbox
// that started last (a run has one at a time). Drivers before 535 name the
// last field clocks_throttle_reasons.active, so that is tried second.
func (g *GPUs) Sample(ctx context.Context) ([]gpu.Sample, error) {
	p := g.Backend.liveGPU(g.RunID)
	if p == nil {
		return nil, errors.New("modal: no GPU sandbox of this run is running")
	}
	fields := sampleFields
	out, err := p.query(ctx, fields)
	if err != nil && ctx.Err() == nil {
		fields = append(fields[:len(fields)-1:len(fields)-1], "clocks_throttle_reasons.active")
		out, err = p.query(ctx, fields)
	}
	if err != nil {
		return nil, err
	}
	return parseSamples(out)
}

func (b *Backend) liveGPU(run string) *process {
	b.mu.Lock()
	defer b.mu.Unlock()
	var last *process
	for _, p := range b.live {
		select {
		case <-p.Done():
			continue
		default:
		}
		if p.gpus && p.spec.Labels[backend.LabelRun] == run && (last == nil || p.started.After(last.started)) {
			last = p
		}
	}
	return last
}

// query runs nvidia-smi in the sandbox; it is not a benchmark exec.
func (p *process) query(ctx context.Context, fields []string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	var out bytes.Buffer
	code, err := p.exec(ctx, []string{"nvidia-smi", "--query-gpu=" + strings.Join(fields, ","), "--format=csv,noheader,nounits"}, nil, newLineMux(&out))
	if err == nil && code != 0 {
		err = fmt.Errorf("nvidia-smi exited %d: %s", code, firstLine(out.String()))
	}
	return out.Bytes(), err
}

// parseSamples reads sampleFields rows; [N/A] values stay zero.
func parseSamples(data []byte) ([]gpu.Sample, error) {
	var out []gpu.Sample
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		f := strings.Split(line, ",")
		if len(f) != len(sampleFields) {
			continue
		}
		for i := range f {
			f[i] = strings.TrimSpace(f[i])
		}
		idx, err := strconv.Atoi(f[0])
		if err != nil {
			continue
		}
		num := func(s string) float64 { v, _ := strconv.ParseFloat(s, 64); return v }
		out = append(out, gpu.Sample{Index: idx, MemoryUsedMiB: num(f[1]), SMClockMHz: num(f[2]), PowerW: num(f[3]),
			TemperatureC: num(f[4]), ThrottleReasons: gpu.ThrottleReasons(f[5])})
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("modal: nvidia-smi printed no samples: %q", firstLine(string(data)))
	}
	return out, nil
}
