package cudaarch

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// Target is one compilation target, "sm_90a" (machine code) or
// "compute_90" (PTX).
type Target struct {
	PTX bool
	// CC is the compute capability times ten: 90 for 9.0, 100 for 10.0.
	CC int
	// Suffix is "", "a" (arch-specific: runs only on exactly CC) or "f"
	// (family-specific).
	Suffix string
}

// ParseTarget parses "sm_90a", "compute_80" and the like.
func ParseTarget(s string) (Target, error) {
	var t Target
	rest, ok := strings.CutPrefix(s, "sm_")
	if !ok {
		rest, ok = strings.CutPrefix(s, "compute_")
		t.PTX = true
	}
	if !ok {
		return t, fmt.Errorf("target %q: want sm_XX or compute_XX", s)
	}
	if n := len(rest); n > 0 && (rest[n-1] == 'a' || rest[n-1] == 'f') {
		t.Suffix, rest = rest[n-1:], rest[:n-1]
	}
	cc, err := strconv.Atoi(rest)
	if err != nil || cc < 10 || cc > 1000 {
		return t, fmt.Errorf("target %q: bad compute capability %q", s, rest)
	}
	t.CC = cc
	return t, nil
}

func (t Target) String() string {
	if t.PTX {
		return fmt.Sprintf("compute_%d%s", t.CC, t.Suffix)
	}
	return fmt.Sprintf("sm_%d%s", t.CC, t.Suffix)
}

// RunsOn reports whether code for t can run on a GPU of compute capability
// cc. Machine code runs on the same major version at an equal or higher
// minor ("sm_80" on 8.6), except arch-specific code, which runs only on
// exactly its CC and family code only within its major; PTX is compiled by
// the driver for any GPU at or above its CC, except 'a' PTX, which only
// exactly its CC accepts.
func (t Target) RunsOn(cc int) bool {
	major := func(x int) int { return x / 10 }
	switch {
	case t.Suffix == "a":
		return t.CC == cc
	case t.Suffix == "f":
		return major(t.CC) == major(cc) && t.CC <= cc
	case t.PTX:
		return t.CC <= cc
	default:
		return major(t.CC) == major(cc) && t.CC <= cc
	}
}

// Support is how a GPU can run a library.
type Support int

const (
	// None: no code the GPU can run; the first kernel launch fails with
	// "no kernel image is available for execution on the device".
	None Support = iota
	// PTXOnly: the driver must JIT-compile PTX at load time (slow first
	// start, and performance that is not what the commit ships).
	PTXOnly
	// Native: machine code for the GPU is present.
	Native
)

func (s Support) String() string {
	switch s {
	case Native:
		return "native"
	case PTXOnly:
		return "ptx-only"
	}
	return "none"
}

// On says how a GPU of compute capability cc (90 for an H100) can run a
// library carrying a.
func (a Archs) On(cc int) Support {
	for _, s := range a.SASS {
		if t, err := ParseTarget(s); err == nil && t.RunsOn(cc) {
			return Native
		}
	}
	for _, s := range a.PTX {
		if t, err := ParseTarget(s); err == nil && t.RunsOn(cc) {
			return PTXOnly
		}
	}
	return None
}

// All lists a's SASS and PTX targets in one sorted list.
func (a Archs) All() []string {
	out := append(append([]string{}, a.SASS...), a.PTX...)
	sort.Slice(out, func(i, j int) bool { return lessTarget(out[i], out[j]) })
	return out
}

// ImageTargets is the value of an image's cuda-archs label: which GPUs
// every kernel library of the image runs on, written as targets.
//
//   - sm_XX / sm_XXa / sm_XXf: every library has machine code for all the
//     GPUs the target covers (sm_90a: exactly 9.0; sm_80: 8.0 to 8.9).
//   - compute_XX: every library runs on a GPU of exactly X.X, some only by
//     JIT-compiling PTX (listed only where no sm_ entry covers X.X).
//
// So {sm_90} with {sm_90a} gives [sm_90a] (sm_90 would promise 9.x beyond
// 9.0, which sm_90a code does not run on), {sm_90,sm_90a} twice gives
// [sm_90 sm_90a], and a library with only sm_80 next to one with only
// sm_90a gives []. gpus are compute capabilities to evaluate besides the
// targets' own (the GPU build-image verifies for), so that a PTX-only
// image still names the GPU it was accepted for. LabelSupport reads the
// value back.
func ImageTargets(libs []Archs, gpus ...int) []string {
	out := []string{}
	if len(libs) == 0 {
		return out
	}
	var sass []Target
	ptxCC := map[int]bool{}
	for _, cc := range gpus {
		ptxCC[cc] = true
	}
	seen := map[string]bool{}
	for _, a := range libs {
		for _, s := range a.All() {
			t, err := ParseTarget(s)
			if err != nil || seen[s] {
				continue
			}
			seen[s] = true
			// Every target's own GPU is also a candidate for "runs, maybe
			// by JIT": a fat library next to a PTX-only one.
			ptxCC[t.CC] = true
			if !t.PTX && allNative(libs, t) {
				sass = append(sass, t)
			}
		}
	}
	for _, t := range sass {
		out = append(out, t.String())
	}
	for cc := range ptxCC {
		covered := false
		for _, t := range sass {
			covered = covered || t.RunsOn(cc)
		}
		if covered {
			continue
		}
		runs := true
		for _, b := range libs {
			runs = runs && b.On(cc) != None
		}
		if runs {
			out = append(out, Target{PTX: true, CC: cc}.String())
		}
	}
	sort.Slice(out, func(i, j int) bool { return lessTarget(out[i], out[j]) })
	return out
}

// allNative reports whether every library runs natively on each GPU the
// machine-code target t covers.
func allNative(libs []Archs, t Target) bool {
	last := t.CC
	if t.Suffix != "a" {
		last = t.CC/10*10 + 9 // the rest of the major version
	}
	for cc := t.CC; cc <= last; cc++ {
		if !t.RunsOn(cc) {
			continue
		}
		for _, a := range libs {
			if a.On(cc) != Native {
				return false
			}
		}
	}
	return true
}

// LabelSupport says how a GPU of compute capability cc (90 for an H100)
// can run an image whose cuda-archs label is value ("sm_90,sm_90a"): what
// run-bench checks before starting a container. Unknown entries are
// ignored; an empty label supports nothing.
func LabelSupport(value string, cc int) Support {
	best := None
	for _, s := range strings.Split(value, ",") {
		t, err := ParseTarget(strings.TrimSpace(s))
		switch {
		case err != nil:
		case !t.PTX && t.RunsOn(cc):
			return Native
		case t.PTX && t.CC == cc:
			best = PTXOnly
		}
	}
	return best
}
