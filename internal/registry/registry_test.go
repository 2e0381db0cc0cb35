package registry

import (
	"context"
	"errors"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

var fast = remote.Backoff{Duration: 10 * time.Millisecond, Factor: 2, Steps: 4}

// flaky serves registry.New() behind a front that answers 503 to the
// first n requests, and counts requests.
func flaky(t *testing.T, n int32) (host string, requests *atomic.Int32) {
	t.Helper()
	reg := registry.New(registry.Logger(log.New(io.Discard, "", 0)))
	var count, fails atomic.Int32
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		count.Add(1)
		if fails.Add(1) <= n {
			http.Error(w, "upstream hiccup", http.StatusServiceUnavailable)
			return
		}
		reg.ServeHTTP(w, r)
	}))
	t.Cleanup(s.Close)
	return strings.TrimPrefix(s.URL, "http://"), &count
}

func TestWriteLookupLabels(t *testing.T) {
	host, _ := flaky(t, 0)
	ctx := context.Background()
	c := New(Auth{}).WithBackoff(fast)
	ref := host + "/sgl-project/sglang-bench:" + strings.Repeat("a", 40) + "-human"

	got, err := c.Lookup(ctx, ref)
	if err != nil || got != nil {
		t.Fatalf("before the push: %+v, %v; want absent", got, err)
	}
	img, _ := random.Image(512, 1)
	cf, _ := img.ConfigFile()
	cf = cf.DeepCopy()
	cf.Config.Labels = map[string]string{"dev.commitbench.cuda-archs": "sm_90a"}
	img, _ = mutate.ConfigFile(img, cf)
	digest, err := c.Write(ctx, ref, img)
	if err != nil {
		t.Fatal(err)
	}
	got, err = c.Lookup(ctx, ref)
	if err != nil || got == nil {
		t.Fatalf("after the push: %+v, %v", got, err)
	}
	if got.Digest != digest || got.Labels["dev.commitbench.cuda-archs"] != "sm_90a" {
		t.Fatalf("lookup %+v, pushed digest %s", got, digest)
	}
	if got.Pinned() != ref+"@"+digest {
		t.Fatalf("pinned %s", got.Pinned())
	}
}

func TestRetriesOn503(t *testing.T) {
	cases := []struct {
		name    string
		fails   int32
		wantErr bool
	}{
		{"two 503s then fine", 2, false},
		{"down for good", 1000, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			host, count := flaky(t, tc.fails)
			_, err := New(Auth{}).WithBackoff(fast).Lookup(context.Background(), host+"/x/y:t")
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v", err)
			}
			if count.Load() < 3 {
				t.Fatalf("%d requests: no retry happened", count.Load())
			}
		})
	}
}

func TestRetryAndIsTransient(t *testing.T) {
	cases := []struct {
		err       string
		transient bool
	}{
		{"received unexpected HTTP status: 503 Service Unavailable", true},
		{"Get \"https://ghcr.io/v2/\": net/http: TLS handshake timeout", true},
		{"read tcp 1.2.3.4:443: connection reset by peer", true},
		{"toomanyrequests: rate limit exceeded", true},
		{"unauthorized: authentication required", false},
		{"denied: permission_denied: write_package", false},
		{"manifest unknown", false},
	}
	for _, c := range cases {
		if got := IsTransient(errors.New(c.err)); got != c.transient {
			t.Errorf("IsTransient(%q) = %v", c.err, got)
		}
	}
	n := 0
	err := Retry(context.Background(), fast, func() error {
		n++
		if n < 3 {
			return errors.New("502 Bad Gateway")
		}
		return nil
	})
	if err != nil || n != 3 {
		t.Fatalf("err %v after %d tries", err, n)
	}
	n = 0
	err = Retry(context.Background(), fast, func() error { n++; return errors.New("unauthorized") })
	if err == nil || n != 1 {
		t.Fatalf("a permanent error was retried %d times", n)
	}
}

func TestHost(t *testing.T) {
	for in, want := range map[string]string{
		"ghcr.io/o/sglang-bench": "ghcr.io", "127.0.0.1:5000/x/y": "127.0.0.1:5000", "o/x": "index.docker.io",
	} {
		if got := Host(in); got != want {
			t.Errorf("Host(%q) = %q, want %q", in, got, want)
		}
	}
}
