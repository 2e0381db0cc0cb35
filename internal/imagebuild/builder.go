package imagebuild

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"sort"
	"strings"

	"github.com/moby/moby/api/types/build"
	"github.com/moby/moby/api/types/jsonstream"
	"github.com/moby/moby/client"

	"github.com/commitbench/commitbench/internal/image"
)

// Builder builds one image from a context.
//
// Two exist. The Docker API's classic builder works with any daemon and a
// tar context the toolkit streams itself, but has no BuildKit features.
// `docker buildx build` (a subprocess, since BuildKit over the API needs a
// gRPC session the Go client does not provide: notes/dependencies.md §4)
// adds the ccache cache mount that makes sgl-kernel rebuilds minutes
// instead of an hour, and registry or GitHub Actions layer caches.
// "auto" picks buildx when the docker CLI has it (GitHub's runners do),
// else the API: this development machine (Docker 20.10, no buildx).
type Builder interface {
	Name() string
	// Build builds c as tag with labels; progress goes to out.
	Build(ctx context.Context, c image.Context, tag string, labels map[string]string, out io.Writer) error
	// BuildKit says whether Dockerfiles may use RUN --mount.
	BuildKit() bool
}

// BuildError is a failed build: the step that failed and the last lines
// of its output, which is what a reader of the job log needs first.
type BuildError struct {
	Step string
	Tail []string
	Err  error
}

func (e *BuildError) Error() string {
	msg := "build failed"
	if e.Step != "" {
		msg += " at " + e.Step
	}
	return fmt.Sprintf("%s: %v\nlast output:\n%s", msg, e.Err, strings.Join(e.Tail, "\n"))
}
func (e *BuildError) Unwrap() error { return e.Err }

// tail keeps the last n lines of a build log and the step being run.
type tail struct {
	n     int
	lines []string
	step  string
	stepR *regexp.Regexp
}

func newTail(n int, step *regexp.Regexp) *tail { return &tail{n: n, stepR: step} }

func (t *tail) add(line string) {
	line = strings.TrimRight(line, "\r\n")
	if strings.TrimSpace(line) == "" {
		return
	}
	if t.stepR.MatchString(line) {
		t.step = strings.TrimSpace(line)
	}
	t.lines = append(t.lines, line)
	if len(t.lines) > t.n {
		t.lines = t.lines[len(t.lines)-t.n:]
	}
}

// apiBuilder is the classic builder through the Docker API.
type apiBuilder struct{ c *client.Client }

// classicStep matches "Step 3/7 : RUN ...".
var classicStep = regexp.MustCompile(`^Step \d+/\d+ : `)

func (b *apiBuilder) Name() string   { return "docker-api" }
func (b *apiBuilder) BuildKit() bool { return false }

func (b *apiBuilder) Build(ctx context.Context, c image.Context, tag string, labels map[string]string, out io.Writer) error {
	// The API's Labels option makes the classic builder run one LABEL step,
	// hence one container, per label (about a second each here); a single
	// LABEL instruction is one step.
	c.Dockerfile = append(append([]byte(nil), c.Dockerfile...), labelInstruction(labels)...)
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(writeContext(pw, c)) }()
	defer pr.Close()
	res, err := b.c.ImageBuild(ctx, pr, client.ImageBuildOptions{
		Tags: []string{tag}, Dockerfile: "Dockerfile",
		Remove: true, ForceRemove: true, Version: build.BuilderV1,
	})
	if err != nil {
		return &BuildError{Err: err}
	}
	defer res.Body.Close()
	t := newTail(25, classicStep)
	dec := json.NewDecoder(res.Body)
	var partial string
	for {
		var m jsonstream.Message
		if err := dec.Decode(&m); err == io.EOF {
			return nil
		} else if err != nil {
			return &BuildError{Step: t.step, Tail: t.lines, Err: fmt.Errorf("reading the build output: %w", err)}
		}
		if m.Error != nil {
			return &BuildError{Step: t.step, Tail: t.lines, Err: errors.New(strings.TrimSpace(m.Error.Message))}
		}
		if m.Stream != "" {
			io.WriteString(out, m.Stream)
			// Stream chunks are not line-aligned.
			partial += m.Stream
			for {
				i := strings.IndexByte(partial, '\n')
				if i < 0 {
					break
				}
				t.add(partial[:i])
				partial = partial[i+1:]
			}
		} else if m.Status != "" && m.Progress == nil {
			fmt.Fprintf(out, "%s %s\n", m.ID, m.Status)
		}
	}
}

