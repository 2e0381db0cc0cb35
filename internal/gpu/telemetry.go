package gpu

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/commitbench/commitbench/internal/result"
)

// Select returns the GPUs that spec names: "" or "all" for every GPU, else
// a comma-separated list of indexes or UUIDs.
func Select(all []GPU, spec string) ([]GPU, error) {
	spec = strings.TrimSpace(spec)
	if spec == "" || spec == "all" {
		return all, nil
	}
	var out []GPU
	for _, id := range strings.Split(spec, ",") {
		id = strings.TrimSpace(id)
		found := false
		for _, g := range all {
			if strconv.Itoa(g.Index) == id || g.UUID == id {
				if !slices.ContainsFunc(out, func(o GPU) bool { return o.Index == g.Index }) {
					out = append(out, g)
				}
				found = true
				break
			}
		}
		if !found {
			return nil, fmt.Errorf("gpus: %q is not a GPU on this machine (have indexes 0..%d); use all or a comma-separated list of indexes or UUIDs", id, len(all)-1)
		}
	}
	return out, nil
}

// Sampler reads a Source every interval while a repetition runs and
// keeps the peaks and minimums (result.Telemetry). Reading fails are
// counted, not fatal: telemetry must never fail a benchmark.
type Sampler struct {
	stop    chan struct{}
	done    chan struct{}
	mu      sync.Mutex
	t       result.Telemetry
	devices map[int]bool
	reasons map[string]bool
}

// StartSampler takes a first sample at once, then one every interval,
// from the devices given (all when empty) until Stop.
func StartSampler(ctx context.Context, src Source, interval time.Duration, devices []int, simulated bool) *Sampler {
	s := &Sampler{stop: make(chan struct{}), done: make(chan struct{}), devices: map[int]bool{}, reasons: map[string]bool{}}
	s.t.Simulated = simulated
	for _, d := range devices {
		s.devices[d] = true
	}
	go func() {
		defer close(s.done)
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			s.take(ctx, src)
			select {
			case <-t.C:
			case <-s.stop:
				return
			case <-ctx.Done():
				return
			}
		}
	}()
	return s
}

func (s *Sampler) take(ctx context.Context, src Source) {
	samples, err := src.Sample(ctx)
	s.mu.Lock()
	defer s.mu.Unlock()
	if err != nil {
		s.t.Errors++
		return
	}
	s.t.Samples++
	for _, x := range samples {
		if len(s.devices) > 0 && !s.devices[x.Index] {
			continue
		}
		s.t.MaxMemoryUsedMiB = max(s.t.MaxMemoryUsedMiB, x.MemoryUsedMiB)
		if x.SMClockMHz > 0 && (s.t.MinSMClockMHz == 0 || x.SMClockMHz < s.t.MinSMClockMHz) {
			s.t.MinSMClockMHz = x.SMClockMHz
		}
		s.t.MaxSMClockMHz = max(s.t.MaxSMClockMHz, x.SMClockMHz)
		s.t.MaxPowerW = max(s.t.MaxPowerW, x.PowerW)
		s.t.MaxTemperatureC = max(s.t.MaxTemperatureC, x.TemperatureC)
		for _, r := range x.ThrottleReasons {
			s.reasons[r] = true
		}
	}
}

// Stop ends sampling and returns the summary.
func (s *Sampler) Stop() *result.Telemetry {
	close(s.stop)
	<-s.done
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.t
	for r := range s.reasons {
		t.ThrottleReasons = append(t.ThrottleReasons, r)
	}
	slices.Sort(t.ThrottleReasons)
	return &t
}
