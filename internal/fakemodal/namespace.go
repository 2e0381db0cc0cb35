package fakemodal

import (
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	pb "github.com/modal-labs/modal-client/go/proto/modal_proto"
)

// A sandbox's namespaces (filesystem, network) are mapped onto this
// machine: what follows rewrites paths and ports, and stands in for
// Modal's tunnels.

// hostPath maps an absolute sandbox path onto this machine.
func (sb *sandbox) hostPath(p string) string {
	p = filepath.Clean(p)
	for _, m := range sb.mounts {
		if p == m.target || strings.HasPrefix(p, m.target+"/") {
			return m.dir + strings.TrimPrefix(p, m.target)
		}
	}
	return filepath.Join(sb.root, p)
}

// mapArgs rewrites what ties a command to the container's own
// namespaces: absolute paths (also in --flag=/path), the ports the
// sandbox opened (--port N, host:N), and 0.0.0.0, which would expose the
// server beyond this machine.
func (sb *sandbox) mapArgs(args []string) []string {
	out := make([]string, len(args))
	for i, a := range args {
		prev := ""
		if i > 0 {
			prev = args[i-1]
		}
		for cp, hp := range sb.ports {
			c, h := strconv.Itoa(cp), strconv.Itoa(hp)
			if prev == "--port" && a == c {
				a = h
			}
			a = strings.ReplaceAll(a, "--port="+c, "--port="+h)
			a = strings.ReplaceAll(a, "127.0.0.1:"+c, "127.0.0.1:"+h)
			a = strings.ReplaceAll(a, "localhost:"+c, "localhost:"+h)
		}
		switch k, v, ok := strings.Cut(a, "="); {
		case prev == "--host" && a == "0.0.0.0":
			a = "127.0.0.1"
		case strings.HasPrefix(a, "/"):
			a = sb.hostPath(a)
		case ok && strings.HasPrefix(k, "-") && strings.HasPrefix(v, "/"):
			a = k + "=" + sb.hostPath(v)
		}
		out[i] = a
	}
	return out
}

// environ is the image's ENV, the stand-in's config from the image, then
// the sandbox's and the command's variables; absolute paths are mapped.
func (sb *sandbox) environ(extra map[string]string) []string {
	env := map[string]string{}
	for _, kv := range sb.img.env {
		if k, v, ok := strings.Cut(kv, "="); ok {
			env[k] = v
		}
	}
	if len(sb.img.config) > 0 {
		env["COMMITBENCH_STANDIN_CONFIG"] = string(sb.img.config)
	}
	for _, m := range []map[string]string{sb.Env, extra} {
		for k, v := range m {
			env[k] = v
		}
	}
	out := make([]string, 0, len(env))
	for k, v := range env {
		if strings.HasPrefix(v, "/") && !strings.Contains(v, ":") {
			v = sb.hostPath(v)
		}
		out = append(out, k+"="+v)
	}
	sort.Strings(out)
	return out
}

// tunnels starts a TLS-terminating proxy per encrypted port, as Modal's
// tunnels are, and counts the requests that go through.
func (sb *sandbox) tunnels() ([]*pb.TunnelData, error) {
	sb.mu.Lock()
	defer sb.mu.Unlock()
	var out []*pb.TunnelData
	for _, p := range sb.Definition.GetOpenPorts().GetPorts() {
		if p.GetUnencrypted() {
			continue
		}
		cp := int(p.GetPort())
		srv := sb.proxies[cp]
		if srv == nil && sb.result == nil {
			target, _ := url.Parse(fmt.Sprintf("http://127.0.0.1:%d", sb.ports[cp]))
			proxy := httputil.NewSingleHostReverseProxy(target)
			// Nothing listening yet is a 502, as from Modal's tunnel.
			proxy.ErrorLog = log.New(io.Discard, "", 0)
			srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				sb.s.mu.Lock()
				sb.s.tunnelHit++
				sb.s.mu.Unlock()
				proxy.ServeHTTP(w, r)
			}))
			srv.Config.ErrorLog = log.New(io.Discard, "", 0)
			srv.StartTLS()
			sb.proxies[cp] = srv
		}
		if srv == nil {
			continue
		}
		addr := srv.Listener.Addr().(*net.TCPAddr)
		out = append(out, pb.TunnelData_builder{Host: "127.0.0.1", Port: uint32(addr.Port), ContainerPort: uint32(cp)}.Build())
	}
	return out, nil
}
