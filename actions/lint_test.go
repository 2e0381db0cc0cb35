package actions_test

import (
	"bytes"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/rhysd/actionlint"
	"go.yaml.in/yaml/v4"
)

// actionFiles are the root action and every stage's action.
func actionFiles(t *testing.T) []string {
	files, err := filepath.Glob("*/action.yml")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat("../action.yml"); err == nil {
		files = append(files, "../action.yml")
	}
	if len(files) == 0 {
		t.Fatal("no action.yml found")
	}
	return files
}

func linter(t *testing.T) *actionlint.Linter {
	sc, _ := exec.LookPath("shellcheck")
	l, err := actionlint.NewLinter(io.Discard, &actionlint.LinterOptions{Shellcheck: sc})
	if err != nil {
		t.Fatal(err)
	}
	return l
}

var stepRef = regexp.MustCompile(`^\$\{\{\s*steps\.([A-Za-z0-9_-]+)\.outputs\.[A-Za-z0-9_-]+\s*\}\}$`)

// actionlint reads action.yml files only as the target of a workflow's
// `uses:`. To lint a composite action's own steps (expressions, untrusted
// input in run:, shell), each is wrapped in a workflow whose dispatch inputs
// are the action's inputs (workflow_call: no 25-input limit) and whose one job runs the action's steps.
func TestCompositeActionsLintClean(t *testing.T) {
	l := linter(t)
	for _, path := range actionFiles(t) {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		var meta struct {
			Name    string                    `yaml:"name"`
			Inputs  map[string]map[string]any `yaml:"inputs"`
			Outputs map[string]map[string]any `yaml:"outputs"`
			Runs    struct {
				Using string `yaml:"using"`
				Steps []any  `yaml:"steps"`
			} `yaml:"runs"`
		}
		if err := yaml.Unmarshal(data, &meta); err != nil {
			t.Errorf("%s: %v", path, err)
			continue
		}
		if meta.Runs.Using != "composite" || len(meta.Runs.Steps) == 0 {
			t.Errorf("%s: want a composite action with steps", path)
			continue
		}
		inputs := map[string]any{}
		for name, in := range meta.Inputs {
			if in["description"] == nil {
				t.Errorf("%s: input %s has no description", path, name)
			}
			inputs[name] = map[string]any{"type": "string", "required": false}
		}
		wf := map[string]any{
			"name": meta.Name,
			"on":   map[string]any{"workflow_call": map[string]any{"inputs": inputs}},
			"jobs": map[string]any{"action": map[string]any{"runs-on": "ubuntu-latest", "steps": meta.Runs.Steps}},
		}
		var buf bytes.Buffer
		enc := yaml.NewEncoder(&buf)
		if err := enc.Encode(wf); err != nil {
			t.Fatal(err)
		}
		errs, err := l.Lint(path, buf.Bytes(), nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range errs {
			t.Errorf("%s: %s [%s]", path, e.Message, e.Kind)
		}
		ids := map[string]bool{}
		for i, st := range meta.Runs.Steps {
			step, _ := st.(map[string]any)
			if id, ok := step["id"].(string); ok {
				ids[id] = true
			}
			if run, _ := step["run"].(string); strings.Contains(run, "${{") {
				t.Errorf("%s: step %d interpolates ${{ }} into run:; pass the value through env:", path, i)
			}
		}
		for name, out := range meta.Outputs {
			v, _ := out["value"].(string)
			m := stepRef.FindStringSubmatch(v)
			if m == nil || !ids[m[1]] {
				t.Errorf("%s: output %s = %q does not name a step of the action", path, name, v)
			}
		}
	}
}

func TestWorkflowsLintClean(t *testing.T) {
	errs, err := linter(t).LintRepository("..")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range errs {
		t.Errorf("%s:%d:%d: %s [%s]", e.Filepath, e.Line, e.Column, e.Message, e.Kind)
	}
}
