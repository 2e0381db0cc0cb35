package imagebuild

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"path"
	"path/filepath"
	"strings"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/api/pkg/authconfig"
	"github.com/moby/moby/api/pkg/stdcopy"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/jsonstream"
	regtypes "github.com/moby/moby/api/types/registry"
	"github.com/moby/moby/client"

	"github.com/commitbench/commitbench/internal/docker"
	"github.com/commitbench/commitbench/internal/registry"
)

// Docker is the daemon operations build-image needs besides the build.
type Docker struct {
	c *client.Client
}

// NewDocker connects to the daemon of DOCKER_HOST (default: the local
// socket).
func NewDocker(ctx context.Context) (*Docker, error) {
	c, err := docker.Connect(ctx)
	if err != nil {
		return nil, err
	}
	return &Docker{c: c}, nil
}

// Close releases the connection.
func (d *Docker) Close() error { return d.c.Close() }

// LocalImage is an image in the daemon's store.
type LocalImage struct {
	ID     string
	Labels map[string]string
}

// Inspect returns the local image ref, or nil when the daemon has none.
func (d *Docker) Inspect(ctx context.Context, ref string) (*LocalImage, error) {
	r, err := d.c.ImageInspect(ctx, ref)
	if cerrdefs.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	li := &LocalImage{ID: r.ID}
	if r.Config != nil {
		li.Labels = r.Config.Labels
	}
	return li, nil
}

// Remove deletes an image reference (and the image if nothing else names it).
func (d *Docker) Remove(ctx context.Context, ref string) error {
	_, err := d.c.ImageRemove(context.WithoutCancel(ctx), ref, client.ImageRemoveOptions{Force: true, PruneChildren: true})
	if cerrdefs.IsNotFound(err) {
		return nil
	}
	return err
}

// encodeAuth encodes the X-Registry-Auth header; anonymous is "{}"
// because 20.10 daemons refuse a push with no header at all.
func encodeAuth(ref string, a registry.Auth) (string, error) {
	return authconfig.Encode(regtypes.AuthConfig{Username: a.Username, Password: a.Password, ServerAddress: registry.Host(repoOf(ref))})
}

// repoOf strips the tag or digest of a reference.
func repoOf(ref string) string {
	if i := strings.Index(ref, "@"); i >= 0 {
		ref = ref[:i]
	}
	if i := strings.LastIndex(ref, ":"); i > strings.LastIndex(ref, "/") {
		ref = ref[:i]
	}
	return ref
}

// Push pushes ref through the daemon, retrying transient registry errors.
// Progress goes to out.
func (d *Docker) Push(ctx context.Context, ref string, a registry.Auth, out io.Writer) error {
	auth, err := encodeAuth(ref, a)
	if err != nil {
		return err
	}
	return registry.Retry(ctx, registry.Backoff, func() error {
		resp, err := d.c.ImagePush(ctx, ref, client.ImagePushOptions{RegistryAuth: auth})
		if err != nil {
			return err
		}
		defer resp.Close()
		return drain(ctx, resp.JSONMessages(ctx), out)
	})
}

// Pull pulls ref through the daemon (a base image another job built).
func (d *Docker) Pull(ctx context.Context, ref string, a registry.Auth, out io.Writer) error {
	auth, err := encodeAuth(ref, a)
	if err != nil {
		return err
	}
	return registry.Retry(ctx, registry.Backoff, func() error {
		resp, err := d.c.ImagePull(ctx, ref, client.ImagePullOptions{RegistryAuth: auth})
		if err != nil {
			return err
		}
		defer resp.Close()
		return drain(ctx, resp.JSONMessages(ctx), out)
	})
}

// Save writes `docker save ref` to file (the save push method).
func (d *Docker) Save(ctx context.Context, ref, file string) error {
	r, err := d.c.ImageSave(ctx, []string{ref})
	if err != nil {
		return err
	}
	defer r.Close()
	return writeFile(file, r, 0o666)
}

