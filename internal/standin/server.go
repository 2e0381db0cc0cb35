package standin

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"
)

// ReadyLine is SGLang's readiness log line (unchanged since 2024-06).
const ReadyLine = "The server is fired up and ready to roll!"

// ReadyStampPrefix starts a line the stand-in (never SGLang) prints right
// after ReadyLine, with the wall-clock time it printed it, so that a
// benchmark can measure how late run-bench noticed readiness.
const ReadyStampPrefix = "commitbench-standin: ready unix_nano="

// launchServer plays `python3 -m sglang.launch_server`: the startup log,
// model loading (StartupMS), uvicorn listening, the self-warmup /generate,
// then the ready line. It serves until killed.
func launchServer(ctx context.Context, cfg Config, e Env, args []string) int {
	f := parseFlags(args, "trust-remote-code", "disable-radix-cache", "disable-cuda-graph", "enable-torch-compile", "skip-server-warmup", "enable-metrics")
	model := f.str("model-path", f.str("model", ""))
	host, portStr := f.str("host", "127.0.0.1"), f.str("port", "30000")
	if model == "" {
		fmt.Fprintln(e.Stderr, "launch_server.py: error: the following arguments are required: --model-path")
		return 2
	}
	tp := f.str("tp-size", f.str("tp", f.str("tensor-parallel-size", "1")))
	logf(e.Stderr, "server_args=ServerArgs(model_path='%s', tokenizer_path='%s', host='%s', port=%s, tp_size=%s, trust_remote_code=%v, dtype='%s', mem_fraction_static=%s, disable_radix_cache=%v)",
		model, model, host, portStr, tp, f.has("trust-remote-code"), f.str("dtype", "auto"), f.str("mem-fraction-static", "None"), f.has("disable-radix-cache"))
	if code, ok := failBeforeLoad(ctx, cfg, e); ok {
		return code
	}
	if code, ok := checkModel(e, model); !ok {
		return code
	}
	logf(e.Stderr, "Load weight begin. avail mem=79.18 GB")
	if !sleep(ctx, cfg.ms(cfg.StartupMS)) {
		return 143
	}
	if code, ok := failNow(ctx, cfg, e, "launch_server"); ok {
		return code
	}
	logf(e.Stderr, "Load weight end. type=LlamaForCausalLM, dtype=torch.bfloat16, avail mem=63.86 GB, mem usage=15.32 GB.")
	logf(e.Stderr, "KV Cache is allocated. #tokens: 413917, K size: 25.26 GB, V size: 25.26 GB")

	s := &server{cfg: cfg, model: model, e: e}
	ln, err := net.Listen("tcp", net.JoinHostPort(host, portStr))
	if err != nil {
		// uvicorn's own words, which the failure rules know as PORT_IN_USE.
		logf(e.Stderr, "ERROR:    [Errno 98] error while attempting to bind on address ('%s', %s): address already in use", host, portStr)
		return 1
	}
	srv := &http.Server{Handler: s.routes()}
	go srv.Serve(ln)
	defer srv.Close()
	logf(e.Stderr, "INFO:     Started server process [%d]", os.Getpid())
	logf(e.Stderr, "INFO:     Waiting for application startup.")
	logf(e.Stderr, "INFO:     Application startup complete.")
	logf(e.Stderr, "INFO:     Uvicorn running on http://%s (Press CTRL+C to quit)", net.JoinHostPort(host, portStr))
	if !f.has("skip-server-warmup") {
		if err := s.selfWarmup(ctx, "http://"+net.JoinHostPort(loopback(host), portStr)); err != nil {
			if ctx.Err() != nil {
				return 143
			}
			logf(e.Stderr, "Initialization failed. warmup error: %v", err)
			return 1
		}
	}
	s.ready.Store(true)
	logf(e.Stderr, "%s", ReadyLine)
	fmt.Fprintf(e.Stderr, "%s%d\n", ReadyStampPrefix, time.Now().UnixNano())
	<-ctx.Done()
	return 143
}

// failBeforeLoad plays the failures that happen at import time, before any
// weight is loaded (an ABI mismatch stops `import sgl_kernel`).
func failBeforeLoad(ctx context.Context, cfg Config, e Env) (int, bool) {
	if cfg.Fail == FailUndefinedSymbol {
		return failNow(ctx, cfg, e, "launch_server")
	}
	return 0, false
}

// checkModel plays the Hub cache lookup under HF_HUB_OFFLINE=1: a model
// that the fetch step did not put in the cache fails the way
// huggingface_hub fails, so a run that skipped the fetch cannot pass.
func checkModel(e Env, model string) (int, bool) {
	if filepath.IsAbs(model) || e.Getenv("HF_HUB_OFFLINE") != "1" {
		return 0, true
	}
	if _, err := os.Stat(cacheDir(e.Getenv, model)); err == nil {
		return 0, true
	}
	fmt.Fprintf(e.Stderr, "huggingface_hub.errors.LocalEntryNotFoundError: Cannot find the requested files in the disk cache and outgoing traffic has been disabled. To enable hf.co look-ups and downloads online, set 'local_files_only' to False. (model %s)\n", model)
	return 1, false
}

