// Package imagebuild builds, verifies and pushes one variant's image:
// checkout of the variant's own commit (+ the agent patch), an ABI-
// consistent base (CUDA, torch, flashinfer, sgl-kernel) shared by content
// key, the variant's Python tree on top, a check that every kernel library
// runs on the target GPU and that the engine imports, and only then the
// push. The stand-in engine takes the same path with other templates.
package imagebuild

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/commitbench/commitbench/internal/failure"
	"github.com/commitbench/commitbench/internal/image"
	"github.com/commitbench/commitbench/internal/plan"
	"github.com/commitbench/commitbench/internal/registry"
	"github.com/commitbench/commitbench/internal/source"
)

// Log is where progress goes; *actionsio.IO is one.
type Log interface {
	Group(title string) func()
	Infof(format string, args ...any)
	Warningf(format string, args ...any)
	Stderr() io.Writer
}

// Request is one variant image to build.
type Request struct {
	Engine  image.Engine
	Case    *plan.Case
	Variant string
	// EngineRepo is the engine repository, a URL or a local clone.
	EngineRepo string
	// Patch is the agent's patch (the agent variant only).
	Patch []byte
	// CasePatches are every patch of the case, which the kernel policy
	// reads so that all variants of a case build sgl-kernel the same way.
	CasePatches [][]byte
	Policy      image.KernelPolicy
	// Repository is the image repository, without tag
	// (ghcr.io/owner/sglang-bench).
	Repository string
	Push       bool
	Force      bool
	Auth       registry.Auth
	// Builder is auto, api or buildx; CacheFrom/CacheTo go to buildx.
	Builder            string
	CacheFrom, CacheTo []string
	// PushMethod is "daemon" (docker push) or "save" (docker save, then
	// go-containerregistry uploads it: no daemon registry settings needed).
	PushMethod string
	Standin    StandinInputs
	// GPU is the compute capability the images must run on: 90 (H100).
	GPU            int
	WorkDir        string
	ToolkitVersion string
	// ExtraLabels are added to every image (tests mark theirs).
	ExtraLabels map[string]string
	Now         func() time.Time
}

// Result is build-image's account of one variant, written as JSON.
type Result struct {
	Schema  string `json:"schema"`
	Case    string `json:"case"`
	Variant string `json:"variant"`
	// Status is "built", "skipped" or the failure category.
	Status string `json:"status"`
	// Image is repository:tag@digest once pushed (repository:tag if not).
	Image       string            `json:"image,omitempty"`
	Tag         string            `json:"tag"`
	Digest      string            `json:"digest,omitempty"`
	Base        string            `json:"base,omitempty"`
	BaseKey     string            `json:"base_key,omitempty"`
	BaseBuilt   bool              `json:"base_built,omitempty"`
	Kernel      string            `json:"kernel,omitempty"`
	PatchMethod source.Method     `json:"patch_method,omitempty"`
	Labels      map[string]string `json:"labels,omitempty"`
	Verify      *Verification     `json:"verify,omitempty"`
	Failure     *failure.Failure  `json:"failure,omitempty"`
	Warnings    []string          `json:"warnings,omitempty"`
	Seconds     map[string]int    `json:"seconds,omitempty"`
}

// ResultSchema versions Result.
const ResultSchema = "commitbench.build/v1"

// Failed is a variant that could not be built (the work failed: exit 1).
type Failed struct{ Result *Result }

func (e *Failed) Error() string {
	f := e.Result.Failure
	return fmt.Sprintf("case %s: %s: %s: %s", e.Result.Case, e.Result.Variant, f.Category, firstLine(f.Evidence))
}

// Skipped is an image that already exists with the same identity.
type Skipped struct{ Result *Result }

func (e *Skipped) Error() string {
	return fmt.Sprintf("%s already exists with matching labels (%s); force: true rebuilds it", e.Result.Tag, e.Result.Image)
}

