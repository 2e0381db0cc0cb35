package modal

import (
	"context"
	"errors"
	"fmt"
	"path"
	"strconv"
	"time"

	sdk "github.com/modal-labs/modal-client/go"

	"github.com/commitbench/commitbench/internal/backend"
)

// Lifetimes bound each kind of sandbox: Modal ends a sandbox at its
// timeout whatever happens to run-bench, so these cap what a crashed or
// killed run can cost.
type Lifetimes struct {
	// Server: one server round (start, warm-ups, its repetitions).
	Server time.Duration
	// Bench: one direct-mode repetition.
	Bench time.Duration
	// Fetch: the model download.
	Fetch time.Duration
}

// Margin is added to every lifetime: scheduling, log draining and
// teardown, so that run-bench's own limits always fire first.
const Margin = 10 * time.Minute

// MaxLifetime is Modal's limit for one sandbox.
const MaxLifetime = 24 * time.Hour

// LifetimesFor derives the lifetimes from a run's limits: a server
// sandbox lives for one round, so it needs the start limit plus one
// benchmark limit per warm-up and per repetition of the longest round.
func LifetimesFor(serverStart, benchmark, fetch time.Duration, repetitions, warmup, rounds int) Lifetimes {
	rounds = max(rounds, 1)
	perRound := (repetitions + rounds - 1) / rounds
	clamp := func(d time.Duration) time.Duration { return min(d.Round(time.Second), MaxLifetime) }
	return Lifetimes{
		Server: clamp(serverStart + time.Duration(warmup+perRound)*benchmark + Margin),
		Bench:  clamp(benchmark + Margin),
		Fetch:  clamp(fetch + Margin),
	}
}

func (b *Backend) lifetime(role string) time.Duration {
	l := b.cfg.Lifetimes
	var d time.Duration
	switch role {
	case backend.RoleServer:
		d = l.Server
	case backend.RoleFetch:
		d = l.Fetch
	default:
		d = l.Bench
	}
	if d <= 0 {
		// No run limits given: Modal's maximum, never its 5-minute default,
		// which would kill any real server mid-run.
		d = MaxLifetime
	}
	return d
}

// params maps a Spec onto a sandbox: GPUs, lifetime, resources, the
// environment (never a secret of the backend's own), volumes, tags, and
// for a server its port and entrypoint. A one-shot command is exec'd
// later, so its sandbox idles (Modal's default entrypoint).
func (b *Backend) params(ctx context.Context, s backend.Spec) (*sdk.SandboxCreateParams, error) {
	gpus, n, err := gpuString(s.GPUs)
	if err != nil {
		return nil, err
	}
	role := s.Labels[backend.LabelRole]
	p := &sdk.SandboxCreateParams{GPU: gpus, Timeout: b.lifetime(role), Env: s.Env, Tags: map[string]string{},
		CPU: 4, MemoryMiB: 8 << 10}
	if n > 0 {
		p.CPU, p.MemoryMiB = b.cfg.CPUPerGPU*float64(n), b.cfg.MemoryMiBPerGPU*n
	}
	for k, v := range s.Labels {
		if v != "" {
			p.Tags[k] = v
		}
	}
	p.Tags[TagCreated] = strconv.FormatInt(time.Now().UnixMilli(), 10)
	for _, m := range s.Mounts {
		if path.IsAbs(m.Source) {
			return nil, fmt.Errorf("mount %s: a host directory cannot be mounted into a Modal sandbox; give model-cache a Modal volume name (default commitbench-hf-cache)", m.Source)
		}
		v, err := b.volume(ctx, m.Source, m.ReadOnly)
		if err != nil {
			return nil, err
		}
		if p.Volumes == nil {
			p.Volumes = map[string]*sdk.Volume{}
		}
		p.Volumes[m.Target] = v
	}
	if s.Port != 0 {
		p.Command, p.EncryptedPorts = s.Cmd, []int{s.Port}
	}
	return p, nil
}

// Start implements backend.Backend.
func (b *Backend) Start(ctx context.Context, s backend.Spec) (backend.Process, error) {
	if len(s.Cmd) == 0 {
		return nil, fmt.Errorf("modal: %s: no command", s.Name)
	}
	params, err := b.params(ctx, s)
	if err != nil {
		return nil, fmt.Errorf("modal: %s: %w", s.Name, err)
	}
	img, err := b.image(ctx, s.Image)
	if err != nil {
		return nil, err
	}
	what := "create a sandbox"
	if params.GPU != "" {
		what += " with " + params.GPU
	}
	var sb *sdk.Sandbox
	err = b.retry(ctx, what, func() error {
		var err error
		sb, err = b.c.Sandboxes.Create(ctx, b.app, img, params)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("modal: %s for %s: %w", what, s.Name, err)
	}
	p := newProcess(b, sb, s, params.GPU != "", params.Timeout)
	b.mu.Lock()
	b.live[sb.SandboxID] = p
	b.mu.Unlock()
	if s.ScratchDir != "" {
		if err := p.makeScratch(ctx, s.ScratchDir); err != nil {
			go p.follow() // so that Done closes once Remove ends it
			return p, err
		}
	}
	if s.Port == 0 {
		go p.runOnce(s.Cmd, s.Env)
		return p, nil
	}
	go p.follow()
	// The tunnel carries the readiness probe only: the benchmark runs in
	// the sandbox against 127.0.0.1, never through the internet.
	var tunnels map[int]*sdk.Tunnel
	err = b.retry(ctx, "tunnel to "+sb.SandboxID, func() error {
		var err error
		tunnels, err = sb.Tunnels(ctx, time.Minute, nil)
		return err
	})
	if err != nil {
		return p, fmt.Errorf("modal: tunnel to port %d of %s: %w", s.Port, sb.SandboxID, err)
	}
	t := tunnels[s.Port]
	if t == nil {
		return p, fmt.Errorf("modal: sandbox %s has no tunnel for port %d", sb.SandboxID, s.Port)
	}
	p.mu.Lock()
	p.endpoint = t.URL()
	p.mu.Unlock()
	return p, nil
}

// makeScratch creates the scratch directory with the SDK's file API as
// soon as the sandbox runs: before any exec, so before every command that
// writes there (a server's entrypoint, which starts with the sandbox,
// never does).
func (p *process) makeScratch(ctx context.Context, dir string) error {
	err := p.b.retry(ctx, "create "+dir+" in "+p.sb.SandboxID, func() error {
		return p.sb.Filesystem.MakeDirectory(ctx, dir, nil)
	})
	var exists sdk.SandboxFilesystemPathAlreadyExistsError
	if err != nil && !errors.As(err, &exists) {
		return fmt.Errorf("modal: scratch directory %s in %s: %w", dir, p.sb.SandboxID, err)
	}
	return nil
}
