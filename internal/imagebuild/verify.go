package imagebuild

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/commitbench/commitbench/internal/cudaarch"
	"github.com/commitbench/commitbench/internal/failure"
)

// Library is one shared library of an image's kernel packages.
type Library struct {
	Path string   `json:"path"`
	SASS []string `json:"sass"`
	PTX  []string `json:"ptx"`
	// Support on the target GPU: native, ptx-only, none, or no-device-code
	// for a CPU-only helper library.
	Support string `json:"support"`
}

// Verification is what the pre-push check found.
type Verification struct {
	Libraries []Library `json:"libraries"`
	// Targets is the cuda-archs label value (cudaarch.ImageTargets).
	Targets  []string `json:"targets"`
	Warnings []string `json:"warnings,omitempty"`
}

var sharedLib = regexp.MustCompile(`\.so(\.\d+)*$`)

// verifyKernels copies the shared libraries under dirs out of image ref and
// checks that a GPU of compute capability cc can run each one. It fails
// CUDA_ARCH for a library without such code (naming it and what it has),
// and for an image with no GPU code at all; PTX-only code is a warning.
func verifyKernels(ctx context.Context, d *Docker, ref string, dirs []string, cc int, work string) (*Verification, *failure.Failure, error) {
	dst, err := os.MkdirTemp(work, "libs-")
	if err != nil {
		return nil, nil, err
	}
	defer os.RemoveAll(dst)
	paths, err := d.CopyDirs(ctx, ref, dirs, dst, func(name string) bool { return sharedLib.MatchString(name) })
	if err != nil {
		return nil, nil, err
	}
	v := &Verification{Libraries: []Library{}}
	var withCode []cudaarch.Archs
	var bad []string
	for _, p := range paths {
		local := filepath.Join(dst, filepath.FromSlash(p))
		a, err := cudaarch.ReadFile(local)
		if err != nil {
			// A .so that is not a readable ELF cannot be loaded either.
			bad = append(bad, fmt.Sprintf("%s: %v", p, strings.TrimPrefix(err.Error(), local+": ")))
			continue
		}
		lib := Library{Path: p, SASS: a.SASS, PTX: a.PTX}
		switch {
		case !a.HasDeviceCode():
			lib.Support = "no-device-code"
		default:
			withCode = append(withCode, a)
			s := a.On(cc)
			lib.Support = s.String()
			switch s {
			case cudaarch.None:
				bad = append(bad, fmt.Sprintf("%s: no code for sm_%d (sass %v, ptx %v)", p, cc, a.SASS, a.PTX))
			case cudaarch.PTXOnly:
				v.Warnings = append(v.Warnings, fmt.Sprintf("%s: only PTX for sm_%d (sass %v, ptx %v); the driver JIT-compiles it at first load and the kernels are not what the commit ships for this GPU", p, cc, a.SASS, a.PTX))
			}
		}
		v.Libraries = append(v.Libraries, lib)
	}
	v.Targets = cudaarch.ImageTargets(withCode, cc)
	if len(withCode) == 0 && len(bad) == 0 {
		bad = append(bad, fmt.Sprintf("no shared library with GPU code under %s (%d libraries found)", strings.Join(dirs, ", "), len(paths)))
	}
	if len(bad) > 0 {
		root, hint := failure.Describe(failure.CUDAArch)
		return v, &failure.Failure{
			Category: failure.CUDAArch, Retriable: failure.Retriable(failure.CUDAArch),
			Evidence: strings.Join(bad, "\n"), RootCause: root,
			Hint: hint + fmt.Sprintf(" (build-image: the image was not pushed; kernels must carry sm_%d or sm_%da machine code, or PTX the driver can compile for it)", cc, cc),
			Rule: "build-image verify",
		}, nil
	}
	return v, nil, nil
}

// importCheck runs python3 -c check in the image, without GPU or network,
// and classifies a failure: an ImportError or undefined symbol here is the
// ABI mismatch the previous pipeline only found on the GPU.
func importCheck(ctx context.Context, d *Docker, ref, check string) (string, *failure.Failure, error) {
	code, out, err := d.Run(ctx, ref, []string{"python3", "-c", check}, 5*time.Minute)
	if err != nil {
		return out, nil, fmt.Errorf("running the import check: %w", err)
	}
	if code == 0 {
		return out, nil, nil
	}
	f := failure.Classify(strings.NewReader(out))
	if f == nil || f.Category == failure.Unknown || f.Category == "" {
		root, hint := failure.Describe(failure.ImportError)
		f = &failure.Failure{Category: failure.ImportError, Retriable: failure.Retriable(failure.ImportError), RootCause: root, Hint: hint, Evidence: lastLines(out, 8)}
	}
	f.Rule = strings.TrimSpace(f.Rule + " (build-image import check: python3 -c " + fmt.Sprintf("%q", check) + fmt.Sprintf(" exited %d)", code))
	return out, f, nil
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
