package cli

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"strings"
	"testing"
)

func TestExitCode(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
		want int
	}{
		{"nil", nil, ExitOK},
		{"help", flag.ErrHelp, ExitOK},
		{"skipped", fmt.Errorf("build: %w", &SkippedError{Reason: "tag exists"}), ExitOK},
		{"usage", fmt.Errorf("plan: %w", Usagef("case x: commit: not 40 hex")), ExitUsage},
		{"internal", &InternalError{Err: errors.New("nil plan")}, ExitInternal},
		{"plain", errors.New("daemon down"), ExitFailed},
	} {
		if got := ExitCode(tc.err); got != tc.want {
			t.Errorf("%s: ExitCode = %d, want %d", tc.name, got, tc.want)
		}
	}
}

func TestRunReportsPanicAsInternal(t *testing.T) {
	var stderr bytes.Buffer
	code := Run("plan", &stderr, func(context.Context) error { panic("boom") })
	if code != ExitInternal {
		t.Fatalf("code = %d, want %d", code, ExitInternal)
	}
	if !strings.Contains(stderr.String(), "plan: internal error: boom") {
		t.Fatalf("stderr = %q", stderr.String())
	}
}

func TestRunPrintsError(t *testing.T) {
	var stderr bytes.Buffer
	code := Run("plan", &stderr, func(context.Context) error { return Usagef("cases: missing; pass --cases FILE") })
	if code != ExitUsage || !strings.Contains(stderr.String(), "plan: cases: missing; pass --cases FILE") {
		t.Fatalf("code=%d stderr=%q", code, stderr.String())
	}
}
