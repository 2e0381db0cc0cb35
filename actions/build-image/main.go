// Command build-image builds one variant's image of one case (baseline:
// the parent, human: the commit, agent: the parent plus the agent's
// patch), checks that its kernels run on the target GPU and that the
// engine imports, and pushes it as REGISTRY/REPO:<commit40>-<variant>
// [-<patch12>]; an image that already exists with the same labels is
// skipped. `build-image archs FILE...` prints the GPU architectures of
// shared libraries. docs/build-image.md.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"

	"github.com/commitbench/commitbench/internal/actionsio"
	"github.com/commitbench/commitbench/internal/cli"
	"github.com/commitbench/commitbench/internal/cudaarch"
	"github.com/commitbench/commitbench/internal/image"
	"github.com/commitbench/commitbench/internal/imagebuild"
	"github.com/commitbench/commitbench/internal/plan"
	"github.com/commitbench/commitbench/internal/registry"
	"github.com/commitbench/commitbench/internal/source"
)

// version is set at release time with -ldflags "-X main.version=v1.2.3".
var version = ""

func main() {
	os.Exit(cli.Run("build-image", os.Stderr, func(ctx context.Context) error {
		return run(ctx, os.Args[1:], actionsio.Options{})
	}))
}

func run(ctx context.Context, args []string, o actionsio.Options) error {
	if len(args) > 0 && args[0] == "archs" {
		return archsCommand(ctx, args[1:], o)
	}
	return buildCommand(ctx, args, o)
}

type inputs struct {
	caseID, planPath, variant, commit, parent                    *string
	registry, repo, engineRepo, patch, kernel, engine            *string
	user, password, out, builder, pushMethod, cacheFrom, cacheTo *string
	toolkitDir, kernelLibs, standinPkg, cudaArch, workDir        *string
	force, push                                                  *bool
}

func declare(x *actionsio.IO) inputs {
	fs := x.Flags()
	return inputs{
		caseID:     fs.String("case", "", "id of the case (in plan)"),
		planPath:   fs.String("plan", "plan.json", "plan.json written by the plan stage"),
		variant:    fs.String("variant", "", "baseline (the parent), human (the commit) or agent (parent + patch)"),
		commit:     fs.String("commit", "", "without a plan: the case's commit (40 hex)"),
		parent:     fs.String("parent", "", "without a plan: the commit's parent (40 hex)"),
		registry:   fs.String("registry", "ghcr.io", "image registry host"),
		repo:       fs.String("repo", "", "image repository in the registry (default <owner>/sglang-bench, owner from GITHUB_REPOSITORY_OWNER)"),
		engineRepo: fs.String("engine-repo", "https://github.com/sgl-project/sglang", "engine repository: a git URL or the path of a clone"),
		patch:      fs.String("patch", "", "the agent's patch file (default: the plan's)"),
		kernel:     fs.String("kernel", "auto", "sgl-kernel: auto (compile from the tree when the case changes sgl-kernel/), pinned (the wheel the commit pins) or source"),
		engine:     fs.String("engine", "sglang", "sglang, or standin (the stand-in engine in FROM scratch images: tests and the demo)"),
		user:       fs.String("registry-username", "", "registry user (default $GITHUB_ACTOR)"),
		password:   fs.String("registry-password", "", "registry password or token (default $GITHUB_TOKEN)"),
		out:        fs.String("out", "", "write the build result (JSON) to this file"),
		builder:    fs.String("builder", "auto", "auto (docker buildx when present, else the Docker API), buildx or api"),
		pushMethod: fs.String("push-method", "daemon", "daemon (docker push) or save (docker save, uploaded by go-containerregistry)"),
		cacheFrom:  fs.String("cache-from", "", "buildx --cache-from values, comma-separated (e.g. type=gha,scope=sglang)"),
		cacheTo:    fs.String("cache-to", "", "buildx --cache-to values, comma-separated (e.g. type=gha,mode=max,scope=sglang)"),
		toolkitDir: fs.String("toolkit-dir", "", "commitbench's source (for the standin engine; default: go env GOMOD)"),
		kernelLibs: fs.String("kernel-libs", "", "standin engine: kernel libraries put in the image: .so files or folders, comma-separated (default "+imagebuild.DefaultStandinKernelLib+")"),
		standinPkg: fs.String("standin-package", "./cmd/sglang-standin", "standin engine: Go package built as python3"),
		cudaArch:   fs.String("cuda-arch", "sm_90", "the GPU the image must run on (sm_90: H100/H200)"),
		workDir:    fs.String("work-dir", "", "scratch directory (default: the system's)"),
		force:      fs.Bool("force", false, "rebuild even when the tag exists with matching labels"),
		push:       fs.Bool("push", true, "push the image; false builds and verifies it locally"),
	}
}

