package imagebuild

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io"
	"log"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	ggcrregistry "github.com/google/go-containerregistry/pkg/registry"
	"github.com/moby/moby/client"

	"github.com/commitbench/commitbench/internal/actionsio"
	"github.com/commitbench/commitbench/internal/failure"
	"github.com/commitbench/commitbench/internal/image"
	"github.com/commitbench/commitbench/internal/plan"
	"github.com/commitbench/commitbench/internal/registry"
	"github.com/commitbench/commitbench/internal/source"
	"github.com/commitbench/commitbench/internal/testenv"
)

const fixtureSO = "../../testdata/fixtures/gpu/so"

// env is one test's world: the real daemon, a go-containerregistry
// registry on 127.0.0.1, a synthetic engine repository, and a label that
// marks (and at the end removes) every image the test makes.
type env struct {
	t        *testing.T
	d        *Docker
	reg      *registry.Client
	repo     string // image repository in the test registry
	engine   string // engine repository path
	parent   string
	commit   string
	runLabel string
	logs     *syncBuffer
}

// syncBuffer is testenv.SyncBuffer, named for this package's tests.
type syncBuffer = testenv.SyncBuffer

func newEnv(t *testing.T) *env {
	t.Helper()
	testenv.RequireDocker(t)
	ctx := context.Background()
	d, err := NewDocker(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	srv := httptest.NewServer(ggcrregistry.New(ggcrregistry.Logger(log.New(io.Discard, "", 0))))
	t.Cleanup(srv.Close)
	var id [4]byte
	rand.Read(id[:])
	e := &env{t: t, d: d, reg: registry.New(registry.Auth{}),
		repo:     strings.TrimPrefix(srv.URL, "http://") + "/commitbench-test/sglang-standin",
		runLabel: hex.EncodeToString(id[:]), logs: &syncBuffer{}}
	t.Cleanup(e.removeImages)
	e.makeEngineRepo()
	return e
}

// removeImages deletes every image this test labelled.
func (e *env) removeImages() {
	ctx := context.Background()
	list, err := e.d.c.ImageList(ctx, client.ImageListOptions{All: true,
		Filters: make(client.Filters).Add("label", "dev.commitbench.test="+e.runLabel)})
	if err != nil {
		e.t.Logf("listing test images: %v", err)
		return
	}
	for _, im := range list.Items {
		if _, err := e.d.c.ImageRemove(ctx, im.ID, client.ImageRemoveOptions{Force: true, PruneChildren: true}); err != nil && !strings.Contains(err.Error(), "No such image") {
			e.t.Logf("removing %s: %v", im.ID, err)
		}
	}
}

func (e *env) git(args ...string) string {
	e.t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = e.engine
	cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@e", "GIT_COMMITTER_NAME=t",
		"GIT_COMMITTER_EMAIL=t@e", "GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		e.t.Fatalf("git %v: %v\n%s", args, err, out)
	}
	return strings.TrimSpace(string(out))
}

// makeEngineRepo is the demo engine: the human commit makes the stand-in
// 25 % faster through standin.json.
func (e *env) makeEngineRepo() {
	e.engine = filepath.Join(e.t.TempDir(), "engine")
	os.MkdirAll(filepath.Join(e.engine, "python", "sglang"), 0o755)
	e.git("init", "-q", "-b", "main")
	write := func(p, s string) {
		if err := os.WriteFile(filepath.Join(e.engine, p), []byte(s), 0o644); err != nil {
			e.t.Fatal(err)
		}
	}
	write("python/sglang/__init__.py", "")
	write("standin.json", "{\"speed\": 1}\n")
	e.git("add", "-A")
	e.git("commit", "-qm", "parent")
	e.parent = e.git("rev-parse", "HEAD")
	write("standin.json", "{\"speed\": 1.25}\n")
	e.git("commit", "-qam", "human: 25% faster")
	e.commit = e.git("rev-parse", "HEAD")
}

// quoting is a label value the Dockerfile LABEL line must escape.
const quoting = `a "b" $HOME \x`

const agentPatch = `--- a/standin.json
+++ b/standin.json
@@ -1 +1 @@
-{"speed": 1}
+{"speed": 1.3}
`

