package fakemodal

import (
	"fmt"
	"net"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"sync"
	"syscall"
	"time"

	pb "github.com/modal-labs/modal-client/go/proto/modal_proto"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
)

// Created is what a test can assert about a sandbox the SDK created.
type Created struct {
	ID string
	V2 bool
	// Definition is the request's sandbox definition: entrypoint, image,
	// resources (GPU, CPU, memory), timeout, volumes, ports.
	Definition *pb.Sandbox
	Tags       map[string]string
	// Env is the environment the sandbox was given, from its secrets
	// (on V1 the SDK turns Env into an ephemeral secret).
	Env map[string]string
	// Image is the registry ref the sandbox's image was pulled from.
	Image string
}

type logEntry struct {
	fd   pb.FileDescriptor
	data string
}

type mount struct {
	target, dir string
}

type sandbox struct {
	s *Server
	Created
	taskID  string
	appID   string
	img     *image
	created time.Time
	root    string
	mounts  []mount     // longest target first
	ports   map[int]int // container port → host port
	gpus    int
	timer   *time.Timer
	proc    *exec.Cmd // the entrypoint; nil when the sandbox idles

	mu       sync.Mutex
	logs     []logEntry
	changed  chan struct{}
	result   *pb.GenericResult
	stopping *pb.GenericResult // why stop killed it, published at exit
	proxies  map[int]*httptest.Server
	execs    []*execProc
}

func (s *Server) newSandbox(appID string, def *pb.Sandbox, tags []*pb.SandboxTag, env map[string]string, v2 bool) (*sandbox, error) {
	s.mu.Lock()
	img := s.images[def.GetImageId()]
	s.mu.Unlock()
	if img == nil {
		return nil, status.Errorf(codes.NotFound, "Image %s not found", def.GetImageId())
	}
	id := s.sandboxID(v2)
	sb := &sandbox{s: s, Created: Created{ID: id, V2: v2, Definition: proto.Clone(def).(*pb.Sandbox), Tags: map[string]string{}, Env: env, Image: img.ref},
		taskID: "ta-" + id, appID: appID, img: img, created: time.Now(), root: filepath.Join(s.opts.Dir, "sandboxes", id),
		ports: map[int]int{}, gpus: int(def.GetResources().GetGpuConfig().GetCount()), changed: make(chan struct{}), proxies: map[int]*httptest.Server{}}
	for _, t := range tags {
		sb.Tags[t.GetTagName()] = t.GetTagValue()
	}
	for _, d := range []string{"tmp", "root"} {
		if err := os.MkdirAll(filepath.Join(sb.root, d), 0o755); err != nil {
			return nil, err
		}
	}
	for _, vm := range def.GetVolumeMounts() {
		s.mu.Lock()
		v := s.volumes[vm.GetVolumeId()]
		s.mu.Unlock()
		if v == nil {
			return nil, status.Errorf(codes.NotFound, "Volume %s not found", vm.GetVolumeId())
		}
		if err := os.MkdirAll(v.dir, 0o755); err != nil {
			return nil, err
		}
		sb.mounts = append(sb.mounts, mount{target: filepath.Clean(vm.GetMountPath()), dir: v.dir})
	}
	sort.Slice(sb.mounts, func(i, j int) bool { return len(sb.mounts[i].target) > len(sb.mounts[j].target) })
	for _, p := range def.GetOpenPorts().GetPorts() {
		hp, err := freePort()
		if err != nil {
			return nil, err
		}
		sb.ports[int(p.GetPort())] = hp
	}
	s.mu.Lock()
	s.sandboxes[id] = sb
	s.order = append(s.order, id)
	s.mu.Unlock()
	secs := def.GetTimeoutSecs()
	if secs == 0 {
		secs = 300
	}
	sb.timer = time.AfterFunc(time.Duration(secs)*time.Second, func() {
		sb.stop(pb.GenericResult_GENERIC_STATUS_TIMEOUT, fmt.Sprintf("Sandbox %s timed out after %ds", id, secs))
	})
	if args := def.GetEntrypointArgs(); len(args) > 0 {
		sb.startEntrypoint(args)
	}
	return sb, nil
}

