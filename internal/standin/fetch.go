package standin

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// cacheDir is where huggingface_hub keeps model's snapshots.
func cacheDir(getenv func(string) string, model string) string {
	home := getenv("HF_HOME")
	if home == "" {
		home = filepath.Join(getenv("HOME"), ".cache", "huggingface")
	}
	return filepath.Join(home, "hub", "models--"+strings.ReplaceAll(model, "/", "--"))
}

// fetch plays snapshot_download(model): it writes a snapshot with a
// config.json into the cache and prints its path. It records whether a
// token was present (never the token) so tests can see where it went.
func fetch(ctx context.Context, cfg Config, e Env, args []string) int {
	if len(args) == 0 {
		fmt.Fprintln(e.Stderr, "IndexError: list index out of range")
		return 1
	}
	if code, ok := failNow(ctx, cfg, e, "fetch"); ok {
		return code
	}
	model := args[0]
	snap := filepath.Join(cacheDir(e.Getenv, model), "snapshots", "standin")
	if err := os.MkdirAll(snap, 0o755); err != nil {
		fmt.Fprintf(e.Stderr, "PermissionError: %v\n", err)
		return 1
	}
	token := "absent"
	if e.Getenv("HF_TOKEN") != "" {
		token = "present"
	}
	cfgJSON := fmt.Sprintf(`{"architectures": ["LlamaForCausalLM"], "_name_or_path": %q, "commitbench_standin_token": %q}`+"\n", model, token)
	if err := os.WriteFile(filepath.Join(snap, "config.json"), []byte(cfgJSON), 0o644); err != nil {
		fmt.Fprintf(e.Stderr, "OSError: %v\n", err)
		return 1
	}
	fmt.Fprintf(e.Stderr, "Fetching 1 files: 100%%|██████████| 1/1 [00:00<00:00]\n")
	fmt.Fprintln(e.Stdout, snap)
	return 0
}
