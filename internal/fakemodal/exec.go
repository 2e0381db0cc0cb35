package fakemodal

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	osexec "os/exec"
	"slices"
	"strings"
	"sync"
	"syscall"

	pb "github.com/modal-labs/modal-client/go/proto/modal_proto"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// fsToolsPath is the helper Modal mounts into every sandbox; the SDK's
// Filesystem API execs it with a JSON request.
const fsToolsPath = "/__modal/.bin/modal-sandbox-fs-tools"

// ExecRecord is one recorded exec.
type ExecRecord struct {
	SandboxID string
	Args      []string
	Env       map[string]string
}

// execProc is a command run beside a sandbox's entrypoint.
type execProc struct {
	ExecRecord
	mu      sync.Mutex
	out     [2][]byte // stdout, stderr
	exited  bool
	code    int32
	changed chan struct{}
	cmd     *osexec.Cmd
}

func (e *execProc) write(fd int, p []byte) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.out[fd] = append(e.out[fd], p...)
	close(e.changed)
	e.changed = make(chan struct{})
}

func (e *execProc) exit(code int32) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.exited {
		return
	}
	e.exited, e.code = true, code
	close(e.changed)
	e.changed = make(chan struct{})
}

func (e *execProc) kill() {
	e.mu.Lock()
	c := e.cmd
	e.mu.Unlock()
	if c != nil && c.Process != nil {
		syscall.Kill(-c.Process.Pid, syscall.SIGKILL)
	}
}

type fdWriter struct {
	e  *execProc
	fd int
}

func (w fdWriter) Write(p []byte) (int, error) {
	w.e.write(w.fd, p)
	return len(p), nil
}

// Execs returns every exec recorded, in order.
func (s *Server) Execs() []ExecRecord {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []ExecRecord
	for _, id := range s.order {
		for _, e := range s.sandboxes[id].execs {
			out = append(out, e.ExecRecord)
		}
	}
	return out
}

// router is the task command router (exec). It is its own type because
// both Unimplemented servers declare SandboxWaitUntilReady.
type router struct {
	pb.UnimplementedTaskCommandRouterServer
	s *Server
}

func (r *router) TaskExecStart(_ context.Context, req *pb.TaskExecStartRequest) (*pb.TaskExecStartResponse, error) {
	sb, err := r.s.sandboxByTask(req.GetTaskId())
	if err != nil {
		return nil, err
	}
	env, err := r.s.secretEnv(req.GetSecretIds(), req.GetSecretSources())
	if err != nil {
		return nil, err
	}
	for k, v := range req.GetEnv() {
		env[k] = v
	}
	args := req.GetCommandArgs()
	if len(args) == 0 {
		return nil, status.Error(codes.InvalidArgument, "empty command")
	}
	e := &execProc{ExecRecord: ExecRecord{SandboxID: sb.ID, Args: slices.Clone(args), Env: env}, changed: make(chan struct{})}
	sb.mu.Lock()
	if sb.result != nil || sb.stopping != nil {
		sb.mu.Unlock()
		return nil, status.Errorf(codes.FailedPrecondition, "Sandbox %s has already finished", sb.ID)
	}
	sb.execs = append(sb.execs, e)
	sb.mu.Unlock()
	r.s.mu.Lock()
	r.s.execs[req.GetExecId()] = e
	r.s.mu.Unlock()
	switch args[0] {
	case fsToolsPath:
		sb.fsTools(e, args)
	case "nvidia-smi":
		sb.nvidiaSMI(e, args)
	default:
		sb.startExec(e, args, env)
	}
	return pb.TaskExecStartResponse_builder{}.Build(), nil
}

func (sb *sandbox) startExec(e *execProc, args []string, env map[string]string) {
	cmd, err := sb.command(args, env)
	if err != nil {
		e.write(1, []byte(err.Error()+"\n"))
		e.exit(127)
		return
	}
	cmd.Stdout, cmd.Stderr = fdWriter{e, 0}, fdWriter{e, 1}
	e.mu.Lock()
	err = cmd.Start()
	if err == nil {
		e.cmd = cmd
	}
	e.mu.Unlock()
	if err != nil {
		e.write(1, []byte(err.Error()+"\n"))
		e.exit(127)
		return
	}
	go func() {
		cmd.Wait()
		e.exit(exitCode(cmd.ProcessState))
	}()
}

func (r *router) execProc(id string) (*execProc, error) {
	r.s.mu.Lock()
	defer r.s.mu.Unlock()
	e := r.s.execs[id]
	if e == nil {
		return nil, status.Errorf(codes.NotFound, "exec %s not found", id)
	}
	return e, nil
}

