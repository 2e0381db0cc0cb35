// Command demo runs the whole pipeline on this machine's Docker engine with
// the stand-in engine, no GPU needed: plan over examples/demo/cases.jsonl,
// build-image for the three variants (pushed to a registry it starts on
// 127.0.0.1), run-bench on the Docker backend with simulated GPUs, and
// publish to a local report, which it prints: the report a job summary
// would show. It runs the real stage binaries, built from this tree.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	var o options
	flag.StringVar(&o.work, "work", ".demo", "scratch folder (recreated)")
	flag.IntVar(&o.repetitions, "repetitions", 5, "measured repetitions per variant (4 or more give intervals)")
	flag.BoolVar(&o.quiet, "quiet", false, "print only the report")
	flag.BoolVar(&o.verbose, "v", false, "show every stage's output, not just progress (it is always in WORK/demo.log)")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var progress io.Writer = os.Stderr
	if o.quiet {
		progress = io.Discard
	}
	report, err := run(ctx, o, progress)
	if report != "" {
		fmt.Print(report)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		var se *stageError
		if errors.As(err, &se) {
			os.Exit(se.code)
		}
		os.Exit(1)
	}
}
