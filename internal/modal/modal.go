// Package modal is the Modal backend of run-bench: each process is a Modal
// sandbox created with the unmodified Modal Go SDK (pinned to v0.11.1, whose
// gRPC has no compatibility promise). A server is the sandbox's
// entrypoint, its log streamed from the sandbox, its readiness probe sent
// through an encrypted tunnel; the benchmark client is exec'd inside the
// same sandbox against 127.0.0.1; a one-shot command (direct mode, model
// fetch) is exec'd in an idle sandbox so that its result file can still be
// read after it exits. Sandboxes carry the run's labels as tags, so a run,
// or the leftovers of a crashed one, are found by listing. docs/modal.md.
package modal

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	sdk "github.com/modal-labs/modal-client/go"
	pb "github.com/modal-labs/modal-client/go/proto/modal_proto"
	"google.golang.org/grpc"

	"github.com/commitbench/commitbench/internal/backend"
	"github.com/commitbench/commitbench/internal/registry"
)

// TagCreated is the tag holding a sandbox's creation time (Unix
// milliseconds):
// Reap's Before needs it, and the SDK's listing does not expose it.
const TagCreated = "dev.commitbench.created"

// Config configures the backend. Zero values take the defaults below.
type Config struct {
	// App is the Modal app the sandboxes belong to (default commitbench).
	App string
	// TokenID and TokenSecret; empty: MODAL_TOKEN_ID/MODAL_TOKEN_SECRET or
	// the Modal profile.
	TokenID, TokenSecret string
	// Environment is the Modal environment (default: the profile's).
	Environment string
	// RegistryUsername and RegistryPassword log in to a private registry:
	// run-bench reads the image's digest and labels with them, and Modal
	// pulls the image with them (a Modal secret made from them).
	RegistryUsername, RegistryPassword string
	// Lifetimes bound each sandbox (LifetimesFor).
	Lifetimes Lifetimes
	// CPUPerGPU and MemoryMiBPerGPU are the requests per GPU (defaults 8
	// cores, 32 GiB); a sandbox without GPUs asks for 4 cores and 8 GiB.
	CPUPerGPU       float64
	MemoryMiBPerGPU int
	// Retry is the schedule for capacity and transient errors.
	Retry Retry
	// Log receives retries and warnings (the SDK's too).
	Log io.Writer
}

// Retry retries capacity and transient errors: Attempts tries in all,
// waiting Base, then twice as long each time, at most Max.
type Retry struct {
	Attempts  int
	Base, Max time.Duration
}

// DefaultRetry: Modal already waits up to 21 minutes for capacity inside
// one Create, so three tries are plenty.
var DefaultRetry = Retry{Attempts: 3, Base: 15 * time.Second, Max: 2 * time.Minute}

// Backend is the Modal backend. It is safe for concurrent use, also by
// several runs at once (batch mode).
type Backend struct {
	cfg Config
	c   *sdk.Client
	app *sdk.App
	reg *registry.Client
	// regSecret carries the registry login to Modal's image pull; it is
	// attached to images only, never to a sandbox.
	regSecret *sdk.Secret

	mu       sync.Mutex
	images   map[string]*sdk.Image
	volumes  map[string]*sdk.Volume
	live     map[string]*process
	statuses map[string]*pb.GenericResult
}

var _ backend.Backend = (*Backend)(nil)

