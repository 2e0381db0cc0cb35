package metrics

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/commitbench/commitbench/internal/engine"
	"github.com/commitbench/commitbench/internal/failure"
	"github.com/commitbench/commitbench/internal/result"
	"github.com/commitbench/commitbench/internal/testenv"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

const outputs = "../../testdata/fixtures/sglang-outputs"

// golden is what a fixture parses to; each file was checked by hand
// against the fixture's text.
type golden struct {
	Tool   engine.Tool    `json:"tool"`
	Source string         `json:"source"` // "text" or "jsonl"
	Blocks []result.Block `json:"blocks"`
	Check  string         `json:"check"` // "ok" or the METRICS_MISSING evidence
}

// parseFile detects the tool and the format from content, as `run-bench
// parse --tool auto` does.
func parseFile(t *testing.T, path string) golden {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	g := golden{Tool: Detect(data), Source: "text"}
	var blocks []result.Block
	if IsJSONL(data) {
		g.Source = "jsonl"
		blocks, err = ParseJSONL(g.Tool, bytes.NewReader(data))
	} else {
		blocks, err = ParseText(g.Tool, bytes.NewReader(data))
	}
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	g.Blocks, g.Check = blocks, "ok"
	if f := Check(g.Tool, blocks); f != nil {
		g.Check = f.Evidence
	}
	return g
}

func TestFixturesGolden(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(outputs, "bench_*.txt"))
	if err != nil || len(files) < 12 {
		t.Fatalf("want the 12 benchmark fixtures, found %d (%v)", len(files), err)
	}
	for _, path := range files {
		name := strings.TrimSuffix(filepath.Base(path), ".txt")
		t.Run(name, func(t *testing.T) {
			got, err := json.MarshalIndent(parseFile(t, path), "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			testenv.Golden(t, filepath.Join("testdata", name+".golden"), append(got, '\n'), *update)
		})
	}
}

// Every fixture must yield metrics: no fixture of a real result may parse
// to a METRICS_MISSING.
func TestFixturesHaveMetrics(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(outputs, "bench_*.txt"))
	for _, path := range files {
		g := parseFile(t, path)
		if g.Tool == "" || len(g.Blocks) == 0 || g.Check != "ok" {
			t.Errorf("%s: tool %q, %d blocks, check %q", filepath.Base(path), g.Tool, len(g.Blocks), g.Check)
		}
	}
}

func TestDetect(t *testing.T) {
	for file, want := range map[string]engine.Tool{
		"bench_latency_2024-06-25_pr564_ms-units.txt":                  engine.BenchLatency,
		"bench_offline_throughput_2025-09-03_mpi-rank-prefixed.txt":    engine.BenchOfflineThroughput,
		"bench_offline_throughput_2026-04-20_pr22416_before-after.txt": engine.BenchOfflineThroughput,
		"bench_one_batch_2025-02_v0.4.2.post4_sweep.txt":               engine.BenchOneBatch,
		"bench_one_batch_2026-04-20_pr22416_mlx.txt":                   engine.BenchOneBatch,
		"bench_serving_2024-08-08_ab7875941_baseline.txt":              engine.BenchServing,
		"bench_serving_2025-03-30_pr4918_p95-maxitl_unterminated.txt":  engine.BenchServing,
		"bench_serving_output-file-jsonl_2025-11_issue12389.txt":       engine.BenchServing,
		"launch_server_ready_2026-04-20_pr22416.txt":                   "",
	} {
		data, err := os.ReadFile(filepath.Join(outputs, file))
		if err != nil {
			t.Fatal(err)
		}
		if got := Detect(data); got != want {
			t.Errorf("%s: Detect = %q, want %q", file, got, want)
		}
	}
	for head, want := range map[string]engine.Tool{
		`{"run_name": "x", "batch_size": 1, "input_len": 8, "output_len": 8, "prefill_latency": 0.1}`: engine.BenchOneBatch,
		`{"backend": "engine", "successful_requests": 10, "total_latency": 1.5}`:                      engine.BenchOfflineThroughput,
		`{"run_name": "x", "batch_size": 1, "latency": 1.2, "overall_throughput": 10.5}`:              engine.BenchOneBatchServer,
		"batch size: 16\ninput_len: 1024\nlatency: 1.00 s\n":                                          engine.BenchOneBatchServer,
		"python3 -m sglang.bench_one_batch_server --model m --batch-size 1\n":                         engine.BenchOneBatchServer,
		"nothing here": "",
	} {
		if got := Detect([]byte(head)); got != want {
			t.Errorf("Detect(%q) = %q, want %q", head, got, want)
		}
	}
}

func TestCheck(t *testing.T) {
	ok := []result.Block{{Metrics: map[string]float64{"output_throughput": 1}}}
	for name, tc := range map[string]struct {
		tool    engine.Tool
		blocks  []result.Block
		missing string // "" = no failure
	}{
		"serving ok":             {engine.BenchServing, ok, ""},
		"no blocks":              {engine.BenchServing, nil, "no bench_serving result block"},
		"only a duration":        {engine.BenchServing, []result.Block{{Metrics: map[string]float64{"duration": 3}}}, "block 1 has none of"},
		"second block empty":     {engine.BenchOneBatch, []result.Block{{Key: "bs=1,in=8,out=8", Metrics: map[string]float64{"prefill_latency": 1}}, {Key: "bs=2,in=8,out=8", Metrics: map[string]float64{}}}, "block 2 (bs=2,in=8,out=8) has none of"},
		"latency uses one-batch": {engine.BenchLatency, []result.Block{{Metrics: map[string]float64{"total_latency": 1}}}, ""},
		"unknown tool":           {"bench_x", nil, "no bench_x result block"},
	} {
		f := Check(tc.tool, tc.blocks)
		switch {
		case tc.missing == "" && f != nil:
			t.Errorf("%s: unexpected failure %+v", name, f)
		case tc.missing != "" && (f == nil || f.Category != failure.MetricsMissing || !strings.Contains(f.Evidence, tc.missing)):
			t.Errorf("%s: got %+v, want METRICS_MISSING with %q", name, f, tc.missing)
		}
	}
}

// The previous pipeline recorded commit 148254d4 as a success with empty
// metrics; its bench_one_batch output was an import error. Here it is
// METRICS_MISSING.
func TestPhantomSuccessFromThePreviousPipeline(t *testing.T) {
	data, err := os.ReadFile("../../testdata/fixtures/isobench/result-samples.json")
	if err != nil {
		t.Fatal(err)
	}
	var rs struct {
		Samples map[string]map[string]any `json:"samples"`
	}
	if err := json.Unmarshal(data, &rs); err != nil {
		t.Fatal(err)
	}
	s := rs.Samples["148254d4"]
	if s["status"] != "success" {
		t.Fatalf("fixture changed: status %v", s["status"])
	}
	for _, field := range []string{"baseline_raw", "human_raw", "agent_raw"} {
		blocks, err := ParseText(engine.BenchOneBatch, strings.NewReader(s[field].(string)))
		if err != nil {
			t.Fatal(err)
		}
		if f := Check(engine.BenchOneBatch, blocks); f == nil || f.Category != failure.MetricsMissing {
			t.Errorf("%s: got %+v, want METRICS_MISSING", field, f)
		}
	}
}
