package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"io"
	"log"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	ggcrregistry "github.com/google/go-containerregistry/pkg/registry"

	"github.com/commitbench/commitbench/internal/actionsio"
	"github.com/commitbench/commitbench/internal/cli"
	"github.com/commitbench/commitbench/internal/imagebuild"
	"github.com/commitbench/commitbench/internal/testenv"
)

var update = flag.Bool("update", false, "rewrite golden files")

// call runs the binary's entry point with env as its environment.
func call(t *testing.T, env map[string]string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	o := actionsio.Options{Getenv: func(k string) string { return env[k] }, Stdout: &out, Stderr: &errb}
	code = cli.Run("build-image", &errb, func(ctx context.Context) error { return run(ctx, args, o) })
	return code, out.String(), errb.String()
}

func TestArchsGolden(t *testing.T) {
	files, _ := filepath.Glob("../../testdata/fixtures/gpu/so/*.so")
	code, out, _ := call(t, nil, append([]string{"archs"}, files...)...)
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	testenv.Golden(t, filepath.Join("testdata", "archs.golden"), []byte(out), *update)
}

func TestArchsRejects(t *testing.T) {
	dir := t.TempDir()
	text := filepath.Join(dir, "notes.txt")
	os.WriteFile(text, []byte("not a library"), 0o644)
	lib, _ := os.ReadFile("../../testdata/fixtures/gpu/so/libsm90a.so")
	cut := filepath.Join(dir, "cut.so")
	os.WriteFile(cut, lib[:len(lib)/3], 0o644)
	code, out, errs := call(t, nil, "archs", text, cut)
	if code != cli.ExitFailed || !strings.Contains(errs, "2 of 2 files could not be read") {
		t.Fatalf("exit %d, stderr %s", code, errs)
	}
	var got []fileArchs
	if err := json.Unmarshal([]byte(out), &got); err != nil || len(got) != 2 {
		t.Fatalf("%v: %s", err, out)
	}
	if !strings.Contains(got[0].Error, "truncated") || !strings.Contains(got[1].Error, "not an ELF file") {
		t.Fatalf("errors: %+v", got)
	}
	if code, _, _ := call(t, nil, "archs"); code != cli.ExitUsage {
		t.Fatalf("no file: exit %d", code)
	}
}

func TestUsageErrors(t *testing.T) {
	sha := strings.Repeat("a", 40)
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"no variant", []string{"--commit", sha, "--parent", sha, "--repo", "o/x"}, "variant"},
		{"bad engine", []string{"--variant", "human", "--engine", "vllm", "--commit", sha, "--parent", sha}, "engine"},
		{"bad kernel", []string{"--variant", "human", "--kernel", "fast", "--commit", sha, "--parent", sha}, "kernel"},
		{"short commit", []string{"--variant", "human", "--commit", "abc123", "--parent", sha, "--repo", "o/x"}, "full 40-character"},
		{"agent without patch", []string{"--variant", "agent", "--commit", sha, "--parent", sha, "--repo", "o/x"}, "patch: empty"},
		{"no plan", []string{"--variant", "human", "--case", "c1", "--plan", "/nonexistent/plan.json", "--repo", "o/x"}, "plan"},
		{"upper-case repo", []string{"--variant", "human", "--commit", sha, "--parent", sha, "--repo", "Org/X"}, "lower-case"},
		{"no repo outside Actions", []string{"--variant", "human", "--commit", sha, "--parent", sha}, "repo: empty"},
		{"PTX is not a GPU", []string{"--variant", "human", "--commit", sha, "--parent", sha, "--repo", "o/x", "--cuda-arch", "compute_90"}, "cuda-arch"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, _, errs := call(t, nil, c.args...)
			if code != cli.ExitUsage || !strings.Contains(errs, c.want) {
				t.Fatalf("exit %d, stderr %q; want exit 2 mentioning %q", code, errs, c.want)
			}
		})
	}
}

