package fakemodal

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	ggcr "github.com/google/go-containerregistry/pkg/registry"

	"github.com/commitbench/commitbench/internal/registry"
	"github.com/commitbench/commitbench/internal/standin"
	"github.com/commitbench/commitbench/internal/standin/standintest"
)

// Harness is a fake Modal and an image registry on 127.0.0.1 for one
// test, with the environment the SDK reads pointed at them.
type Harness struct {
	*Server
	// Registry is the registry's host:port; Auth its login (zero when
	// the registry is public).
	Registry string
	Auth     registry.Auth
}

// Test credentials: the fake rejects calls without them.
const (
	TestTokenID     = "ak-commitbench-test"
	TestTokenSecret = "as-commitbench-test-SECRET"
)

// NewHarness starts the fake (sandboxes run the stand-in, built once per
// test binary), a registry (private: it requires Auth), and sets
// MODAL_SERVER_URL, MODAL_TOKEN_ID, MODAL_TOKEN_SECRET and
// MODAL_CONFIG_PATH (a file that does not exist) with t.Setenv.
func NewHarness(t testing.TB, private bool) *Harness {
	t.Helper()
	trustTunnels()
	h := &Harness{}
	var handler http.Handler = ggcr.New(ggcr.Logger(log.New(io.Discard, "", 0)))
	if private {
		h.Auth = registry.Auth{Username: "bench-bot", Password: "registry-pass-" + randHex(6)}
		handler = basicAuth(handler, h.Auth)
	}
	reg := httptest.NewServer(handler)
	t.Cleanup(reg.Close)
	h.Registry = strings.TrimPrefix(reg.URL, "http://")
	srv, err := Start(Options{Binary: standintest.Binary(t), TokenID: TestTokenID, TokenSecret: TestTokenSecret, Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Stop)
	h.Server = srv
	t.Setenv("MODAL_SERVER_URL", "http://"+srv.Addr)
	t.Setenv("MODAL_TOKEN_ID", TestTokenID)
	t.Setenv("MODAL_TOKEN_SECRET", TestTokenSecret)
	t.Setenv("MODAL_CONFIG_PATH", filepath.Join(t.TempDir(), "none.toml"))
	return h
}

// Image pushes a stand-in variant image with cfg and labels and returns
// its pinned ref.
func (h *Harness) Image(t testing.TB, cfg standin.Config, labels map[string]string) string {
	t.Helper()
	if cfg.Speed == 0 {
		cfg.Speed = 1
	}
	ref, err := PushStandin(context.Background(), h.Registry+"/sglang-bench:"+randHex(8), h.Auth, cfg, labels)
	if err != nil {
		t.Fatal(err)
	}
	return ref
}

func basicAuth(next http.Handler, a registry.Auth) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, p, ok := r.BasicAuth(); !ok || u != a.Username || p != a.Password {
			w.Header().Set("WWW-Authenticate", `Basic realm="fake registry"`)
			http.Error(w, `{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}`, http.StatusUnauthorized)
			return
		}
		next.ServeHTTP(w, r)
	})
}

func randHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

var trustOnce sync.Once

// trustTunnels makes this test process trust the tunnels' certificate
// (httptest's), as the system roots trust Modal's: run-bench's readiness
// probe uses http.DefaultTransport.
func trustTunnels() {
	trustOnce.Do(func() {
		srv := httptest.NewTLSServer(http.NotFoundHandler())
		defer srv.Close()
		pool, err := x509.SystemCertPool()
		if err != nil {
			pool = x509.NewCertPool()
		}
		pool.AddCert(srv.Certificate())
		http.DefaultTransport.(*http.Transport).TLSClientConfig = &tls.Config{RootCAs: pool}
	})
}
