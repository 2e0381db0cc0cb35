package image

import (
	"fmt"
	"strings"
	"time"
)

// Pins are the exact versions a variant's base image installs, read from
// the variant's own tree and, where the tree pins nothing, from the era
// tables in era.go. Every field ends up in the rendered Dockerfile, hence
// in the base key.
type Pins struct {
	// CUDA is the toolkit of the base image: >= 12.4, so nvcc knows sm_90a.
	CUDA      string
	BaseImage string
	Torch     string
	// TorchSource says where the torch version came from.
	TorchSource   string
	TorchIndex    string // "cu124"
	TorchIndexURL string
	// Vllm is the vllm requirement of the eras in which vllm provided the
	// kernels (until 2025-03-26), an open ">=" made exact; "" otherwise.
	Vllm       string
	Flashinfer Flashinfer
	Kernel     Kernel
	// Extra is the optional-dependency group installed: "all" like
	// SGLang's own images, else "srt".
	Extra string
	// Requirements are the variant's Python dependencies minus what the
	// base provides (torch, vllm, flashinfer, sgl-kernel).
	Requirements []Requirement
	// ImportCheck is the Python run in the image, without a GPU, before push.
	ImportCheck string
}

// Flashinfer is the flashinfer package of the base.
type Flashinfer struct {
	Package   string // "flashinfer" before 2025-02-04, then "flashinfer_python"; "" for none
	Version   string
	FindLinks string
	Source    string
}

// KernelMode is how sgl-kernel gets into the base.
type KernelMode string

// Kernel modes.
const (
	KernelNone   KernelMode = "none"   // the commit does not use sgl-kernel
	KernelWheel  KernelMode = "wheel"  // the pinned wheel
	KernelSource KernelMode = "source" // compiled from the variant's tree
)

// Kernel describes the sgl-kernel of the base.
type Kernel struct {
	Mode KernelMode
	// Version is the pinned wheel's version (wheel) or the tree's own
	// sgl-kernel/pyproject.toml version (source).
	Version string
	// Era is "setup.py" or "cmake" for a source build.
	Era string
	// Tree is the git tree id of sgl-kernel/ (source).
	Tree string
	// Flags are the arch/feature settings of a source build: environment
	// assignments (setup.py) or cmake.define settings (cmake).
	Flags []string
	Why   string
}

// KernelPolicy is the kernel input.
type KernelPolicy string

// Kernel policies.
const (
	// PolicyAuto compiles sgl-kernel from each variant's tree when the
	// case's change (the human diff or the agent patch) touches
	// sgl-kernel/, and uses the pinned wheel for all variants otherwise.
	PolicyAuto   KernelPolicy = "auto"
	PolicyPinned KernelPolicy = "pinned"
	PolicySource KernelPolicy = "source"
)

// ParsePolicy validates the kernel input.
func ParsePolicy(s string) (KernelPolicy, error) {
	switch p := KernelPolicy(strings.TrimSpace(s)); p {
	case "", PolicyAuto:
		return PolicyAuto, nil
	case PolicyPinned, PolicySource:
		return p, nil
	}
	return "", fmt.Errorf("kernel: %q is not a policy; use auto, pinned or source", s)
}

// TouchesKernel reports whether any of paths is under sgl-kernel/.
func TouchesKernel(paths []string) bool {
	for _, p := range paths {
		if strings.HasPrefix(p, "sgl-kernel/") {
			return true
		}
	}
	return false
}

// Facts are what pins are derived from: the variant tree's files.
type Facts struct {
	Date time.Time
	// Python is python/pyproject.toml.
	Python []byte
	// KernelPyproject, KernelSetupPy and KernelCMake are files of
	// sgl-kernel/ (nil when absent); KernelTree is its git tree id.
	KernelPyproject, KernelSetupPy, KernelCMake []byte
	KernelTree                                  string
}

