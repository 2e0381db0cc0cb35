package actions_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"go.yaml.in/yaml/v4"
)

var flagLine = regexp.MustCompile(`(?m)^  -([a-z0-9-]+)`)

// Each stage's action.yml must declare exactly the binary's flags, and map
// each one to its INPUT_ variable: an input the binary never reads, or a
// flag no workflow can set, is a silent misconfiguration.
func TestActionInputsMatchFlags(t *testing.T) {
	bin := t.TempDir()
	union := map[string]bool{"stage": true}
	for _, stage := range []string{"plan", "build-image", "run-bench", "publish"} {
		out := filepath.Join(bin, stage)
		if b, err := exec.Command("go", "build", "-o", out, "./"+stage).CombinedOutput(); err != nil {
			t.Fatalf("build %s: %v %s", stage, err, b)
		}
		help, _ := exec.Command(out, "--help").CombinedOutput()
		flags := map[string]bool{}
		for _, m := range flagLine.FindAllStringSubmatch(string(help), -1) {
			flags[m[1]] = true
		}
		data, err := os.ReadFile(filepath.Join(stage, "action.yml"))
		if err != nil {
			t.Fatal(err)
		}
		var meta struct {
			Inputs map[string]any `yaml:"inputs"`
		}
		if err := yaml.Unmarshal(data, &meta); err != nil {
			t.Fatal(err)
		}
		// format is fixed by the action (none) instead of being an input.
		delete(flags, "format")
		for f := range flags {
			union[f] = true
		}
		var missing, extra []string
		for f := range flags {
			if _, ok := meta.Inputs[f]; !ok {
				missing = append(missing, f)
			}
		}
		for in := range meta.Inputs {
			if !flags[in] {
				extra = append(extra, in)
			}
			env := "INPUT_" + strings.ToUpper(strings.ReplaceAll(in, "-", "_")) + ": ${{ inputs." + in + " }}"
			if !strings.Contains(string(data), env) {
				t.Errorf("%s: input %s is not passed as %s", stage, in, env)
			}
		}
		sort.Strings(missing)
		sort.Strings(extra)
		if len(missing) > 0 || len(extra) > 0 {
			t.Errorf("%s/action.yml: flags without inputs %v; inputs without flags %v", stage, missing, extra)
		}
	}
	// The root action runs any stage: it takes the union of their inputs.
	data, err := os.ReadFile("../action.yml")
	if err != nil {
		t.Fatal(err)
	}
	var root struct {
		Inputs map[string]any `yaml:"inputs"`
	}
	if err := yaml.Unmarshal(data, &root); err != nil {
		t.Fatal(err)
	}
	for f := range union {
		if _, ok := root.Inputs[f]; !ok {
			t.Errorf("action.yml lacks input %s", f)
		}
	}
	for in := range root.Inputs {
		if !union[in] {
			t.Errorf("action.yml input %s belongs to no stage", in)
		}
	}
}
