package demo

import (
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/registry"
)

// Registry is go-containerregistry's registry served on 127.0.0.1, which
// the Docker daemon treats as insecure (plain HTTP) without configuration:
// where the demo and the end-to-end test push the images they build.
type Registry struct {
	Host string // host:port
	srv  *http.Server
}

// StartRegistry starts a Registry; Close stops it.
func StartRegistry() (*Registry, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	srv := &http.Server{Handler: registry.New(registry.Logger(log.New(io.Discard, "", 0))), ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	return &Registry{Host: ln.Addr().String(), srv: srv}, nil
}

// Close stops the registry; what it held is gone.
func (r *Registry) Close() error { return r.srv.Close() }

// EnvOutsideActions is os.Environ() without the variables that would make a
// stage (or act) think it runs inside a GitHub Actions job and write its
// outputs there: the demo and the end-to-end test may themselves run in
// one (CI).
func EnvOutsideActions() []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "GITHUB_") || strings.HasPrefix(kv, "INPUT_") || strings.HasPrefix(kv, "RUNNER_") {
			continue
		}
		env = append(env, kv)
	}
	return env
}
