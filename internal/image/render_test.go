package image

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/commitbench/commitbench/internal/source"
)

// eraCase is one real commit of the fixture list, its minimal tree in
// testdata/eras (constructed from notes/sglang.md; see its README).
type eraCase struct {
	dir    string
	date   string // committer date from sglang-cases.csv
	source bool   // the case changes sgl-kernel/, so kernel auto builds it
}

var eraCases = []eraCase{
	{"2024-09-ab4a83b2", "2024-09-05T14:30:26-07:00", false},
	{"2025-02-ddcf9fe3", "2025-02-21T00:54:41+08:00", false},
	{"2025-03-25e1816e", "2025-03-16T12:16:30-07:00", true},
	{"2025-06-ff00895c", "2025-06-02T17:37:34-07:00", true},
	{"2025-06-021f76e4", "2025-06-11T16:18:57-07:00", false},
}

// pinsOf commits an era tree to a synthetic repository and resolves its
// pins through the same git reads build-image and plan use.
func pinsOf(t *testing.T, c eraCase, sourceKernel bool) *Pins {
	t.Helper()
	g := newGitRepo(t)
	commit := g.commitDir(filepath.Join("testdata", "eras", c.dir), c.date, c.dir)
	ctx := context.Background()
	repo := &source.Repo{Dir: g.Dir}
	date, err := CommitDate(ctx, repo, commit)
	if err != nil {
		t.Fatal(err)
	}
	f, err := ReadFacts(ctx, repo, commit, date)
	if err != nil {
		t.Fatal(err)
	}
	p, err := ResolvePins(f, sourceKernel)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestGoldenDockerfiles(t *testing.T) {
	for _, c := range eraCases {
		t.Run(c.dir, func(t *testing.T) {
			p := pinsOf(t, c, c.source)
			for _, buildKit := range []bool{false, true} {
				ctx, key, err := SGLangBase(p, "/src/sgl-kernel", buildKit)
				if err != nil {
					t.Fatal(err)
				}
				name := c.dir + ".base.Dockerfile"
				if buildKit {
					name = c.dir + ".base-buildkit.Dockerfile"
					if p.Kernel.Mode != KernelSource {
						continue // identical without a kernel compilation
					}
				}
				golden(t, name+".golden", ctx.Dockerfile)
				v, err := SGLangVariant(p, VariantInfo{Variant: "human", Revision: "0123456789abcdef0123456789abcdef01234567"}, "ghcr.io/o/sglang-bench:"+BaseTag(key), "/src/python")
				if err != nil {
					t.Fatal(err)
				}
				golden(t, c.dir+".variant.Dockerfile.golden", v.Dockerfile)
				golden(t, c.dir+".requirements.txt.golden", RequirementsTxt(p))
			}
		})
	}
}

// The facts each era's image must carry (notes/sglang.md §3).
func TestEraPins(t *testing.T) {
	cases := []struct {
		era                          eraCase
		torch, cuda, index           string
		flashinfer, flashinferFind   string
		kernel                       KernelMode
		kernelVersion, vllm, imports string
	}{
		{eraCases[0], "2.4.0", "12.4.1", "cu124", "flashinfer==0.1.6", "https://flashinfer.ai/whl/cu124/torch2.4/flashinfer/", KernelNone, "", "vllm==0.5.5", "import sglang"},
		{eraCases[1], "2.5.1", "12.4.1", "cu124", "flashinfer_python==0.2.1.post2", "https://flashinfer.ai/whl/cu124/torch2.5/flashinfer-python/", KernelWheel, "0.0.3.post6", "vllm>=0.6.4.post1,<=0.7.2", "import sgl_kernel, sglang"},
		{eraCases[2], "2.5.1", "12.4.1", "cu124", "flashinfer_python==0.2.3", "https://flashinfer.ai/whl/cu124/torch2.5/flashinfer-python/", KernelSource, "0.0.5.post2", "vllm>=0.6.4.post1,<=0.7.2", "import sgl_kernel, sglang"},
		{eraCases[3], "2.6.0", "12.4.1", "cu124", "flashinfer_python==0.2.5", "https://flashinfer.ai/whl/cu124/torch2.6/flashinfer-python/", KernelSource, "0.1.6", "", "import sgl_kernel, sglang"},
		{eraCases[4], "2.7.1", "12.6.1", "cu126", "flashinfer_python==0.2.6.post1", "", KernelWheel, "0.1.7", "", "import sgl_kernel, sglang"},
	}
	for _, c := range cases {
		t.Run(c.era.dir, func(t *testing.T) {
			p := pinsOf(t, c.era, c.era.source)
			got := []string{p.Torch, p.CUDA, p.TorchIndex, p.Flashinfer.Package + "==" + p.Flashinfer.Version, p.Flashinfer.FindLinks, string(p.Kernel.Mode), p.Kernel.Version, p.Vllm, p.ImportCheck}
			want := []string{c.torch, c.cuda, c.index, c.flashinfer, c.flashinferFind, string(c.kernel), c.kernelVersion, c.vllm, c.imports}
			if strings.Join(got, " | ") != strings.Join(want, " | ") {
				t.Fatalf("\ngot  %s\nwant %s", strings.Join(got, " | "), strings.Join(want, " | "))
			}
			for _, r := range p.Requirements {
				if r.Name == "torch" || r.Name == "sgl-kernel" || strings.HasPrefix(r.Name, "flashinfer") || r.Name == "vllm" {
					t.Errorf("%s is in the variant's requirements; the base provides it", r)
				}
			}
		})
	}
}

// The same case with kernel pinned uses the wheel, and the base key says so.
func TestKernelPolicyChangesKey(t *testing.T) {
	c := eraCases[3]
	src, wheel := pinsOf(t, c, true), pinsOf(t, c, false)
	if src.Kernel.Mode != KernelSource || wheel.Kernel.Mode != KernelWheel || wheel.Kernel.Version != "0.1.6" {
		t.Fatalf("modes %s/%s", src.Kernel.Mode, wheel.Kernel.Mode)
	}
	if !strings.Contains(strings.Join(src.Kernel.Flags, " "), "ENABLE_BELOW_SM90=OFF") {
		t.Fatalf("CMake era after 2025-05-27 must trim below-sm90: %v", src.Kernel.Flags)
	}
	_, k1, _ := SGLangBase(src, "", false)
	_, k2, _ := SGLangBase(wheel, "", false)
	_, k3, _ := SGLangBase(src, "", true)
	if k1 == k2 || k1 != k3 {
		t.Fatalf("keys: source %s wheel %s source+buildkit %s", k1, k2, k3)
	}
}

func TestBrokenKernelPyproject(t *testing.T) {
	g := newGitRepo(t)
	commit := g.commitDir(filepath.Join("testdata", "eras", "2025-03-broken-2a4cbad8"), "2025-03-13T10:00:00Z", "broken")
	ctx := context.Background()
	repo := &source.Repo{Dir: g.Dir}
	f, err := ReadFacts(ctx, repo, commit, time.Date(2025, 3, 13, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	// The pinned wheel never reads the tree's sgl-kernel/pyproject.toml ...
	if _, err := ResolvePins(f, false); err != nil {
		t.Fatalf("wheel build of the broken commit: %v", err)
	}
	// ... a source build must, and must say what is wrong where.
	_, err = ResolvePins(f, true)
	var te *TreeError
	if !errors.As(err, &te) || te.File != "sgl-kernel/pyproject.toml" || !strings.Contains(err.Error(), "line 7") {
		t.Fatalf("err = %v, want a TreeError for sgl-kernel/pyproject.toml at line 7", err)
	}
}

func TestRequirements(t *testing.T) {
	cases := []struct {
		in, name, spec, exact string
	}{
		{"sgl-kernel>=0.0.2.post8", "sgl-kernel", ">=0.0.2.post8", "0.0.2.post8"},
		{"sgl_kernel==0.1.9", "sgl-kernel", "==0.1.9", "0.1.9"},
		{"flashinfer_python >= 0.2.1.post2", "flashinfer-python", ">=0.2.1.post2", "0.2.1.post2"},
		{"vllm>=0.6.4.post1,<=0.7.2", "vllm", ">=0.6.4.post1,<=0.7.2", ""},
		{"torch", "torch", "", ""},
		{"outlines>=0.0.44,<0.1.0", "outlines", ">=0.0.44,<0.1.0", ""},
		{"uvloop; sys_platform != 'win32'", "uvloop", "", ""},
		{"sglang[srt, openai]", "sglang", "", ""},
		{"torch~=2.5", "torch", "~=2.5", ""},
	}
	for _, c := range cases {
		r, err := ParseRequirement(c.in)
		if err != nil {
			t.Fatal(err)
		}
		if r.Name != c.name || r.Spec != c.spec || Exact(r.Spec) != c.exact {
			t.Errorf("%q: name %q spec %q exact %q", c.in, r.Name, r.Spec, Exact(r.Spec))
		}
	}
}
