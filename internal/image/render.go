package image

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"sort"
	"strings"
	"text/template"
)

//go:embed templates/*.tmpl
var templatesFS embed.FS

var templates = template.Must(template.New("").ParseFS(templatesFS, "templates/*.tmpl"))

// Engine selects the Dockerfile templates.
type Engine string

// Engines.
const (
	// EngineSGLang builds the real engine from the variant's tree.
	EngineSGLang Engine = "sglang"
	// EngineStandin builds FROM scratch images holding the stand-in engine
	// (cmd/sglang-standin) and fixture kernel libraries: same checkout,
	// patch, labels, verification, push and idempotency as sglang.
	EngineStandin Engine = "standin"
)

// ParseEngine validates the engine input.
func ParseEngine(s string) (Engine, error) {
	switch e := Engine(strings.TrimSpace(s)); e {
	case "", EngineSGLang:
		return EngineSGLang, nil
	case EngineStandin:
		return e, nil
	}
	return "", fmt.Errorf("engine: %q is not an engine; use sglang or standin", s)
}

// KernelDirs are the directories, inside an image, whose shared libraries
// are verified before push: the packages that carry the compiled kernels
// (vllm provided SGLang's until 2025-03). Paths follow the Ubuntu 22.04
// python3.10 of the base image.
func (e Engine) KernelDirs() []string {
	if e == EngineStandin {
		return []string{StandinKernelDir}
	}
	const site = "/usr/local/lib/python3.10/dist-packages/"
	return []string{site + "sgl_kernel", site + "flashinfer", site + "vllm"}
}

// StandinKernelDir is where the stand-in image holds its kernel libraries.
const StandinKernelDir = "/usr/lib/python3/dist-packages/sgl_kernel"

// File is one entry of a build context.
type File struct {
	// Path is the path in the context ("sgl-kernel", "requirements.txt").
	Path string
	// Data is generated content; Src a file or directory on disk. One of them.
	Data []byte
	Src  string
	Mode int64
	// Digest identifies the content for the base key: "sha256:<hex>" of a
	// file, or "git-tree:<id>" of a directory taken from git.
	Digest string
}

// Context is a build context: a Dockerfile and the files it copies.
type Context struct {
	Dockerfile []byte
	Files      []File
}

// Key is the content key of a base image: sha256 over the canonical
// Dockerfile (which names the exact torch, CUDA, flashinfer, kernel pin or
// tree, and arch flags) and the digests of the files it copies. Equal keys
// mean the same base, built once and reused (tag base-<key12>).
func Key(canonicalDockerfile []byte, files []File) string {
	h := sha256.New()
	fmt.Fprintf(h, "commitbench base/v1\n%d\n", len(canonicalDockerfile))
	h.Write(canonicalDockerfile)
	fs := append([]File(nil), files...)
	sort.Slice(fs, func(i, j int) bool { return fs[i].Path < fs[j].Path })
	for _, f := range fs {
		d := f.Digest
		if d == "" && f.Data != nil {
			d = DigestBytes(f.Data)
		}
		fmt.Fprintf(h, "%s %o %s\n", f.Path, f.Mode, d)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// DigestBytes is the "sha256:<hex>" digest of b.
func DigestBytes(b []byte) string {
	s := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(s[:])
}

func render(name string, data any) ([]byte, error) {
	var b bytes.Buffer
	if err := templates.ExecuteTemplate(&b, name, data); err != nil {
		return nil, fmt.Errorf("rendering %s: %w", name, err)
	}
	return b.Bytes(), nil
}

// SGLangBase renders the base image of pins. kernelSrc is the sgl-kernel
// directory on disk for a source build ("" to compute the key only);
// buildKit adds the ccache cache mount, which the key ignores because it
// does not change what is built.
func SGLangBase(p *Pins, kernelSrc string, buildKit bool) (Context, string, error) {
	canonical, err := render("sglang-base.Dockerfile.tmpl", map[string]any{"Pins": p, "BuildKit": false})
	if err != nil {
		return Context{}, "", err
	}
	var files []File
	if p.Kernel.Mode == KernelSource {
		files = append(files, File{Path: "sgl-kernel", Src: kernelSrc, Mode: 0o755, Digest: "git-tree:" + p.Kernel.Tree})
	}
	key := Key(canonical, files)
	df := canonical
	if buildKit {
		if df, err = render("sglang-base.Dockerfile.tmpl", map[string]any{"Pins": p, "BuildKit": true}); err != nil {
			return Context{}, "", err
		}
	}
	return Context{Dockerfile: df, Files: files}, key, nil
}

// VariantInfo names the variant a variant image is built for.
type VariantInfo struct {
	Variant  string
	Revision string // the commit of the variant's tree
	PatchSHA string // sha256 of the agent patch, "" otherwise
}

// SGLangVariant renders the variant image over baseRef: the variant's
// python/ (pythonSrc on disk) and its requirements.
func SGLangVariant(p *Pins, v VariantInfo, baseRef, pythonSrc string) (Context, error) {
	df, err := render("sglang-variant.Dockerfile.tmpl", map[string]any{
		"Pins": p, "BaseRef": baseRef, "Variant": v.Variant, "Revision": v.Revision, "PatchSHA": short(v.PatchSHA)})
	if err != nil {
		return Context{}, err
	}
	return Context{Dockerfile: df, Files: []File{
		{Path: "requirements.txt", Data: RequirementsTxt(p), Mode: 0o644},
		{Path: "python", Src: pythonSrc, Mode: 0o755},
	}}, nil
}

// RequirementsTxt is the variant's dependency list, one per line.
func RequirementsTxt(p *Pins) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "# python/pyproject.toml [%s] minus what the base provides (torch, vllm, flashinfer, sgl-kernel)\n", p.Extra)
	for _, r := range p.Requirements {
		b.WriteString(r.String() + "\n")
	}
	return []byte(b.String())
}

// StandinBase renders the stand-in's base: python3 is the stand-in binary,
// libs the kernel libraries (file name -> contents) that verification reads.
func StandinBase(python3 []byte, libs map[string][]byte) (Context, string, error) {
	df, err := render("standin-base.Dockerfile.tmpl", map[string]any{"KernelDir": StandinKernelDir})
	if err != nil {
		return Context{}, "", err
	}
	files := []File{{Path: "python3", Data: python3, Mode: 0o755}, {Path: "kernel-libs", Mode: 0o755, Digest: "dir"}}
	for name, data := range libs {
		files = append(files, File{Path: "kernel-libs/" + name, Data: data, Mode: 0o755})
	}
	return Context{Dockerfile: df, Files: files}, Key(df, files), nil
}

// StandinVariant renders the stand-in variant: the base plus the tree's
// standin.json (nil when the tree has none).
func StandinVariant(v VariantInfo, baseRef string, standinJSON []byte) (Context, error) {
	df, err := render("standin-variant.Dockerfile.tmpl", map[string]any{
		"BaseRef": baseRef, "Variant": v.Variant, "Revision": v.Revision, "PatchSHA": short(v.PatchSHA),
		"HasStandinConfig": standinJSON != nil})
	if err != nil {
		return Context{}, err
	}
	c := Context{Dockerfile: df}
	if standinJSON != nil {
		c.Files = append(c.Files, File{Path: "standin.json", Data: standinJSON, Mode: 0o644})
	}
	return c, nil
}

func short(sha string) string {
	if len(sha) > 12 {
		return sha[:12]
	}
	return sha
}
