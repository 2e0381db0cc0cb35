// Package testenv lets tests that need the real Docker engine say so in one
// line: they skip where no daemon exists, except under
// COMMITBENCH_REQUIRE_DOCKER=1 (set by .ci/run), where a missing daemon is a
// failure, so that CI can never go green by skipping them.
package testenv

import (
	"bytes"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
)

// RequireDocker skips or fails t when the Docker daemon cannot be reached.
func RequireDocker(t testing.TB) {
	t.Helper()
	if err := dockerReachable(); err != nil {
		if os.Getenv("COMMITBENCH_REQUIRE_DOCKER") == "1" {
			t.Fatalf("Docker daemon required (COMMITBENCH_REQUIRE_DOCKER=1) but unreachable: %v", err)
		}
		t.Skipf("no Docker daemon: %v (set COMMITBENCH_REQUIRE_DOCKER=1 to make this a failure)", err)
	}
}

func dockerReachable() error {
	host := os.Getenv("DOCKER_HOST")
	network, addr := "unix", "/var/run/docker.sock"
	switch {
	case strings.HasPrefix(host, "unix://"):
		addr = strings.TrimPrefix(host, "unix://")
	case strings.HasPrefix(host, "tcp://"):
		network, addr = "tcp", strings.TrimPrefix(host, "tcp://")
	}
	c, err := net.DialTimeout(network, addr, 2*time.Second)
	if err != nil {
		return err
	}
	return c.Close()
}

// SyncBuffer is a bytes.Buffer safe for the concurrent writers of a
// process's output (a container's log stream, a test reading it).
type SyncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *SyncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *SyncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// WaitHTTP200 polls url until it answers 200, failing t when done closes
// first (the server exited) or after 20 s.
func WaitHTTP200(t testing.TB, url string, done <-chan struct{}) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if resp, err := http.Get(url); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		select {
		case <-done:
			t.Fatal("server exited before it was ready")
		case <-time.After(50 * time.Millisecond):
		}
	}
	t.Fatal("server not ready in 20 s")
}
