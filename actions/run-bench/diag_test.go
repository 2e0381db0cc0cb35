package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/commitbench/commitbench/internal/actionsio"
	"github.com/commitbench/commitbench/internal/cli"
)

const fixtures = "../../testdata/fixtures"

// runDiag runs a diagnostic command as main does and returns its exit
// code, stdout and stderr.
func runDiag(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	o := actionsio.Options{Getenv: func(string) string { return "" }, Stdout: &stdout, Stderr: &stderr}
	err := run(context.Background(), args, o)
	if err != nil {
		stderr.WriteString(err.Error())
	}
	return cli.ExitCode(err), stdout.String(), stderr.String()
}

type parsed struct {
	Tool    string           `json:"tool"`
	Source  string           `json:"source"`
	Blocks  []map[string]any `json:"blocks"`
	Failure *struct {
		Category string `json:"category"`
		Evidence string `json:"evidence"`
	} `json:"failure"`
	Error string `json:"error"`
}

func decode[T any](t *testing.T, s string) T {
	t.Helper()
	var v T
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatalf("stdout is not JSON: %v\n%s", err, s)
	}
	return v
}

func TestParseFixtures(t *testing.T) {
	for file, want := range map[string]struct {
		tool, source string
		blocks       int
		key          string // of the first block
	}{
		"bench_serving_2025-12-10_766476f52_go-gateway-3runs.txt":      {"bench_serving", "text", 3, ""},
		"bench_serving_output-file-jsonl_2025-11_issue12389.txt":       {"bench_serving", "jsonl", 1, ""},
		"bench_one_batch_2025-02_v0.4.2.post4_sweep.txt":               {"bench_one_batch", "text", 4, "bs=4,in=1024,out=1"},
		"bench_latency_2024-06-25_pr564_ms-units.txt":                  {"bench_latency", "text", 2, "group=1"},
		"bench_offline_throughput_2025-09-03_mpi-rank-prefixed.txt":    {"bench_offline_throughput", "text", 1, ""},
		"bench_offline_throughput_2026-04-20_pr22416_before-after.txt": {"bench_offline_throughput", "text", 2, ""},
	} {
		code, out, errOut := runDiag(t, "parse", "--tool", "auto", filepath.Join(fixtures, "sglang-outputs", file))
		if code != 0 {
			t.Errorf("%s: exit %d: %s", file, code, errOut)
			continue
		}
		p := decode[parsed](t, out)
		if p.Tool != want.tool || p.Source != want.source || len(p.Blocks) != want.blocks {
			t.Errorf("%s: got tool %s source %s %d blocks, want %+v", file, p.Tool, p.Source, len(p.Blocks), want)
			continue
		}
		if k, _ := p.Blocks[0]["key"].(string); k != want.key {
			t.Errorf("%s: first key %q, want %q", file, k, want.key)
		}
	}
	// The numbers themselves: one spot check per format (the parsers'
	// goldens check every value).
	_, out, _ := runDiag(t, "parse", filepath.Join(fixtures, "sglang-outputs/bench_serving_2026-04-05_pr21405_p90-e2e.txt"))
	if b := decode[parsed](t, out).Blocks[0]; b["median_ttft_ms"] != 47176.86 || b["p90_e2e_latency_ms"] != 103027.63 {
		t.Errorf("block: %v", b)
	}
}