func outputs(t *testing.T, path string) map[string]string {
	t.Helper()
	b, _ := os.ReadFile(path)
	m := map[string]string{}
	// go-githubactions writes name<<DELIM\nvalue\nDELIM.
	lines := strings.Split(string(b), "\n")
	for i := 0; i+1 < len(lines); i++ {
		if k, delim, ok := strings.Cut(lines[i], "<<"); ok {
			m[k] = lines[i+1]
			for i < len(lines) && lines[i] != delim {
				i++
			}
		}
	}
	return m
}

// The binary end to end, inputs as the Actions runner passes them
// (INPUT_*): stand-in engine, the real daemon, a registry on 127.0.0.1.
func TestBuildThroughInputs(t *testing.T) {
	testenv.RequireDocker(t)
	srv := httptest.NewServer(ggcrregistry.New(ggcrregistry.Logger(log.New(io.Discard, "", 0))))
	defer srv.Close()
	engine := t.TempDir()
	git := func(args ...string) string {
		cmd := exec.Command("git", args...)
		cmd.Dir = engine
		cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@e", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@e", "GIT_CONFIG_GLOBAL=/dev/null")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("git %v: %v %s", args, err, out)
		}
		return strings.TrimSpace(string(out))
	}
	git("init", "-q")
	os.WriteFile(filepath.Join(engine, "standin.json"), []byte(`{"speed": 1}`), 0o644)
	git("add", "-A")
	git("commit", "-qm", "p")
	parent := git("rev-parse", "HEAD")
	os.WriteFile(filepath.Join(engine, "standin.json"), []byte(`{"speed": 2}`), 0o644)
	git("commit", "-qam", "c")
	commit := git("rev-parse", "HEAD")

	work := t.TempDir()
	libs := filepath.Join(work, "libs")
	os.MkdirAll(libs, 0o755)
	so, _ := os.ReadFile("../../testdata/fixtures/gpu/so/libsm90a.so")
	os.WriteFile(filepath.Join(libs, "common_ops.so"), so, 0o755)
	root, _ := filepath.Abs("../..")
	host := strings.TrimPrefix(srv.URL, "http://")
	env := map[string]string{
		"INPUT_VARIANT": "human", "INPUT_COMMIT": commit, "INPUT_PARENT": parent, "INPUT_CASE": "demo",
		"INPUT_ENGINE": "standin", "INPUT_ENGINE-REPO": engine, "INPUT_REGISTRY": host, "INPUT_REPO": "t/bench",
		"INPUT_KERNEL-LIBS": libs, "INPUT_TOOLKIT-DIR": root, "INPUT_STANDIN-PACKAGE": "./internal/imagebuild/testdata/fakepython",
		"INPUT_BUILDER": "api", "INPUT_OUT": filepath.Join(work, "result.json"),
	}
	defer func() {
		for _, ref := range []string{host + "/t/bench:" + commit + "-human"} {
			exec.Command("docker", "rmi", "-f", ref).Run()
		}
		out, _ := exec.Command("docker", "images", "-q", "--filter", "reference="+host+"/t/bench").Output()
		for _, id := range strings.Fields(string(out)) {
			exec.Command("docker", "rmi", "-f", id).Run()
		}
	}()
	for i, want := range []string{"built", "skipped"} {
		env["GITHUB_OUTPUT"] = filepath.Join(work, "output"+string(rune('0'+i)))
		os.WriteFile(env["GITHUB_OUTPUT"], nil, 0o644)
		code, _, errs := call(t, env)
		if code != 0 {
			t.Fatalf("run %d: exit %d\n%s", i, code, errs)
		}
		o := outputs(t, env["GITHUB_OUTPUT"])
		if o["status"] != want || o["skipped"] != map[bool]string{true: "true", false: "false"}[want == "skipped"] ||
			!strings.HasPrefix(o["image"], host+"/t/bench:"+commit+"-human@sha256:") {
			t.Fatalf("run %d outputs %v", i, o)
		}
		var res imagebuild.Result
		b, _ := os.ReadFile(env["INPUT_OUT"])
		if err := json.Unmarshal(b, &res); err != nil || res.Status != want || res.Image != o["image"] {
			t.Fatalf("result file: %v %+v", err, res)
		}
	}
}
