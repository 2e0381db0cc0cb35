package image

import (
	"strconv"
	"strings"
	"time"
)

// Era tables: what to install when a commit pins nothing. Sources are
// ../shared/notes/sglang.md §3 (SGLang's Dockerfiles and pins, 2024-09 ..
// 2025-12) unless a line says otherwise. docs/build-image.md explains each.

const (
	pytorchIndex    = "https://download.pytorch.org/whl"
	flashinferIndex = "https://flashinfer.ai/whl"
)

func day(s string) time.Time {
	t, err := time.Parse("2006-01-02", s)
	if err != nil {
		panic(err)
	}
	return t
}

var (
	// flashinferRenamed: python/pyproject.toml names the package
	// flashinfer_python from 2025-02-04 (§3.3).
	flashinferRenamed = day("2025-02-04")
	// kernelNeedsGPUToImport: from 2025-09-28 sgl_kernel picks its sm90 or
	// sm100 build at import time by asking the GPU (§3.2), so importing it
	// without a GPU proves nothing and fails.
	kernelNeedsGPUToImport = day("2025-09-28")
)

// torchEras is torch by commit date for commits that pin neither torch nor
// vllm. From 2025-02-24 python/pyproject.toml pins torch itself (§3.3);
// the earlier rows follow the torch that the era's vllm pins required.
var torchEras = []struct {
	until time.Time
	torch string
}{
	{day("2024-05-01"), "2.1.2"},
	{day("2024-08-01"), "2.3.0"},
	{day("2024-12-04"), "2.4.0"},
	{day("2025-04-20"), "2.5.1"}, // sgl-kernel wheels built against 2.5.1 until 2025-04-20 (§3.2)
	{day("2025-06-09"), "2.6.0"},
}

const latestEraTorch = "2.7.1"

func eraTorch(date time.Time) string {
	for _, e := range torchEras {
		if date.Before(e.until) {
			return e.torch
		}
	}
	return latestEraTorch
}

// torchForVllm: vllm pins torch exactly in its own requirements (vllm's
// release requirements-cuda.txt; not in the notes). SGLang pinned vllm
// 0.5.5 (2024-09), 0.6.3.post1 (2024-10-20), >=0.6.3.post1 (2024-11-18),
// 0.6.4.post1 (2025-01-19), >=0.6.4.post1,<=0.7.2 (2025-02-09) (§3.3).
var torchForVllm = map[string]string{
	"0.2.5": "2.1.2", "0.2.6": "2.1.2", "0.2.7": "2.1.2", "0.3.0": "2.1.2", "0.3.1": "2.1.2",
	"0.3.2": "2.1.2", "0.3.3": "2.1.2", "0.4.0": "2.1.2", "0.4.0.post1": "2.1.2",
	"0.4.1": "2.2.1", "0.4.2": "2.3.0", "0.4.3": "2.3.0", "0.5.0": "2.3.0", "0.5.0.post1": "2.3.0",
	"0.5.1": "2.3.0", "0.5.2": "2.3.1", "0.5.3": "2.3.1", "0.5.3.post1": "2.3.1",
	"0.5.4": "2.4.0", "0.5.5": "2.4.0", "0.6.0": "2.4.0", "0.6.1": "2.4.0", "0.6.1.post2": "2.4.0",
	"0.6.2": "2.4.0", "0.6.3": "2.4.0", "0.6.3.post1": "2.4.0",
	"0.6.4": "2.5.1", "0.6.4.post1": "2.5.1", "0.6.5": "2.5.1", "0.6.6": "2.5.1", "0.6.6.post1": "2.5.1",
	"0.7.0": "2.5.1", "0.7.1": "2.5.1", "0.7.2": "2.5.1",
}

// flashinferForTorch is the flashinfer of eras whose pyproject pins none
// (before 2024-11-29, when SGLang's Dockerfile installed it from
// flashinfer's index for the image's torch). 0.1.6 is the first version
// SGLang pinned (2024-11-29, §3.3) and is published for torch 2.3 and 2.4;
// older torch gets none (SGLang then ran triton attention without it).
var flashinferForTorch = map[string]string{"2.3": "0.1.6", "2.4": "0.1.6"}

// cudaForTorch picks the base image's toolkit and torch's wheel index:
// CUDA 12.4 at least, so that nvcc can emit sm_90a; torch 2.7 ships no
// cu124 wheels, hence 12.6 (SGLang's own default from 2025-06-20, §3.1);
// torch before 2.4 ships only cu121 wheels, which run on the 12.4 toolkit.
func cudaForTorch(torch string) (toolkit, index string) {
	switch {
	case versionLess(torch, "2.4"):
		return "12.4.1", "cu121"
	case versionLess(torch, "2.7"):
		return "12.4.1", "cu124"
	default:
		return "12.6.1", "cu126"
	}
}

// versionLess compares dotted release numbers numerically ("2.10" > "2.7");
// a non-numeric part (".post1", "+cu124") ends the comparison.
func versionLess(a, b string) bool {
	pa, pb := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < len(pa) && i < len(pb); i++ {
		x, e1 := strconv.Atoi(pa[i])
		y, e2 := strconv.Atoi(pb[i])
		if e1 != nil || e2 != nil {
			return pa[i] < pb[i]
		}
		if x != y {
			return x < y
		}
	}
	return len(pa) < len(pb)
}
