package modal

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	sdk "github.com/modal-labs/modal-client/go"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/commitbench/commitbench/internal/backend"
)

func TestRetriable(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want string
	}{
		{sdk.ResourceExhaustedError{Exception: "Insufficient capacity to create sandbox."}, "no capacity"},
		{fmt.Errorf("create: %w", sdk.ResourceExhaustedError{}), "no capacity"},
		{status.Error(codes.ResourceExhausted, "GPU quota"), "no capacity"},
		{fmt.Errorf("wrapped: %w", status.Error(codes.Unavailable, "connection reset")), "transient error"},
		{status.Error(codes.Internal, "internal"), "transient error"},
		{sdk.InternalFailure{Exception: "worker died"}, "transient error"},
		{status.Error(codes.InvalidArgument, "bad GPU"), ""},
		{status.Error(codes.NotFound, "image"), ""},
		{sdk.RemoteError{Exception: "Image build failed"}, ""},
		{context.Canceled, ""},
		{errors.New("plain"), ""},
		{nil, ""},
	} {
		if got := Retriable(tc.err); got != tc.want {
			t.Errorf("Retriable(%v) = %q, want %q", tc.err, got, tc.want)
		}
	}
}

func TestGPUString(t *testing.T) {
	for _, tc := range []struct {
		g    backend.GPUs
		want string
		n    int
		err  bool
	}{
		{backend.GPUs{}, "", 0, false},
		{backend.GPUs{Devices: []string{"0", "1"}, Type: "h100"}, "H100:2", 2, false},
		{backend.GPUs{Count: 8, Type: "H200"}, "H200:8", 8, false},
		{backend.GPUs{Count: -1, Type: "H100"}, "", 0, true},
		{backend.GPUs{Count: 1}, "", 0, true},
	} {
		got, n, err := gpuString(tc.g)
		if got != tc.want || n != tc.n || (err != nil) != tc.err {
			t.Errorf("gpuString(%+v) = %q, %d, %v", tc.g, got, n, err)
		}
	}
}

// TestLifetimes: a server sandbox outlives its round by the margin only;
// the values are those docs/modal.md tabulates for the default limits.
func TestLifetimes(t *testing.T) {
	for _, tc := range []struct {
		start, bench, fetch      time.Duration
		reps, warmup, rounds     int
		server, direct, fetchBox time.Duration
	}{
		{10 * time.Minute, 20 * time.Minute, time.Hour, 5, 1, 3, 80 * time.Minute, 30 * time.Minute, 70 * time.Minute},
		{24 * time.Minute, 55 * time.Minute, time.Hour, 5, 1, 3, 199 * time.Minute, 65 * time.Minute, 70 * time.Minute},
		{time.Minute, time.Minute, time.Minute, 10, 0, 0, 21 * time.Minute, 11 * time.Minute, 11 * time.Minute},
		{10 * time.Hour, 10 * time.Hour, 30 * time.Hour, 9, 1, 1, MaxLifetime, 10*time.Hour + Margin, MaxLifetime},
	} {
		l := LifetimesFor(tc.start, tc.bench, tc.fetch, tc.reps, tc.warmup, tc.rounds)
		if l.Server != tc.server || l.Bench != tc.direct || l.Fetch != tc.fetchBox {
			t.Errorf("LifetimesFor(%v, %v, %v, %d, %d, %d) = %+v; want %v %v %v", tc.start, tc.bench, tc.fetch, tc.reps, tc.warmup, tc.rounds,
				l, tc.server, tc.direct, tc.fetchBox)
		}
	}
}

func TestParseSamples(t *testing.T) {
	s, err := parseSamples([]byte("0, 1234, 1980, 699.5, 61, 0x0000000000000004\n1, [N/A], 1755, 420.1, 55, 0x0000000000000000\n"))
	if err != nil || len(s) != 2 || s[0].SMClockMHz != 1980 || s[0].MemoryUsedMiB != 1234 || s[1].MemoryUsedMiB != 0 ||
		len(s[0].ThrottleReasons) != 1 || s[1].Index != 1 {
		t.Errorf("parseSamples = %+v, %v", s, err)
	}
	if _, err := parseSamples([]byte("NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver.\n")); err == nil {
		t.Error("parseSamples(failure text) succeeded")
	}
}

// TestLineMux: lines from two streams never splice, whatever the chunks.
func TestLineMux(t *testing.T) {
	var out bytes.Buffer
	m := newLineMux(&out)
	a, b := m.stream(), m.stream()
	a.Write([]byte("stdout li"))
	b.Write([]byte("stderr line 1\nstderr "))
	a.Write([]byte("ne 1\n"))
	b.Write([]byte("line 2"))
	m.note("modal: a note")
	b.flush()
	a.flush()
	want := "stderr line 1\nstdout line 1\nmodal: a note\nstderr line 2\n"
	if out.String() != want {
		t.Errorf("got %q, want %q", out.String(), want)
	}
	big := m.stream()
	big.Write([]byte(strings.Repeat("x", maxPartial)))
	if out.Len() != len(want)+maxPartial {
		t.Errorf("a %d-byte partial line was held back", maxPartial)
	}
}
