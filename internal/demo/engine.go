// Package demo makes the stand-in engine's source repository that the
// README's demo and the end-to-end workflow test benchmark: a real git
// repository whose commits change the stand-in's speed (standin.json is the
// stand-in's "source code"), with an agent patch against the parent. Its
// commits are made with fixed authors and dates, so their hashes are the
// same on every machine and the bundled cases file can name them.
package demo

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// The demo's commits, reproduced exactly by CreateEngineRepo.
const (
	ParentCommit = "57e8829e0a202c9066739eb6797e0a16dadc5364"
	HumanCommit  = "7937465dd8099912f03f6008462f6d11836ba2dc"
)

// Engine is a created repository.
type Engine struct {
	Dir    string
	Parent string
	Human  string
	// Patch is the agent's diff against Parent.
	Patch string
}

const readme = "# stand-in engine\n\nstandin.json is read by commitbench's stand-in SGLang (docs/standin.md).\n"

// The parent serves at the stand-in's base speed; the human commit is 25 %
// faster per token ("20 % less time"); the agent's patch gets half of that.
const (
	parentConfig = `{"startup_ms": 400, "ttft_ms": 12, "token_delay_ms": 8, "speed": 1.0}` + "\n"
	humanConfig  = `{"startup_ms": 400, "ttft_ms": 12, "token_delay_ms": 8, "speed": 1.25}` + "\n"
	agentConfig  = `{"startup_ms": 400, "ttft_ms": 12, "token_delay_ms": 8, "speed": 1.12}` + "\n"
)

// CreateEngineRepo makes the repository in dir (which must not exist or be
// empty) and writes the agent's patch beside it as dir + ".agent.diff".
func CreateEngineRepo(dir string) (*Engine, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	g := &gitRunner{dir: dir}
	g.run("init", "-q", "-b", "main")
	write := func(name, content string) {
		if g.err == nil {
			g.err = os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644)
		}
	}
	write("README.md", readme)
	write("standin.json", parentConfig)
	g.run("add", "-A")
	g.commit("2025-01-02T03:04:05Z", "stand-in engine at its base speed")
	parent := g.run("rev-parse", "HEAD")
	write("standin.json", humanConfig)
	g.commit("2025-01-03T03:04:05Z", "Decode 25% faster per token (#2)")
	human := g.run("rev-parse", "HEAD")
	// The agent starts from the parent, like every agent patch.
	g.run("checkout", "-q", parent)
	write("standin.json", agentConfig)
	diff := g.run("diff", "--", "standin.json")
	g.run("checkout", "-q", "--", "standin.json")
	g.run("checkout", "-q", "main")
	if g.err != nil {
		return nil, g.err
	}
	patch := strings.TrimSuffix(dir, "/") + ".agent.diff"
	if err := os.WriteFile(patch, []byte(diff+"\n"), 0o644); err != nil {
		return nil, err
	}
	return &Engine{Dir: dir, Parent: parent, Human: human, Patch: patch}, nil
}

type gitRunner struct {
	dir string
	err error
}

func (g *gitRunner) commit(date, msg string) {
	if g.err != nil {
		return
	}
	cmd := exec.Command("git", "-C", g.dir, "-c", "commit.gpgsign=false", "commit", "-q", "-a", "-m", msg)
	cmd.Env = append(os.Environ(),
		"GIT_AUTHOR_NAME=commitbench demo", "GIT_AUTHOR_EMAIL=demo@commitbench.invalid", "GIT_AUTHOR_DATE="+date,
		"GIT_COMMITTER_NAME=commitbench demo", "GIT_COMMITTER_EMAIL=demo@commitbench.invalid", "GIT_COMMITTER_DATE="+date)
	if out, err := cmd.CombinedOutput(); err != nil {
		g.err = fmt.Errorf("git commit: %v: %s", err, out)
	}
}

func (g *gitRunner) run(args ...string) string {
	if g.err != nil {
		return ""
	}
	out, err := exec.Command("git", append([]string{"-C", g.dir}, args...)...).CombinedOutput()
	if err != nil {
		g.err = fmt.Errorf("git %s: %v: %s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}
