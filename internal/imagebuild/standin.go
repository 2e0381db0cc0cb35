package imagebuild

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// StandinInputs locate what the stand-in image is made of.
type StandinInputs struct {
	// ToolkitDir is commitbench's module root; "" finds it with go env GOMOD.
	ToolkitDir string
	// Package is the Go package built into /usr/bin/python3
	// (default ./cmd/sglang-standin).
	Package string
	// KernelLibs names fixture kernel libraries (files or directories of
	// *.so, comma-separated) to put where verification looks for
	// sgl_kernel's; empty: DefaultStandinKernelLib.
	KernelLibs string
}

// toolkitDir is commitbench's module root: where the stand-in is built
// from and where default fixture paths are resolved.
func toolkitDir(ctx context.Context, in StandinInputs) (string, error) {
	if in.ToolkitDir != "" {
		return in.ToolkitDir, nil
	}
	out, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	mod := strings.TrimSpace(string(out))
	if err != nil || mod == "" || mod == os.DevNull {
		return "", fmt.Errorf("toolkit-dir: not inside the commitbench module (go env GOMOD: %q); pass toolkit-dir", mod)
	}
	return filepath.Dir(mod), nil
}

// buildStandin compiles the stand-in statically for the daemon's platform.
// -trimpath and no VCS stamp make the binary, hence the base key, a
// function of the source alone.
func buildStandin(ctx context.Context, dir string, in StandinInputs, work string) ([]byte, error) {
	pkg := in.Package
	if pkg == "" {
		pkg = "./cmd/sglang-standin"
	}
	bin := filepath.Join(work, "python3")
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-buildvcs=false", "-ldflags=-s -w", "-o", bin, pkg)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+runtime.GOARCH)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("building the stand-in (%s in %s): %v\n%s", pkg, dir, err, out.String())
	}
	return os.ReadFile(bin)
}

// DefaultStandinKernelLib is the library a stand-in image carries when
// none is named: real sm_90a machine code captured on an H100, so that the
// verification before push runs on real fat binaries.
const DefaultStandinKernelLib = "testdata/fixtures/gpu/so/libsm90a.so"

// readKernelLibs reads the kernel libraries named by spec: files or
// directories (their *.so files), separated by commas; relative paths are
// resolved in toolkitDir when they do not exist as given.
func readKernelLibs(spec, toolkitDir string) (map[string][]byte, error) {
	if strings.TrimSpace(spec) == "" {
		spec = DefaultStandinKernelLib
	}
	libs := map[string][]byte{}
	for _, p := range strings.Split(spec, ",") {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		st, err := os.Stat(p)
		if err != nil && !filepath.IsAbs(p) && toolkitDir != "" {
			p = filepath.Join(toolkitDir, p)
			st, err = os.Stat(p)
		}
		if err != nil {
			return nil, fmt.Errorf("kernel-libs: %w", err)
		}
		files := []string{p}
		if st.IsDir() {
			ents, err := os.ReadDir(p)
			if err != nil {
				return nil, fmt.Errorf("kernel-libs: %w", err)
			}
			files = files[:0]
			for _, e := range ents {
				if e.Type().IsRegular() && sharedLib.MatchString(e.Name()) {
					files = append(files, filepath.Join(p, e.Name()))
				}
			}
			sort.Strings(files)
		}
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				return nil, err
			}
			libs[filepath.Base(f)] = b
		}
	}
	if len(libs) == 0 {
		return nil, fmt.Errorf("kernel-libs: no .so file in %s", spec)
	}
	return libs, nil
}

// loadTarball opens a `docker save` archive as the image tagged ref.
func loadTarball(file, ref string) (v1.Image, error) {
	tag, err := name.NewTag(ref)
	if err != nil {
		return nil, err
	}
	return tarball.ImageFromPath(file, &tag)
}