func (e *env) request(variant, libs string, patch string) Request {
	root, _ := filepath.Abs("../..")
	c := &plan.Case{ID: "demo_000", Commit: e.commit, Parent: e.parent, Runnable: true,
		FilesChanged: []string{"standin.json"},
		Variants:     []plan.Variant{{Name: "baseline", Runnable: true}, {Name: "human", Runnable: true}, {Name: "agent", Runnable: true, Patch: "agent.diff"}}}
	r := Request{Engine: image.EngineStandin, Case: c, Variant: variant, EngineRepo: e.engine,
		Policy: image.PolicyAuto, Repository: e.repo, Push: true, Builder: "api", GPU: 90,
		Standin:        StandinInputs{ToolkitDir: root, Package: "./internal/imagebuild/testdata/fakepython", KernelLibs: libs},
		ToolkitVersion: "test", ExtraLabels: map[string]string{"dev.commitbench.test": e.runLabel, "dev.commitbench.test-quoting": quoting}}
	if patch != "" {
		r.Patch = []byte(patch)
		r.CasePatches = [][]byte{r.Patch}
	}
	return r
}

func (e *env) build(r Request) (*Result, error) {
	x := actionsio.New("build-image", actionsio.Options{Getenv: func(string) string { return "" }, Stdout: e.logs, Stderr: e.logs})
	return Build(context.Background(), e.d, e.reg, r, x)
}