// labelInstruction renders labels as one Dockerfile LABEL line, values
// double-quoted with \, " and $ escaped (LABEL expands variables).
func labelInstruction(labels map[string]string) string {
	if len(labels) == 0 {
		return ""
	}
	keys := make([]string, 0, len(labels))
	for k := range labels {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	esc := strings.NewReplacer(`\`, `\\`, `"`, `\"`, `$`, `\$`, "\n", " ")
	var b strings.Builder
	b.WriteString("\nLABEL")
	for _, k := range keys {
		fmt.Fprintf(&b, " \\\n    %s=\"%s\"", k, esc.Replace(labels[k]))
	}
	b.WriteString("\n")
	return b.String()
}

// buildxBuilder runs docker buildx build --load.
type buildxBuilder struct {
	docker string // the docker CLI
	// CacheFrom and CacheTo are passed as --cache-from / --cache-to, e.g.
	// "type=gha,scope=sglang-base" or "type=registry,ref=ghcr.io/o/x:cache".
	cacheFrom, cacheTo []string
	work               string
}

// buildxStep matches "#12 [4/9] RUN ..." of --progress=plain.
var buildxStep = regexp.MustCompile(`^#\d+ \[[^\]]*\d+/\d+\] `)

func (b *buildxBuilder) Name() string   { return "docker-buildx" }
func (b *buildxBuilder) BuildKit() bool { return true }

// args is the buildx command line for a context materialised in dir.
func (b *buildxBuilder) args(dir, tag string, labels map[string]string) []string {
	args := []string{"buildx", "build", "--load", "--progress=plain", "-t", tag, "-f", dir + "/Dockerfile"}
	keys := make([]string, 0, len(labels))
	for k := range labels {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		args = append(args, "--label", k+"="+labels[k])
	}
	for _, c := range b.cacheFrom {
		args = append(args, "--cache-from", c)
	}
	for _, c := range b.cacheTo {
		args = append(args, "--cache-to", c)
	}
	return append(args, dir)
}

func (b *buildxBuilder) Build(ctx context.Context, c image.Context, tag string, labels map[string]string, out io.Writer) error {
	dir, err := os.MkdirTemp(b.work, "context-")
	if err != nil {
		return &BuildError{Err: err}
	}
	defer os.RemoveAll(dir)
	if err := materialize(dir, c); err != nil {
		return &BuildError{Err: fmt.Errorf("writing the build context: %w", err)}
	}
	cmd := exec.CommandContext(ctx, b.docker, b.args(dir, tag, labels)...)
	pr, pw := io.Pipe()
	cmd.Stdout, cmd.Stderr = pw, pw
	t := newTail(25, buildxStep)
	done := make(chan struct{})
	go func() {
		defer close(done)
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			fmt.Fprintln(out, sc.Text())
			t.add(sc.Text())
		}
		io.Copy(io.Discard, pr)
	}()
	err = cmd.Run()
	pw.Close()
	<-done
	if err != nil {
		return &BuildError{Step: t.step, Tail: t.lines, Err: err}
	}
	return nil
}

// SelectBuilder returns the builder named by want: "api", "buildx" or
// "auto" (buildx when `docker buildx version` works, else the API).
func SelectBuilder(ctx context.Context, d *Docker, want string, cacheFrom, cacheTo []string, work string) (Builder, error) {
	hasBuildx := func() bool {
		return exec.CommandContext(ctx, "docker", "buildx", "version").Run() == nil
	}
	switch want {
	case "api":
		return &apiBuilder{c: d.c}, nil
	case "buildx":
		if !hasBuildx() {
			return nil, errors.New("builder: buildx requested but `docker buildx version` fails; install the buildx plugin or use builder: api")
		}
		return &buildxBuilder{docker: "docker", cacheFrom: cacheFrom, cacheTo: cacheTo, work: work}, nil
	case "", "auto":
		if hasBuildx() {
			return &buildxBuilder{docker: "docker", cacheFrom: cacheFrom, cacheTo: cacheTo, work: work}, nil
		}
		return &apiBuilder{c: d.c}, nil
	}
	return nil, fmt.Errorf("builder: %q; use auto, api or buildx", want)
}
