package bench

import (
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/commitbench/commitbench/internal/engine"
)

func TestSplitCommand(t *testing.T) {
	for _, tc := range []struct {
		in      string
		module  string
		args    string
		env     map[string]string
		wantErr bool
	}{
		{"python3 -m sglang.bench_serving --num-prompts 10", "sglang.bench_serving", "--num-prompts 10", nil, false},
		{"SGLANG_USE_MLX=1 uv run python -m sglang.bench_one_batch --batch-size 1", "sglang.bench_one_batch", "--batch-size 1", map[string]string{"SGLANG_USE_MLX": "1"}, false},
		{"python -u -m sglang.bench_serving", "sglang.bench_serving", "", nil, false},
		{"bash run.sh", "", "", nil, true},
	} {
		c, err := splitCommand(strings.Fields(tc.in))
		if (err != nil) != tc.wantErr {
			t.Errorf("%q: err %v", tc.in, err)
			continue
		}
		if tc.wantErr {
			continue
		}
		if c.Module != tc.module || strings.Join(c.Args, " ") != tc.args {
			t.Errorf("%q: module %q args %q; want %q %q", tc.in, c.Module, c.Args, tc.module, tc.args)
		}
		for k, v := range tc.env {
			if c.Env[k] != v {
				t.Errorf("%q: env %v, want %s=%s", tc.in, c.Env, k, v)
			}
		}
	}
}

func TestServerCommand(t *testing.T) {
	for _, tc := range []struct {
		name, client, lora string
		tp, dp             int
		wantServer         string // flags after the fixed prefix
		wantClient         string
	}{
		{"plain", "--num-prompts 10 --backend sglang", "", 1, 1, "", "--num-prompts 10 --backend sglang"},
		{"server flags move", "--trust-remote-code --num-prompts 5 --dtype=bfloat16 --mem-fraction-static 0.7 --disable-radix-cache", "", 1, 1,
			"--disable-radix-cache --dtype=bfloat16 --mem-fraction-static 0.7 --trust-remote-code", "--num-prompts 5"},
		{"plan TP wins", "--tp 16 --num-prompts 5", "", 8, 1, "", "--num-prompts 5"},
		{"dp", "--num-prompts 5", "", 2, 2, "--dp-size 2", "--num-prompts 5"},
		{"lora named by client", "--lora-name sql --num-prompts 5", "/adapters/sql", 1, 1, "--lora-paths sql=/adapters/sql", "--lora-name sql --num-prompts 5"},
		{"lora paths given", "--lora-paths a=/x --num-prompts 5", "/x", 1, 1, "--lora-paths a=/x", "--num-prompts 5"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			server, client := serverCommand("org/m", tc.tp, tc.dp, 30000, tc.lora, strings.Fields(tc.client))
			prefix := "python3 -m sglang.launch_server --model-path org/m --tp-size " + itoa(tc.tp) + " --host 0.0.0.0 --port 30000"
			got := strings.Join(server, " ")
			if want := strings.TrimSpace(prefix + " " + tc.wantServer); got != want {
				t.Errorf("server:\n got %s\nwant %s", got, want)
			}
			if got := strings.Join(client, " "); got != tc.wantClient {
				t.Errorf("client: got %q, want %q", got, tc.wantClient)
			}
		})
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

func TestClientAndDirectArgs(t *testing.T) {
	got := clientArgs(strings.Fields("--host 10.0.0.1 --port=8000 --base-url http://x:1 --output-file a.jsonl --num-prompts 3"), 30000, "/tmp/o.jsonl")
	if want := "--num-prompts 3 --host 127.0.0.1 --port 30000 --output-file /tmp/o.jsonl"; strings.Join(got, " ") != want {
		t.Errorf("clientArgs = %q, want %q", got, want)
	}
	got = directArgs(engine.BenchOneBatch, strings.Fields("--batch-size 1 --tp 4 --result-filename r.jsonl"), 2, "/tmp/r.jsonl")
	if want := "--batch-size 1 --tp-size 2 --result-filename /tmp/r.jsonl"; strings.Join(got, " ") != want {
		t.Errorf("directArgs = %q, want %q", got, want)
	}
}

func TestSchedule(t *testing.T) {
	if s, d := DefaultRounds(5, "server"), DefaultRounds(5, "direct"); s != 3 || d != 5 {
		t.Errorf("DefaultRounds(5): server %d, direct %d; want 3, 5", s, d)
	}
	vs := []string{"baseline", "human", "agent"}
	var order []string
	for r := 0; r < 3; r++ {
		order = append(order, rotate(vs, r)...)
	}
	if want := "baseline human agent human agent baseline agent baseline human"; strings.Join(order, " ") != want {
		t.Errorf("order %v, want %s", order, want)
	}
	for _, tc := range []struct{ reps, rounds, want0, wantLast int }{{5, 3, 2, 1}, {3, 3, 1, 1}, {6, 1, 6, 6}, {7, 2, 4, 3}} {
		total := 0
		for r := 0; r < tc.rounds; r++ {
			total += repsIn(tc.reps, tc.rounds, r)
		}
		if total != tc.reps || repsIn(tc.reps, tc.rounds, 0) != tc.want0 || repsIn(tc.reps, tc.rounds, tc.rounds-1) != tc.wantLast {
			t.Errorf("repsIn(%d over %d): total %d, first %d, last %d", tc.reps, tc.rounds, total, repsIn(tc.reps, tc.rounds, 0), repsIn(tc.reps, tc.rounds, tc.rounds-1))
		}
	}
}

func TestLogFile(t *testing.T) {
	for _, tc := range []struct {
		name     string
		cap      int64
		lines    int
		wantCut  bool
		wantHead string
		wantTail string
	}{
		{"small", 1 << 20, 10, false, "line 0 secret=***", "line 9 secret=***"},
		{"capped keeps head and tail", 400, 100, true, "line 0 secret=***", "line 99 secret=***"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "x.log")
			var seen []string
			lf, err := newLogFile(path, tc.cap, func(s string) string { return strings.ReplaceAll(s, "hf_abc", "***") }, func(s string) { seen = append(seen, s) })
			if err != nil {
				t.Fatal(err)
			}
			for i := 0; i < tc.lines; i++ {
				// Writes split mid-line, as a stream delivers them.
				lf.Write([]byte("line " + itoa(i) + " secret="))
				lf.Write([]byte("hf_abc\n"))
			}
			lf.Close()
			data, _ := os.ReadFile(path)
			s := string(data)
			if strings.Contains(s, "hf_abc") {
				t.Error("secret not redacted")
			}
			if !strings.HasPrefix(s, tc.wantHead) || !strings.HasSuffix(strings.TrimSpace(s), tc.wantTail) {
				t.Errorf("log %q: want head %q and tail %q", s, tc.wantHead, tc.wantTail)
			}
			if cut := strings.Contains(s, "bytes elided"); cut != tc.wantCut || tc.wantCut && int64(len(s)) > tc.cap+200 {
				t.Errorf("elided=%v (len %d), want %v", cut, len(s), tc.wantCut)
			}
			if len(seen) != tc.lines || !slices.Contains(seen, "line 5 secret=***") {
				t.Errorf("onLine saw %d lines", len(seen))
			}
			if !strings.Contains(lf.Last(), tc.wantTail) {
				t.Errorf("Last() = %q", lf.Last())
			}
		})
	}
}
