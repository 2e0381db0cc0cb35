package actions_test

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// fakeRelease serves one asset at /<version>/<asset>, like a GitHub release.
func fakeRelease(t *testing.T, version, asset string, body []byte) (*httptest.Server, *int) {
	hits := new(int)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		*hits++
		if r.URL.Path != "/"+version+"/"+asset {
			http.NotFound(w, r)
			return
		}
		w.Write(body)
	}))
	t.Cleanup(srv.Close)
	return srv, hits
}

// installTree copies install.sh beside a VERSION file into a scratch
// "actions" folder of a copy-free layout: the script builds from its parent,
// so the fallback test points it at the real repository instead.
func runInstall(t *testing.T, stage, version, checksums, releaseURL string) (string, string, error) {
	t.Helper()
	dir := t.TempDir()
	if version != "" {
		// install.sh reads VERSION beside itself; run a copy in a tree that
		// has one, with the module root one level up for go build.
		orig, _ := filepath.Abs(".")
		tree := filepath.Join(dir, "tree")
		copyTree(t, filepath.Dir(orig), tree)
		os.WriteFile(filepath.Join(tree, "actions", "VERSION"), []byte(version+"\n"), 0o644)
		cmd := exec.Command("bash", filepath.Join(tree, "actions", "install.sh"), stage)
		return run(cmd, dir, checksums, releaseURL)
	}
	cmd := exec.Command("bash", "install.sh", stage)
	return run(cmd, dir, checksums, releaseURL)
}

func run(cmd *exec.Cmd, dir, checksums, releaseURL string) (string, string, error) {
	cmd.Env = append(os.Environ(), "COMMITBENCH_BIN_DIR="+filepath.Join(dir, "bin"),
		"COMMITBENCH_CHECKSUMS="+checksums, "COMMITBENCH_RELEASE_URL="+releaseURL)
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	return strings.TrimSpace(out.String()), errb.String(), err
}

// copyTree copies the module (only what go build needs) so tests can give
// install.sh a VERSION of their own without touching the repository.
func copyTree(t *testing.T, src, dst string) {
	t.Helper()
	out, err := exec.Command("bash", "-c", `mkdir -p "$2" && cd "$1" && tar cf - go.mod go.sum actions internal cmd 2>/dev/null | (cd "$2" && tar xf -)`, "_", src, dst).CombinedOutput()
	if err != nil {
		t.Fatalf("copy: %v %s", err, out)
	}
}

func platformAsset(stage string) string {
	arch := runtime.GOARCH
	return "commitbench-" + stage + "-" + runtime.GOOS + "-" + arch
}

func TestInstallUsesPinnedRelease(t *testing.T) {
	body := []byte("#!/bin/sh\necho released-plan\n")
	sum := sha256.Sum256(body)
	asset := platformAsset("plan")
	srv, hits := fakeRelease(t, "v9.9.9", asset, body)
	checksums := filepath.Join(t.TempDir(), "checksums.txt")
	os.WriteFile(checksums, []byte(hex.EncodeToString(sum[:])+"  "+asset+"  v9.9.9\n"), 0o644)

	bin, stderr, err := runInstall(t, "plan", "v9.9.9", checksums, srv.URL)
	if err != nil {
		t.Fatalf("%v: %s", err, stderr)
	}
	out, err := exec.Command(bin).Output()
	if err != nil || strings.TrimSpace(string(out)) != "released-plan" {
		t.Fatalf("installed %s runs %q, %v (stderr %s)", bin, out, err, stderr)
	}
	if *hits != 1 || !strings.Contains(stderr, "sha256 verified") {
		t.Errorf("hits=%d stderr=%s", *hits, stderr)
	}
}

func TestInstallRefusesTamperedAsset(t *testing.T) {
	asset := platformAsset("publish")
	srv, _ := fakeRelease(t, "v9.9.9", asset, []byte("#!/bin/sh\necho evil\n"))
	checksums := filepath.Join(t.TempDir(), "checksums.txt")
	os.WriteFile(checksums, []byte(strings.Repeat("ab", 32)+"  "+asset+"  v9.9.9\n"), 0o644)
	_, stderr, err := runInstall(t, "publish", "v9.9.9", checksums, srv.URL)
	if err == nil || !strings.Contains(stderr, "does not match its pinned sha256") {
		t.Fatalf("tampered asset accepted: %v %s", err, stderr)
	}
}

func TestInstallBuildsWhenNoReleaseMatches(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a stage binary")
	}
	srv, hits := fakeRelease(t, "v9.9.9", "nothing", nil)
	checksums := filepath.Join(t.TempDir(), "checksums.txt")
	os.WriteFile(checksums, []byte("# empty\n"), 0o644)
	bin, stderr, err := runInstall(t, "plan", "", checksums, srv.URL)
	if err != nil {
		t.Fatalf("%v: %s", err, stderr)
	}
	if *hits != 0 || !strings.Contains(stderr, "building from source") {
		t.Errorf("hits=%d stderr=%s", *hits, stderr)
	}
	out, _ := exec.Command(bin, "--help").CombinedOutput()
	if !strings.Contains(string(out), "-cases") {
		t.Errorf("built binary is not plan: %s", out)
	}
}