// libDir makes a kernel-libs directory holding the named fixture libraries.
func libDir(t *testing.T, names ...string) string {
	dir := t.TempDir()
	for _, n := range names {
		b, err := os.ReadFile(filepath.Join(fixtureSO, n))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, n), b, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestStandinImagesEndToEnd(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	sm90a := libDir(t, "libsm90a.so", "libmulti.so")

	// 1. Built, verified and pushed; labels read back from the registry.
	res, err := e.build(e.request("human", sm90a, ""))
	if err != nil {
		t.Fatalf("%v\n%s", err, e.logs)
	}
	t.Logf("seconds: %v", res.Seconds)
	if res.Status != "built" || !res.BaseBuilt || !strings.Contains(res.Image, "@sha256:") {
		t.Fatalf("result %+v", res)
	}
	img, err := e.reg.Lookup(ctx, e.repo+":"+e.commit+"-human")
	if err != nil || img == nil {
		t.Fatalf("not in the registry: %v", err)
	}
	want := map[string]string{
		image.LabelCUDAArchs: "sm_90a", image.LabelVariant: "human", image.LabelRevision: e.commit,
		image.LabelCommit: e.commit, image.LabelParent: e.parent, image.LabelEngine: "standin",
		image.LabelBaseKey: res.BaseKey, image.LabelCase: "demo_000", image.LabelToolkitVersion: "test",
		"dev.commitbench.test-quoting": quoting,
	}
	for k, v := range want {
		if img.Labels[k] != v {
			t.Errorf("registry label %s = %q, want %q", k, img.Labels[k], v)
		}
	}
	if img.Labels[image.LabelCreated] == "" || img.Labels[image.LabelSource] != e.engine {
		t.Errorf("OCI labels: %v", img.Labels)
	}
	if res.Image != img.Pinned() {
		t.Errorf("output image %s, registry %s", res.Image, img.Pinned())
	}
	if got := e.fileIn(res.Image, "/etc/commitbench-standin.json"); got != "{\"speed\": 1.25}\n" {
		t.Errorf("human's standin.json in the image: %q", got)
	}

	// 2. The same tag again: skipped, same digest, nothing built.
	res2, err := e.build(e.request("human", sm90a, ""))
	var sk *Skipped
	if !errors.As(err, &sk) || res2.Status != "skipped" || res2.Image != res.Image {
		t.Fatalf("second build: %v, %+v", err, res2)
	}

	// 3. Baseline shares the base: only its variant layer is built.
	res3, err := e.build(e.request("baseline", sm90a, ""))
	if err != nil {
		t.Fatal(err)
	}
	if res3.BaseBuilt || res3.BaseKey != res.BaseKey || res3.Tag != e.commit+"-baseline" {
		t.Fatalf("baseline %+v", res3)
	}
	if got := e.fileIn(res3.Image, "/etc/commitbench-standin.json"); got != "{\"speed\": 1}\n" {
		t.Errorf("baseline's standin.json: %q", got)
	}

	// 4. Agent: parent + patch, tagged with the patch's hash.
	res4, err := e.build(e.request("agent", sm90a, agentPatch))
	if err != nil {
		t.Fatalf("%v\n%s", err, e.logs)
	}
	sha := source.PatchSHA256([]byte(agentPatch))
	if res4.Tag != e.commit+"-agent-"+sha[:12] || res4.PatchMethod != source.GitApply || res4.Labels[image.LabelPatchSHA256] != sha {
		t.Fatalf("agent %+v", res4)
	}
	if got := e.fileIn(res4.Image, "/etc/commitbench-standin.json"); got != "{\"speed\": 1.3}\n" {
		t.Errorf("agent's standin.json: %q", got)
	}

	// 5. force rebuilds an existing tag.
	r := e.request("human", sm90a, "")
	r.Force = true
	if res5, err := e.build(r); err != nil || res5.Status != "built" {
		t.Fatalf("forced rebuild: %v %+v", err, res5)
	}
}

func TestStandinFailuresAreNotPushed(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	undefined, _ := os.ReadFile("../../testdata/fixtures/gpu/undefined-symbol.txt")
	importCat := failure.Classify(bytes.NewReader(undefined)).Category

	cases := []struct {
		name     string
		variant  string
		libs     []string
		patch    string
		setup    func()
		category failure.Category
		evidence []string
	}{
		{"sm_80 only", "human", []string{"libsm80.so"}, "", nil, failure.CUDAArch,
			[]string{"libsm80.so", "sm_80", "no code for sm_90"}},
		{"sm_100a only", "human", []string{"libsm90a.so", "libsm100.so"}, "", nil, failure.CUDAArch,
			[]string{"libsm100.so", "sm_100a"}},
		{"patch does not apply", "agent", []string{"libsm90a.so"}, strings.ReplaceAll(agentPatch, `{"speed": 1}`, `{"speed": 7}`), nil,
			failure.PatchFailed, []string{"rejected hunks", `+{"speed": 1.3}`}},
		{"import fails", "human", []string{"libsm90a.so"}, "", func() {
			os.WriteFile(filepath.Join(e.engine, "standin.json"), []byte(`{"fail": "undefined-symbol"}`+"\n"), 0o644)
			e.git("commit", "-qam", "breaks the import")
			e.commit = e.git("rev-parse", "HEAD")
		}, importCat, []string{"undefined symbol"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.setup != nil {
				c.setup()
			}
			res, err := e.build(e.request(c.variant, libDir(t, c.libs...), c.patch))
			var f *Failed
			if !errors.As(err, &f) || res.Failure == nil || res.Failure.Category != c.category {
				t.Fatalf("err = %v, result %+v\n%s", err, res, e.logs)
			}
			for _, s := range c.evidence {
				if !strings.Contains(res.Failure.Evidence, s) {
					t.Errorf("evidence lacks %q:\n%s", s, res.Failure.Evidence)
				}
			}
			if res.Tag != "" {
				if img, err := e.reg.Lookup(ctx, e.repo+":"+res.Tag); err != nil || img != nil {
					t.Errorf("%s is in the registry after a failure: %v %v", res.Tag, img, err)
				}
				if li, _ := e.d.Inspect(ctx, e.repo+":"+res.Tag); li != nil {
					t.Errorf("%s was tagged locally after a failure", res.Tag)
				}
			}
		})
	}
}

func TestSavePushMethod(t *testing.T) {
	e := newEnv(t)
	r := e.request("human", libDir(t, "libsm90.so"), "")
	r.PushMethod = "save"
	res, err := e.build(r)
	if err != nil {
		t.Fatalf("%v\n%s", err, e.logs)
	}
	img, err := e.reg.Lookup(context.Background(), e.repo+":"+res.Tag)
	if err != nil || img == nil || img.Pinned() != res.Image || img.Labels[image.LabelCUDAArchs] != "sm_90" {
		t.Fatalf("registry %+v (%v), result %s", img, err, res.Image)
	}
}

// fileIn reads one file of an image through the archive API.
func (e *env) fileIn(ref, file string) string {
	e.t.Helper()
	dst := e.t.TempDir()
	got, err := e.d.CopyDirs(context.Background(), ref, []string{filepath.Dir(file)}, dst, func(n string) bool { return n == file })
	if err != nil || len(got) != 1 {
		e.t.Fatalf("reading %s from %s: %v %v", file, ref, got, err)
	}
	b, _ := os.ReadFile(filepath.Join(dst, file))
	return string(b)
}