// Host ports for sandboxes come from below the kernel's ephemeral range
// (32768 and up): a port taken there with bind(0) and closed again may be
// handed to some client socket before the sandbox binds it. Ports are
// reserved until their sandbox ends.
const portLow, portHigh = 20000, 32000

var ports struct {
	sync.Mutex
	next  int
	inUse map[int]bool
}

func freePort() (int, error) {
	ports.Lock()
	defer ports.Unlock()
	if ports.inUse == nil {
		ports.inUse, ports.next = map[int]bool{}, portLow+os.Getpid()%(portHigh-portLow)
	}
	for range portHigh - portLow {
		p := ports.next
		ports.next++
		if ports.next >= portHigh {
			ports.next = portLow
		}
		if ports.inUse[p] {
			continue
		}
		l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p))
		if err != nil {
			continue
		}
		l.Close()
		ports.inUse[p] = true
		return p, nil
	}
	return 0, fmt.Errorf("fakemodal: no free port in %d..%d", portLow, portHigh)
}

func releasePorts(m map[int]int) {
	ports.Lock()
	defer ports.Unlock()
	for _, p := range m {
		delete(ports.inUse, p)
	}
}

// Sandboxes returns every sandbox created, in order.
func (s *Server) Sandboxes() []Created {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Created, 0, len(s.order))
	for _, id := range s.order {
		out = append(out, s.sandboxes[id].Created)
	}
	return out
}

// Result is a sandbox's final status, nil while it runs.
func (s *Server) Result(id string) *pb.GenericResult {
	sb, err := s.sandbox(id)
	if err != nil {
		return nil
	}
	res, _ := sb.state()
	return res
}

// Running lists the sandboxes that have not finished.
func (s *Server) Running() []string {
	s.mu.Lock()
	ids := slices.Clone(s.order)
	s.mu.Unlock()
	var out []string
	for _, id := range ids {
		if s.Result(id) == nil {
			out = append(out, id)
		}
	}
	return out
}

func (sb *sandbox) state() (*pb.GenericResult, <-chan struct{}) {
	sb.mu.Lock()
	defer sb.mu.Unlock()
	return sb.result, sb.changed
}

func (sb *sandbox) notifyLocked() {
	close(sb.changed)
	sb.changed = make(chan struct{})
}

// logsAfter returns the entries of fd after entry index last (1-based),
// the index of the last one, whether the sandbox has finished, and a
// channel closed at the next change.
func (sb *sandbox) logsAfter(fd pb.FileDescriptor, last int) ([]*pb.TaskLogs, int, bool, <-chan struct{}) {
	sb.mu.Lock()
	defer sb.mu.Unlock()
	var items []*pb.TaskLogs
	upTo := last
	for i := last; i < len(sb.logs); i++ {
		if sb.logs[i].fd == fd {
			items = append(items, pb.TaskLogs_builder{Data: sb.logs[i].data, FileDescriptor: fd}.Build())
		}
		upTo = i + 1
	}
	return items, upTo, sb.result != nil, sb.changed
}

type logWriter struct {
	sb *sandbox
	fd pb.FileDescriptor
}

func (w logWriter) Write(p []byte) (int, error) {
	w.sb.mu.Lock()
	defer w.sb.mu.Unlock()
	w.sb.logs = append(w.sb.logs, logEntry{fd: w.fd, data: string(p)})
	w.sb.notifyLocked()
	return len(p), nil
}

// command prepares argv to run in the sandbox: python3 is the stand-in;
// paths and ports are mapped onto this machine.
func (sb *sandbox) command(argv []string, extraEnv map[string]string) (*exec.Cmd, error) {
	switch filepath.Base(argv[0]) {
	case "python3", "python":
	default:
		return nil, fmt.Errorf("exec: %q: executable file not found in $PATH", argv[0])
	}
	cmd := exec.Command(sb.s.opts.Binary, sb.mapArgs(argv[1:])...)
	cmd.Args[0] = argv[0]
	cmd.Dir = sb.root
	cmd.Env = sb.environ(extraEnv)
	// Its own process group, so that terminating the sandbox kills all of it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.WaitDelay = 2 * time.Second
	return cmd, nil
}

