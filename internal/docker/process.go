package docker

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/network"
	"github.com/moby/moby/client"

	"github.com/commitbench/commitbench/internal/backend"
)

// logDrain bounds how long Done waits, after the exit, for the output
// stream to end: the daemon closes it at once, but a wedged stream must not
// delay a crash report past the 2 s run-bench promises.
const logDrain = time.Second

type process struct {
	b        *Backend
	id       string
	spec     backend.Spec
	stopLife context.CancelFunc
	backend.Exit

	mu       sync.Mutex
	endpoint string
	removed  bool
	// scratch is the host directory behind Spec.ScratchDir.
	scratch string
}

func newProcess(b *Backend, id string, s backend.Spec) *process {
	return &process{b: b, id: id, spec: s}
}

func (p *process) ID() string { return p.id }

func (p *process) Endpoint() (string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.endpoint == "" {
		return "", fmt.Errorf("container %.12s publishes no port", p.id)
	}
	return p.endpoint, nil
}

// follow copies the output and closes done once the container has
// exited and its output is in Spec.Output.
func (p *process) follow(life context.Context, wait client.ContainerWaitResult, at client.HijackedResponse) {
	logsDone := make(chan struct{})
	go func() {
		defer close(logsDone)
		copyLogs(p.spec.Output, at.Reader)
	}()
	var code int
	var err error
	select {
	case r := <-wait.Result:
		code = int(r.StatusCode)
		if r.Error != nil {
			err = errors.New(r.Error.Message)
		}
	case err = <-wait.Error:
	}
	select {
	case <-logsDone:
	case <-time.After(logDrain):
	}
	at.Close()
	p.Finish(code, err)
}

// resolveEndpoint reads the host port the daemon picked for Spec.Port.
func (p *process) resolveEndpoint(ctx context.Context) error {
	port, _ := network.ParsePort(strconv.Itoa(p.spec.Port) + "/tcp")
	ci, err := p.b.c.ContainerInspect(ctx, p.id, client.ContainerInspectOptions{})
	if err != nil {
		return fmt.Errorf("inspect %.12s: %w", p.id, err)
	}
	if st := ci.Container.State; st != nil && !st.Running {
		// It exited already (a crash at start): the daemon has dropped its
		// port. That is the process's failure, not the backend's: the
		// caller sees the exit through Done and classifies it from the log.
		return nil
	}
	if ci.Container.NetworkSettings == nil {
		return fmt.Errorf("container %.12s: no network settings", p.id)
	}
	for _, pb := range ci.Container.NetworkSettings.Ports[port] {
		if pb.HostPort != "" {
			p.mu.Lock()
			p.endpoint = "http://127.0.0.1:" + pb.HostPort
			p.mu.Unlock()
			return nil
		}
	}
	return fmt.Errorf("container %.12s: port %d is not published", p.id, p.spec.Port)
}

// Exec implements backend.Process.
func (p *process) Exec(ctx context.Context, e backend.ExecSpec) (int, error) {
	ex, err := p.b.c.ExecCreate(ctx, p.id, client.ExecCreateOptions{Cmd: e.Cmd, Env: envList(e.Env), AttachStdout: true, AttachStderr: true})
	if err != nil {
		return -1, fmt.Errorf("exec in %.12s: %w", p.id, err)
	}
	at, err := p.b.c.ExecAttach(ctx, ex.ID, client.ExecAttachOptions{})
	if err != nil {
		return -1, fmt.Errorf("exec in %.12s: %w", p.id, err)
	}
	defer at.Close()
	copied := make(chan error, 1)
	go func() { copied <- copyLogs(e.Output, at.Reader) }()
	select {
	case <-ctx.Done():
		// Closing the stream abandons the command; removing the
		// container (which run-bench always does) ends it.
		at.Close()
		return -1, ctx.Err()
	case err := <-copied:
		if err != nil && ctx.Err() == nil {
			return -1, fmt.Errorf("exec output: %w", err)
		}
	}
	// The stream ends with the command, but the daemon may record the
	// exit code a moment later.
	for {
		ins, err := p.b.c.ExecInspect(ctx, ex.ID, client.ExecInspectOptions{})
		if err != nil {
			return -1, fmt.Errorf("exec inspect: %w", err)
		}
		if !ins.Running {
			return ins.ExitCode, nil
		}
		select {
		case <-ctx.Done():
			return -1, ctx.Err()
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// ReadFile implements backend.Process.
func (p *process) ReadFile(ctx context.Context, name string) ([]byte, error) {
	// A file in the scratch directory is read from the host: the archive
	// API costs 0.1-2 s a call on a busy daemon. When the host directory
	// is not this process's (run-bench in a container beside the daemon),
	// the file is not there and the API is asked after all.
	if rel, ok := strings.CutPrefix(name, strings.TrimSuffix(p.spec.ScratchDir, "/")+"/"); ok && p.scratch != "" && p.spec.ScratchDir != "" {
		if data, err := os.ReadFile(filepath.Join(p.scratch, filepath.FromSlash(rel))); err == nil {
			return data, nil
		}
	}
	res, err := p.b.c.CopyFromContainer(ctx, p.id, client.CopyFromContainerOptions{SourcePath: name})
	if cerrdefs.IsNotFound(err) {
		return nil, fmt.Errorf("%s: %w", name, backend.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("read %s from %.12s: %w", name, p.id, err)
	}
	defer res.Content.Close()
	return readTarFile(res.Content, name)
}

// Remove implements backend.Process.
func (p *process) Remove(ctx context.Context, grace time.Duration) error {
	p.mu.Lock()
	if p.removed {
		p.mu.Unlock()
		return nil
	}
	p.removed = true
	p.mu.Unlock()
	if grace > 0 {
		secs := int(grace.Round(time.Second) / time.Second)
		p.b.c.ContainerStop(ctx, p.id, client.ContainerStopOptions{Timeout: &secs})
	}
	_, err := p.b.c.ContainerRemove(ctx, p.id, client.ContainerRemoveOptions{Force: true, RemoveVolumes: true})
	p.stopLife()
	if p.scratch != "" {
		os.RemoveAll(p.scratch)
	}
	if err != nil && !cerrdefs.IsNotFound(err) {
		return fmt.Errorf("remove %.12s: %w", p.id, err)
	}
	return nil
}
