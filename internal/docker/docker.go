// Package docker is the Docker Engine backend of run-bench: one container
// per process, GPUs through device requests (the API form of --gpus), the
// benchmark client exec'd inside the server's container, logs followed
// through the API, and every container labelled so that a run, or the
// leftovers of a crashed one, can be removed by asking the daemon.
package docker

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/api/pkg/stdcopy"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/mount"
	"github.com/moby/moby/api/types/network"
	"github.com/moby/moby/client"

	"github.com/commitbench/commitbench/internal/backend"
	"github.com/commitbench/commitbench/internal/image"
)

// Backend talks to the daemon named by DOCKER_HOST (default: the local
// socket). The API version is negotiated, so daemons from 20.10 (API 1.41)
// on work.
type Backend struct {
	c *client.Client
}

var _ backend.Backend = (*Backend)(nil)

// New connects to the daemon and checks that it answers.
func New(ctx context.Context) (*Backend, error) {
	c, err := Connect(ctx)
	if err != nil {
		return nil, err
	}
	return &Backend{c: c}, nil
}

// Connect returns a client of the daemon of DOCKER_HOST (default: the local
// socket) that has answered a ping, with the API version negotiated (the
// daemons in use go back to 20.10, API 1.41).
func Connect(ctx context.Context) (*client.Client, error) {
	c, err := client.New(client.FromEnv)
	if err != nil {
		return nil, fmt.Errorf("docker: %w", err)
	}
	if _, err := c.Ping(ctx, client.PingOptions{NegotiateAPIVersion: true}); err != nil {
		c.Close()
		return nil, fmt.Errorf("docker: daemon not reachable (is it running, and is DOCKER_HOST right?): %w", err)
	}
	return c, nil
}

// Client is the underlying API client (tests inspect containers with it).
func (b *Backend) Client() *client.Client { return b.c }

// Close releases the connection.
func (b *Backend) Close() error { return b.c.Close() }

// Name implements backend.Backend.
func (b *Backend) Name() string { return "docker" }

// Image implements backend.Backend: a local image is used as it is; a
// missing one is pulled anonymously (log in with `docker login` is not
// read: pre-pull private images, see docs/run-bench.md).
func (b *Backend) Image(ctx context.Context, ref string) (backend.ImageInfo, error) {
	ii, err := b.c.ImageInspect(ctx, ref)
	if cerrdefs.IsNotFound(err) {
		pull, perr := b.c.ImagePull(ctx, ref, client.ImagePullOptions{})
		if perr == nil {
			perr = pull.Wait(ctx)
			pull.Close()
		}
		if perr != nil {
			return backend.ImageInfo{}, fmt.Errorf("image %s: %w: not present and the pull failed: %v", ref, backend.ErrNotFound, perr)
		}
		ii, err = b.c.ImageInspect(ctx, ref)
	}
	if err != nil {
		return backend.ImageInfo{}, fmt.Errorf("image %s: %w", ref, err)
	}
	info := backend.ImageInfo{Digest: ii.ID}
	// A registry digest names the same bytes everywhere; the local id
	// only names them on this daemon.
	for _, rd := range ii.RepoDigests {
		if _, d, ok := strings.Cut(rd, "@"); ok {
			info.Digest = d
			break
		}
	}
	if ii.Config != nil {
		info.Labels = ii.Config.Labels
	}
	return info, nil
}

