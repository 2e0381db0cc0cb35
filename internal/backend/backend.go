// Package backend is what a container runtime must offer run-bench: start a
// long-running process from an image on N GPUs, stream its output, learn the
// moment it exits, exec a command beside it, read a file back, stop it, and
// remove everything one run (or an earlier, crashed run) left behind.
//
// The interface is shaped by the two runtimes it must fit: the Docker engine
// on a self-hosted GPU runner (internal/docker) and a Modal sandbox, where
// "container" is a sandbox, exec is Sandbox.Exec, the published port is an
// encrypted tunnel, mounts are volumes and labels are sandbox tags. Nothing
// here may assume a shared filesystem or a host network with the process:
// files come back through ReadFile and the server is reached through
// Endpoint.
package backend

import (
	"context"
	"errors"
	"io"
	"time"
)

// Labels every process carries, so that a run, and the leftovers of a run
// that crashed, can be found and removed by asking the runtime, never by
// remembering ids in a process that may be gone.
const (
	// LabelManaged marks everything commitbench starts ("true").
	LabelManaged = "dev.commitbench.managed"
	// LabelRun is the run id (one run-bench invocation).
	LabelRun = "dev.commitbench.run"
	// LabelScope names who may reap leftovers: runners sharing one daemon
	// (or tests running in parallel) must never remove each other's work.
	LabelScope = "dev.commitbench.scope"
	// LabelCase, LabelVariant and LabelRole say what a process is, for
	// people reading `docker ps`.
	LabelCase    = "dev.commitbench.case"
	LabelVariant = "dev.commitbench.variant"
	LabelRole    = "dev.commitbench.role"
)

// Roles of the processes a run starts.
const (
	RoleServer = "server"
	RoleBench  = "bench"
	RoleFetch  = "fetch"
)

// ErrNotFound is returned (wrapped) when an image or a file does not exist.
var ErrNotFound = errors.New("not found")

// Backend is a container runtime.
type Backend interface {
	// Name is the backend's input value ("docker", "modal").
	Name() string
	// Image makes ref available (pulling it if the runtime needs to) and
	// says what it is. A missing image is ErrNotFound.
	Image(ctx context.Context, ref string) (ImageInfo, error)
	// Start creates and starts a process. Its output (stdout and stderr,
	// interleaved as they arrive) is copied to spec.Output until it exits.
	Start(ctx context.Context, spec Spec) (Process, error)
	// Reap stops and removes every process whose labels include all of
	// sel.Labels, except those of run sel.KeepRun, created before
	// sel.Before (zero: any time). It returns the ids it removed.
	Reap(ctx context.Context, sel Selector) ([]string, error)
}

// ImageInfo is what run-bench records about a variant image.
type ImageInfo struct {
	// Digest identifies the exact image: a registry digest
	// (sha256:...) when the image came from one, else its local id.
	Digest string
	Labels map[string]string
}

// Spec describes one process.
type Spec struct {
	// Name is a hint for people (docker ps); backends may uniquify it.
	Name  string
	Image string
	// Cmd replaces the image's command. The image's entrypoint, if any,
	// still runs in front of it, as with `docker run IMAGE CMD...` (CUDA
	// images use theirs to set up the driver environment).
	Cmd    []string
	Env    map[string]string
	Labels map[string]string
	// GPUs is the devices the process may use; the zero value means none
	// (a stand-in run on simulated GPUs, or a CPU-only step).
	GPUs GPUs
	// Port is a TCP port the process listens on; Endpoint returns the URL
	// it is reachable at from run-bench. 0: none.
	Port int
	// ShmBytes is the size of /dev/shm (NCCL and PyTorch's shared-memory
	// transfers need far more than Docker's 64 MiB default).
	ShmBytes int64
	// HostIPC shares the host IPC namespace (what SGLang's docs ask for on
	// multi-GPU runs). Backends without the notion ignore it.
	HostIPC bool
	Mounts  []Mount
	// ScratchDir is a directory (inside the process) where its commands
	// write the files run-bench reads back with ReadFile. A backend may
	// back it with storage it can read cheaply (Docker: a host
	// directory); it must exist, empty and writable, when Cmd starts.
	ScratchDir string
	// Output receives the process's output. Nil: discarded.
	Output io.Writer
}

// GPUs selects devices.
type GPUs struct {
	// Devices are indexes or UUIDs as nvidia-smi prints them. Empty with
	// Count > 0 means "any Count devices"; Count < 0 means all of them.
	Devices []string
	Count   int
	// Type is the model a cloud backend asks for ("H100"); the Docker
	// backend ignores it.
	Type string
}

// None reports whether no GPU is requested.
func (g GPUs) None() bool { return len(g.Devices) == 0 && g.Count == 0 }

// Mount makes Source visible at Target. Source is a host directory when it
// is an absolute path, else a named volume (Docker volume, Modal volume).
type Mount struct {
	Source   string
	Target   string
	ReadOnly bool
}

// Selector picks processes for Reap.
type Selector struct {
	Labels  map[string]string
	KeepRun string
	Before  time.Time
}

// Process is a started process.
type Process interface {
	// ID is the runtime's id for it.
	ID() string
	// Done is closed once the process has exited and its output has been
	// copied to Spec.Output in full.
	Done() <-chan struct{}
	// ExitCode is valid after Done: the exit status, or an error when the
	// runtime could not say.
	ExitCode() (int, error)
	// Endpoint is the base URL (http://host:port) at which run-bench
	// reaches Spec.Port.
	Endpoint() (string, error)
	// Exec runs a command inside the process's environment (same image,
	// GPUs, network namespace: the benchmark client reaches the server at
	// 127.0.0.1). It returns when the command exits or ctx ends; on ctx's
	// end the command is abandoned (stopping the process kills it).
	Exec(ctx context.Context, e ExecSpec) (int, error)
	// ReadFile returns a file from the process's filesystem, also after
	// it exited (until Remove). A missing file is ErrNotFound.
	ReadFile(ctx context.Context, path string) ([]byte, error)
	// Remove stops the process (SIGTERM, then SIGKILL after grace) and
	// deletes it. It is safe to call twice.
	Remove(ctx context.Context, grace time.Duration) error
}

// ExecSpec is a command run by Process.Exec.
type ExecSpec struct {
	Cmd    []string
	Env    map[string]string
	Output io.Writer
}
