package standin

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"
)

var posInf = math.Inf(1)

// servingArgs are the bench_serving options the stand-in models.
type servingArgs struct {
	backend, baseURL, host, dataset, model, outputFile string
	port, numPrompts, inLen, outLen, maxConc, warmups  int
	rangeRatio, rate                                   float64
	seed                                               uint64
}

func parseServing(args []string) (servingArgs, error) {
	f := parseFlags(args, "disable-stream", "disable-ignore-eos", "output-details", "apply-chat-template", "flush-cache", "disable-tqdm", "return-logprob")
	a := servingArgs{backend: f.str("backend", "sglang"), baseURL: f.str("base-url", ""), host: f.str("host", "0.0.0.0"),
		dataset: f.str("dataset-name", "sharegpt"), model: f.str("model", ""), outputFile: f.str("output-file", "")}
	var err error
	set := func(p *int, name string, def int) {
		if err == nil {
			*p, err = f.integer(name, def)
		}
	}
	set(&a.port, "port", 30000)
	set(&a.numPrompts, "num-prompts", 1000)
	set(&a.inLen, "random-input-len", 1024)
	set(&a.outLen, "random-output-len", 1024)
	set(&a.maxConc, "max-concurrency", 0)
	set(&a.warmups, "warmup-requests", 1)
	var seed int
	set(&seed, "seed", 1)
	a.seed = uint64(seed)
	if err == nil {
		a.rangeRatio, err = f.num("random-range-ratio", 0)
	}
	if err == nil {
		a.rate, err = f.num("request-rate", posInf)
	}
	return a, err
}

// benchServing plays `python3 -m sglang.bench_serving` against a running
// server: real concurrent streamed HTTP requests, TTFT/ITL/E2E measured
// from the stream, SGLang's result block on stdout and one JSON line
// appended to --output-file.
func benchServing(ctx context.Context, cfg Config, e Env, args []string) int {
	a, err := parseServing(args)
	if err != nil {
		fmt.Fprintf(e.Stderr, "bench_serving.py: error: %v\n", err)
		return 2
	}
	fmt.Fprintf(e.Stdout, "Namespace(backend='%s', base_url=%s, host='%s', port=%d, dataset_name='%s', num_prompts=%d, random_input_len=%d, random_output_len=%d, random_range_ratio=%v, request_rate=%v, max_concurrency=%s, output_file=%s, seed=%d)\n\n",
		a.backend, pyStr(a.baseURL), a.host, a.port, a.dataset, a.numPrompts, a.inLen, a.outLen, a.rangeRatio, pyRate(a.rate), pyOptInt(a.maxConc), pyStr(a.outputFile), a.seed)
	if code, ok := failNow(ctx, cfg, e, "bench_serving"); ok {
		return code
	}
	if cfg.failsIn("bench_serving") && cfg.Fail == FailNoOutput {
		return 0
	}
	base := a.baseURL
	if base == "" {
		base = fmt.Sprintf("http://%s:%d", a.host, a.port)
	}
	reqs := makeRequests(a)
	var in, out int
	for _, r := range reqs {
		in += r.in
		out += r.out
	}
	fmt.Fprintf(e.Stdout, "#Input tokens: %d\n#Output tokens: %d\n", in, out)
	c := &client{http: &http.Client{}, url: strings.TrimSuffix(base, "/") + "/generate"}
	fmt.Fprintf(e.Stdout, "Starting warmup with %d sequences...\n", a.warmups)
	for i := 0; i < a.warmups && len(reqs) > 0; i++ {
		if r := c.send(ctx, reqs[0]); r.err != nil || cfg.failsIn("bench_serving") && cfg.Fail == FailExit {
			msg := "HTTP 500"
			if r.err != nil {
				msg = r.err.Error()
			}
			fmt.Fprintf(e.Stderr, "Traceback (most recent call last):\n  File \"/sgl-workspace/sglang/python/sglang/bench_serving.py\", line 1390, in benchmark\n    raise ValueError(\nValueError: Warmup failed - Please make sure benchmark arguments are correctly specified. Error: %s\n", msg)
			return 1
		}
	}
	fmt.Fprintf(e.Stdout, "Warmup completed with %d sequences. Starting main benchmark run...\n", a.warmups)
	res, dur := c.run(ctx, reqs, a)
	if ctx.Err() != nil {
		return 143
	}
	m := computeMetrics(res, dur)
	if m.completed == 0 {
		fmt.Fprintf(e.Stdout, "Error running benchmark for request rate: %s\n%s\n", pyRate(a.rate), strings.Repeat("-", 30))
		return 1
	}
	writeBlock(e.Stdout, a, m)
	name := a.outputFile
	if name == "" {
		name = defaultOutputName(a, time.Now())
	}
	if err := appendFile(name, jsonLine(a, m)+"\n"); err != nil {
		fmt.Fprintf(e.Stderr, "FileNotFoundError: [Errno 2] No such file or directory: '%s' (%v)\n", name, err)
		return 1
	}
	return 0
}

