package standin

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// build-image verifies every image with `python3 -c "import sgl_kernel,
// sglang"`; the model fetch is also a `python3 -c` that starts with an
// import. Each must reach its own player.
func TestPythonDashC(t *testing.T) {
	home := t.TempDir()
	for _, tc := range []struct {
		name, code, config string
		args               []string
		exit               int
		stderr             string
	}{
		{"import check passes", "import sgl_kernel, sglang", "", nil, 0, ""},
		{"import check replays the broken kernel", "import sgl_kernel, sglang", `{"fail":"undefined-symbol","fail_in":"import"}`, nil, 1, "undefined symbol"},
		{"other failures leave imports alone", "import sgl_kernel, sglang", `{"fail":"oom"}`, nil, 0, ""},
		{"fetch still fetches", "import sys; from huggingface_hub import snapshot_download; print(snapshot_download(sys.argv[1]))", "", []string{"org/m"}, 0, "Fetching 1 files"},
	} {
		var out, errb bytes.Buffer
		env := map[string]string{"HOME": home, ConfigEnv: tc.config}
		code := run(t.Context(), Env{Args: append([]string{"python3", "-c", tc.code}, tc.args...),
			Getenv: func(k string) string { return env[k] }, Stdout: &out, Stderr: &errb})
		if code != tc.exit || !strings.Contains(errb.String(), tc.stderr) {
			t.Errorf("%s: exit %d, stderr %q", tc.name, code, errb.String())
		}
	}
	if _, err := os.Stat(filepath.Join(home, ".cache/huggingface/hub/models--org--m/snapshots/standin/config.json")); err != nil {
		t.Errorf("the fetch wrote no snapshot: %v", err)
	}
}