// TaskExecStdioRead streams one descriptor from Offset, one chunk per
// message, and ends (nil) once the command has exited and all was sent.
func (r *router) TaskExecStdioRead(req *pb.TaskExecStdioReadRequest, stream grpc.ServerStreamingServer[pb.TaskExecStdioReadResponse]) error {
	e, err := r.execProc(req.GetExecId())
	if err != nil {
		return err
	}
	fd := 0
	if req.GetFileDescriptor() == pb.TaskExecStdioFileDescriptor_TASK_EXEC_STDIO_FILE_DESCRIPTOR_STDERR {
		fd = 1
	}
	off := int(req.GetOffset())
	for {
		e.mu.Lock()
		data, exited, changed := e.out[fd][min(off, len(e.out[fd])):], e.exited, e.changed
		e.mu.Unlock()
		if len(data) > 0 {
			chunk := data[:min(len(data), 64<<10)]
			if err := stream.Send(pb.TaskExecStdioReadResponse_builder{Data: slices.Clone(chunk)}.Build()); err != nil {
				return err
			}
			off += len(chunk)
			continue
		}
		if exited {
			return nil
		}
		select {
		case <-changed:
		case <-stream.Context().Done():
			return nil
		}
	}
}

func (r *router) TaskExecWait(ctx context.Context, req *pb.TaskExecWaitRequest) (*pb.TaskExecWaitResponse, error) {
	e, err := r.execProc(req.GetExecId())
	if err != nil {
		return nil, err
	}
	for {
		e.mu.Lock()
		exited, code, changed := e.exited, e.code, e.changed
		e.mu.Unlock()
		if exited {
			if code > 128 {
				sig := code - 128
				return pb.TaskExecWaitResponse_builder{Signal: &sig}.Build(), nil
			}
			return pb.TaskExecWaitResponse_builder{Code: &code}.Build(), nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return nil, status.FromContextError(ctx.Err()).Err()
		}
	}
}

// fsTools answers the SDK's Filesystem requests the way Modal's helper
// does: the file on stdout, or a JSON error payload on stderr.
func (sb *sandbox) fsTools(e *execProc, args []string) {
	fail := func(kind, msg string) {
		js, _ := json.Marshal(map[string]string{"error_kind": kind, "message": msg})
		e.write(1, js)
		e.exit(1)
	}
	var req struct {
		ReadFile *struct {
			Path string `json:"path"`
		}
		MakeDirectory *struct {
			Path    string `json:"path"`
			Parents bool   `json:"parents"`
		}
	}
	if len(args) != 2 || json.Unmarshal([]byte(args[1]), &req) != nil || req.ReadFile == nil && req.MakeDirectory == nil {
		fail("NotSupported", "fakemodal implements ReadFile and MakeDirectory only")
		return
	}
	if m := req.MakeDirectory; m != nil {
		dir := sb.hostPath(m.Path)
		var err error
		if _, serr := os.Stat(dir); serr == nil {
			fail("PathAlreadyExists", "File exists")
			return
		} else if m.Parents {
			err = os.MkdirAll(dir, 0o755)
		} else {
			err = os.Mkdir(dir, 0o755)
		}
		switch {
		case errors.Is(err, fs.ErrNotExist):
			fail("NotFound", "No such file or directory")
		case err != nil:
			fail("Other", err.Error())
		default:
			e.exit(0)
		}
		return
	}
	data, err := os.ReadFile(sb.hostPath(req.ReadFile.Path))
	var pe *fs.PathError
	switch {
	case errors.Is(err, fs.ErrNotExist):
		fail("NotFound", "No such file or directory")
	case errors.As(err, &pe) && errors.Is(pe.Err, syscall.EISDIR):
		fail("IsDirectory", "Is a directory")
	case err != nil:
		fail("Other", err.Error())
	default:
		e.write(0, data)
		e.exit(0)
	}
}

// nvidiaSMI replays the H100 recorded in internal/gpu's fixture, once per
// GPU the sandbox was given: --query-gpu=FIELDS --format=csv[,noheader][,nounits].
func (sb *sandbox) nvidiaSMI(e *execProc, args []string) {
	if sb.gpus == 0 {
		e.write(0, []byte("NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver. Make sure that the latest NVIDIA driver is installed and running.\n"))
		e.exit(9)
		return
	}
	var fields []string
	header, units := true, true
	for _, a := range args[1:] {
		if v, ok := strings.CutPrefix(a, "--query-gpu="); ok {
			fields = strings.Split(v, ",")
		}
		if v, ok := strings.CutPrefix(a, "--format="); ok {
			header, units = !strings.Contains(v, "noheader"), !strings.Contains(v, "nounits")
		}
	}
	rows, err := replay(sb.gpus, fields, units)
	if err != nil || len(fields) == 0 {
		e.write(1, []byte(fmt.Sprintf("fakemodal nvidia-smi: give --query-gpu=FIELDS (%v)\n", err)))
		e.exit(2)
		return
	}
	var b strings.Builder
	if header {
		b.WriteString(strings.Join(fields, ", ") + "\n")
	}
	for _, r := range rows {
		b.WriteString(strings.Join(r, ", ") + "\n")
	}
	e.write(0, []byte(b.String()))
	e.exit(0)
}
