package imagebuild

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/commitbench/commitbench/internal/failure"
	"github.com/commitbench/commitbench/internal/image"
	"github.com/commitbench/commitbench/internal/source"
)

// failedErr carries a classified failure of the variant through the run.
type failedErr struct{ f *failure.Failure }

func (e *failedErr) Error() string { return string(e.f.Category) + ": " + firstLine(e.f.Evidence) }

func fail(cat failure.Category, evidence, rule string) error {
	root, hint := failure.Describe(cat)
	return &failedErr{&failure.Failure{Category: cat, Retriable: failure.Retriable(cat), Evidence: evidence, RootCause: root, Hint: hint, Rule: rule}}
}

// buildFailure classifies a failed build: BUILD_FAILED with the failing
// step and its last lines, unless the log shows a cause of its own that
// is worth a retry (a full disk, the network).
func buildFailure(be *BuildError) error {
	log := strings.Join(be.Tail, "\n") + "\n" + be.Err.Error()
	f := failure.Classify(strings.NewReader(log))
	if f.Category == failure.DiskFull || f.Category == failure.Infra {
		f.Evidence = be.Step + "\n" + f.Evidence
		return &failedErr{f}
	}
	evidence := be.Err.Error() + "\n" + strings.Join(be.Tail, "\n")
	if be.Step != "" {
		evidence = "failing step: " + be.Step + "\n" + evidence
	}
	return fail(failure.BuildFailed, evidence, "build-image build")
}

// spec is everything decided from the variant's tree before building.
type spec struct {
	commit     string
	tag        string
	baseKey    string
	baseRef    string
	kernel     string
	base       image.Context
	variant    image.Context
	baseLabels map[string]string
	labels     map[string]string
	// importCheck is the Python the variant must import without a GPU.
	importCheck string
}

func (s *spec) withArchs(targets []string) map[string]string {
	out := map[string]string{image.LabelCUDAArchs: strings.Join(targets, ",")}
	for k, v := range s.labels {
		out[k] = v
	}
	return out
}

func (b *run) checkout(ctx context.Context) error {
	commit := image.VariantCommit(b.req.Case, b.req.Variant)
	defer b.log.Group(fmt.Sprintf("source %s at %s", b.req.Variant, commit))()
	tree, err := source.Checkout(ctx, source.CheckoutOptions{Repo: b.req.EngineRepo, Commit: commit, Dir: filepath.Join(b.work, "tree"), Log: b.log.Stderr()})
	if err != nil {
		return err
	}
	b.tree = tree
	if b.req.Variant != "agent" {
		return nil
	}
	m, err := tree.ApplyPatch(ctx, b.req.Patch)
	var pe *source.PatchError
	if errors.As(err, &pe) {
		ev := strings.Join(pe.Attempts, "\n")
		if pe.Rejects != "" {
			ev += "\nrejected hunks:\n" + pe.Rejects
		}
		return fail(failure.PatchFailed, ev, "build-image patch")
	}
	if err != nil {
		return err
	}
	b.res.PatchMethod = m
	if m != source.GitApply {
		b.log.Warningf("the agent patch applied only with %s", m)
		b.res.Warnings = append(b.res.Warnings, "agent patch applied with "+string(m))
	}
	b.log.Infof("agent patch applied with %s", m)
	return nil
}

// changedPaths is what the case changes: the plan's list, else git's,
// plus every patch of the case.
func (b *run) changedPaths(ctx context.Context) ([]string, error) {
	c := b.req.Case
	changed := append([]string(nil), c.FilesChanged...)
	if len(changed) == 0 && b.req.Policy == image.PolicyAuto {
		other := c.Commit
		if b.req.Variant == "human" {
			other = c.Parent
		}
		if err := b.tree.Fetch(ctx, other); err != nil {
			return nil, fmt.Errorf("files changed by %s: %w", c.Commit, err)
		}
		var err error
		if changed, err = b.tree.ChangedPaths(ctx, c.Parent, c.Commit); err != nil {
			return nil, err
		}
	}
	for _, p := range b.req.CasePatches {
		changed = append(changed, source.PatchedPaths(p)...)
	}
	return changed, nil
}

