package demo

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestCreateEngineRepoIsReproducible(t *testing.T) {
	a, err := CreateEngineRepo(filepath.Join(t.TempDir(), "engine"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := CreateEngineRepo(filepath.Join(t.TempDir(), "engine"))
	if err != nil {
		t.Fatal(err)
	}
	if a.Parent != b.Parent || a.Human != b.Human {
		t.Fatalf("hashes differ between two creations: %+v %+v", a, b)
	}
	t.Logf("parent %s human %s", a.Parent, a.Human)
	if a.Parent != ParentCommit || a.Human != HumanCommit {
		t.Errorf("constants are stale: parent %s human %s", a.Parent, a.Human)
	}
	if out, err := exec.Command("git", "-C", a.Dir, "checkout", "-q", a.Parent).CombinedOutput(); err != nil {
		t.Fatalf("%v %s", err, out)
	}
	out, err := exec.Command("git", "-C", a.Dir, "apply", "--check", a.Patch).CombinedOutput()
	if err != nil {
		t.Errorf("agent patch does not apply to the parent: %v %s", err, out)
	}
	generated, _ := os.ReadFile(a.Patch)
	bundled, err := os.ReadFile("../../examples/demo/agent.diff")
	if err != nil || string(generated) != string(bundled) {
		t.Errorf("examples/demo/agent.diff differs from the generated patch:\n%s", generated)
	}
	if got, _ := exec.Command("git", "-C", a.Dir, "rev-parse", a.Human+"^").Output(); strings.TrimSpace(string(got)) != a.Parent {
		t.Errorf("human's parent is %s", got)
	}
}
