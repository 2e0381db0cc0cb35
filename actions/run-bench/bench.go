package main

import (
	"context"
	"errors"

	"github.com/commitbench/commitbench/internal/actionsio"
)

// Replaced by the run-bench work (issue 5).
func benchCommand(ctx context.Context, args []string, o actionsio.Options) error {
	return errors.New("run-bench: not built yet")
}
