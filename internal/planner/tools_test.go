package planner

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/commitbench/commitbench/internal/plan"
	"github.com/commitbench/commitbench/internal/source"
)

// gitRepo is a throwaway engine history; commit writes files (an empty
// body deletes one) and returns the new commit's SHA.
type gitRepo struct {
	t   *testing.T
	dir string
}

func (r gitRepo) git(args ...string) string {
	r.t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = r.dir
	cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@e", "GIT_COMMITTER_NAME=t",
		"GIT_COMMITTER_EMAIL=t@e", "GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		r.t.Fatalf("git %v: %v\n%s", args, err, out)
	}
	return strings.TrimSpace(string(out))
}

func (r gitRepo) commit(files map[string]string) string {
	for name, body := range files {
		p := filepath.Join(r.dir, name)
		if body == "" {
			os.Remove(p)
			continue
		}
		os.MkdirAll(filepath.Dir(p), 0o755)
		os.WriteFile(p, []byte(body), 0o644)
	}
	r.git("add", "-A")
	r.git("commit", "-qm", "c", "--allow-empty")
	return r.git("rev-parse", "HEAD")
}

func TestCheckToolsAgainstTheEngineHistory(t *testing.T) {
	r := gitRepo{t, t.TempDir()}
	r.git("init", "-q")
	old := r.commit(map[string]string{"python/sglang/__init__.py": "\n", "python/sglang/bench_latency.py": "import sys\n"})
	renamed := r.commit(map[string]string{"python/sglang/bench_one_batch.py": "import sys\n",
		"python/sglang/bench_latency.py": "raise ValueError(\"bench_latency.py has been renamed to bench_one_batch.py\")\n"})
	serving := r.commit(map[string]string{"python/sglang/bench_serving.py": "import sys\n"})
	asPackage := r.commit(map[string]string{"python/sglang/bench_serving.py": "", "python/sglang/bench_serving/__main__.py": "import sys\n"})
	standin := gitRepo{t, t.TempDir()}
	standin.git("init", "-q")
	standinParent := standin.commit(map[string]string{"standin.json": "{}"})
	standinCommit := standin.commit(map[string]string{"standin.json": `{"speed": 2}`})

	mk := func(id, tool, parent, commit string) *plan.Case {
		c := &plan.Case{ID: id, Parent: parent, Commit: commit, Runnable: true, Bench: plan.Bench{Tool: tool}}
		for _, v := range []string{"baseline", "human", "agent"} {
			c.Variants = append(c.Variants, plan.Variant{Name: v, Runnable: true})
		}
		return c
	}
	p := &plan.Plan{Cases: []*plan.Case{
		mk("serving-too-new", "bench_serving", renamed, serving),
		mk("serving-ok", "bench_serving", serving, asPackage),
		mk("latency-renamed", "bench_latency", old, renamed),
		mk("latency-ok", "bench_latency", old, old),
		mk("one-batch-ok", "bench_one_batch", renamed, serving),
	}}
	probs := CheckTools(context.Background(), &source.Repo{Dir: r.dir}, p)
	var msgs []string
	for _, pr := range probs {
		msgs = append(msgs, pr.Error())
	}
	got := strings.Join(msgs, "\n")
	for _, want := range []string{
		"case serving-too-new: perf_command: sglang.bench_serving does not exist (no python/sglang/bench_serving.py) at parent " + renamed[:12] + "; the perf command's tool is newer",
		`case latency-renamed: perf_command: sglang.bench_latency only raises "raise ValueError(\"bench_latency.py has been renamed to bench_one_batch.py\")" at commit ` + renamed[:12] + "; use the module it names",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("problems lack\n%s\ngot:\n%s", want, got)
		}
	}
	if len(probs) != 2 {
		t.Errorf("%d problems, want 2:\n%s", len(probs), got)
	}
	for _, c := range p.Cases {
		wantRunnable := strings.HasSuffix(c.ID, "-ok")
		if c.Runnable != wantRunnable || c.Variants[2].Runnable != wantRunnable {
			t.Errorf("%s: runnable %v (agent %v), want %v (%s)", c.ID, c.Runnable, c.Variants[2].Runnable, wantRunnable, c.Reason)
		}
	}
	if p.Counts.Runnable != 3 || p.Counts.NotRunnable != 2 {
		t.Errorf("counts %+v", p.Counts)
	}

	// Another engine's tree (the stand-in has no python/sglang) is not judged.
	q := &plan.Plan{Cases: []*plan.Case{mk("standin", "bench_serving", standinParent, standinCommit)}}
	if probs := CheckTools(context.Background(), &source.Repo{Dir: standin.dir}, q); len(probs) != 0 || !q.Cases[0].Runnable {
		t.Errorf("stand-in tree judged: %v", probs)
	}
}
