package standin

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"math"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/commitbench/commitbench/internal/testenv"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// The block and the JSON line for fixed metrics, checked by hand against
// the 2026 fixture's layout (fixtures/sglang-outputs/...pr21405...).
func TestServingOutputGolden(t *testing.T) {
	a := servingArgs{backend: "sglang", dataset: "random", inLen: 1024, outLen: 512, rangeRatio: 1, rate: posInf}
	d := dist{mean: 60465.834, median: 60908.48, std: 12.5, p90: 103027.63, p95: 110000, p99: 111428.53, max: 1811.18}
	m := metrics{duration: 113.18, completed: 500, totalIn: 253168, totalOut: 131674, peakConc: 500, reqTput: 4.42, inTput: 2236.9,
		outTput: 1163.42, totalTput: 3400.32, peakOut: 1811, concurrency: 267.13, e2e: d, ttft: d, tpot: d, itl: d}
	var b bytes.Buffer
	writeBlock(&b, a, m)
	b.WriteString(jsonLine(a, m) + "\n")
	testenv.Golden(t, filepath.Join("testdata", "serving.golden"), b.Bytes(), *update)
	if !strings.Contains(b.String(), "Backend:                                 sglang    \n") {
		t.Error("label/value padding is not SGLang's {:<40} {:<10}")
	}
}

func TestPyFloat(t *testing.T) {
	for _, tc := range []struct {
		in   float64
		want string
	}{{1, "1.0"}, {0, "0.0"}, {91.82476212800248, "91.82476212800248"}, {math.Inf(1), "Infinity"}, {1e-5, "1e-05"}, {1e16, "1e+16"}, {-2.5, "-2.5"}} {
		if got := pyFloat(tc.in); got != tc.want {
			t.Errorf("pyFloat(%v) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestConfig(t *testing.T) {
	for _, tc := range []struct {
		env     string
		wantErr string
		check   func(Config) bool
	}{
		{"", "", func(c Config) bool { return c == Defaults() }},
		{`{"speed": 1.25, "fail": "oom", "fail_in": "launch_server"}`, "", func(c Config) bool {
			return c.Speed == 1.25 && c.failsIn("launch_server") && !c.failsIn("bench_serving")
		}},
		{`{"spede": 2}`, "unknown field", nil},
		{`{"fail": "explode"}`, "not a failure mode", nil},
		{`{"speed": 0}`, "speed", nil},
		{`{"fail_in": "router"}`, "not a module", nil},
	} {
		c, err := LoadConfig(func(k string) string {
			if k == ConfigEnv {
				return tc.env
			}
			return ""
		})
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("%s: err %v, want %q", tc.env, err, tc.wantErr)
			}
			continue
		}
		if err != nil || !tc.check(c) {
			t.Errorf("%s: %+v, %v", tc.env, c, err)
		}
	}
}

func TestArgs(t *testing.T) {
	f := parseFlags(strings.Fields("--batch-size 1 8 --trust-remote-code --input_len=60 --random-range-ratio -1 --x"), "trust-remote-code")
	bs, _ := f.ints("batch-size", 0)
	if fmt.Sprint(bs) != "[1 8]" || !f.has("trust-remote-code") || f.str("input-len", "") != "60" || f.str("random-range-ratio", "") != "-1" || !f.has("x") {
		t.Errorf("flags %v", f)
	}
	for _, tc := range []struct{ argv, module, code, rest string }{
		{"-m sglang.bench_serving --port 1", "sglang.bench_serving", "", "--port 1"},
		{"-u -msglang.launch_server", "sglang.launch_server", "", ""},
		{"-c print(1) org/m", "", "print(1)", "org/m"},
	} {
		m, c, rest := pythonArgs(strings.Fields(tc.argv))
		if m != tc.module || c != tc.code || strings.Join(rest, " ") != tc.rest {
			t.Errorf("%q: %q %q %q", tc.argv, m, c, rest)
		}
	}
}

func freePort(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	_, p, _ := net.SplitHostPort(l.Addr().String())
	return p
}

// In process, without Docker: the server comes up and prints the ready
// line; the client measures it and writes the block and the JSON line;
// bench_one_batch writes its result.jsonl.
func TestInProcess(t *testing.T) {
	t.Setenv(ConfigEnv, `{"startup_ms": 10, "token_delay_ms": 1}`)
	dir := t.TempDir()
	port := freePort(t)
	ctx, cancel := context.WithCancel(context.Background())
	var srvOut testenv.SyncBuffer
	go run(ctx, Env{Args: strings.Fields("python3 -m sglang.launch_server --model-path /m --port " + port), Getenv: os.Getenv, Stdout: &srvOut, Stderr: &srvOut})
	defer cancel()
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(srvOut.String(), ReadyLine) {
		if time.Now().After(deadline) {
			t.Fatalf("not ready:\n%s", srvOut.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	out := filepath.Join(dir, "o.jsonl")
	var cOut, cErr bytes.Buffer
	code := run(ctx, Env{Args: strings.Fields("python3 -m sglang.bench_serving --port " + port + " --host 127.0.0.1 --dataset-name random --num-prompts 3 --random-input-len 8 --random-output-len 4 --output-file " + out),
		Getenv: os.Getenv, Stdout: &cOut, Stderr: &cErr})
	data, _ := os.ReadFile(out)
	if code != 0 || !strings.Contains(cOut.String(), "Successful requests:                     3") || !strings.Contains(string(data), `"completed": 3,`) {
		t.Errorf("bench_serving: %d\n%s\n%s\n%s", code, cOut.String(), cErr.String(), data)
	}
	res := filepath.Join(dir, "r.jsonl")
	cOut.Reset()
	code = run(ctx, Env{Args: strings.Fields("python3 -m sglang.bench_one_batch --model-path /m --batch-size 1 2 --input-len 8 --output-len 1 3 --result-filename " + res),
		Getenv: os.Getenv, Stdout: &cOut, Stderr: &cErr})
	data, _ = os.ReadFile(res)
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	if code != 0 || len(lines) != 4 || strings.Contains(lines[0], "median_decode") || !strings.Contains(lines[1], `"median_decode_latency"`) {
		t.Errorf("bench_one_batch: %d, %q\n%s", code, lines, cOut.String())
	}
}
