package image

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/commitbench/commitbench/internal/plan"
)

func TestBaseKeys(t *testing.T) {
	g := newGitRepo(t)
	// History: c0 is the 2025-06 CMake-era tree; c1 changes Python only,
	// c2 changes sgl-kernel/, c3 Python again.
	c0 := g.commitDir(filepath.Join("testdata", "eras", "2025-06-ff00895c"), "2025-06-02T10:00:00Z", "c0")
	c0 = g.write("2025-06-02T10:00:00Z", "c0 files", map[string]string{
		"python/sglang/srt/x.py": "x = 1\n", "python/sglang/srt/y.py": "y = 1\n", "sgl-kernel/csrc/a.cu": "// a\n"})
	c1 := g.write("2025-06-02T11:00:00Z", "c1", map[string]string{"python/sglang/srt/x.py": "x = 2\n"})
	c2 := g.write("2025-06-02T12:00:00Z", "c2", map[string]string{"sgl-kernel/csrc/a.cu": "// a, faster\n"})
	c3 := g.write("2025-06-02T13:00:00Z", "c3", map[string]string{"python/sglang/srt/x.py": "x = 3\n"})

	dir := t.TempDir()
	pyPatch := filepath.Join(dir, "python.diff")
	kernelPatch := filepath.Join(dir, "kernel.diff")
	write := func(p, s string) {
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(pyPatch, "--- a/python/sglang/srt/y.py\n+++ b/python/sglang/srt/y.py\n@@ -1 +1 @@\n-y = 1\n+y = 2\n")
	write(kernelPatch, "--- a/sgl-kernel/csrc/a.cu\n+++ b/sgl-kernel/csrc/a.cu\n@@ -1 +1 @@\n-// a, faster\n+// a, faster still\n")

	mk := func(id, commit, parent string, files []string, patch string) *plan.Case {
		return &plan.Case{ID: id, Commit: commit, Parent: parent, Runnable: true, FilesChanged: files,
			Variants: []plan.Variant{
				{Name: "baseline", Runnable: true, Commit: parent},
				{Name: "human", Runnable: true, Commit: commit},
				{Name: "agent", Runnable: true, Commit: parent, Patch: patch},
			}}
	}
	missing := strings.Repeat("e", 40)
	cases := []*plan.Case{
		mk("A-python", c1, c0, []string{"python/sglang/srt/x.py"}, pyPatch),
		mk("B-kernel", c2, c1, nil, pyPatch), // files from git diff
		mk("C-agent-touches-kernel", c3, c2, []string{"python/sglang/srt/x.py"}, kernelPatch),
		{ID: "D-not-runnable", Runnable: false},
		mk("E-missing-commit", missing, c3, []string{"python/x.py"}, ""),
	}
	cases[4].Variants = cases[4].Variants[:2]

	want := map[KernelPolicy][3]int{ // variant images, base images, kernel builds
		PolicyAuto:   {10, 4, 3},
		PolicyPinned: {10, 1, 0},
		PolicySource: {10, 3, 3},
	}
	for policy, w := range want {
		t.Run(string(policy), func(t *testing.T) {
			s, err := BaseKeys(context.Background(), g.Dir, cases, policy)
			if err != nil {
				t.Fatal(err)
			}
			got := [3]int{s.VariantImages, s.BaseImages, s.KernelBuilds}
			if got != w {
				t.Fatalf("%s: got %v, want %v\n%+v", s, got, w, s.Variants)
			}
			if len(s.Problems) != 1 || !strings.Contains(s.Problems[0], "case E-missing-commit: human: commit "+missing+" is not in the engine repository") {
				t.Fatalf("problems %q", s.Problems)
			}
			if policy == PolicyAuto && !strings.Contains(s.String(), "kernel builds needed: 3 for 10 variant images") {
				t.Fatalf("summary line %q", s)
			}
		})
	}

	// Which variants share which base, under auto.
	s, _ := BaseKeys(context.Background(), g.Dir, cases, PolicyAuto)
	key := map[string]VariantKey{}
	for _, v := range s.Variants {
		key[v.Case+"/"+v.Variant] = v
	}
	same := func(a, b string) bool { return key[a].Key == key[b].Key }
	checks := []struct {
		a, b string
		same bool
	}{
		{"A-python/baseline", "A-python/human", true}, // Python-only case: one wheel base
		{"A-python/human", "A-python/agent", true},
		{"B-kernel/baseline", "B-kernel/human", false}, // different kernel trees
		{"B-kernel/baseline", "B-kernel/agent", true},  // agent patch is Python-only
		{"B-kernel/human", "C-agent-touches-kernel/baseline", true},
		{"C-agent-touches-kernel/baseline", "C-agent-touches-kernel/agent", false},
		{"A-python/baseline", "B-kernel/baseline", false}, // wheel vs source
	}
	for _, c := range checks {
		if same(c.a, c.b) != c.same {
			t.Errorf("%s and %s share a base: %v, want %v", c.a, c.b, !c.same, c.same)
		}
	}
	if k := key["B-kernel/human"]; k.Kernel != KernelSource || k.KernelID == "" || k.Torch != "2.6.0" {
		t.Errorf("B human: %+v", k)
	}
	if k := key["A-python/human"]; k.Kernel != KernelWheel || k.KernelID != "0.1.6" {
		t.Errorf("A human: %+v", k)
	}
}

func TestBaseKeysNotARepo(t *testing.T) {
	_, err := BaseKeys(context.Background(), t.TempDir(), nil, PolicyAuto)
	if err == nil || !strings.Contains(err.Error(), "not a git repository") {
		t.Fatalf("err = %v", err)
	}
}
