package main

import (
	"context"
	"io"

	"github.com/commitbench/commitbench/internal/actionsio"
	"github.com/commitbench/commitbench/internal/cli"
)

// runCLI runs the stage as main does, with an empty environment.
func runCLI(args []string, stderr io.Writer) int {
	o := actionsio.Options{Getenv: func(string) string { return "" }, Stdout: io.Discard, Stderr: stderr}
	return cli.Run("run-bench", stderr, func(ctx context.Context) error { return benchCommand(ctx, args, o) })
}
