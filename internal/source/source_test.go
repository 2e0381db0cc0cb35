package source

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// gitEnv makes commits reproducible and independent of the user's config.
var gitEnv = []string{
	"GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.com", "GIT_COMMITTER_NAME=t",
	"GIT_COMMITTER_EMAIL=t@example.com", "GIT_AUTHOR_DATE=2025-02-21T10:00:00Z",
	"GIT_COMMITTER_DATE=2025-02-21T10:00:00Z", "GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1",
}

// testRepo is a synthetic engine repository built with the git CLI.
type testRepo struct {
	t   *testing.T
	dir string
}

func newTestRepo(t *testing.T) *testRepo {
	t.Helper()
	r := &testRepo{t: t, dir: filepath.Join(t.TempDir(), "engine")}
	if err := os.MkdirAll(r.dir, 0o755); err != nil {
		t.Fatal(err)
	}
	r.run("init", "-q", "-b", "main")
	return r
}

func (r *testRepo) run(args ...string) string {
	r.t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = r.dir
	cmd.Env = append(os.Environ(), gitEnv...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		r.t.Fatalf("git %v: %v\n%s", args, err, out)
	}
	return strings.TrimSpace(string(out))
}

// commit writes files (path -> content) and commits them; it returns the id.
func (r *testRepo) commit(msg string, files map[string]string) string {
	r.t.Helper()
	for p, c := range files {
		full := filepath.Join(r.dir, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			r.t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(c), 0o644); err != nil {
			r.t.Fatal(err)
		}
	}
	r.run("add", "-A")
	r.run("commit", "-q", "-m", msg)
	return r.run("rev-parse", "HEAD")
}

func lines(n int, edit map[int]string) string {
	var b strings.Builder
	for i := 1; i <= n; i++ {
		if s, ok := edit[i]; ok {
			b.WriteString(s + "\n")
			continue
		}
		b.WriteString("line " + string(rune('0'+i%10)) + " of the file\n")
	}
	return b.String()
}

func checkout(t *testing.T, repo, commit string) *Repo {
	t.Helper()
	r, err := Checkout(context.Background(), CheckoutOptions{Repo: repo, Commit: commit, Dir: filepath.Join(t.TempDir(), "tree")})
	if err != nil {
		t.Fatal(err)
	}
	r.Env = gitEnv
	return r
}

func TestCheckoutIsTheCommitNotMain(t *testing.T) {
	src := newTestRepo(t)
	old := src.commit("parent", map[string]string{"python/sglang/version.py": "__version__ = \"0.4.3\"\n"})
	src.commit("main moves on", map[string]string{"python/sglang/version.py": "__version__ = \"0.5.0\"\n"})
	r := checkout(t, src.dir, old)
	got, err := os.ReadFile(filepath.Join(r.Dir, "python/sglang/version.py"))
	if err != nil || !strings.Contains(string(got), "0.4.3") {
		t.Fatalf("checked out %q (%v), want the parent's 0.4.3", got, err)
	}
	if !r.IsShallow(context.Background()) {
		t.Error("expected a depth-1 fetch")
	}
}

func TestCheckoutErrors(t *testing.T) {
	src := newTestRepo(t)
	c := src.commit("one", map[string]string{"a": "1\n"})
	cases := []struct {
		name, repo, commit, want string
	}{
		{"short id", src.dir, c[:12], "full 40-character id"},
		{"unknown commit", src.dir, strings.Repeat("ab", 20), "is not in"},
		{"not a repo or URL", "no-such-dir", c, "neither a directory nor a URL"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Checkout(context.Background(), CheckoutOptions{Repo: tc.repo, Commit: tc.commit, Dir: filepath.Join(t.TempDir(), "x")})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
		})
	}
}

// diff returns the git diff that turns content old into new for path.
func diff(t *testing.T, path, old, new string) []byte {
	t.Helper()
	r := newTestRepo(t)
	r.commit("old", map[string]string{path: old})
	if err := os.WriteFile(filepath.Join(r.dir, path), []byte(new), 0o644); err != nil {
		t.Fatal(err)
	}
	return []byte(r.run("diff") + "\n")
}

