package standin

import (
	"context"
	_ "embed"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"
)

// Real failure texts, replayed verbatim (fixtures/SOURCE.md says where
// each comes from).
var (
	//go:embed fixtures/torch-oom.txt
	oomText string
	//go:embed fixtures/undefined-symbol.txt
	undefinedSymbolText string
	//go:embed fixtures/nccl-error.txt
	ncclText string
)

// Env is the process environment the stand-in sees.
type Env struct {
	Args   []string // os.Args, argv[0] included
	Getenv func(string) string
	Stdout io.Writer
	Stderr io.Writer
}

// Main runs the stand-in and returns the exit status. SIGTERM ends it at
// once with 143, as Python's default handler would: the stand-in is PID 1 in
// its container, where an unhandled SIGTERM would otherwise be ignored.
func Main(e Env) int {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	done := make(chan int, 1)
	go func() { done <- run(ctx, e) }()
	select {
	case code := <-done:
		return code
	case <-ctx.Done():
		return 143
	}
}

func run(ctx context.Context, e Env) int {
	module, code, args := pythonArgs(e.Args[1:])
	cfg, err := LoadConfig(e.Getenv)
	if err != nil {
		fmt.Fprintf(e.Stderr, "commitbench-standin: %v\n", err)
		return 2
	}
	switch {
	case code != "" && !strings.Contains(code, "snapshot_download") && strings.Contains(code, "import sgl_kernel"):
		return importCheck(cfg, e)
	case code != "":
		if !strings.Contains(code, "snapshot_download") {
			fmt.Fprintf(e.Stderr, "commitbench-standin: python3 -c only plays the model fetch (snapshot_download), got %q\n", code)
			return 2
		}
		return fetch(ctx, cfg, e, args)
	case module == "sglang.launch_server":
		return launchServer(ctx, cfg, e, args)
	case module == "sglang.bench_serving":
		return benchServing(ctx, cfg, e, args)
	case module == "sglang.bench_one_batch":
		return benchOneBatch(ctx, cfg, e, args)
	case module == "":
		fmt.Fprintln(e.Stderr, "commitbench-standin: plays python3 -m sglang.{launch_server,bench_serving,bench_one_batch}; see docs/standin.md")
		return 2
	}
	// What CPython prints for a module that does not exist.
	fmt.Fprintf(e.Stderr, "%s: No module named %s\n", e.Args[0], module)
	return 1
}

// importCheck plays build-image's `python3 -c "import sgl_kernel, sglang"`
// verification: it passes, unless the configured failure is the undefined
// symbol and applies to imports, when it fails exactly as the real broken
// sgl_kernel did.
func importCheck(cfg Config, e Env) int {
	if cfg.Fail == FailUndefinedSymbol && cfg.failsIn("import") {
		fmt.Fprint(e.Stderr, undefinedSymbolText)
		return 1
	}
	return 0
}

// pythonArgs splits a python3 command line into the module (-m) or code
// (-c) and the arguments after it, skipping interpreter options like -u.
func pythonArgs(argv []string) (module, code string, rest []string) {
	for i := 0; i < len(argv); i++ {
		switch a := argv[i]; {
		case a == "-m" && i+1 < len(argv):
			return argv[i+1], "", argv[i+2:]
		case a == "-c" && i+1 < len(argv):
			return "", argv[i+1], argv[i+2:]
		case strings.HasPrefix(a, "-m") && len(a) > 2:
			return a[2:], "", argv[i+1:]
		case strings.HasPrefix(a, "-"):
		default:
			return "", "", argv[i:]
		}
	}
	return "", "", nil
}

// failNow plays a configured failure of module and returns its exit
// status; ok is false when no failure applies.
func failNow(ctx context.Context, cfg Config, e Env, module string) (code int, ok bool) {
	if !cfg.failsIn(module) {
		return 0, false
	}
	if !sleep(ctx, cfg.ms(cfg.FailAfterMS)) {
		return 143, true
	}
	switch cfg.Fail {
	case FailOOM:
		fmt.Fprint(e.Stderr, oomText)
		return 1, true
	case FailUndefinedSymbol:
		fmt.Fprint(e.Stderr, undefinedSymbolText)
		return 1, true
	case FailNCCL:
		// The capture ends with the shell's "exit=1", which Python never prints.
		fmt.Fprint(e.Stderr, strings.TrimSuffix(strings.TrimSpace(ncclText), "exit=1"))
		return 1, true
	case FailCrash:
		fmt.Fprintln(e.Stderr, "Fatal Python error: Segmentation fault")
		return 139, true
	case FailHang:
		<-ctx.Done()
		return 143, true
	}
	return 0, false
}

// sleep waits d or until ctx ends; it reports whether d passed.
func sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// logf prints a server log line the way SGLang's logger formats it.
func logf(w io.Writer, format string, args ...any) {
	fmt.Fprintf(w, "[%s] %s\n", time.Now().Format("2006-01-02 15:04:05"), fmt.Sprintf(format, args...))
}
