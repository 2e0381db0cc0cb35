package gpu

import (
	"strconv"
	"strings"

	"github.com/commitbench/commitbench/internal/cudaarch"
)

// Support says how a GPU of compute capability cc ("9.0") runs an image
// whose ArchsLabel is archs: natively, only by JIT-compiling PTX, or not
// at all. The rules are build-image's (cudaarch.LabelSupport), so that
// what one stage writes the other reads the same way; an unparsable cc is
// not supported.
func Support(archs, cc string) cudaarch.Support {
	major, minor, ok := parseCC(cc)
	if !ok {
		return cudaarch.None
	}
	return cudaarch.LabelSupport(archs, major*10+minor)
}

// SMName is the cubin arch a compute capability needs ("9.0" → "sm_90").
func SMName(cc string) string {
	major, minor, ok := parseCC(cc)
	if !ok {
		return ""
	}
	return "sm_" + strconv.Itoa(major) + strconv.Itoa(minor)
}

func parseCC(cc string) (int, int, bool) {
	a, b, ok := strings.Cut(strings.TrimSpace(cc), ".")
	major, err1 := strconv.Atoi(a)
	minor, err2 := strconv.Atoi(b)
	return major, minor, ok && err1 == nil && err2 == nil
}