// New connects to Modal (MODAL_SERVER_URL is honoured by the SDK) and
// looks up, or creates, the app.
func New(ctx context.Context, cfg Config) (*Backend, error) {
	if cfg.App == "" {
		cfg.App = "commitbench"
	}
	if cfg.CPUPerGPU == 0 {
		cfg.CPUPerGPU = 8
	}
	if cfg.MemoryMiBPerGPU == 0 {
		cfg.MemoryMiBPerGPU = 32 << 10
	}
	if cfg.Retry.Attempts == 0 {
		cfg.Retry = DefaultRetry
	}
	if cfg.Log == nil {
		cfg.Log = io.Discard
	}
	b := &Backend{cfg: cfg, images: map[string]*sdk.Image{}, volumes: map[string]*sdk.Volume{}, live: map[string]*process{},
		statuses: map[string]*pb.GenericResult{},
		reg:      registry.New(registry.Auth{Username: cfg.RegistryUsername, Password: cfg.RegistryPassword})}
	c, err := sdk.NewClientWithOptions(&sdk.ClientParams{TokenID: cfg.TokenID, TokenSecret: cfg.TokenSecret, Environment: cfg.Environment,
		Logger:                slog.New(slog.NewTextHandler(cfg.Log, &slog.HandlerOptions{Level: slog.LevelWarn})),
		GRPCUnaryInterceptors: []grpc.UnaryClientInterceptor{b.observe}})
	if err != nil {
		return nil, fmt.Errorf("modal: %w (give modal-token-id and modal-token-secret, or MODAL_TOKEN_ID/MODAL_TOKEN_SECRET)", err)
	}
	b.c = c
	err = b.retry(ctx, "look up app "+cfg.App, func() error {
		b.app, err = c.Apps.FromName(ctx, cfg.App, &sdk.AppFromNameParams{CreateIfMissing: true, Environment: cfg.Environment})
		return err
	})
	if err != nil {
		c.Close()
		return nil, fmt.Errorf("modal: app %s: %w", cfg.App, err)
	}
	if cfg.RegistryUsername != "" || cfg.RegistryPassword != "" {
		b.regSecret, err = c.Secrets.FromMap(ctx, map[string]string{"REGISTRY_USERNAME": cfg.RegistryUsername, "REGISTRY_PASSWORD": cfg.RegistryPassword}, nil)
		if err != nil {
			c.Close()
			return nil, fmt.Errorf("modal: registry secret: %w", err)
		}
	}
	return b, nil
}

// Close releases the connection.
func (b *Backend) Close() { b.c.Close() }

// Name implements backend.Backend.
func (b *Backend) Name() string { return "modal" }

// observe keeps the last status Modal reported for each sandbox: the SDK
// turns it into an exit code only (TIMEOUT into 124), and an internal
// failure with exit code 0 would otherwise pass for a success.
func (b *Backend) observe(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, inv grpc.UnaryInvoker, opts ...grpc.CallOption) error {
	err := inv(ctx, method, req, reply, cc, opts...)
	if r, ok := reply.(*pb.SandboxWaitResponse); ok && err == nil && r.GetResult() != nil {
		if q, ok := req.(*pb.SandboxWaitRequest); ok {
			b.mu.Lock()
			b.statuses[q.GetSandboxId()] = r.GetResult()
			b.mu.Unlock()
		}
	}
	return err
}

func (b *Backend) status(id string) *pb.GenericResult {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.statuses[id]
}

func (b *Backend) logf(format string, args ...any) {
	fmt.Fprintf(b.cfg.Log, "modal: "+format+"\n", args...)
}

// Image implements backend.Backend: the digest and labels come from the
// registry (the CUDA archs label is checked before any GPU is paid for);
// then Modal pulls the image, so that a ref Modal cannot pull fails here.
func (b *Backend) Image(ctx context.Context, ref string) (backend.ImageInfo, error) {
	info, err := b.reg.Lookup(ctx, ref)
	if err != nil {
		return backend.ImageInfo{}, fmt.Errorf("image %s: %w", ref, err)
	}
	if info == nil {
		return backend.ImageInfo{}, fmt.Errorf("image %s: %w in its registry", ref, backend.ErrNotFound)
	}
	if _, err := b.image(ctx, ref); err != nil {
		return backend.ImageInfo{}, err
	}
	return backend.ImageInfo{Digest: info.Digest, Labels: info.Labels}, nil
}