func TestParseFailures(t *testing.T) {
	dir := t.TempDir()
	write := func(name, s string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	server := filepath.Join(fixtures, "sglang-outputs/launch_server_ready_2026-04-20_pr22416.txt")
	truncated := write("cut.jsonl", "{\"output_throughput\": 3}\n{\"output_throughput\": 4, \"med")
	for name, tc := range map[string]struct {
		args   []string
		code   int
		stdout string // a substring of stdout; "" = stdout must be empty
		stderr string
	}{
		"no metrics in the file":  {[]string{"parse", "--tool", "bench_serving", server}, 1, `"category": "METRICS_MISSING"`, "METRICS_MISSING"},
		"cut-off result file":     {[]string{"parse", "--tool", "bench_serving", truncated}, 1, `"output_throughput": 3`, "result object 2"},
		"tool not recognised":     {[]string{"parse", server}, 2, "", "no benchmark output recognised; pass --tool"},
		"missing file":            {[]string{"parse", filepath.Join(dir, "nope.txt")}, 2, "", "no such file or directory; pass a readable file"},
		"a directory":             {[]string{"parse", "--tool", "bench_serving", dir}, 2, "", "pass a readable regular file"},
		"no file":                 {[]string{"parse"}, 2, "", "file: missing"},
		"two files":               {[]string{"parse", server, server}, 2, "", "pass exactly one"},
		"unknown tool":            {[]string{"parse", "--tool", "bench_nope", server}, 2, "", `tool: "bench_nope" is not a benchmark tool`},
		"unknown format":          {[]string{"parse", "--format", "xml", server}, 2, "", `format: "xml"`},
		"unknown flag":            {[]string{"parse", "--nope", server}, 2, "", "flag provided but not defined"},
		"classify: missing file":  {[]string{"classify", filepath.Join(dir, "nope.txt")}, 2, "", "no such file or directory"},
		"classify: no file":       {[]string{"classify"}, 2, "", "file: missing"},
		"format text forces text": {[]string{"parse", "--tool", "bench_serving", "--format", "text", filepath.Join(fixtures, "sglang-outputs/bench_serving_output-file-jsonl_2025-11_issue12389.txt")}, 1, `"source": "text"`, "METRICS_MISSING"},
	} {
		code, out, errOut := runDiag(t, tc.args...)
		if code != tc.code || !strings.Contains(errOut, tc.stderr) {
			t.Errorf("%s: exit %d, stderr %q; want exit %d, stderr with %q", name, code, errOut, tc.code, tc.stderr)
		}
		if (tc.stdout == "") != (out == "") || !strings.Contains(out, tc.stdout) {
			t.Errorf("%s: stdout %q, want %q", name, out, tc.stdout)
		}
	}
}

// --tool auto finds a result block far past the first megabyte.
func TestParseDetectsPastTheHead(t *testing.T) {
	serving, err := os.ReadFile(filepath.Join(fixtures, "sglang-outputs/bench_serving_2024-08-08_ab7875941_baseline.txt"))
	if err != nil {
		t.Fatal(err)
	}
	line := "[2025-04-20 20:24:27] INFO:     127.0.0.1:63738 - \"POST /generate HTTP/1.1\" 200 OK\n"
	p := filepath.Join(t.TempDir(), "long.log")
	if err := os.WriteFile(p, append([]byte(strings.Repeat(line, 40_000)), serving...), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runDiag(t, "parse", p)
	if got := decode[parsed](t, out); code != 0 || got.Tool != "bench_serving" || len(got.Blocks) != 1 {
		t.Errorf("exit %d (%s): %+v", code, errOut, got)
	}
}

func TestClassify(t *testing.T) {
	type out struct {
		Category  string  `json:"category"`
		Retriable *bool   `json:"retriable"`
		Evidence  *string `json:"evidence"`
		RootCause string  `json:"root_cause"`
		Hint      string  `json:"hint"`
		Rule      string  `json:"rule"`
		Line      int     `json:"line"`
	}
	for file, want := range map[string]string{
		"gpu/torch-oom.txt":        "GPU_OOM",
		"gpu/undefined-symbol.txt": "IMPORT_ERROR",
		"gpu/nccl-error.txt":       "NCCL_ERROR",
		"gpu/nvidia-smi.txt":       "UNKNOWN",
	} {
		code, stdout, errOut := runDiag(t, "classify", filepath.Join(fixtures, file))
		if code != 0 {
			t.Errorf("%s: exit %d: %s", file, code, errOut)
			continue
		}
		o := decode[out](t, stdout)
		if o.Category != want || o.Retriable == nil || o.Evidence == nil || o.RootCause == "" || o.Hint == "" {
			t.Errorf("%s: got %+v, want %s with every field present", file, o, want)
		}
		if want != "UNKNOWN" && (o.Rule == "" || o.Line == 0 || *o.Evidence == "") {
			t.Errorf("%s: a match needs its rule, line and evidence: %+v", file, o)
		}
	}
}
