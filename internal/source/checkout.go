package source

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// CheckoutOptions says what to materialise where.
type CheckoutOptions struct {
	// Repo is the engine repository: a URL or a local path (a clone the
	// workflow checked out, say). A local clone is fetched from, never
	// modified.
	Repo string
	// Commit is the full 40-character commit id.
	Commit string
	// Dir is created and must not exist or be empty.
	Dir string
	// Submodules initialises submodules (sgl-kernel/3rdparty in the
	// setup.py era of sgl-kernel, needed only to compile it).
	Submodules bool
	// Log receives git's progress; nil discards it.
	Log io.Writer
}

// Checkout fetches exactly o.Commit from o.Repo into o.Dir and checks it
// out detached. It fetches only that commit (depth 1), which GitHub and
// local repositories both serve, and falls back to fetching all branches
// for a server that refuses to serve a commit by id.
func Checkout(ctx context.Context, o CheckoutOptions) (*Repo, error) {
	if !IsFullSHA(o.Commit) {
		return nil, fmt.Errorf("commit %q: want the full 40-character id; run git rev-parse on it", o.Commit)
	}
	src := o.Repo
	if st, err := os.Stat(src); err == nil && st.IsDir() {
		abs, err := filepath.Abs(src)
		if err != nil {
			return nil, err
		}
		src = abs
	} else if !strings.Contains(src, "://") && !strings.Contains(src, "@") {
		return nil, fmt.Errorf("engine repository %q: neither a directory nor a URL; give a git URL (https://github.com/sgl-project/sglang) or the path of a clone", o.Repo)
	}
	if err := os.MkdirAll(o.Dir, 0o755); err != nil {
		return nil, err
	}
	if ents, _ := os.ReadDir(o.Dir); len(ents) > 0 {
		return nil, fmt.Errorf("checkout directory %s is not empty", o.Dir)
	}
	r := &Repo{Dir: o.Dir}
	logf := func(format string, args ...any) {
		if o.Log != nil {
			fmt.Fprintf(o.Log, format+"\n", args...)
		}
	}
	steps := [][]string{
		{"init", "-q"},
		{"remote", "add", "origin", src},
	}
	for _, s := range steps {
		if _, err := r.git(ctx, nil, s...); err != nil {
			return nil, err
		}
	}
	shown := redactArgs([]string{src})[0]
	logf("fetching %s from %s", o.Commit, shown)
	if _, err := r.git(ctx, nil, "fetch", "-q", "--no-tags", "--depth=1", "origin", o.Commit); err != nil {
		logf("fetch by commit id failed (%v); fetching all branches", err)
		if _, err := r.git(ctx, nil, "fetch", "-q", "--no-tags", "origin", "+refs/heads/*:refs/remotes/origin/*"); err != nil {
			return nil, fmt.Errorf("fetching %s: %w", o.Commit, err)
		}
	}
	if !r.HasCommit(ctx, o.Commit) {
		return nil, fmt.Errorf("commit %s is not in %s; check the commit id and the engine repository", o.Commit, shown)
	}
	if _, err := r.git(ctx, nil, "-c", "advice.detachedHead=false", "checkout", "-q", "--detach", o.Commit); err != nil {
		return nil, err
	}
	head, err := r.git(ctx, nil, "rev-parse", "HEAD")
	if err != nil {
		return nil, err
	}
	// The whole point of this package: what is built is the commit asked for.
	if got := strings.TrimSpace(string(head)); got != o.Commit {
		return nil, fmt.Errorf("checkout of %s gave HEAD %s", o.Commit, got)
	}
	if o.Submodules {
		logf("initialising submodules")
		if err := r.InitSubmodules(ctx); err != nil {
			return nil, fmt.Errorf("%s: %w", o.Commit, err)
		}
	}
	return r, nil
}

// IsShallow reports whether the checkout lacks history.
func (r *Repo) IsShallow(ctx context.Context) bool {
	out, err := r.git(ctx, nil, "rev-parse", "--is-shallow-repository")
	return err == nil && strings.TrimSpace(string(out)) == "true"
}

// Unshallow fetches the rest of the history of HEAD, which a 3-way apply
// needs when a patch was written against an older version of a file.
func (r *Repo) Unshallow(ctx context.Context) error {
	head, err := r.git(ctx, nil, "rev-parse", "HEAD")
	if err != nil {
		return err
	}
	_, err = r.git(ctx, nil, "fetch", "-q", "--no-tags", "--unshallow", "origin", strings.TrimSpace(string(head)))
	return err
}

// Fetch makes another commit of the same repository available (depth 1),
// e.g. the parent, to list what a case changes.
func (r *Repo) Fetch(ctx context.Context, commit string) error {
	if r.HasCommit(ctx, commit) {
		return nil
	}
	_, err := r.git(ctx, nil, "fetch", "-q", "--no-tags", "--depth=1", "origin", commit)
	return err
}

// InitSubmodules checks out the submodules of the tree, if it has any.
func (r *Repo) InitSubmodules(ctx context.Context) error {
	if _, err := os.Stat(filepath.Join(r.Dir, ".gitmodules")); err != nil {
		return nil
	}
	if _, err := r.git(ctx, nil, "submodule", "update", "--init", "--recursive", "--depth=1"); err != nil {
		return fmt.Errorf("submodules: %w", err)
	}
	return nil
}