// CopyDirs copies the regular files under dirs of image ref into dst,
// keeping their image paths below it, without starting a container (it is
// created, read with the archive API, and removed). A dir missing from the
// image is skipped. keep says which files to copy; it returns the image
// paths copied.
func (d *Docker) CopyDirs(ctx context.Context, ref string, dirs []string, dst string, keep func(name string) bool) ([]string, error) {
	cr, err := d.c.ContainerCreate(ctx, client.ContainerCreateOptions{
		Config:     &container.Config{Image: ref, Cmd: []string{"/commitbench-never-started"}, Labels: map[string]string{"dev.commitbench.role": "verify"}},
		HostConfig: &container.HostConfig{NetworkMode: "none"},
	})
	if err != nil {
		return nil, err
	}
	defer d.c.ContainerRemove(context.WithoutCancel(ctx), cr.ID, client.ContainerRemoveOptions{Force: true})
	var got []string
	for _, dir := range dirs {
		res, err := d.c.CopyFromContainer(ctx, cr.ID, client.CopyFromContainerOptions{SourcePath: dir})
		if cerrdefs.IsNotFound(err) {
			continue
		}
		if err != nil {
			return got, fmt.Errorf("reading %s from the image: %w", dir, err)
		}
		files, err := untarFiles(res.Content, path.Dir(dir), dst, keep)
		res.Content.Close()
		if err != nil {
			return got, fmt.Errorf("reading %s from the image: %w", dir, err)
		}
		got = append(got, files...)
	}
	return got, nil
}

// untarFiles extracts the regular files keep accepts; names in the archive
// are relative to parent (the archive API roots them at the copied dir's
// base name).
func untarFiles(r io.Reader, parent, dst string, keep func(string) bool) ([]string, error) {
	var out []string
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		name := path.Join(parent, path.Clean("/"+h.Name))
		if h.Typeflag != tar.TypeReg || !keep(name) {
			continue
		}
		if err := writeFile(filepath.Join(dst, filepath.FromSlash(name)), tr, 0o666); err != nil {
			return out, err
		}
		out = append(out, name)
	}
}

// Run starts a container of ref with cmd, without network, and returns its
// exit code and combined output; the container is removed.
func (d *Docker) Run(ctx context.Context, ref string, cmd []string, timeout time.Duration) (int, string, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cr, err := d.c.ContainerCreate(ctx, client.ContainerCreateOptions{
		Config:     &container.Config{Image: ref, Cmd: cmd, Labels: map[string]string{"dev.commitbench.role": "verify"}},
		HostConfig: &container.HostConfig{NetworkMode: "none"},
	})
	if err != nil {
		return -1, "", err
	}
	defer d.c.ContainerRemove(context.WithoutCancel(ctx), cr.ID, client.ContainerRemoveOptions{Force: true})
	wait := d.c.ContainerWait(ctx, cr.ID, client.ContainerWaitOptions{Condition: container.WaitConditionNextExit})
	if _, err := d.c.ContainerStart(ctx, cr.ID, client.ContainerStartOptions{}); err != nil {
		return -1, "", err
	}
	code := -1
	select {
	case r := <-wait.Result:
		code = int(r.StatusCode)
	case err := <-wait.Error:
		return -1, "", fmt.Errorf("waiting for the container: %w", err)
	}
	logs, err := d.c.ContainerLogs(ctx, cr.ID, client.ContainerLogsOptions{ShowStdout: true, ShowStderr: true})
	if err != nil {
		return code, "", err
	}
	defer logs.Close()
	var b bytes.Buffer
	if _, err := stdcopy.StdCopy(&b, &b, logs); err != nil {
		return code, b.String(), err
	}
	return code, b.String(), nil
}

// drain copies a push or pull message stream's progress to out (one line
// per layer event, not the progress bars) and returns its error, if any.
func drain(ctx context.Context, msgs iter.Seq2[jsonstream.Message, error], out io.Writer) error {
	for m, err := range msgs {
		if err != nil {
			return err
		}
		if m.Error != nil {
			return errors.New(m.Error.Message)
		}
		if m.Status != "" && m.Progress == nil && out != nil {
			if m.ID != "" {
				fmt.Fprintf(out, "%s: %s\n", m.ID, m.Status)
			} else {
				fmt.Fprintln(out, m.Status)
			}
		}
	}
	return ctx.Err()
}
