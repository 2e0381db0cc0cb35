package modal

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	sdk "github.com/modal-labs/modal-client/go"
	pb "github.com/modal-labs/modal-client/go/proto/modal_proto"

	"github.com/commitbench/commitbench/internal/backend"
)

// logDrain bounds how long Done waits, after the exit, for the output to
// arrive: Modal's log streams end shortly after the sandbox.
const logDrain = 5 * time.Second

// process is one sandbox.
type process struct {
	b        *Backend
	sb       *sdk.Sandbox
	spec     backend.Spec
	gpus     bool
	lifetime time.Duration
	out      *lineMux
	started  time.Time
	backend.Exit
	// life ends the process's background calls once it is removed.
	life     context.Context
	stopLife context.CancelFunc

	mu       sync.Mutex
	endpoint string
	removed  bool
	// benchExecs counts Exec calls: a server that times out after one was
	// exec'd was ready, so the time limit cut a benchmark short.
	benchExecs int
}

func newProcess(b *Backend, sb *sdk.Sandbox, s backend.Spec, gpus bool, lifetime time.Duration) *process {
	life, stop := context.WithCancel(context.Background())
	return &process{b: b, sb: sb, spec: s, gpus: gpus, lifetime: lifetime, out: newLineMux(s.Output), started: time.Now(),
		life: life, stopLife: stop}
}

func (p *process) ID() string { return p.sb.SandboxID }

func (p *process) Endpoint() (string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.endpoint == "" {
		return "", fmt.Errorf("modal: sandbox %s has no tunnel (yet)", p.sb.SandboxID)
	}
	return p.endpoint, nil
}

// follow streams a server's output and closes done when the sandbox has
// ended and its output is in.
func (p *process) follow() {
	var wg sync.WaitGroup
	for _, r := range []io.Reader{p.sb.Stdout, p.sb.Stderr} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w := p.out.stream()
			_, err := io.Copy(w, r)
			w.flush()
			if err != nil && p.life.Err() == nil {
				p.out.note("modal: warning: the log stream of sandbox %s broke: %v", p.sb.SandboxID, err)
			}
		}()
	}
	code, err := p.waitSandbox()
	drained := make(chan struct{})
	go func() { wg.Wait(); close(drained) }()
	select {
	case <-drained:
	case <-time.After(logDrain):
	}
	p.settle(code, err)
}

// runOnce runs a one-shot command in the idle sandbox. Whichever ends
// first decides: the command (its exit code), or the sandbox (a time limit
// or a failure of Modal, under the command).
func (p *process) runOnce(cmd []string, env map[string]string) {
	type result struct {
		code int
		err  error
	}
	execDone, sbDone := make(chan result, 1), make(chan result, 1)
	ctx, cancel := context.WithCancel(p.life)
	defer cancel()
	go func() {
		code, err := p.exec(ctx, cmd, env, p.out)
		execDone <- result{code, err}
	}()
	go func() {
		code, err := p.waitSandbox()
		sbDone <- result{code, err}
	}()
	select {
	case r := <-execDone:
		if r.err == nil {
			if r.code != 0 {
				// Killed under a sandbox that is ending: let the sandbox's
				// status (a time limit, say) speak, if it comes.
				select {
				case s := <-sbDone:
					p.settle(s.code, s.err)
					return
				case <-time.After(time.Second):
				}
			}
			p.Finish(r.code, nil)
			return
		}
		// The exec broke: the sandbox under it most likely ended; say why.
		select {
		case s := <-sbDone:
			p.settle(s.code, s.err)
		case <-time.After(logDrain):
			p.settle(-1, r.err)
		}
	case s := <-sbDone:
		cancel()
		p.settle(s.code, s.err)
	}
}

// waitSandbox waits for the sandbox's exit, riding out transient errors.
func (p *process) waitSandbox() (int, error) {
	var code int
	err := p.b.retry(p.life, "wait for "+p.sb.SandboxID, func() error {
		var err error
		code, err = p.sb.Wait(p.life, nil)
		return err
	})
	return code, err
}

// settle records how the sandbox ended. What Modal, not the program,
// decided is written to the output as a line the failure rules know: a
// time limit as the timeout it cut short, anything else as a sandbox
// error with Modal's own text (INFRA).
func (p *process) settle(code int, err error) {
	id := p.sb.SandboxID
	p.mu.Lock()
	removed := p.removed
	p.mu.Unlock()
	st := p.b.status(id)
	switch {
	case err != nil && removed:
		code, err = -1, fmt.Errorf("modal: sandbox %s removed", id)
	case err != nil:
		p.out.note("modal: Sandbox error: waiting for sandbox %s: %v", id, err)
		code, err = -1, fmt.Errorf("modal: sandbox %s: %w", id, err)
	case st == nil:
	case st.GetStatus() == pb.GenericResult_GENERIC_STATUS_TIMEOUT:
		p.out.note("modal: sandbox %s reached its time limit of %v: %s", id, p.lifetime, p.timeoutCause())
	case st.GetStatus() == pb.GenericResult_GENERIC_STATUS_TERMINATED && !removed:
		p.out.note("modal: Sandbox error: sandbox %s was terminated by Modal before it exited: %s", id, st.GetException())
		err = fmt.Errorf("modal: sandbox %s was terminated by Modal: %s", id, st.GetException())
	case st.GetStatus() == pb.GenericResult_GENERIC_STATUS_SUCCESS, st.GetStatus() == pb.GenericResult_GENERIC_STATUS_FAILURE,
		st.GetStatus() == pb.GenericResult_GENERIC_STATUS_TERMINATED:
	default:
		p.out.note("modal: Sandbox error: sandbox %s ended with %s: %s", id, st.GetStatus(), st.GetException())
		err = fmt.Errorf("modal: sandbox %s ended with %s: %s", id, st.GetStatus(), st.GetException())
		if code == 0 {
			code = -1
		}
	}
	p.Finish(code, err)
}

