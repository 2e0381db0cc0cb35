// Package fakemodal is an in-process Modal control plane and task command
// router, built from the Modal Go SDK's exported modal_proto server
// interfaces and served on 127.0.0.1, so that the unmodified SDK (and the
// modal backend on top of it) can be tested without Modal. It records every
// RPC, and its sandboxes are real local processes:
//
//   - an image is resolved by pulling its manifest from the registry named
//     in "FROM <ref>" (with the registry secret's credentials, as Modal
//     does); the stand-in engine's standin.json is read from its layers;
//   - SandboxCreate spawns the entrypoint (python3 is the stand-in binary)
//     with the sandbox's environment; no entrypoint sleeps, as on Modal;
//   - a sandbox's filesystem is a directory of its own: absolute paths in
//     argv and in the environment are mapped into it, volume mounts onto a
//     directory per volume; container ports are mapped to free host ports
//     (several "sandboxes" listen on 30000 at once);
//   - encrypted tunnels are TLS-terminating proxies on 127.0.0.1, like
//     Modal's; Exec runs commands beside the entrypoint; the SDK's file API
//     (modal-sandbox-fs-tools) and nvidia-smi (a replay of the recorded
//     H100) are answered in-process;
//   - the sandbox timeout is enforced (status TIMEOUT), SandboxTerminate
//     kills the process group (TERMINATED).
//
// The RPCs and pitfalls are in ../shared/notes/dependencies.md §3.
package fakemodal

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"strings"
	"sync"
	"time"

	pb "github.com/modal-labs/modal-client/go/proto/modal_proto"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// Options configure a Server.
type Options struct {
	// Binary is what python3 (and python) run in every sandbox: the
	// stand-in engine.
	Binary string
	// TokenID and TokenSecret, when set, are required of every call, as
	// Modal requires valid credentials.
	TokenID, TokenSecret string
	// Dir holds the sandboxes' filesystems and the volumes; default a
	// temporary directory that Stop removes.
	Dir string
}

// Call is one recorded RPC.
type Call struct {
	Method string
	// Metadata holds the headers the SDK sent (x-modal-token-id, ...).
	Metadata metadata.MD
}

// Server is the fake. Its exported methods are safe for concurrent use.
type Server struct {
	pb.UnimplementedModalClientServer
	// Addr is host:port; point MODAL_SERVER_URL at "http://"+Addr.
	Addr string

	opts   Options
	tmpDir bool
	grpc   *grpc.Server
	lis    net.Listener

	mu        sync.Mutex
	calls     []Call
	faults    map[string][]error
	secrets   map[string]map[string]string
	images    map[string]*image
	volumes   map[string]*volume
	sandboxes map[string]*sandbox
	order     []string // sandbox ids in creation order
	execs     map[string]*execProc
	seq       int
	tunnelHit int
}

// Start serves the fake on 127.0.0.1 until Stop.
func Start(opts Options) (*Server, error) {
	s := &Server{opts: opts, faults: map[string][]error{}, secrets: map[string]map[string]string{}, images: map[string]*image{},
		volumes: map[string]*volume{}, sandboxes: map[string]*sandbox{}, execs: map[string]*execProc{}}
	if s.opts.Dir == "" {
		d, err := os.MkdirTemp("", "fakemodal-")
		if err != nil {
			return nil, err
		}
		s.opts.Dir, s.tmpDir = d, true
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s.lis, s.Addr = lis, lis.Addr().String()
	// The SDK's message limit is 100 MB; the default 4 MB would cut ReadFile.
	s.grpc = grpc.NewServer(grpc.UnaryInterceptor(s.unary), grpc.StreamInterceptor(s.stream),
		grpc.MaxRecvMsgSize(100<<20), grpc.MaxSendMsgSize(100<<20))
	pb.RegisterModalClientServer(s.grpc, s)
	// One Go type cannot embed both Unimplemented servers (both declare
	// SandboxWaitUntilReady), hence the second type.
	pb.RegisterTaskCommandRouterServer(s.grpc, &router{s: s})
	go s.grpc.Serve(lis)
	return s, nil
}

// Stop kills every sandbox and stops serving.
func (s *Server) Stop() {
	s.mu.Lock()
	var all []*sandbox
	for _, sb := range s.sandboxes {
		all = append(all, sb)
	}
	s.mu.Unlock()
	for _, sb := range all {
		sb.finish(pb.GenericResult_GENERIC_STATUS_TERMINATED, 0, "server stopped")
	}
	s.grpc.Stop()
	if s.tmpDir {
		os.RemoveAll(s.opts.Dir)
	}
}

// FailNext makes the next call of method (a short name: "SandboxCreate")
// fail with err; queued errors are used one per call, in order.
func (s *Server) FailNext(method string, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults[method] = append(s.faults[method], err)
}

// Calls returns the short names of the RPCs received, in order.
func (s *Server) Calls() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]string, len(s.calls))
	for i, c := range s.calls {
		out[i] = c.Method
	}
	return out
}

