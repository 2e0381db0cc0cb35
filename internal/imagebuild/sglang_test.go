package imagebuild

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/commitbench/commitbench/internal/failure"
	"github.com/commitbench/commitbench/internal/image"
)

// sglangEnv puts an era tree of internal/image/testdata/eras at the
// parent, and a commit that changes files on top of it.
func sglangEnv(t *testing.T, era string, change map[string]string) *env {
	e := newEnv(t)
	e.engine = filepath.Join(t.TempDir(), "sglang")
	os.MkdirAll(e.engine, 0o755)
	e.git("init", "-q")
	if err := os.CopyFS(e.engine, os.DirFS(filepath.Join("..", "image", "testdata", "eras", era))); err != nil {
		t.Fatal(err)
	}
	e.git("add", "-A")
	e.git("commit", "-qm", "parent")
	e.parent = e.git("rev-parse", "HEAD")
	for p, c := range change {
		os.MkdirAll(filepath.Dir(filepath.Join(e.engine, p)), 0o755)
		os.WriteFile(filepath.Join(e.engine, p), []byte(c), 0o644)
	}
	e.git("add", "-A")
	e.git("commit", "-qm", "commit")
	e.commit = e.git("rev-parse", "HEAD")
	return e
}

func (e *env) sglangRequest(variant string) Request {
	r := e.request(variant, "", "")
	r.Engine, r.Case.FilesChanged = image.EngineSGLang, nil // files from git
	return r
}

// The broken sgl-kernel/pyproject.toml of 2a4cbad8e (2025-03-13): a case
// that changes sgl-kernel/ must compile it, so it reads that file, and the
// variant fails BUILD_FAILED naming the file and line before any build.
func TestSGLangBrokenKernelPyproject(t *testing.T) {
	e := sglangEnv(t, "2025-03-broken-2a4cbad8", map[string]string{"sgl-kernel/csrc/x.cu": "// changed\n"})
	res, err := e.build(e.sglangRequest("human"))
	var f *Failed
	if !errors.As(err, &f) || res.Failure.Category != failure.BuildFailed ||
		!strings.Contains(res.Failure.Evidence, "sgl-kernel/pyproject.toml: line 7") {
		t.Fatalf("err %v, result %+v", err, res)
	}
	if res.BaseKey != "" || strings.Contains(e.logs.String(), "== build") {
		t.Fatalf("a build was attempted:\n%s", e.logs)
	}
}

// The real SGLang template goes to the real daemon, which cannot pull
// nvidia/cuda here (no network): the failure names the failing step.
func TestSGLangBaseBuildFailureNamesTheStep(t *testing.T) {
	e := sglangEnv(t, "2025-06-021f76e4", map[string]string{"python/sglang/srt/x.py": "x = 1\n"})
	r := e.sglangRequest("human")
	r.Push = false
	res, err := e.build(r)
	var f *Failed
	if !errors.As(err, &f) {
		t.Fatalf("err %v, result %+v", err, res)
	}
	t.Logf("%s: %s", res.Failure.Category, res.Failure.Evidence)
	if c := res.Failure.Category; c != failure.BuildFailed && c != failure.Infra {
		t.Fatalf("category %s: %+v", c, res.Failure)
	}
	if !strings.Contains(res.Failure.Evidence, "FROM nvidia/cuda:12.6.1-cudnn-devel-ubuntu22.04") {
		t.Fatalf("evidence does not name the failing step:\n%s", res.Failure.Evidence)
	}
	if !strings.Contains(res.Kernel, "wheel 0.1.7") || res.BaseKey == "" {
		t.Fatalf("result %+v", res)
	}
}