// timeoutCause says what the sandbox's time limit cut short, in the words
// the failure rules map to TIMEOUT_SERVER_START or TIMEOUT_BENCHMARK.
func (p *process) timeoutCause() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch p.spec.Labels[backend.LabelRole] {
	case backend.RoleServer:
		if p.benchExecs == 0 {
			return fmt.Sprintf("the server was not ready after %v", p.lifetime)
		}
		return "the benchmark exceeded its time limit"
	case backend.RoleFetch:
		return "the model fetch did not finish"
	}
	return "the benchmark exceeded its time limit"
}

// Exec implements backend.Process. A command killed because Modal ended
// the sandbox under it reports that, not its exit status: a time limit as
// a deadline (the benchmark's timeout), anything else as Modal's error.
func (p *process) Exec(ctx context.Context, e backend.ExecSpec) (int, error) {
	p.mu.Lock()
	p.benchExecs++
	p.mu.Unlock()
	code, err := p.exec(ctx, e.Cmd, e.Env, newLineMux(e.Output))
	if ctx.Err() != nil || err == nil && code < 128 {
		return code, err
	}
	select {
	case <-p.Done():
	case <-time.After(2 * logDrain):
		return code, err
	}
	switch st := p.b.status(p.sb.SandboxID); {
	case st.GetStatus() == pb.GenericResult_GENERIC_STATUS_TIMEOUT:
		return -1, fmt.Errorf("modal: sandbox %s reached its time limit of %v during the command: %w", p.sb.SandboxID, p.lifetime, context.DeadlineExceeded)
	default:
		if sbErr := p.Err(); sbErr != nil {
			return -1, sbErr
		}
	}
	return code, err
}

// exec runs cmd in the sandbox and copies its output to out.
func (p *process) exec(ctx context.Context, cmd []string, env map[string]string, out *lineMux) (int, error) {
	cp, err := p.sb.Exec(ctx, cmd, &sdk.SandboxExecParams{Env: env, Stdout: sdk.Pipe, Stderr: sdk.Pipe})
	if err != nil {
		if ctx.Err() != nil {
			return -1, ctx.Err()
		}
		return -1, fmt.Errorf("modal: exec in %s: %w", p.sb.SandboxID, err)
	}
	var wg sync.WaitGroup
	for _, r := range []io.ReadCloser{cp.Stdout, cp.Stderr} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w := out.stream()
			io.Copy(w, r)
			w.flush()
		}()
	}
	type result struct {
		code int
		err  error
	}
	waited := make(chan result, 1)
	go func() {
		code, err := cp.Wait(ctx, nil)
		waited <- result{code, err}
	}()
	var r result
	select {
	case r = <-waited:
	case <-ctx.Done():
	}
	if ctx.Err() != nil || r.err != nil {
		// Abandoned: the command goes with the sandbox.
		cp.Stdout.Close()
		cp.Stderr.Close()
		if ctx.Err() != nil {
			return -1, ctx.Err()
		}
		return -1, fmt.Errorf("modal: exec in %s: %w", p.sb.SandboxID, r.err)
	}
	drained := make(chan struct{})
	go func() { wg.Wait(); close(drained) }()
	select {
	case <-drained:
	case <-time.After(logDrain):
	}
	return r.code, nil
}

// ReadFile implements backend.Process with the SDK's file API: it works
// while the sandbox lives, which is why one-shot commands are exec'd in an
// idle sandbox that Remove ends.
func (p *process) ReadFile(ctx context.Context, name string) ([]byte, error) {
	data, err := p.sb.Filesystem.ReadBytes(ctx, name, nil)
	var nf sdk.SandboxFilesystemNotFoundError
	switch {
	case errors.As(err, &nf):
		return nil, fmt.Errorf("%s: %w", name, backend.ErrNotFound)
	case err != nil:
		return nil, fmt.Errorf("modal: read %s from %s: %w", name, p.sb.SandboxID, err)
	}
	return data, nil
}

// Remove implements backend.Process: the sandbox is terminated (Modal
// stops everything in it at once, so grace does not apply). A fetch
// sandbox is waited for, so that its volume writes are committed before a
// variant mounts the volume.
func (p *process) Remove(ctx context.Context, grace time.Duration) error {
	p.mu.Lock()
	if p.removed {
		p.mu.Unlock()
		return nil
	}
	p.removed = true
	p.mu.Unlock()
	wait := p.spec.Labels[backend.LabelRole] == backend.RoleFetch
	err := p.b.retry(ctx, "terminate "+p.sb.SandboxID, func() error {
		_, err := p.sb.Terminate(ctx, &sdk.SandboxTerminateParams{Wait: wait})
		return err
	})
	select {
	case <-p.Done():
	case <-ctx.Done():
	case <-time.After(3 * logDrain):
	}
	p.stopLife()
	p.sb.Stdout.Close()
	p.sb.Stderr.Close()
	p.b.mu.Lock()
	delete(p.b.live, p.sb.SandboxID)
	delete(p.b.statuses, p.sb.SandboxID)
	p.b.mu.Unlock()
	if err != nil {
		return fmt.Errorf("modal: terminate %s: %w", p.sb.SandboxID, err)
	}
	return nil
}
