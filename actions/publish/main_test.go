package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/commitbench/commitbench/internal/actionsio"
	"github.com/commitbench/commitbench/internal/cli"
)

func TestRunExitCodes(t *testing.T) {
	dir := t.TempDir()
	fixtures := "../../internal/report/testdata/results"
	for _, tc := range []struct {
		name string
		args []string
		env  map[string]string
		code int
		want string
	}{
		{"publishes the fixtures", []string{"--results", fixtures + ",", "--report", filepath.Join(dir, "r.md")}, nil, cli.ExitOK, ""},
		{"inputs from INPUT_*", nil, map[string]string{"INPUT_RESULTS": fixtures, "INPUT_REPORT": filepath.Join(dir, "r2.md"), "INPUT_FAIL-ON-REGRESSION": "true"},
			cli.ExitFailed, "fail-on-regression"},
		{"missing results", []string{"--results", filepath.Join(dir, "none")}, nil, cli.ExitUsage, "results:"},
		{"bad primary metric", []string{"--results", fixtures, "--primary-metric", "bench_x=y"}, nil, cli.ExitUsage, "unknown tool"},
		{"comment-from without a PR", []string{"--comment-from", filepath.Join(dir, "c.md"), "--repository", "o/r", "--github-token", "t"}, nil, cli.ExitUsage, "pr:"},
		{"help", []string{"--help"}, nil, cli.ExitOK, ""},
		// act names a local clone as the repository; nothing here posts.
		{"odd repository without comment or check", []string{"--results", fixtures, "--report", filepath.Join(dir, "r3.md")},
			map[string]string{"GITHUB_REPOSITORY": "/work/main", "GITHUB_SERVER_URL": "https://github.com", "GITHUB_RUN_ID": "1"}, cli.ExitOK, ""},
		{"odd repository with a PR", []string{"--results", fixtures, "--pr", "3", "--repository", "/work/main", "--github-token", "t"}, nil, cli.ExitUsage, "is not owner/repo"},
	} {
		var stderr bytes.Buffer
		env := tc.env
		err := run(context.Background(), tc.args, actionsio.Options{Getenv: func(k string) string { return env[k] }, Stdout: &bytes.Buffer{}, Stderr: &stderr})
		if got := cli.ExitCode(err); got != tc.code || (tc.want != "" && !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("%s: exit %d (%v), want %d mentioning %q", tc.name, got, err, tc.code, tc.want)
		}
	}
	if data, err := os.ReadFile(filepath.Join(dir, "r.md")); err != nil || !bytes.Contains(data, []byte("## commitbench: 32 cases")) {
		t.Errorf("report not written: %v", err)
	}
}
