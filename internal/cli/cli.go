// Package cli maps a stage's typed errors to the documented exit codes and
// turns SIGINT/SIGTERM (an Actions cancel) into a cancelled context, so each
// stage's main stays a few lines long.
//
// Exit codes, the same for every stage (docs/exit-codes.md):
//
//	0  success (also a stage that was skipped on purpose)
//	1  the work failed (a variant failed, a build failed, a publish failed)
//	2  bad input or usage: nothing was attempted
//	3  internal error: a bug in commitbench
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
)

// Exit codes.
const (
	ExitOK       = 0
	ExitFailed   = 1
	ExitUsage    = 2
	ExitInternal = 3
)

// UsageError is bad input: a malformed flag, case, commit or file. Its
// message names the field and the fix.
type UsageError struct{ Err error }

func (e *UsageError) Error() string { return e.Err.Error() }
func (e *UsageError) Unwrap() error { return e.Err }

// Usagef builds a UsageError.
func Usagef(format string, args ...any) error {
	return &UsageError{Err: fmt.Errorf(format, args...)}
}

// InternalError is a bug: an invariant of commitbench itself broke.
type InternalError struct{ Err error }

func (e *InternalError) Error() string { return "internal error: " + e.Err.Error() }
func (e *InternalError) Unwrap() error { return e.Err }

// SkippedError says a stage had nothing to do on purpose (an image that
// already exists, say). It is not a failure: it exits 0 and says why.
type SkippedError struct{ Reason string }

func (e *SkippedError) Error() string { return "skipped: " + e.Reason }

// IsSkipped reports whether err is, or wraps, a SkippedError.
func IsSkipped(err error) bool {
	var s *SkippedError
	return errors.As(err, &s)
}

// ExitCode maps an error to its exit code. Untyped errors are failures of
// the work (a daemon that is down, a registry that refuses), not bugs.
func ExitCode(err error) int {
	var u *UsageError
	var in *InternalError
	switch {
	case err == nil, IsSkipped(err):
		return ExitOK
	case errors.Is(err, flag.ErrHelp):
		return ExitOK
	case errors.As(err, &u):
		return ExitUsage
	case errors.As(err, &in):
		return ExitInternal
	default:
		return ExitFailed
	}
}

// Run calls fn with a context cancelled on SIGINT/SIGTERM, reports its
// error on stderr, and returns the exit code. A panic is an internal error,
// reported with its stack rather than a bare crash.
func Run(name string, stderr io.Writer, fn func(ctx context.Context) error) (code int) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	defer func() {
		if r := recover(); r != nil {
			fmt.Fprintf(stderr, "%s: internal error: %v\n%s", name, r, debug.Stack())
			code = ExitInternal
		}
	}()
	err := fn(ctx)
	code = ExitCode(err)
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
	case IsSkipped(err):
		fmt.Fprintf(stderr, "%s: %v\n", name, err)
	default:
		fmt.Fprintf(stderr, "%s: %v\n", name, err)
	}
	return code
}
