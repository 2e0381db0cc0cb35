// Package standintest builds the stand-in engine and FROM scratch images
// of it for tests that run against the real Docker engine. Every image it
// builds is labelled dev.commitbench.test=1 and removed when the test ends.
package standintest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"testing"

	"github.com/moby/moby/api/types/build"
	"github.com/moby/moby/client"

	"github.com/commitbench/commitbench/internal/standin"
)

// TestLabel marks images and containers that tests create.
const TestLabel = "dev.commitbench.test"

var (
	once    sync.Once
	binPath string
	binErr  error
)

// ModuleRoot is the repository root (where go.mod is).
func ModuleRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "..")
}

// Binary builds cmd/sglang-standin (static) once per test process.
func Binary(t testing.TB) string {
	t.Helper()
	once.Do(func() {
		dir, err := os.MkdirTemp("", "standin-bin-")
		if err != nil {
			binErr = err
			return
		}
		binPath = filepath.Join(dir, "python3")
		cmd := exec.Command("go", "build", "-o", binPath, "./cmd/sglang-standin")
		cmd.Dir = ModuleRoot()
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			binErr = &buildError{out: string(out), err: err}
		}
	})
	if binErr != nil {
		t.Fatalf("build stand-in: %v", binErr)
	}
	return binPath
}

type buildError struct {
	out string
	err error
}

func (e *buildError) Error() string { return e.err.Error() + "\n" + e.out }

// Image builds a stand-in image with cfg and labels and returns its tag.
func Image(t testing.TB, c *client.Client, cfg standin.Config, labels map[string]string) string {
	t.Helper()
	var ctxTar bytes.Buffer
	all := map[string]string{TestLabel: "1"}
	for k, v := range labels {
		all[k] = v
	}
	if err := standin.WriteContext(&ctxTar, Binary(t), cfg, all); err != nil {
		t.Fatal(err)
	}
	var b [6]byte
	rand.Read(b[:])
	tag := "commitbench-standin-test:" + hex.EncodeToString(b[:])
	ctx := context.Background()
	// NoCache: tests build in parallel (packages, and other engineers'
	// contract tests), and the classic builder's shared cache layers can be
	// deleted by another test's image removal mid-build ("unknown parent
	// image ID"). Each image gets its own layers.
	res, err := c.ImageBuild(ctx, &ctxTar, client.ImageBuildOptions{Tags: []string{tag}, Remove: true, ForceRemove: true, NoCache: true, Version: build.BuilderV1})
	if err != nil {
		t.Fatalf("build %s: %v", tag, err)
	}
	defer res.Body.Close()
	if err := buildErr(res.Body); err != nil {
		t.Fatalf("build %s: %v", tag, err)
	}
	t.Cleanup(func() {
		if _, err := c.ImageRemove(context.Background(), tag, client.ImageRemoveOptions{Force: true, PruneChildren: true}); err != nil {
			t.Errorf("remove image %s: %v", tag, err)
		}
	})
	return tag
}

// buildErr reads a build's JSON message stream to its end and returns the
// error it reports, if any.
func buildErr(r io.Reader) error {
	dec := json.NewDecoder(r)
	for {
		var m struct {
			Error string `json:"error"`
		}
		if err := dec.Decode(&m); err == io.EOF {
			return nil
		} else if err != nil {
			return err
		}
		if m.Error != "" {
			return errors.New(m.Error)
		}
	}
}
