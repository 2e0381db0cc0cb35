// Command run-bench measures one case's variants and writes
// results/<case-id>/result.json. Its diagnostic subcommands read a file and
// print JSON: "parse" (metrics of a benchmark output) and "classify" (the
// failure category of a log). See docs/diagnostics.md.
package main

import (
	"context"
	"os"

	"github.com/commitbench/commitbench/internal/actionsio"
	"github.com/commitbench/commitbench/internal/cli"
)

func main() {
	os.Exit(cli.Run("run-bench", os.Stderr, func(ctx context.Context) error {
		return run(ctx, os.Args[1:], actionsio.Options{})
	}))
}

func run(ctx context.Context, args []string, o actionsio.Options) error {
	if len(args) > 0 {
		switch args[0] {
		case "parse":
			return parseCommand(ctx, args[1:], o)
		case "classify":
			return classifyCommand(ctx, args[1:], o)
		}
	}
	return benchCommand(ctx, args, o)
}