// Start implements backend.Backend.
func (b *Backend) Start(ctx context.Context, s backend.Spec) (backend.Process, error) {
	var scratch string
	if s.ScratchDir != "" {
		// World-writable: the image's user may not be root.
		dir, err := os.MkdirTemp("", "commitbench-scratch-")
		if err == nil {
			err = os.Chmod(dir, 0o777)
		}
		if err != nil {
			return nil, fmt.Errorf("scratch directory: %w", err)
		}
		scratch = dir
		s.Mounts = append(append([]backend.Mount(nil), s.Mounts...), backend.Mount{Source: dir, Target: s.ScratchDir})
	}
	cfg, hc, err := containerConfig(s)
	if err != nil {
		os.RemoveAll(scratch)
		return nil, err
	}
	cr, err := b.c.ContainerCreate(ctx, client.ContainerCreateOptions{Name: uniqueName(s.Name), Config: cfg, HostConfig: hc})
	if err != nil {
		os.RemoveAll(scratch)
		return nil, fmt.Errorf("create container from %s: %w", s.Image, err)
	}
	p := newProcess(b, cr.ID, s)
	p.scratch = scratch
	// Attach and wait are set up before the start so that neither the
	// first line nor an exit in the first millisecond is missed. Attach,
	// not a logs follow: its stream ends the moment the process's output
	// closes, where the daemon's log follower lags by a second or more.
	life, stop := context.WithCancel(context.Background())
	p.stopLife = stop
	fail := func(err error) (backend.Process, error) {
		stop()
		b.c.ContainerRemove(context.WithoutCancel(ctx), cr.ID, client.ContainerRemoveOptions{Force: true})
		return nil, fmt.Errorf("start container from %s: %w", s.Image, err)
	}
	at, err := b.c.ContainerAttach(ctx, cr.ID, client.ContainerAttachOptions{Stream: true, Stdout: true, Stderr: true})
	if err != nil {
		return fail(err)
	}
	wait := b.c.ContainerWait(life, cr.ID, client.ContainerWaitOptions{Condition: container.WaitConditionNextExit})
	if _, err := b.c.ContainerStart(ctx, cr.ID, client.ContainerStartOptions{}); err != nil {
		at.Close()
		return fail(err)
	}
	go p.follow(life, wait, at.HijackedResponse)
	if s.Port != 0 {
		if err := p.resolveEndpoint(ctx); err != nil {
			return p, err
		}
	}
	return p, nil
}

// envList is env as the Engine API takes it, sorted so that a container's
// configuration does not depend on map order.
func envList(env map[string]string) []string {
	out := make([]string, 0, len(env))
	for k, v := range env {
		out = append(out, k+"="+v)
	}
	sort.Strings(out)
	return out
}

func containerConfig(s backend.Spec) (*container.Config, *container.HostConfig, error) {
	cfg := &container.Config{Image: s.Image, Cmd: s.Cmd, Env: envList(s.Env), Labels: s.Labels}
	init := true
	hc := &container.HostConfig{Init: &init}
	if s.HostIPC {
		// The host's /dev/shm is used then; ShmSize would be ignored.
		hc.IpcMode = container.IPCModeHost
	} else {
		hc.ShmSize = s.ShmBytes
	}
	if !s.GPUs.None() {
		dr := container.DeviceRequest{Driver: "nvidia", Capabilities: [][]string{{"gpu"}}}
		if len(s.GPUs.Devices) > 0 {
			dr.DeviceIDs = s.GPUs.Devices
		} else {
			dr.Count = s.GPUs.Count
		}
		hc.DeviceRequests = []container.DeviceRequest{dr}
	}
	for _, m := range s.Mounts {
		if !path.IsAbs(m.Source) {
			hc.Mounts = append(hc.Mounts, mount.Mount{Type: mount.TypeVolume, Source: m.Source, Target: m.Target, ReadOnly: m.ReadOnly})
			continue
		}
		// A host directory goes in Binds, which creates a missing source
		// on the daemon's host: when run-bench itself runs in a container
		// beside the daemon, its paths do not exist there, and every
		// process of the run still sees the same directory.
		mode := "rw"
		if m.ReadOnly {
			mode = "ro"
		}
		hc.Binds = append(hc.Binds, m.Source+":"+m.Target+":"+mode)
	}
	if s.Port != 0 {
		port, err := network.ParsePort(strconv.Itoa(s.Port) + "/tcp")
		if err != nil {
			return nil, nil, fmt.Errorf("port %d: %w", s.Port, err)
		}
		cfg.ExposedPorts = network.PortSet{port: {}}
		// A random host port on loopback: several runs (or tests) on one
		// daemon never collide, and nothing is exposed beyond the host.
		hc.PortBindings = network.PortMap{port: {{HostIP: netip.MustParseAddr("127.0.0.1")}}}
	}
	return cfg, hc, nil
}

func uniqueName(hint string) string {
	var b [4]byte
	rand.Read(b[:])
	clean := strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.' {
			return r
		}
		return '-'
	}, hint)
	if clean == "" {
		clean = "commitbench"
	}
	return clean + "-" + hex.EncodeToString(b[:])
}