// Build builds, verifies and (if req.Push) pushes one variant image. The
// Result is always returned; the error is *Failed, *Skipped, or an error
// of the machinery (a daemon that is down, a registry that refuses).
func Build(ctx context.Context, d *Docker, reg *registry.Client, req Request, log Log) (*Result, error) {
	if req.Now == nil {
		req.Now = time.Now
	}
	if req.GPU == 0 {
		req.GPU = 90
	}
	res := &Result{Schema: ResultSchema, Case: req.Case.ID, Variant: req.Variant, Seconds: map[string]int{}}
	work, err := os.MkdirTemp(req.WorkDir, "build-image-")
	if err != nil {
		return res, err
	}
	defer os.RemoveAll(work)
	b := &run{req: req, d: d, reg: reg, log: log, res: res, work: work}
	err = b.do(ctx)
	var fe *failedErr
	switch {
	case err == nil:
	case errors.As(err, &fe):
		f := fe.f
		res.Status, res.Failure = string(f.Category), f
		log.Warningf("case %s: %s: %s", res.Case, res.Variant, f.Category)
		return res, &Failed{Result: res}
	case errors.Is(err, errSkipped):
		res.Status = "skipped"
		return res, &Skipped{Result: res}
	default:
		res.Status = "error"
		return res, err
	}
	res.Status = "built"
	return res, nil
}

var errSkipped = errors.New("skipped")

// run is the state of one Build.
type run struct {
	req  Request
	d    *Docker
	reg  *registry.Client
	log  Log
	res  *Result
	work string
	tree *source.Repo
	// builder is chosen once per run (auto asks the docker CLI).
	builder Builder
	// spec is what was decided from the tree.
	spec *spec
}

func (b *run) timed(name string, f func() error) error {
	start := time.Now()
	defer func() { b.res.Seconds[name] += int(time.Since(start).Seconds() + 0.5) }()
	return f()
}

func (b *run) do(ctx context.Context) error {
	if err := b.timed("source", func() error { return b.checkout(ctx) }); err != nil {
		return err
	}
	if err := b.timed("prepare", func() error { return b.prepare(ctx) }); err != nil {
		return err
	}
	s := b.spec
	b.res.Tag, b.res.BaseKey, b.res.Kernel = s.tag, s.baseKey, s.kernel
	b.res.Base = s.baseRef
	ref := b.req.Repository + ":" + s.tag
	if b.req.Push && !b.req.Force {
		skip, err := b.existing(ctx, ref)
		if err != nil {
			return err
		}
		if skip {
			return errSkipped
		}
	}
	if err := b.timed("base", func() error { return b.ensureBase(ctx) }); err != nil {
		return err
	}
	candidate := ref + "-candidate"
	defer b.d.Remove(ctx, candidate)
	if err := b.timed("variant", func() error {
		return b.build(ctx, "variant "+s.tag, s.variant, candidate, s.labels)
	}); err != nil {
		return err
	}
	var v *Verification
	if err := b.timed("verify", func() error {
		var err error
		v, err = b.verify(ctx, candidate, s.importCheck)
		return err
	}); err != nil {
		return err
	}
	labels := s.withArchs(v.Targets)
	b.res.Labels = labels
	// Labels describing what verification found are added by a build with
	// no layer of its own, so the pushed image says what was checked.
	final := image.Context{Dockerfile: []byte("FROM " + candidate + "\n")}
	if err := b.build(ctx, "labels "+s.tag, final, ref, labels); err != nil {
		return err
	}
	b.res.Image = ref
	if !b.req.Push {
		return nil
	}
	return b.timed("push", func() error { return b.push(ctx, ref, labels) })
}

// existing reports whether ref is already in the registry with the same
// identity labels; a tag with other labels is rebuilt and overwritten.
func (b *run) existing(ctx context.Context, ref string) (bool, error) {
	img, err := b.reg.Lookup(ctx, ref)
	if err != nil || img == nil {
		return false, err
	}
	for _, k := range image.IdentityLabels {
		if img.Labels[k] != b.spec.labels[k] {
			b.log.Infof("%s exists but its %s is %q, not %q: rebuilding", ref, k, img.Labels[k], b.spec.labels[k])
			return false, nil
		}
	}
	b.res.Image, b.res.Digest, b.res.Labels = img.Pinned(), img.Digest, img.Labels
	b.log.Infof("%s already exists with matching labels: skipped", img.Pinned())
	return true, nil
}