func loopback(host string) string {
	if host == "0.0.0.0" || host == "" || host == "::" {
		return "127.0.0.1"
	}
	return host
}

type server struct {
	cfg   Config
	model string
	e     Env
	ready atomic.Bool
}

func (s *server) routes() *http.ServeMux {
	m := http.NewServeMux()
	// /health answers 200 as soon as uvicorn is up, as it did until
	// 2025-08: the reason run-bench must not trust it for readiness.
	m.HandleFunc("GET /health", func(w http.ResponseWriter, r *http.Request) {})
	m.HandleFunc("GET /health_generate", func(w http.ResponseWriter, r *http.Request) {
		if !s.ready.Load() {
			http.Error(w, "server is starting", http.StatusServiceUnavailable)
			return
		}
		s.generate(r.Context(), 1, 1, nil)
	})
	info := func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, map[string]any{"model_path": s.model, "tokenizer_path": s.model, "is_generation": true})
	}
	m.HandleFunc("GET /get_model_info", info)
	m.HandleFunc("GET /model_info", info)
	m.HandleFunc("GET /v1/models", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, map[string]any{"object": "list", "data": []map[string]any{{"id": s.model, "object": "model", "owned_by": "sglang", "root": s.model}}})
	})
	m.HandleFunc("POST /generate", s.handleGenerate)
	return m
}

// generateRequest is the subset of SGLang's GenerateReqInput that
// bench_serving's sglang backend sends.
type generateRequest struct {
	Text           string `json:"text"`
	InputIDs       []int  `json:"input_ids"`
	SamplingParams struct {
		MaxNewTokens int `json:"max_new_tokens"`
	} `json:"sampling_params"`
	Stream bool `json:"stream"`
}

func (s *server) handleGenerate(w http.ResponseWriter, r *http.Request) {
	var req generateRequest
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	in := len(req.InputIDs)
	if in == 0 {
		in = len(strings.Fields(req.Text))
	}
	out := req.SamplingParams.MaxNewTokens
	if out <= 0 {
		out = 128
	}
	start := time.Now()
	meta := func(n int) map[string]any {
		return map[string]any{"prompt_tokens": in, "completion_tokens": n, "e2e_latency": time.Since(start).Seconds(), "id": "standin"}
	}
	if !req.Stream {
		if !s.generate(r.Context(), in, out, nil) {
			return
		}
		writeJSON(w, map[string]any{"text": strings.Repeat(" tok", out), "meta_info": meta(out)})
		logf(s.e.Stderr, "INFO:     %s - \"POST /generate HTTP/1.1\" 200 OK", r.RemoteAddr)
		return
	}
	w.Header().Set("Content-Type", "text/event-stream")
	fl, _ := w.(http.Flusher)
	var text strings.Builder
	ok := s.generate(r.Context(), in, out, func(i int) {
		text.WriteString(" tok")
		b, _ := json.Marshal(map[string]any{"text": text.String(), "meta_info": meta(i)})
		fmt.Fprintf(w, "data: %s\n\n", b)
		if fl != nil {
			fl.Flush()
		}
	})
	if ok {
		fmt.Fprint(w, "data: [DONE]\n\n")
	}
}

// generate sleeps through prefill and out decode steps, calling tok after
// each token; it reports false when the client went away.
func (s *server) generate(ctx context.Context, in, out int, tok func(i int)) bool {
	if !sleep(ctx, s.cfg.prefill(in)) {
		return false
	}
	for i := 1; i <= out; i++ {
		if i > 1 && !sleep(ctx, s.cfg.ms(s.cfg.TokenDelayMS)) {
			return false
		}
		if tok != nil {
			tok(i)
		}
	}
	return true
}

// selfWarmup is SGLang's _wait_and_warmup: poll /get_model_info, then one
// /generate of 8 tokens.
func (s *server) selfWarmup(ctx context.Context, base string) error {
	c := &http.Client{Timeout: 30 * time.Second}
	resp, err := c.Get(base + "/get_model_info")
	if err != nil {
		return err
	}
	resp.Body.Close()
	logf(s.e.Stderr, "INFO:     127.0.0.1:0 - \"GET /get_model_info HTTP/1.1\" 200 OK")
	logf(s.e.Stderr, "Prefill batch, #new-seq: 1, #new-token: 6, #cached-token: 0, token usage: 0.00, #running-req: 0, #queue-req: 0")
	body := []byte(`{"text":"The capital city of France is","sampling_params":{"max_new_tokens":8,"temperature":0}}`)
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, base+"/generate", bytes.NewReader(body))
	resp, err = c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		line, _ := bufio.NewReader(resp.Body).ReadString('\n')
		return errors.New(resp.Status + ": " + line)
	}
	return nil
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v)
}
