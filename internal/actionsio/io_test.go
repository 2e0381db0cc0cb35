package actionsio

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func newIO(t *testing.T, env map[string]string) (*IO, *bytes.Buffer, *bytes.Buffer) {
	t.Helper()
	var out, errb bytes.Buffer
	x := New("plan", Options{Getenv: func(k string) string { return env[k] }, Stdout: &out, Stderr: &errb})
	return x, &out, &errb
}

func TestInputsFromFlagsThenEnv(t *testing.T) {
	env := map[string]string{"INPUT_CASES": " from-env.csv ", "INPUT_GPU-TYPE": "H200", "INPUT_MAX_PARALLEL": "4"}
	x, _, _ := newIO(t, env)
	cases := x.Flags().String("cases", "", "")
	gpu := x.Flags().String("gpu-type", "H100", "")
	par := x.Flags().Int("max-parallel", 1, "")
	strict := x.Flags().Bool("strict", false, "")
	if err := x.Parse([]string{"--strict"}); err != nil {
		t.Fatal(err)
	}
	if *cases != "from-env.csv" || *gpu != "H200" || *par != 4 || !*strict {
		t.Fatalf("cases=%q gpu=%q par=%d strict=%v", *cases, *gpu, *par, *strict)
	}

	x, _, _ = newIO(t, env)
	cases = x.Flags().String("cases", "", "")
	if err := x.Parse([]string{"--cases", "flag.csv"}); err != nil {
		t.Fatal(err)
	}
	if *cases != "flag.csv" {
		t.Fatalf("flag should win over env, got %q", *cases)
	}
}

func TestBadEnvInputNamesTheInput(t *testing.T) {
	x, _, _ := newIO(t, map[string]string{"INPUT_REPETITIONS": "five"})
	x.Flags().Int("repetitions", 5, "")
	err := x.Parse(nil)
	if err == nil || !strings.Contains(err.Error(), "input repetitions") {
		t.Fatalf("err = %v", err)
	}
}

func TestLocalRunWritesToStderrWithoutPanicking(t *testing.T) {
	x, out, errb := newIO(t, map[string]string{})
	x.Mask("hf_secret123")
	x.SetOutput("matrix", `{"include":[]}`)
	x.AddSummary("| a | b |")
	end := x.Group("plan")
	end()
	x.Warningf("token hf_secret123 leaked?")
	if out.Len() != 0 {
		t.Fatalf("stdout should stay clean for JSON, got %q", out.String())
	}
	got := errb.String()
	for _, want := range []string{"output matrix={\"include\":[]}", "| a | b |", "== plan", "warning: token *** leaked?"} {
		if !strings.Contains(got, want) {
			t.Errorf("stderr lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "hf_secret123") {
		t.Errorf("secret leaked:\n%s", got)
	}
}

func TestUnderActionsUsesFilesAndCommands(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{
		"GITHUB_ACTIONS":      "true",
		"GITHUB_OUTPUT":       filepath.Join(dir, "out"),
		"GITHUB_STEP_SUMMARY": filepath.Join(dir, "sum"),
	}
	x, out, _ := newIO(t, env)
	x.Mask("hf_secret123")
	x.SetOutput("skipped", "true")
	x.AddSummary("token hf_secret123")
	end := x.Group("build")
	end()
	x.Errorf("failed 100%%")
	o, _ := os.ReadFile(env["GITHUB_OUTPUT"])
	s, _ := os.ReadFile(env["GITHUB_STEP_SUMMARY"])
	if !strings.Contains(string(o), "skipped<<") || !strings.Contains(string(o), "\ntrue\n") {
		t.Errorf("output file = %q", o)
	}
	if strings.Contains(string(s), "hf_secret123") || !strings.Contains(string(s), "token ***") {
		t.Errorf("summary = %q", s)
	}
	for _, want := range []string{"::add-mask::hf_secret123", "::group::build", "::endgroup::", "::error::failed 100%25"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("workflow commands lack %q:\n%s", want, out.String())
		}
	}
}