// ResolvePins computes the pins of a variant. sourceKernel says whether
// the case builds sgl-kernel from source (see Decide).
func ResolvePins(f Facts, sourceKernel bool) (*Pins, error) {
	py, err := parsePyproject("python/pyproject.toml", f.Python)
	if err != nil {
		return nil, err
	}
	p := &Pins{Extra: "srt"}
	if _, ok := py.Project.OptionalDependencies["all"]; ok {
		p.Extra = "all"
	} else if _, ok := py.Project.OptionalDependencies["srt"]; !ok {
		return nil, &TreeError{File: "python/pyproject.toml", Err: fmt.Errorf("no [project.optional-dependencies] srt or all (has %v)", py.extras())}
	}
	reqs, err := py.expandExtra(p.Extra)
	if err != nil {
		return nil, &TreeError{File: "python/pyproject.toml", Err: err}
	}
	if err := p.resolveTorch(reqs, f.Date); err != nil {
		return nil, err
	}
	p.resolveFlashinfer(reqs, f.Date)
	if err := p.resolveKernel(reqs, f, sourceKernel); err != nil {
		return nil, err
	}
	provided := map[string]bool{"torch": true, "vllm": true, "flashinfer": true, "flashinfer-python": true, "sgl-kernel": true}
	for _, r := range reqs {
		if !provided[r.Name] {
			p.Requirements = append(p.Requirements, r)
		}
	}
	p.ImportCheck = "import sglang"
	if p.Kernel.Mode != KernelNone && f.Date.Before(kernelNeedsGPUToImport) {
		p.ImportCheck = "import sgl_kernel, sglang"
	}
	return p, nil
}

func (p *Pins) resolveTorch(reqs []Requirement, date time.Time) error {
	vllm, hasVllm := find(reqs, "vllm")
	if hasVllm {
		// vllm is installed in the base whether or not torch is pinned too
		// (both were, 2025-02-24 .. 2025-03-26).
		p.Vllm = "vllm" + vllm.Spec
		if v := Exact(vllm.Spec); v != "" {
			p.Vllm = "vllm==" + v
		}
	}
	switch r, ok := find(reqs, "torch"); {
	case ok && Exact(r.Spec) != "":
		p.Torch, p.TorchSource = Exact(r.Spec), "pinned by python/pyproject.toml: torch"+r.Spec
	case hasVllm:
		v := Exact(vllm.Spec)
		if v == "" {
			v = LowerBound(vllm.Spec)
		}
		t, known := torchForVllm[v]
		if !known {
			return &TreeError{File: "python/pyproject.toml", Err: fmt.Errorf("vllm%s: no torch version known for vllm %q; add it to torchForVllm in internal/image/era.go", vllm.Spec, v)}
		}
		p.Torch, p.TorchSource = t, "the torch vllm=="+v+" requires (python/pyproject.toml: vllm"+vllm.Spec+")"
	default:
		p.Torch = eraTorch(date)
		p.TorchSource = "era default for " + date.UTC().Format("2006-01-02") + ": the commit pins no torch"
	}
	p.CUDA, p.TorchIndex = cudaForTorch(p.Torch)
	p.TorchIndexURL = pytorchIndex + "/" + p.TorchIndex
	p.BaseImage = "nvidia/cuda:" + p.CUDA + "-cudnn-devel-ubuntu22.04"
	return nil
}

func (p *Pins) resolveFlashinfer(reqs []Requirement, date time.Time) {
	mm := minor(p.Torch)
	if r, ok := find(reqs, "flashinfer_python", "flashinfer"); ok && Exact(r.Spec) != "" {
		pkg := "flashinfer"
		if r.Name == "flashinfer-python" {
			pkg = "flashinfer_python"
		}
		p.Flashinfer = Flashinfer{Package: pkg, Version: Exact(r.Spec), Source: "pinned by python/pyproject.toml: " + r.Name + r.Spec}
	} else if v, ok := flashinferForTorch[mm]; ok {
		p.Flashinfer = Flashinfer{Package: "flashinfer", Version: v, Source: "era default for torch " + mm + ": the commit pins no flashinfer"}
		if !date.Before(flashinferRenamed) {
			p.Flashinfer.Package = "flashinfer_python"
		}
	} else {
		return
	}
	// flashinfer's own index carries the AOT wheels built per CUDA and torch
	// (SGLang's Dockerfiles until 2025-06); from torch 2.7 the PyPI package
	// is used, as SGLang's own images did.
	if versionLess(mm, "2.7") {
		dir := "flashinfer"
		if p.Flashinfer.Package == "flashinfer_python" {
			dir = "flashinfer-python"
		}
		p.Flashinfer.FindLinks = fmt.Sprintf("%s/%s/torch%s/%s/", flashinferIndex, p.TorchIndex, mm, dir)
	}
}

