package image

import (
	"fmt"
	"strings"
)

// Label keys. The OCI keys are standard; ours share the prefix
// "dev.commitbench." (reverse DNS of a name we use, as the OCI annotation
// rules ask). run-bench reads LabelCUDAArchs to check the GPU before
// starting a container (cudaarch.LabelSupport).
const (
	LabelRevision = "org.opencontainers.image.revision"
	LabelSource   = "org.opencontainers.image.source"
	LabelCreated  = "org.opencontainers.image.created"

	LabelPrefix = "dev.commitbench."
	// LabelCase is the case id; LabelVariant baseline, human or agent.
	LabelCase    = LabelPrefix + "case"
	LabelVariant = LabelPrefix + "variant"
	// LabelCommit is the case's commit (the human one); LabelParent its parent.
	LabelCommit = LabelPrefix + "commit"
	LabelParent = LabelPrefix + "parent"
	// LabelPatchSHA256 is the sha256 of the agent's patch; LabelPatchMethod
	// how it applied (git-apply, git-apply-3way, patch-fuzz).
	LabelPatchSHA256 = LabelPrefix + "patch-sha256"
	LabelPatchMethod = LabelPrefix + "patch-method"
	// LabelCUDAArchs lists the targets every kernel library in the image
	// carries code for, verified by reading them: "sm_90,sm_90a".
	LabelCUDAArchs = LabelPrefix + "cuda-archs"
	// LabelBaseKey is the full content key of the base image.
	LabelBaseKey = LabelPrefix + "base-key"
	// LabelKernel says how sgl-kernel got in: "wheel 0.0.3.post6",
	// "source <tree id>" or "none".
	LabelKernel     = LabelPrefix + "kernel"
	LabelTorch      = LabelPrefix + "torch"
	LabelCUDA       = LabelPrefix + "cuda"
	LabelFlashinfer = LabelPrefix + "flashinfer"
	LabelEngine     = LabelPrefix + "engine"
	// LabelToolkitVersion is the commitbench version that built the image.
	LabelToolkitVersion = LabelPrefix + "toolkit-version"
)

// IdentityLabels are the labels an existing image must match to be
// reused instead of rebuilt: same source, same variant, same patch, same
// base, same engine.
var IdentityLabels = []string{LabelRevision, LabelVariant, LabelPatchSHA256, LabelBaseKey, LabelEngine}

// Tag is the variant image's tag: <commit40>-<variant>[-<patch-sha12>].
// The commit is the case's commit for every variant, so that the three
// images of a case sort together; the revision label holds the tree's own.
func Tag(caseCommit, variant, patchSHA string) string {
	t := caseCommit + "-" + variant
	if patchSHA != "" {
		t += "-" + short(patchSHA)
	}
	return t
}

// BaseTag is the base image's tag.
func BaseTag(key string) string { return "base-" + short(key) }

// ValidateRepository checks an image repository name (no tag) the way
// the registry will, so that a typo fails before a long build.
func ValidateRepository(repo string) error {
	last := repo[strings.LastIndex(repo, "/")+1:]
	if repo == "" || strings.ToLower(repo) != repo || strings.ContainsAny(repo, " @") || strings.Contains(last, ":") {
		return fmt.Errorf("%q: want a lower-case repository path such as ghcr.io/owner/sglang-bench (no tag)", repo)
	}
	return nil
}

// RedactURL removes credentials from an engine repository URL before it
// goes into a label.
func RedactURL(u string) string {
	if at := strings.Index(u, "@"); at > 0 {
		if i := strings.Index(u, "://"); i >= 0 && i < at {
			return u[:i+3] + u[at+1:]
		}
	}
	return u
}
