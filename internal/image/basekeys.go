package image

import (
	"context"
	"fmt"
	"os"
	"sort"

	"github.com/commitbench/commitbench/internal/plan"
	"github.com/commitbench/commitbench/internal/source"
)

// Summary is what plan prints about image builds: how many variant images
// and how many distinct bases (and among them kernel compilations) a set
// of cases needs.
type Summary struct {
	// VariantImages counts the variants whose base key could be computed.
	VariantImages int `json:"variant_images"`
	// BaseImages counts distinct base keys; KernelBuilds those among them
	// that compile sgl-kernel from source (the expensive ones, 15-60 min).
	BaseImages   int `json:"base_images"`
	KernelBuilds int `json:"kernel_builds"`
	// Variants has one entry per computed variant, in case order.
	Variants []VariantKey `json:"variants"`
	// Problems lists variants that could not be keyed and why, as
	// "case <id>: <variant>: <problem>"; they will fail at build time too.
	Problems []string `json:"problems,omitempty"`
}

// VariantKey is one variant's base.
type VariantKey struct {
	Case    string     `json:"case"`
	Variant string     `json:"variant"`
	Key     string     `json:"key"`
	Kernel  KernelMode `json:"kernel"`
	// KernelID is the pinned version (wheel) or the sgl-kernel tree id (source).
	KernelID string `json:"kernel_id,omitempty"`
	Torch    string `json:"torch"`
}

func (s Summary) String() string {
	return fmt.Sprintf("kernel builds needed: %d for %d variant images (%d distinct base images)", s.KernelBuilds, s.VariantImages, s.BaseImages)
}

// BaseKeys computes the base key of every runnable variant of cases from
// repoPath, a local clone of the engine repository holding their commits
// (plan's --engine-repo), using git alone: no checkout, no Docker. The
// keys are the ones build-image computes for the same variants, so the
// counts are what a run will build. An agent patch is read from the path
// the plan names and applied to a scratch index.
func BaseKeys(ctx context.Context, repoPath string, cases []*plan.Case, policy KernelPolicy) (Summary, error) {
	repo := &source.Repo{Dir: repoPath}
	if !repo.IsRepo(ctx) {
		return Summary{}, fmt.Errorf("engine repository %s: not a git repository; clone the engine repository and pass its path", repoPath)
	}
	var s Summary
	keys := map[string]KernelMode{}
	for _, c := range cases {
		if !c.Runnable {
			continue
		}
		sourceKernel, patches, err := caseKernelPolicy(ctx, repo, c, policy)
		if err != nil {
			s.Problems = append(s.Problems, fmt.Sprintf("case %s: %v", c.ID, err))
			continue
		}
		for _, v := range c.Variants {
			if !v.Runnable {
				continue
			}
			vk, err := variantKey(ctx, repo, c, v, patches[v.Name], sourceKernel)
			if err != nil {
				s.Problems = append(s.Problems, fmt.Sprintf("case %s: %s: %v", c.ID, v.Name, err))
				continue
			}
			s.Variants = append(s.Variants, vk)
			keys[vk.Key] = vk.Kernel
		}
	}
	s.VariantImages = len(s.Variants)
	s.BaseImages = len(keys)
	for _, m := range keys {
		if m == KernelSource {
			s.KernelBuilds++
		}
	}
	sort.Strings(s.Problems)
	return s, nil
}

// caseKernelPolicy decides, once per case, whether its variants compile
// sgl-kernel, from the human diff (the plan's files, else git) and the
// agent patch; it returns the patches read, by variant name.
func caseKernelPolicy(ctx context.Context, repo *source.Repo, c *plan.Case, policy KernelPolicy) (bool, map[string][]byte, error) {
	patches := map[string][]byte{}
	changed := append([]string(nil), c.FilesChanged...)
	if len(changed) == 0 && policy == PolicyAuto {
		var err error
		if changed, err = repo.ChangedPaths(ctx, c.Parent, c.Commit); err != nil {
			return false, nil, fmt.Errorf("files changed by %s: %v", c.Commit, err)
		}
	}
	for _, v := range c.Variants {
		if v.Patch == "" || !v.Runnable {
			continue
		}
		p, err := os.ReadFile(v.Patch)
		if err != nil {
			return false, nil, fmt.Errorf("variants.%s.patch: %v; the kernel policy needs every patch of the case", v.Name, err)
		}
		patches[v.Name] = p
		changed = append(changed, source.PatchedPaths(p)...)
	}
	return Decide(policy, changed), patches, nil
}

// VariantCommit is the tree a variant builds: the plan's commit for it,
// else the case's commit for human and the parent for baseline and agent.
// plan's base keys and build-image's builds both use it, so that the keys
// plan counts are the ones a run builds.
func VariantCommit(c *plan.Case, variant string) string {
	if v := c.Variant(variant); v != nil && v.Commit != "" {
		return v.Commit
	}
	if variant == "human" {
		return c.Commit
	}
	return c.Parent
}

func variantKey(ctx context.Context, repo *source.Repo, c *plan.Case, v plan.Variant, patch []byte, sourceKernel bool) (VariantKey, error) {
	commit := VariantCommit(c, v.Name)
	if !repo.HasCommit(ctx, commit) {
		return VariantKey{}, fmt.Errorf("commit %s is not in the engine repository; fetch it (git fetch origin %s)", commit, commit)
	}
	date, err := CommitDate(ctx, repo, commit)
	if err != nil {
		return VariantKey{}, err
	}
	rev := commit
	if patch != nil {
		if rev, _, err = repo.PatchedTree(ctx, commit, patch); err != nil {
			return VariantKey{}, fmt.Errorf("patch does not apply to %s (the build will report PATCH_FAILED): %v", commit, err)
		}
	}
	f, err := ReadFacts(ctx, repo, rev, date)
	if err != nil {
		return VariantKey{}, err
	}
	pins, err := ResolvePins(f, sourceKernel)
	if err != nil {
		return VariantKey{}, err
	}
	_, key, err := SGLangBase(pins, "", false)
	if err != nil {
		return VariantKey{}, err
	}
	id := pins.Kernel.Version
	if pins.Kernel.Mode == KernelSource {
		id = pins.Kernel.Tree
	}
	return VariantKey{Case: c.ID, Variant: v.Name, Key: key, Kernel: pins.Kernel.Mode, KernelID: id, Torch: pins.Torch}, nil
}