// Decide says whether a case builds sgl-kernel from source under policy:
// changed are the paths the case's change touches (the human diff, plus
// the agent patch's files). The answer is the same for every variant of a
// case, so all three are compared on kernels built the same way.
func Decide(policy KernelPolicy, changed []string) bool {
	switch policy {
	case PolicySource:
		return true
	case PolicyPinned:
		return false
	}
	return TouchesKernel(changed)
}

func (p *Pins) resolveKernel(reqs []Requirement, f Facts, source bool) error {
	r, _ := find(reqs, "sgl-kernel")
	pin := Exact(r.Spec)
	hasTree := f.KernelTree != "" && (f.KernelSetupPy != nil || f.KernelPyproject != nil)
	switch {
	case source && hasTree:
		return p.sourceKernel(f, pin)
	case pin != "":
		why := "python/pyproject.toml pins sgl-kernel" + r.Spec
		if !strings.HasPrefix(r.Spec, "==") {
			why += ", made exact"
		}
		p.Kernel = Kernel{Mode: KernelWheel, Version: pin, Why: why}
	default:
		p.Kernel = Kernel{Mode: KernelNone, Why: "the commit does not depend on sgl-kernel"}
	}
	return nil
}

func (p *Pins) sourceKernel(f Facts, pin string) error {
	k := Kernel{Mode: KernelSource, Tree: f.KernelTree, Why: "the case's change touches sgl-kernel/"}
	if f.KernelPyproject != nil {
		kp, err := parsePyproject("sgl-kernel/pyproject.toml", f.KernelPyproject)
		if err != nil {
			return err
		}
		k.Version = kp.Project.Version
		if strings.Contains(kp.BuildSystem.BuildBackend, "scikit_build_core") {
			k.Era = "cmake"
		}
	}
	if k.Era == "" {
		if f.KernelSetupPy == nil {
			return &TreeError{File: "sgl-kernel/", Err: fmt.Errorf("neither setup.py nor a scikit-build-core pyproject.toml")}
		}
		k.Era = "setup.py"
	}
	switch k.Era {
	case "cmake":
		k.Flags = []string{"cmake.define.SGL_KERNEL_ENABLE_SM90A=ON", "cmake.define.SGL_KERNEL_ENABLE_FP8=ON", "cmake.define.SGL_KERNEL_ENABLE_BF16=ON"}
		// The option exists from 2025-05-27; before, sm_75..89 are always built.
		if strings.Contains(string(f.KernelCMake), "ENABLE_BELOW_SM90") {
			k.Flags = append(k.Flags, "cmake.define.ENABLE_BELOW_SM90=OFF")
		}
	default:
		// No GPU is visible in a docker build; without these the wheel has
		// no sm_90a kernels (notes/sglang.md §3.2). Inert before 2025-01-23.
		k.Flags = []string{"SGL_KERNEL_ENABLE_SM90A=1", "SGL_KERNEL_ENABLE_FP8=1", "SGL_KERNEL_ENABLE_BF16=1", "TORCH_CUDA_ARCH_LIST=9.0"}
	}
	if k.Version == "" {
		k.Version = pin
	}
	p.Kernel = k
	return nil
}

// minor returns "2.5" of "2.5.1".
func minor(v string) string {
	parts := strings.SplitN(v, ".", 3)
	if len(parts) < 2 {
		return v
	}
	return parts[0] + "." + parts[1]
}