func TestApplyPatch(t *testing.T) {
	const f = "python/sglang/srt/layers/sampler.py"
	v1 := lines(12, nil)
	// The parent differs from the version the patch was written against
	// on line 3, inside the hunk's context but not on the line it changes.
	parentText := lines(12, map[int]string{3: "line 3 renamed by upstream"})
	agentOnV1 := diff(t, f, v1, lines(12, map[int]string{6: "line 6 made faster by the agent"}))
	agentOnParent := diff(t, f, parentText, lines(12, map[int]string{3: "line 3 renamed by upstream", 6: "line 6 made faster by the agent"}))
	// A plain diff -u has no blob ids, so --3way cannot help; only fuzz can.
	plainDiff := []byte("--- a/" + f + "\n+++ b/" + f + "\n@@ -2,5 +2,5 @@\n line 2 of the file\n line 3 of the file\n line 4 of the file\n-line 5 of the file\n+line 5 made faster\n line 6 of the file\n")
	conflicting := diff(t, f, v1, lines(12, map[int]string{3: "line 3 changed differently by the agent"}))
	garbage := []byte("this is not a diff\n")

	src := newTestRepo(t)
	src.commit("v1", map[string]string{f: v1})
	parent := src.commit("parent", map[string]string{f: parentText})

	cases := []struct {
		name     string
		patch    []byte
		want     Method
		wantLine string // a line the patched file must contain
		rejects  string // for failures: text of the rejected hunk
	}{
		{"applies as is", agentOnParent, GitApply, "line 6 made faster by the agent", ""},
		{"applies only with --3way", agentOnV1, GitApply3Way, "line 6 made faster by the agent", ""},
		{"applies only with fuzz", plainDiff, PatchFuzz, "line 5 made faster", ""},
		{"conflicts", conflicting, "", "", "+line 3 changed differently by the agent"},
		{"not a patch", garbage, "", "", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := checkout(t, src.dir, parent)
			got, err := r.ApplyPatch(context.Background(), c.patch)
			if c.want == "" {
				var pe *PatchError
				if !errors.As(err, &pe) {
					t.Fatalf("err = %v, want a *PatchError", err)
				}
				if !strings.Contains(pe.Rejects, c.rejects) || len(pe.Attempts) < 3 {
					t.Fatalf("rejects %q (attempts %q), want the hunk %q and all three methods", pe.Rejects, pe.Attempts, c.rejects)
				}
				if st, _ := r.git(context.Background(), nil, "status", "--porcelain"); len(st) > 0 {
					t.Fatalf("tree not reset after a failed patch:\n%s", st)
				}
				return
			}
			if err != nil || got != c.want {
				t.Fatalf("ApplyPatch = %q, %v; want %q", got, err, c.want)
			}
			data, _ := os.ReadFile(filepath.Join(r.Dir, f))
			if !strings.Contains(string(data), c.wantLine) || !strings.Contains(string(data), "line 3 renamed by upstream") {
				t.Fatalf("patched file lacks the agent's or upstream's line:\n%s", data)
			}
		})
	}
}

// The agent tree computed without a checkout (what plan does) is the tree
// the build ends up with.
func TestApplyToTreeMatchesWorktree(t *testing.T) {
	src := newTestRepo(t)
	parent := src.commit("p", map[string]string{"sgl-kernel/csrc/a.cu": lines(8, nil), "python/x.py": "x\n"})
	patch := diff(t, "sgl-kernel/csrc/a.cu", lines(8, nil), lines(8, map[int]string{4: "__global__ void faster() {}"}))
	ctx := context.Background()
	want, _, err := (&Repo{Dir: src.dir, Env: gitEnv}).ApplyToTree(ctx, parent, patch)
	if err != nil {
		t.Fatal(err)
	}
	r := checkout(t, src.dir, parent)
	if _, err := r.ApplyPatch(ctx, patch); err != nil {
		t.Fatal(err)
	}
	got, err := r.WorktreeTree(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got != want {
		t.Fatalf("worktree tree %s, ApplyToTree %s", got, want)
	}
	if got == src.run("rev-parse", parent+"^{tree}") {
		t.Fatal("the patch did not change the tree")
	}
}

func TestPatchedPaths(t *testing.T) {
	patch := `diff --git a/sgl-kernel/csrc/x.cu b/sgl-kernel/csrc/x.cu
index 1111111..2222222 100644
--- a/sgl-kernel/csrc/x.cu
+++ b/sgl-kernel/csrc/x.cu
@@ -1 +1 @@
--- a comment line that looks like a header
+++ and its replacement
diff --git a/python/new.py b/python/new.py
new file mode 100644
--- /dev/null
+++ b/python/new.py
diff --git a/old/name.py b/new/name.py
rename from old/name.py
rename to new/name.py
`
	want := []string{"sgl-kernel/csrc/x.cu", "python/new.py", "old/name.py", "new/name.py"}
	if got := PatchedPaths([]byte(patch)); !reflect.DeepEqual(got, want) {
		t.Fatalf("got %q, want %q", got, want)
	}
}

// A patch only GNU patch can apply is keyed exactly too: PatchedTree
// falls back to a temporary worktree and leaves the repository as it was.
func TestPatchedTreeWithFuzz(t *testing.T) {
	const f = "python/sglang/srt/layers/sampler.py"
	src := newTestRepo(t)
	parent := src.commit("parent", map[string]string{f: lines(12, map[int]string{3: "line 3 renamed by upstream"})})
	fuzzy := []byte("--- a/" + f + "\n+++ b/" + f + "\n@@ -2,5 +2,5 @@\n line 2 of the file\n line 3 of the file\n line 4 of the file\n-line 5 of the file\n+line 5 made faster\n line 6 of the file\n")
	ctx := context.Background()
	repo := &Repo{Dir: src.dir, Env: gitEnv}
	tree, m, err := repo.PatchedTree(ctx, parent, fuzzy)
	if err != nil || m != PatchFuzz {
		t.Fatalf("PatchedTree: %s %v", m, err)
	}
	r := checkout(t, src.dir, parent)
	if _, err := r.ApplyPatch(ctx, fuzzy); err != nil {
		t.Fatal(err)
	}
	if got, _ := r.WorktreeTree(ctx); got != tree {
		t.Fatalf("checkout tree %s, PatchedTree %s", got, tree)
	}
	if wt := src.run("worktree", "list"); strings.Count(wt, "\n") != 0 {
		t.Fatalf("temporary worktree left behind:\n%s", wt)
	}
	if st := src.run("status", "--porcelain"); st != "" {
		t.Fatalf("repository changed:\n%s", st)
	}
}