func buildCommand(ctx context.Context, args []string, o actionsio.Options) error {
	x := actionsio.New("build-image", o)
	in := declare(x)
	if err := x.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return cli.Usagef("%v", err)
	}
	if *in.password == "" {
		*in.password = x.Getenv("GITHUB_TOKEN")
	}
	x.Mask(*in.password)
	// A token in an https URL of the engine repository is a secret too.
	if u, err := url.Parse(*in.engineRepo); err == nil && u.User != nil {
		p, _ := u.User.Password()
		x.Mask(p)
	}
	req, err := request(x, in)
	if err != nil {
		return err
	}
	d, err := imagebuild.NewDocker(ctx)
	if err != nil {
		return err
	}
	defer d.Close()
	res, err := imagebuild.Build(ctx, d, registry.New(req.Auth), req, x)
	report(x, in, res)
	var sk *imagebuild.Skipped
	if errors.As(err, &sk) {
		return &cli.SkippedError{Reason: sk.Error()}
	}
	return err
}

// request turns the inputs into a build request; every error is a usage
// error naming the input and the fix.
func request(x *actionsio.IO, in inputs) (imagebuild.Request, error) {
	var r imagebuild.Request
	var err error
	if r.Engine, err = image.ParseEngine(*in.engine); err != nil {
		return r, cli.Usagef("%v", err)
	}
	if r.Policy, err = image.ParsePolicy(*in.kernel); err != nil {
		return r, cli.Usagef("%v", err)
	}
	switch *in.variant {
	case "baseline", "human", "agent":
		r.Variant = *in.variant
	default:
		return r, cli.Usagef("variant: %q; use baseline, human or agent", *in.variant)
	}
	if r.Case, err = loadCase(in); err != nil {
		return r, err
	}
	if err := patches(&r, in); err != nil {
		return r, err
	}
	repo := *in.repo
	if repo == "" {
		owner := strings.ToLower(x.Getenv("GITHUB_REPOSITORY_OWNER"))
		if owner == "" {
			return r, cli.Usagef("repo: empty; pass the image repository, e.g. repo: my-org/sglang-bench")
		}
		repo = owner + "/sglang-bench"
	}
	r.Repository = strings.TrimSuffix(*in.registry, "/") + "/" + repo
	if err := image.ValidateRepository(r.Repository); err != nil {
		return r, cli.Usagef("registry/repo: %v", err)
	}
	if _, err := registry.ParseRef(r.Repository + ":" + image.BaseTag(strings.Repeat("0", 64))); err != nil {
		return r, cli.Usagef("registry/repo: %v", err)
	}
	t, err := cudaarch.ParseTarget(*in.cudaArch)
	if err != nil || t.PTX {
		return r, cli.Usagef("cuda-arch: %q; name the GPU's architecture, e.g. sm_90 for H100", *in.cudaArch)
	}
	user := *in.user
	if user == "" && *in.password != "" {
		user = x.Getenv("GITHUB_ACTOR")
	}
	switch *in.pushMethod {
	case "daemon", "save":
	default:
		return r, cli.Usagef("push-method: %q; use daemon or save", *in.pushMethod)
	}
	r.EngineRepo, r.Push, r.Force, r.GPU = *in.engineRepo, *in.push, *in.force, t.CC
	r.Auth = registry.Auth{Username: user, Password: *in.password}
	r.Builder, r.PushMethod = *in.builder, *in.pushMethod
	r.CacheFrom, r.CacheTo = list(*in.cacheFrom), list(*in.cacheTo)
	r.Standin = imagebuild.StandinInputs{ToolkitDir: *in.toolkitDir, Package: *in.standinPkg, KernelLibs: *in.kernelLibs}
	r.WorkDir, r.ToolkitVersion = *in.workDir, toolkitVersion()
	return r, nil
}