func (b *run) prepare(ctx context.Context) error {
	r := b.req
	s := &spec{commit: image.VariantCommit(r.Case, r.Variant)}
	patchSHA := ""
	if r.Variant == "agent" {
		patchSHA = source.PatchSHA256(r.Patch)
	}
	s.tag = image.Tag(r.Case.Commit, r.Variant, patchSHA)
	info := image.VariantInfo{Variant: r.Variant, Revision: s.commit, PatchSHA: patchSHA}
	now := r.Now().UTC().Format(time.RFC3339)
	s.baseLabels = map[string]string{image.LabelEngine: string(r.Engine), image.LabelCreated: now, image.LabelToolkitVersion: r.ToolkitVersion}
	var err error
	switch r.Engine {
	case image.EngineStandin:
		err = b.prepareStandin(ctx, s, info)
	default:
		err = b.prepareSGLang(ctx, s, info)
	}
	if err != nil {
		var te *image.TreeError
		if errors.As(err, &te) {
			return fail(failure.BuildFailed, te.Error(), "build-image pins")
		}
		return err
	}
	s.baseLabels[image.LabelBaseKey] = s.baseKey
	s.baseLabels[image.LabelKernel] = s.kernel
	s.labels = map[string]string{
		image.LabelRevision: s.commit, image.LabelSource: image.RedactURL(r.EngineRepo),
		image.LabelCase: r.Case.ID, image.LabelVariant: r.Variant,
		image.LabelCommit: r.Case.Commit, image.LabelParent: r.Case.Parent,
	}
	if patchSHA != "" {
		s.labels[image.LabelPatchSHA256] = patchSHA
		s.labels[image.LabelPatchMethod] = string(b.res.PatchMethod)
	}
	for k, v := range s.baseLabels {
		s.labels[k] = v
	}
	for k, v := range r.ExtraLabels {
		s.baseLabels[k], s.labels[k] = v, v
	}
	for _, m := range []map[string]string{s.labels, s.baseLabels} {
		for k, v := range m {
			if v == "" {
				delete(m, k)
			}
		}
	}
	b.spec = s
	return nil
}

func (b *run) prepareSGLang(ctx context.Context, s *spec, info image.VariantInfo) error {
	changed, err := b.changedPaths(ctx)
	if err != nil {
		return err
	}
	sourceKernel := image.Decide(b.req.Policy, changed)
	rev := s.commit
	if b.req.Variant == "agent" {
		if rev, err = b.tree.WorktreeTree(ctx); err != nil {
			return err
		}
	}
	date, err := image.CommitDate(ctx, b.tree, s.commit)
	if err != nil {
		return err
	}
	facts, err := image.ReadFacts(ctx, b.tree, rev, date)
	if err != nil {
		return err
	}
	pins, err := image.ResolvePins(facts, sourceKernel)
	if err != nil {
		return err
	}
	if pins.Kernel.Mode == image.KernelSource {
		// The setup.py era vendors cutlass & co. as submodules.
		if err := b.tree.InitSubmodules(ctx); err != nil {
			return err
		}
	}
	bl, err := b.selectBuilder(ctx)
	if err != nil {
		return err
	}
	if s.base, s.baseKey, err = image.SGLangBase(pins, filepath.Join(b.tree.Dir, "sgl-kernel"), bl.BuildKit()); err != nil {
		return err
	}
	s.baseRef = b.req.Repository + ":" + image.BaseTag(s.baseKey)
	if s.variant, err = image.SGLangVariant(pins, info, s.baseRef, filepath.Join(b.tree.Dir, "python")); err != nil {
		return err
	}
	switch pins.Kernel.Mode {
	case image.KernelSource:
		s.kernel = "source " + pins.Kernel.Tree
	case image.KernelWheel:
		s.kernel = "wheel " + pins.Kernel.Version
	default:
		s.kernel = "none"
	}
	s.importCheck = pins.ImportCheck
	s.baseLabels[image.LabelTorch] = pins.Torch + "+" + pins.TorchIndex
	s.baseLabels[image.LabelCUDA] = pins.CUDA
	if pins.Flashinfer.Package != "" {
		s.baseLabels[image.LabelFlashinfer] = pins.Flashinfer.Package + "==" + pins.Flashinfer.Version
	}
	return nil
}

func (b *run) prepareStandin(ctx context.Context, s *spec, info image.VariantInfo) error {
	dir, err := toolkitDir(ctx, b.req.Standin)
	if err != nil {
		return err
	}
	py, err := buildStandin(ctx, dir, b.req.Standin, b.work)
	if err != nil {
		return err
	}
	libs, err := readKernelLibs(b.req.Standin.KernelLibs, dir)
	if err != nil {
		return err
	}
	if s.base, s.baseKey, err = image.StandinBase(py, libs); err != nil {
		return err
	}
	s.baseRef = b.req.Repository + ":" + image.BaseTag(s.baseKey)
	cfg, err := os.ReadFile(filepath.Join(b.tree.Dir, "standin.json"))
	if errors.Is(err, os.ErrNotExist) {
		cfg, err = nil, nil
	}
	if err != nil {
		return err
	}
	if s.variant, err = image.StandinVariant(info, s.baseRef, cfg); err != nil {
		return err
	}
	names := make([]string, 0, len(libs))
	for n := range libs {
		names = append(names, n)
	}
	sort.Strings(names)
	s.kernel = "fixture " + strings.Join(names, ",")
	s.importCheck = "import sgl_kernel, sglang"
	return nil
}