func (sb *sandbox) startEntrypoint(argv []string) {
	cmd, err := sb.command(argv, nil)
	if err != nil {
		logWriter{sb, pb.FileDescriptor_FILE_DESCRIPTOR_STDERR}.Write([]byte(err.Error() + "\n"))
		sb.publish(pb.GenericResult_GENERIC_STATUS_FAILURE, 127, err.Error())
		return
	}
	cmd.Stdout = logWriter{sb, pb.FileDescriptor_FILE_DESCRIPTOR_STDOUT}
	cmd.Stderr = logWriter{sb, pb.FileDescriptor_FILE_DESCRIPTOR_STDERR}
	// Under the lock, so that a stop cannot miss a process just started.
	sb.mu.Lock()
	err = cmd.Start()
	if err == nil {
		sb.proc = cmd
	}
	sb.mu.Unlock()
	if err != nil {
		sb.publish(pb.GenericResult_GENERIC_STATUS_FAILURE, 127, err.Error())
		return
	}
	go func() {
		cmd.Wait()
		code := exitCode(cmd.ProcessState)
		sb.mu.Lock()
		why := sb.stopping
		sb.mu.Unlock()
		switch {
		case why != nil:
			sb.publish(why.GetStatus(), code, why.GetException())
		case code == 0:
			sb.publish(pb.GenericResult_GENERIC_STATUS_SUCCESS, 0, "")
		default:
			sb.publish(pb.GenericResult_GENERIC_STATUS_FAILURE, code, "")
		}
	}()
}

func exitCode(ps *os.ProcessState) int32 {
	if ws, ok := ps.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return 128 + int32(ws.Signal())
	}
	return int32(ps.ExitCode())
}

// stop ends the sandbox (terminate, timeout): its processes are killed and
// the status is published once the entrypoint has exited.
func (sb *sandbox) stop(st pb.GenericResult_GenericStatus, exception string) {
	sb.mu.Lock()
	if sb.result != nil || sb.stopping != nil {
		sb.mu.Unlock()
		return
	}
	sb.stopping = pb.GenericResult_builder{Status: st, Exception: exception}.Build()
	proc := sb.proc
	sb.mu.Unlock()
	if proc == nil {
		sb.publish(st, 0, exception)
		return
	}
	syscall.Kill(-proc.Process.Pid, syscall.SIGKILL)
}

// finish stops the sandbox and waits until it has finished.
func (sb *sandbox) finish(st pb.GenericResult_GenericStatus, code int32, exception string) {
	sb.stop(st, exception)
	for {
		res, changed := sb.state()
		if res != nil {
			return
		}
		select {
		case <-changed:
		case <-time.After(5 * time.Second):
			return
		}
	}
}

// publish records the final status; the execs die with the sandbox.
func (sb *sandbox) publish(st pb.GenericResult_GenericStatus, code int32, exception string) {
	sb.mu.Lock()
	if sb.result != nil {
		sb.mu.Unlock()
		return
	}
	sb.result = pb.GenericResult_builder{Status: st, Exitcode: code, Exception: exception}.Build()
	execs, proxies := sb.execs, sb.proxies
	sb.proxies = map[int]*httptest.Server{}
	sb.notifyLocked()
	sb.mu.Unlock()
	sb.timer.Stop()
	releasePorts(sb.ports)
	for _, e := range execs {
		e.kill()
	}
	for _, p := range proxies {
		p.Close()
	}
}

// Fail ends a running sandbox the way Modal does when it, not the
// program, fails: its processes are killed and st (INTERNAL_FAILURE,
// TERMINATED for a preemption, ...) is its status, with exception as text.
func (s *Server) Fail(id string, st pb.GenericResult_GenericStatus, exception string) error {
	sb, err := s.sandbox(id)
	if err != nil {
		return err
	}
	sb.stop(st, exception)
	return nil
}