// loadCase reads the case from the plan, or builds it from commit/parent.
func loadCase(in inputs) (*plan.Case, error) {
	if *in.commit != "" {
		c := &plan.Case{ID: *in.caseID, Commit: *in.commit, Parent: *in.parent, Runnable: true}
		if c.ID == "" && len(c.Commit) >= 12 {
			c.ID = c.Commit[:12]
		}
		if err := fullSHAs(c, "run git rev-parse on it"); err != nil {
			return nil, err
		}
		return c, nil
	}
	if *in.caseID == "" {
		return nil, cli.Usagef("case: empty; pass the id of a case in %s (or commit and parent without a plan)", *in.planPath)
	}
	p, err := plan.Read(*in.planPath)
	if err != nil {
		return nil, cli.Usagef("plan: %v; run the plan stage first or pass commit and parent", err)
	}
	c, err := p.Find(*in.caseID)
	if err != nil {
		return nil, cli.Usagef("%v", err)
	}
	if err := fullSHAs(c, "fix the cases file and plan again"); err != nil {
		return nil, err
	}
	if v := c.Variant(*in.variant); v != nil && !v.Runnable {
		return nil, cli.Usagef("case %s: variant %s is not runnable: %s", c.ID, v.Name, v.Reason)
	}
	return c, nil
}

// fullSHAs checks the case's commit and parent; fix says how to mend a
// short one.
func fullSHAs(c *plan.Case, fix string) error {
	for _, f := range []struct{ name, v string }{{"commit", c.Commit}, {"parent", c.Parent}} {
		if !source.IsFullSHA(f.v) {
			return cli.Usagef("case %s: %s: %q is not a full 40-character commit id; %s", c.ID, f.name, f.v, fix)
		}
	}
	return nil
}

// patches reads the agent patch: the variant's own, and, for the kernel
// policy, every variant's (the same file: a case has one agent patch).
func patches(r *imagebuild.Request, in inputs) error {
	path := *in.patch
	if path == "" {
		if v := r.Case.Variant("agent"); v != nil {
			path = v.Patch
		}
	}
	if path == "" {
		if r.Variant == "agent" {
			return cli.Usagef("case %s: patch: empty; the agent variant needs the agent's patch file", r.Case.ID)
		}
		return nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		if r.Variant != "agent" && r.Policy != image.PolicyAuto {
			return nil // the policy does not read it
		}
		return cli.Usagef("case %s: patch: %v; pass the agent's patch (kernel: auto reads it for every variant, so all three build sgl-kernel the same way)", r.Case.ID, err)
	}
	if r.Variant == "agent" {
		r.Patch = b
	}
	r.CasePatches = [][]byte{b}
	return nil
}

// report sets the step outputs, writes the result file and a summary row.
func report(x *actionsio.IO, in inputs, res *imagebuild.Result) {
	x.SetOutput("image", res.Image)
	x.SetOutput("digest", res.Digest)
	x.SetOutput("tag", res.Tag)
	x.SetOutput("base-key", res.BaseKey)
	x.SetOutput("status", res.Status)
	x.SetOutput("skipped", strconv.FormatBool(res.Status == "skipped"))
	x.AddSummary(fmt.Sprintf("| build-image | %s | %s | %s | `%s` |", res.Case, res.Variant, res.Status, res.Image))
	if *in.out == "" {
		return
	}
	b, err := json.MarshalIndent(res, "", "  ")
	if err == nil {
		if err = os.MkdirAll(filepath.Dir(*in.out), 0o755); err == nil {
			err = os.WriteFile(*in.out, append(b, '\n'), 0o644)
		}
	}
	if err != nil {
		x.Errorf("out: %v", err)
	}
}

func list(s string) []string {
	var out []string
	for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == '\n' }) {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

// toolkitVersion is the release version, else the module's, else devel.
func toolkitVersion() string {
	if version != "" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "devel"
}
