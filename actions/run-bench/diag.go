package main

import (
	"context"
	"errors"

	"github.com/commitbench/commitbench/internal/actionsio"
)

// Replaced by the parsers/classifier work (issue 3).
func parseCommand(ctx context.Context, args []string, o actionsio.Options) error {
	return errors.New("parse: not built yet")
}

func classifyCommand(ctx context.Context, args []string, o actionsio.Options) error {
	return errors.New("classify: not built yet")
}