// ensureBase makes the base image available locally: already there, else
// pulled from the registry (another job built it), else built, verified
// and pushed for the next job.
func (b *run) ensureBase(ctx context.Context) error {
	s := b.spec
	if li, err := b.d.Inspect(ctx, s.baseRef); err != nil {
		return err
	} else if li != nil && li.Labels[image.LabelBaseKey] == s.baseKey {
		b.log.Infof("base %s: present locally", s.baseRef)
		return nil
	}
	if b.req.Push {
		img, err := b.reg.Lookup(ctx, s.baseRef)
		if err != nil {
			return err
		}
		if img != nil && img.Labels[image.LabelBaseKey] == s.baseKey {
			defer b.log.Group("pull base " + s.baseRef)()
			return b.d.Pull(ctx, s.baseRef, b.req.Auth, b.log.Stderr())
		}
	}
	if err := b.build(ctx, "base "+image.BaseTag(s.baseKey), s.base, s.baseRef, s.baseLabels); err != nil {
		return err
	}
	b.res.BaseBuilt = true
	// A base whose kernels cannot run is never shared.
	if _, err := b.verify(ctx, s.baseRef, ""); err != nil {
		b.d.Remove(ctx, s.baseRef)
		return err
	}
	if b.req.Push {
		defer b.log.Group("push base " + s.baseRef)()
		return b.pushImage(ctx, s.baseRef)
	}
	return nil
}

// selectBuilder returns the run's builder, choosing it the first time.
func (b *run) selectBuilder(ctx context.Context) (Builder, error) {
	if b.builder == nil {
		bl, err := SelectBuilder(ctx, b.d, b.req.Builder, b.req.CacheFrom, b.req.CacheTo, b.work)
		if err != nil {
			return nil, err
		}
		b.builder = bl
	}
	return b.builder, nil
}

func (b *run) build(ctx context.Context, what string, c image.Context, tag string, labels map[string]string) error {
	bl, err := b.selectBuilder(ctx)
	if err != nil {
		return err
	}
	end := b.log.Group(fmt.Sprintf("build %s (%s)", what, bl.Name()))
	err = bl.Build(ctx, c, tag, labels, b.log.Stderr())
	end()
	var be *BuildError
	if errors.As(err, &be) {
		return buildFailure(be)
	}
	return err
}

// verify checks the kernel libraries of ref and, when check is not empty,
// that the engine imports.
func (b *run) verify(ctx context.Context, ref, check string) (*Verification, error) {
	defer b.log.Group("verify " + ref)()
	v, f, err := verifyKernels(ctx, b.d, ref, b.req.Engine.KernelDirs(), b.req.GPU, b.work)
	if err != nil {
		return nil, err
	}
	b.res.Verify = v
	for _, l := range v.Libraries {
		b.log.Infof("%s: %s (sass %v, ptx %v)", l.Path, l.Support, l.SASS, l.PTX)
	}
	for _, w := range v.Warnings {
		b.log.Warningf("%s", w)
		b.res.Warnings = append(b.res.Warnings, w)
	}
	if f != nil {
		return v, &failedErr{f}
	}
	if check == "" {
		return v, nil
	}
	out, f, err := importCheck(ctx, b.d, ref, check)
	if err != nil {
		return v, err
	}
	if f != nil {
		b.log.Infof("python3 -c %q:\n%s", check, out)
		return v, &failedErr{f}
	}
	b.log.Infof("python3 -c %q: ok", check)
	return v, nil
}

func (b *run) push(ctx context.Context, ref string, labels map[string]string) error {
	end := b.log.Group("push " + ref)
	err := b.pushImage(ctx, ref)
	end()
	if err != nil {
		return err
	}
	// Read back what the registry serves: the digest run-bench will pin,
	// and the labels it will check.
	img, err := b.reg.Lookup(ctx, ref)
	if err != nil {
		return err
	}
	if img == nil {
		return fmt.Errorf("pushed %s but the registry does not serve it", ref)
	}
	for k, v := range labels {
		if img.Labels[k] != v {
			return fmt.Errorf("pushed %s but the registry's label %s is %q, not %q", ref, k, img.Labels[k], v)
		}
	}
	b.res.Image, b.res.Digest = img.Pinned(), img.Digest
	return nil
}

// pushImage pushes through the daemon or, with the save method, exports
// the image and uploads it with go-containerregistry.
func (b *run) pushImage(ctx context.Context, ref string) error {
	if b.req.PushMethod != "save" {
		return b.d.Push(ctx, ref, b.req.Auth, b.log.Stderr())
	}
	file := filepath.Join(b.work, "image.tar")
	defer os.Remove(file)
	if err := b.d.Save(ctx, ref, file); err != nil {
		return err
	}
	img, err := loadTarball(file, ref)
	if err != nil {
		return err
	}
	_, err = b.reg.Write(ctx, ref, img)
	return err
}

func firstLine(s string) string {
	for i, c := range s {
		if c == '\n' {
			return s[:i]
		}
	}
	return s
}
