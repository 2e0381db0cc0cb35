package image

import (
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/commitbench/commitbench/internal/testenv"
)

var update = flag.Bool("update", false, "rewrite golden files")

// golden compares got with testdata/golden/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	testenv.Golden(t, filepath.Join("testdata", "golden", name), got, *update)
}

// gitRepo is a synthetic engine repository made with the git CLI.
type gitRepo struct {
	t   *testing.T
	Dir string
}

func newGitRepo(t *testing.T) *gitRepo {
	t.Helper()
	g := &gitRepo{t: t, Dir: filepath.Join(t.TempDir(), "engine")}
	if err := os.MkdirAll(g.Dir, 0o755); err != nil {
		t.Fatal(err)
	}
	g.git("", "init", "-q", "-b", "main")
	return g
}

func (g *gitRepo) git(date string, args ...string) string {
	g.t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = g.Dir
	if date == "" {
		date = "2025-01-01T00:00:00Z"
	}
	cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.com",
		"GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.com", "GIT_CONFIG_GLOBAL=/dev/null",
		"GIT_CONFIG_NOSYSTEM=1", "GIT_AUTHOR_DATE="+date, "GIT_COMMITTER_DATE="+date)
	out, err := cmd.CombinedOutput()
	if err != nil {
		g.t.Fatalf("git %v: %v\n%s", args, err, out)
	}
	return strings.TrimSpace(string(out))
}

// commitDir replaces the worktree with a copy of dir and commits it at date.
func (g *gitRepo) commitDir(dir, date, msg string) string {
	g.t.Helper()
	g.git("", "rm", "-rq", "--ignore-unmatch", ".")
	if err := os.CopyFS(g.Dir, os.DirFS(dir)); err != nil {
		g.t.Fatal(err)
	}
	return g.commitAll(date, msg)
}

// write writes files and commits them at date.
func (g *gitRepo) write(date, msg string, files map[string]string) string {
	g.t.Helper()
	for p, c := range files {
		full := filepath.Join(g.Dir, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			g.t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(c), 0o644); err != nil {
			g.t.Fatal(err)
		}
	}
	return g.commitAll(date, msg)
}

func (g *gitRepo) commitAll(date, msg string) string {
	g.git(date, "add", "-A")
	g.git(date, "commit", "-q", "--allow-empty", "-m", msg)
	return g.git("", "rev-parse", "HEAD")
}