// Reap implements backend.Backend.
func (b *Backend) Reap(ctx context.Context, sel backend.Selector) ([]string, error) {
	f := client.Filters{}
	for k, v := range sel.Labels {
		f.Add("label", k+"="+v)
	}
	list, err := b.c.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: f})
	if err != nil {
		return nil, fmt.Errorf("list containers: %w", err)
	}
	var removed []string
	var errs []error
	for _, c := range list.Items {
		if sel.KeepRun != "" && c.Labels[backend.LabelRun] == sel.KeepRun {
			continue
		}
		if !sel.Before.IsZero() && !time.Unix(c.Created, 0).Before(sel.Before) {
			continue
		}
		_, err := b.c.ContainerRemove(ctx, c.ID, client.ContainerRemoveOptions{Force: true, RemoveVolumes: true})
		if err != nil && !cerrdefs.IsNotFound(err) {
			errs = append(errs, fmt.Errorf("remove %.12s: %w", c.ID, err))
			continue
		}
		removed = append(removed, c.ID)
	}
	return removed, errors.Join(errs...)
}

// readTarFile returns the first regular file of a tar stream.
func readTarFile(r io.Reader, name string) ([]byte, error) {
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return nil, fmt.Errorf("%s: %w (not a regular file)", name, backend.ErrNotFound)
		}
		if err != nil {
			return nil, err
		}
		if h.Typeflag == tar.TypeReg {
			var buf bytes.Buffer
			_, err := io.Copy(&buf, tr)
			return buf.Bytes(), err
		}
	}
}

// copyLogs demultiplexes a non-TTY stream into one writer, keeping
// stdout and stderr interleaved in arrival order, as a terminal shows them.
func copyLogs(w io.Writer, r io.Reader) error {
	if w == nil {
		w = io.Discard
	}
	_, err := stdcopy.StdCopy(w, w, r)
	return err
}

// RemoveTagged deletes every image with a tag or digest reference starting
// with prefix (a registry host and path): what the demo and the end-to-end
// test built for a registry that is gone once they end. It also deletes
// the untagged copies of the bases those images had: when parallel build
// jobs share one daemon (act), each builds the base and the last takes its
// tag, leaving the others dangling. Such a copy is known by its base-key
// label; one that another image still builds on is kept.
func RemoveTagged(ctx context.Context, prefix string) error {
	c, err := Connect(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	list, err := c.ImageList(ctx, client.ImageListOptions{All: true})
	if err != nil {
		return err
	}
	var errs []error
	baseKeys := map[string]bool{}
	for _, im := range list.Items {
		// An image whose tag moved on keeps only its digest reference.
		for _, tag := range append(im.RepoTags, im.RepoDigests...) {
			if strings.HasPrefix(tag, prefix) {
				if _, err := c.ImageRemove(ctx, im.ID, client.ImageRemoveOptions{Force: true, PruneChildren: true}); err != nil {
					errs = append(errs, fmt.Errorf("removing %s: %w", tag, err))
				}
				if k := im.Labels[image.LabelBaseKey]; k != "" {
					baseKeys[k] = true
				}
				break
			}
		}
	}
	for _, im := range list.Items {
		if tagged(im.RepoTags, im.RepoDigests) || !baseKeys[im.Labels[image.LabelBaseKey]] {
			continue
		}
		// Without Force: a conflict means another image still uses it.
		if _, err := c.ImageRemove(ctx, im.ID, client.ImageRemoveOptions{PruneChildren: true}); err != nil &&
			!cerrdefs.IsNotFound(err) && !cerrdefs.IsConflict(err) {
			errs = append(errs, fmt.Errorf("removing untagged base %.19s: %w", im.ID, err))
		}
	}
	return errors.Join(errs...)
}

// tagged reports whether an image has a name; daemons before API 1.44
// list a dangling one as "<none>:<none>" and "<none>@<none>".
func tagged(refs ...[]string) bool {
	for _, rs := range refs {
		for _, r := range rs {
			if r != "<none>:<none>" && r != "<none>@<none>" {
				return true
			}
		}
	}
	return false
}
