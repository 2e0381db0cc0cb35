package fakemodal

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/commitbench/commitbench/internal/gpu"
)

// replay renders the recorded H100 (inventory and one telemetry reading)
// as nvidia-smi's CSV rows, one per GPU, with each GPU's index and a UUID
// of its own.
func replay(n int, fields []string, units bool) ([][]string, error) {
	fx, err := gpu.EmbeddedFixture()
	if err != nil {
		return nil, err
	}
	inv, err := fx.Inventory(context.Background())
	if err != nil || len(inv.GPUs) == 0 {
		return nil, fmt.Errorf("fixture inventory: %v", err)
	}
	samples, err := fx.Sample(context.Background())
	if err != nil || len(samples) == 0 {
		return nil, fmt.Errorf("fixture sample: %v", err)
	}
	g, sm := inv.GPUs[0], samples[0]
	num := func(v float64, unit string) string {
		s := strconv.FormatFloat(v, 'f', -1, 64)
		if units && unit != "" {
			s += " " + unit
		}
		return s
	}
	var rows [][]string
	for i := 0; i < n; i++ {
		var row []string
		for _, f := range fields {
			var v string
			switch strings.TrimSpace(f) {
			case "index":
				v = strconv.Itoa(i)
			case "name":
				v = g.Name
			case "uuid":
				v = fmt.Sprintf("%s%02x", g.UUID[:len(g.UUID)-2], i)
			case "memory.total":
				v = num(g.MemoryTotalMiB, "MiB")
			case "memory.used":
				v = num(sm.MemoryUsedMiB, "MiB")
			case "compute_cap":
				v = g.ComputeCap
			case "driver_version":
				v = g.Driver
			case "clocks.sm":
				v = num(sm.SMClockMHz, "MHz")
			case "power.draw":
				v = num(sm.PowerW, "W")
			case "temperature.gpu":
				v = num(sm.TemperatureC, "")
			case "clocks_event_reasons.active", "clocks_throttle_reasons.active":
				v = mask(sm.ThrottleReasons)
			default:
				return nil, fmt.Errorf("field %q is not in the recording", f)
			}
			row = append(row, v)
		}
		rows = append(rows, row)
	}
	return rows, nil
}

// mask re-encodes decoded throttle reasons as nvidia-smi's bitmask.
func mask(reasons []string) string {
	var m uint64
	for bit := uint64(1); bit <= 0x100; bit <<= 1 {
		for _, name := range gpu.ThrottleReasons(fmt.Sprintf("0x%x", bit)) {
			for _, r := range reasons {
				if r == name {
					m |= bit
				}
			}
		}
	}
	return fmt.Sprintf("0x%016x", m)
}
