// Package gpu knows the GPUs a run uses: what nvidia-smi reports (or, on a
// machine without GPUs, a replay of what it reported on a real H100),
// which devices a run may use, whether an image's kernels can run on them,
// and how they behaved during each repetition (telemetry).
package gpu

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/commitbench/commitbench/internal/image"
)

// ArchsLabel is the image label in which build-image records the CUDA
// targets its kernels carry code for ("sm_90,sm_90a"); spelled once, in
// internal/image.
const ArchsLabel = image.LabelCUDAArchs

// GPU is one device.
type GPU struct {
	Index          int
	Name           string
	UUID           string
	MemoryTotalMiB float64
	MemoryUsedMiB  float64
	// ComputeCap is "major.minor" ("9.0"); empty when the source cannot say.
	ComputeCap string
	Driver     string
}

// FreeMiB is the memory not in use.
func (g GPU) FreeMiB() float64 { return g.MemoryTotalMiB - g.MemoryUsedMiB }

// Inventory is what a source reports about the machine.
type Inventory struct {
	GPUs        []GPU
	CUDAVersion string
	// Simulated is true when no real GPU was queried; Source says what
	// was replayed instead ("fixture:embedded-h100", "fixture:/path").
	Simulated bool
	Source    string
}

// Sample is one device's reading at one moment.
type Sample struct {
	Index           int
	MemoryUsedMiB   float64
	SMClockMHz      float64
	PowerW          float64
	TemperatureC    float64
	ThrottleReasons []string
}

// Source reports GPUs: the real nvidia-smi, or a fixture replay.
type Source interface {
	Inventory(ctx context.Context) (Inventory, error)
	Sample(ctx context.Context) ([]Sample, error)
}

// InventoryFields are the columns run-bench queries, in order.
var InventoryFields = []string{"index", "name", "uuid", "memory.total", "memory.used", "compute_cap", "driver_version"}

// parseCSV reads nvidia-smi --format=csv output. With header, columns are
// named by the header line ("memory.total [MiB]") and values carry units
// ("81559 MiB"); without (noheader,nounits), fields names them. Either way
// a row becomes a map from field name to its value, units stripped.
func parseCSV(r io.Reader, fields []string) ([]map[string]string, error) {
	sc := bufio.NewScanner(r)
	var rows []map[string]string
	header := fields
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		cells := strings.Split(line, ",")
		for i := range cells {
			cells[i] = strings.TrimSpace(cells[i])
		}
		if header == nil {
			header = make([]string, len(cells))
			for i, c := range cells {
				name, _, _ := strings.Cut(c, " [")
				header[i] = name
			}
			continue
		}
		if len(cells) != len(header) {
			return nil, fmt.Errorf("nvidia-smi csv: %d columns, want %d (%s): %q", len(cells), len(header), strings.Join(header, ","), line)
		}
		row := map[string]string{}
		for i, c := range cells {
			row[header[i]] = stripUnit(c)
		}
		rows = append(rows, row)
	}
	return rows, sc.Err()
}

func stripUnit(v string) string {
	for _, u := range []string{" MiB", " W", " %", " MHz", " C"} {
		v = strings.TrimSuffix(v, u)
	}
	return v
}

// num parses a value; "[N/A]", "N/A" and "[Not Supported]" are absent.
func num(v string) (float64, bool) {
	x, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
	return x, err == nil
}

func gpusFromRows(rows []map[string]string) ([]GPU, error) {
	var out []GPU
	for _, r := range rows {
		idx, err := strconv.Atoi(r["index"])
		if err != nil {
			return nil, fmt.Errorf("nvidia-smi: index %q is not a number", r["index"])
		}
		g := GPU{Index: idx, Name: r["name"], UUID: r["uuid"], ComputeCap: r["compute_cap"], Driver: r["driver_version"]}
		g.MemoryTotalMiB, _ = num(r["memory.total"])
		if used, ok := num(r["memory.used"]); ok {
			g.MemoryUsedMiB = used
		} else if free, ok := num(r["memory.free"]); ok {
			g.MemoryUsedMiB = g.MemoryTotalMiB - free
		}
		out = append(out, g)
	}
	return out, nil
}

// ParseInventory reads the output of
// nvidia-smi --query-gpu=<InventoryFields> --format=csv,noheader,nounits.
func ParseInventory(r io.Reader) ([]GPU, error) {
	rows, err := parseCSV(r, InventoryFields)
	if err != nil {
		return nil, err
	}
	return gpusFromRows(rows)
}

// throttleBits are the clocks_event_reasons.active bits (nvml.h).
var throttleBits = []struct {
	bit  uint64
	name string
}{
	{0x1, "gpu_idle"}, {0x2, "applications_clocks_setting"}, {0x4, "sw_power_cap"}, {0x8, "hw_slowdown"},
	{0x10, "sync_boost"}, {0x20, "sw_thermal_slowdown"}, {0x40, "hw_thermal_slowdown"},
	{0x80, "hw_power_brake_slowdown"}, {0x100, "display_clocks_setting"},
}

// ThrottleReasons decodes a clocks_event_reasons.active bitmask
// ("0x0000000000000004").
func ThrottleReasons(mask string) []string {
	v, err := strconv.ParseUint(strings.TrimPrefix(strings.TrimSpace(mask), "0x"), 16, 64)
	if err != nil {
		return nil
	}
	var out []string
	for _, b := range throttleBits {
		if v&b.bit != 0 {
			out = append(out, b.name)
		}
	}
	return out
}
