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
	// KernelLibs is a directory of fixture kernel libraries (*.so) to put
	// where verification looks for sgl_kernel's.
	KernelLibs string
}

// buildStandin compiles the stand-in statically for the daemon's platform.
// -trimpath and no VCS stamp make the binary, hence the base key, a
// function of the source alone.
func buildStandin(ctx context.Context, in StandinInputs, work string) ([]byte, error) {
	dir := in.ToolkitDir
	if dir == "" {
		out, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
		if err != nil || strings.TrimSpace(string(out)) == "" || strings.TrimSpace(string(out)) == os.DevNull {
			return nil, fmt.Errorf("toolkit-dir: not inside the commitbench module (go env GOMOD: %q); pass toolkit-dir", strings.TrimSpace(string(out)))
		}
		dir = filepath.Dir(strings.TrimSpace(string(out)))
	}
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

// readKernelLibs reads the *.so files of dir.
func readKernelLibs(dir string) (map[string][]byte, error) {
	if dir == "" {
		return nil, fmt.Errorf("kernel-libs: empty; the stand-in image needs at least one kernel library (.so) to verify, e.g. testdata/fixtures/gpu/so")
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("kernel-libs: %w", err)
	}
	libs := map[string][]byte{}
	var names []string
	for _, e := range ents {
		if e.Type().IsRegular() && sharedLib.MatchString(e.Name()) {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	for _, n := range names {
		b, err := os.ReadFile(filepath.Join(dir, n))
		if err != nil {
			return nil, err
		}
		libs[n] = b
	}
	if len(libs) == 0 {
		return nil, fmt.Errorf("kernel-libs: no .so file in %s", dir)
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
