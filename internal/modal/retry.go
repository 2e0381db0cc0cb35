package modal

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	sdk "github.com/modal-labs/modal-client/go"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Retriable says why err is worth another try ("no capacity", "transient
// error"), or "" when it is not: a bad request, a missing image, a
// cancelled run. The SDK has already retried each call a few times.
func Retriable(err error) string {
	var capacity sdk.ResourceExhaustedError
	var internal sdk.InternalFailure
	switch {
	case err == nil, errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return ""
	case errors.As(err, &capacity):
		return "no capacity"
	case errors.As(err, &internal):
		return "transient error"
	}
	st, ok := status.FromError(err)
	if !ok {
		return ""
	}
	switch st.Code() {
	case codes.ResourceExhausted:
		return "no capacity"
	case codes.Unavailable, codes.Internal, codes.Unknown, codes.Aborted, codes.DeadlineExceeded:
		return "transient error"
	}
	return ""
}

// retry runs f until it succeeds, fails for good, or the schedule ends.
// The error it gives up with names the attempts, so that the INFRA
// failure it becomes tells the whole story.
func (b *Backend) retry(ctx context.Context, what string, f func() error) error {
	r := b.cfg.Retry
	delay := r.Base
	for attempt := 1; ; attempt++ {
		err := f()
		kind := Retriable(err)
		switch {
		case err == nil:
			return nil
		case kind == "" || ctx.Err() != nil:
			return err
		case attempt >= r.Attempts:
			return fmt.Errorf("%w (%s; gave up after %d attempts)", err, kind, attempt)
		}
		b.logf("%s: %s (attempt %d of %d): %s; retrying in %v", what, kind, attempt, r.Attempts, firstLine(err.Error()), delay)
		select {
		case <-ctx.Done():
			return err
		case <-time.After(delay):
		}
		delay = min(2*delay, max(r.Max, r.Base))
	}
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(strings.TrimSpace(s), "\n")
	return line
}
