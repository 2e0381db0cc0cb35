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

// runInstall runs install.sh for stage. With a version, it runs a copy of
// the script beside a VERSION file of its own (the release paths never
// build, so the script needs no module around it); without one, the
// repository's script, which builds from this module.
func runInstall(t *testing.T, stage, version, checksums, releaseURL string) (string, string, error) {
	t.Helper()
	dir := t.TempDir()
	script := "install.sh"
	if version != "" {
		actions := filepath.Join(dir, "tree", "actions")
		if err := os.MkdirAll(actions, 0o755); err != nil {
			t.Fatal(err)
		}
		body, err := os.ReadFile("install.sh")
		if err != nil {
			t.Fatal(err)
		}
		script = filepath.Join(actions, "install.sh")
		os.WriteFile(script, body, 0o755)
		os.WriteFile(filepath.Join(actions, "VERSION"), []byte(version+"\n"), 0o644)
	}
	return run(exec.Command("bash", script, stage), dir, checksums, releaseURL)
}

func run(cmd *exec.Cmd, dir, checksums, releaseURL string) (string, string, error) {
	cmd.Env = append(os.Environ(), "COMMITBENCH_BIN_DIR="+filepath.Join(dir, "bin"),
		"COMMITBENCH_CHECKSUMS="+checksums, "COMMITBENCH_RELEASE_URL="+releaseURL)
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	return strings.TrimSpace(out.String()), errb.String(), err
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