// CallsOf returns the recorded calls of one method.
func (s *Server) CallsOf(method string) []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Call
	for _, c := range s.calls {
		if c.Method == method {
			out = append(out, c)
		}
	}
	return out
}

// TunnelRequests counts the HTTP requests that came through tunnels.
func (s *Server) TunnelRequests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tunnelHit
}

func (s *Server) record(method string, md metadata.MD) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = append(s.calls, Call{Method: method, Metadata: md})
	if q := s.faults[method]; len(q) > 0 {
		s.faults[method] = q[1:]
		return q[0]
	}
	return nil
}

func shortName(full string) string { return full[strings.LastIndex(full, "/")+1:] }

// authorize checks the credentials every control-plane call carries;
// router calls carry the router JWT instead.
func (s *Server) authorize(full string, md metadata.MD) error {
	if s.opts.TokenID == "" || strings.Contains(full, "TaskCommandRouter") {
		return nil
	}
	if first(md, "x-modal-token-id") != s.opts.TokenID || first(md, "x-modal-token-secret") != s.opts.TokenSecret {
		return status.Error(codes.Unauthenticated, "Token ID or secret is invalid")
	}
	return nil
}

func first(md metadata.MD, k string) string {
	if v := md.Get(k); len(v) > 0 {
		return v[0]
	}
	return ""
}

func (s *Server) unary(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
	md, _ := metadata.FromIncomingContext(ctx)
	if err := s.record(shortName(info.FullMethod), md); err != nil {
		return nil, err
	}
	if err := s.authorize(info.FullMethod, md); err != nil {
		return nil, err
	}
	return h(ctx, req)
}

func (s *Server) stream(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, h grpc.StreamHandler) error {
	md, _ := metadata.FromIncomingContext(ss.Context())
	if err := s.record(shortName(info.FullMethod), md); err != nil {
		return err
	}
	if err := s.authorize(info.FullMethod, md); err != nil {
		return err
	}
	return h(srv, ss)
}

// JWT is an unsigned token expiring at exp: the SDK only decodes the exp
// claim of its auth and router tokens.
func JWT(exp time.Time) string {
	enc := base64.RawURLEncoding
	head := enc.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`))
	body, _ := json.Marshal(map[string]int64{"exp": exp.Unix()})
	return head + "." + enc.EncodeToString(body) + ".sig"
}

// nextID returns prefix + a number unique in this server.
func (s *Server) nextID(prefix string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seq++
	return fmt.Sprintf("%s-%d", prefix, s.seq)
}

const base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// sandboxID has the V1 shape (sb- + 22 base62 characters) for V1
// sandboxes: the SDK routes every later call by the id's shape.
func (s *Server) sandboxID(v2 bool) string {
	s.mu.Lock()
	s.seq++
	n := s.seq
	s.mu.Unlock()
	var b [22]byte
	for i := range b {
		b[i] = 'A'
	}
	for i := len(b) - 1; n > 0; i-- {
		b[i] = base62[n%62]
		n /= 62
	}
	if v2 {
		return "sbx-" + string(b[:])
	}
	return "sb-" + string(b[:])
}

func (s *Server) sandbox(id string) (*sandbox, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sb := s.sandboxes[id]
	if sb == nil {
		return nil, status.Errorf(codes.NotFound, "Sandbox %s not found", id)
	}
	return sb, nil
}

func (s *Server) sandboxByTask(taskID string) (*sandbox, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, sb := range s.sandboxes {
		if sb.taskID == taskID {
			return sb, nil
		}
	}
	return nil, status.Errorf(codes.NotFound, "task %s not found", taskID)
}
