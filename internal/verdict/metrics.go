package verdict

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/commitbench/commitbench/internal/engine"
)

// Primary says which metrics decide a case, per tool. The first metric
// that has values is the case's headline: it decides the verdict counts,
// the speedups and the check run; the others are compared and shown too.
type Primary struct {
	ByTool map[engine.Tool][]string
	// Default applies to tools without an entry.
	Default []string
}

// DefaultPrimary: throughput first for bench_serving, because it is the
// load-level number (TTFT at a fixed request rate is tail-sensitive) and
// what the old dataset's improvement columns tracked; TTFT is still
// compared. Direct tools have only throughputs; bench_one_batch omits its
// median keys when output_len is 1, hence the fallback to the overall one.
func DefaultPrimary() Primary {
	return Primary{
		ByTool: map[engine.Tool][]string{
			engine.BenchServing:           {"output_throughput", "median_ttft_ms"},
			engine.BenchOneBatch:          {"median_decode_throughput", "overall_throughput"},
			engine.BenchLatency:           {"median_decode_throughput", "total_throughput"},
			engine.BenchOfflineThroughput: {"output_throughput"},
			engine.BenchOneBatchServer:    {"output_throughput"},
		},
		Default: []string{"output_throughput", "overall_throughput", "median_decode_throughput", "total_throughput"},
	}
}

// For returns the metrics for tool.
func (p Primary) For(tool string) []string {
	if m, ok := p.ByTool[engine.Tool(tool)]; ok {
		return m
	}
	return p.Default
}

var metricName = regexp.MustCompile(`^[A-Za-z0-9_.]+$`)

// ParsePrimary reads the primary-metric input: entries separated by ';' or
// newlines, each "metric[,metric…]" (every tool) or
// "tool=metric[,metric…]" (one tool), overriding DefaultPrimary. An empty
// spec gives the defaults.
func ParsePrimary(spec string) (Primary, error) {
	p := DefaultPrimary()
	entries := strings.FieldsFunc(spec, func(r rune) bool { return r == ';' || r == '\n' })
	for _, e := range entries {
		e = strings.TrimSpace(e)
		if e == "" {
			continue
		}
		tool, list, scoped := strings.Cut(e, "=")
		if !scoped {
			list, tool = tool, ""
		}
		tool = strings.TrimSpace(tool)
		var metrics []string
		for _, m := range strings.Split(list, ",") {
			m = strings.TrimSpace(m)
			if !metricName.MatchString(m) {
				return p, fmt.Errorf("primary-metric: %q in %q is not a metric name; use e.g. output_throughput or bench_serving=output_throughput,median_ttft_ms", m, e)
			}
			metrics = append(metrics, m)
		}
		if !scoped {
			// A bare list replaces every tool's choice.
			p.Default = metrics
			for t := range p.ByTool {
				p.ByTool[t] = metrics
			}
			continue
		}
		if !slices.Contains(engine.Tools(), engine.Tool(tool)) {
			return p, fmt.Errorf("primary-metric: unknown tool %q in %q; known tools: %v", tool, e, engine.Tools())
		}
		p.ByTool[engine.Tool(tool)] = metrics
	}
	return p, nil
}