// image returns ref built (pulled) by Modal, once per backend.
func (b *Backend) image(ctx context.Context, ref string) (*sdk.Image, error) {
	b.mu.Lock()
	img := b.images[ref]
	b.mu.Unlock()
	if img != nil {
		return img, nil
	}
	var params *sdk.ImageFromRegistryParams
	if b.regSecret != nil {
		params = &sdk.ImageFromRegistryParams{Secret: b.regSecret}
	}
	err := b.retry(ctx, "pull "+ref, func() error {
		var err error
		img, err = b.c.Images.FromRegistry(ref, params).Build(ctx, b.app, nil)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("modal: image %s: %w", ref, err)
	}
	b.mu.Lock()
	b.images[ref] = img
	b.mu.Unlock()
	return img, nil
}

// volume returns the named volume, read-only or not.
func (b *Backend) volume(ctx context.Context, name string, readOnly bool) (*sdk.Volume, error) {
	b.mu.Lock()
	v := b.volumes[name]
	b.mu.Unlock()
	if v == nil {
		err := b.retry(ctx, "volume "+name, func() error {
			var err error
			v, err = b.c.Volumes.FromName(ctx, name, &sdk.VolumeFromNameParams{CreateIfMissing: true, Environment: b.cfg.Environment})
			return err
		})
		if err != nil {
			return nil, fmt.Errorf("modal: volume %s: %w", name, err)
		}
		b.mu.Lock()
		b.volumes[name] = v
		b.mu.Unlock()
	}
	return v.WithMountOptions(&sdk.VolumeMountOptionsParams{ReadOnly: &readOnly}), nil
}

// Reap implements backend.Backend: it lists the app's running sandboxes
// by tag, and also terminates those this backend still tracks (a listing
// may lag a sandbox created a moment ago).
func (b *Backend) Reap(ctx context.Context, sel backend.Selector) ([]string, error) {
	var errs []error
	ids := map[string]*sdk.Sandbox{}
	seq, err := b.c.Sandboxes.List(ctx, &sdk.SandboxListParams{AppID: b.app.AppID, Tags: nonEmpty(sel.Labels), Environment: b.cfg.Environment})
	if err == nil {
		for sb, err := range seq {
			if err != nil {
				errs = append(errs, fmt.Errorf("list sandboxes: %w", err))
				break
			}
			ids[sb.SandboxID] = sb
		}
	} else {
		errs = append(errs, fmt.Errorf("list sandboxes: %w", err))
	}
	b.mu.Lock()
	for id, p := range b.live {
		if _, ok := ids[id]; !ok && matches(p.spec.Labels, sel.Labels) {
			ids[id] = p.sb
		}
	}
	b.mu.Unlock()
	var removed []string
	for id, sb := range ids {
		tags, err := sb.GetTags(ctx, nil)
		if err != nil {
			errs = append(errs, fmt.Errorf("tags of %s: %w", id, err))
			continue
		}
		if !matches(tags, sel.Labels) || sel.KeepRun != "" && tags[backend.LabelRun] == sel.KeepRun {
			continue
		}
		if created, err := strconv.ParseInt(tags[TagCreated], 10, 64); !sel.Before.IsZero() && (err != nil || !time.UnixMilli(created).Before(sel.Before)) {
			continue
		}
		if p := b.tracked(id); p != nil {
			err = p.Remove(ctx, 0)
		} else {
			_, err = sb.Terminate(ctx, nil)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("terminate %s: %w", id, err))
			continue
		}
		removed = append(removed, id)
	}
	return removed, errors.Join(errs...)
}

func (b *Backend) tracked(id string) *process {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.live[id]
}

// matches reports whether tags carry every label; an empty label value
// matches only a missing or empty tag, never any value.
func matches(tags, labels map[string]string) bool {
	for k, v := range labels {
		if tags[k] != v {
			return false
		}
	}
	return true
}

// nonEmpty drops empty values: those are checked on the tags themselves.
func nonEmpty(m map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range m {
		if v != "" {
			out[k] = v
		}
	}
	return out
}

// gpuString is Modal's GPU request, "H100:8", or "" for none.
func gpuString(g backend.GPUs) (string, int, error) {
	if g.None() {
		return "", 0, nil
	}
	n := len(g.Devices)
	if n == 0 {
		n = g.Count
	}
	if n <= 0 {
		return "", 0, fmt.Errorf("gpus: count %d; a Modal sandbox needs an explicit number of GPUs (plan gpu.count)", g.Count)
	}
	t := strings.ToUpper(strings.TrimSpace(g.Type))
	if t == "" {
		return "", 0, fmt.Errorf("gpus: no GPU type; the plan's gpu.type names the Modal GPU (H100, H200, A100-80GB, B200)")
	}
	return fmt.Sprintf("%s:%d", t, n), n, nil
}