// request is one prompt: token counts and the text sent.
type request struct {
	in, out int
	text    string
}

// makeRequests draws lengths as bench_serving's random dataset does:
// uniform in [max(L*ratio, 1), L], seeded. Datasets that need a download
// (sharegpt) get lengths of the same spread; the stand-in has no network.
func makeRequests(a servingArgs) []request {
	rng := rand.New(rand.NewPCG(a.seed, a.seed))
	inL, outL, ratio := a.inLen, a.outLen, a.rangeRatio
	if a.dataset == "sharegpt" {
		inL, outL, ratio = 512, 256, 0.05
	}
	draw := func(l int) int {
		lo := max(int(float64(l)*ratio), 1)
		if lo >= l {
			return l
		}
		return lo + rng.IntN(l-lo+1)
	}
	out := make([]request, a.numPrompts)
	for i := range out {
		out[i].in, out[i].out = draw(inL), draw(outL)
		out[i].text = strings.TrimSpace(strings.Repeat("hi ", out[i].in))
	}
	return out
}

// outcome is one request's measurements.
type outcome struct {
	err        error
	ttft, e2e  time.Duration
	itls       []time.Duration
	start      time.Time
	tokenTimes []time.Time
	in, out    int
}

type client struct {
	http *http.Client
	url  string
}

// send streams one request and times every chunk.
func (c *client) send(ctx context.Context, r request) outcome {
	o := outcome{in: r.in, start: time.Now()}
	body, _ := json.Marshal(map[string]any{"text": r.text, "stream": true,
		"sampling_params": map[string]any{"temperature": 0.0, "max_new_tokens": r.out, "ignore_eos": true}})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url, bytes.NewReader(body))
	if err != nil {
		o.err = err
		return o
	}
	resp, err := c.http.Do(req)
	if err != nil {
		o.err = err
		return o
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		o.err = fmt.Errorf("%s", resp.Status)
		return o
	}
	sc := bufio.NewScanner(resp.Body)
	last := o.start
	for sc.Scan() {
		data, ok := strings.CutPrefix(sc.Text(), "data: ")
		if !ok || data == "[DONE]" {
			continue
		}
		now := time.Now()
		var chunk struct {
			MetaInfo struct {
				CompletionTokens int `json:"completion_tokens"`
			} `json:"meta_info"`
		}
		if json.Unmarshal([]byte(data), &chunk) != nil {
			continue
		}
		if o.ttft == 0 {
			o.ttft = now.Sub(o.start)
		} else {
			o.itls = append(o.itls, now.Sub(last))
		}
		for n := o.out; n < chunk.MetaInfo.CompletionTokens; n++ {
			o.tokenTimes = append(o.tokenTimes, now)
		}
		o.out = chunk.MetaInfo.CompletionTokens
		last = now
	}
	o.err = sc.Err()
	if o.err == nil && o.out == 0 {
		o.err = fmt.Errorf("empty response")
	}
	o.e2e = time.Since(o.start)
	return o
}

// run sends every request: all at once for an infinite rate, else with
// exponential gaps (a Poisson process), at most maxConc in flight.
func (c *client) run(ctx context.Context, reqs []request, a servingArgs) ([]outcome, time.Duration) {
	res := make([]outcome, len(reqs))
	slots := len(reqs)
	if a.maxConc > 0 {
		slots = a.maxConc
	}
	sem := make(chan struct{}, max(slots, 1))
	rng := rand.New(rand.NewPCG(a.seed, a.seed+1))
	var wg sync.WaitGroup
	start := time.Now()
	for i, r := range reqs {
		if i > 0 && !math.IsInf(a.rate, 1) && a.rate > 0 {
			if !sleep(ctx, time.Duration(rng.ExpFloat64()/a.rate*float64(time.Second))) {
				break
			}
		}
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			res[i] = c.send(ctx, r)
			<-sem
		}()
	}
	wg.Wait()
	return res, time.Since(start)
}

func defaultOutputName(a servingArgs, now time.Time) string {
	if strings.HasPrefix(a.dataset, "random") {
		return fmt.Sprintf("%s_%s_%d_%d_%d.jsonl", a.backend, now.Format("0102"), a.numPrompts, a.inLen, a.outLen)
	}
	return fmt.Sprintf("%s_%s_%d_sharegpt.jsonl", a.backend, now.Format("0102"), a.numPrompts)
}

// appendFile appends text, as the tools open their result files in "a"
// mode. Like Python it fails on a missing directory, so run-bench must
// only name files in directories that exist in the image.
func appendFile(name, text string) error {
	f, err := os.OpenFile(name, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.WriteString(text); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func pyStr(s string) string {
	if s == "" {
		return "None"
	}
	return "'" + s + "'"
}

func pyOptInt(n int) string {
	if n == 0 {
		return "None"
	}
	return fmt.Sprint(n)
}
