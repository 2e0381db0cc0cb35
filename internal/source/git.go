// Package source materialises the engine tree a variant is built from: the
// exact commit (never main, never a release tag: every upstream SGLang
// Dockerfile clones main, which is how the previous pipeline measured the
// wrong code), plus, for the agent variant, the agent's patch. It also reads
// files and tree ids out of a git repository without a checkout, which is
// how plan counts kernel builds from a local clone.
package source

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
)

// Repo is a local git repository (a checkout or a bare clone).
type Repo struct {
	Dir string
	// Env is added to every git invocation (tests set HOME-free identities).
	Env []string
}

// ErrNotFound is returned for a path that is not in the tree.
var ErrNotFound = errors.New("not in the tree")

var fullSHA = regexp.MustCompile(`^[0-9a-f]{40}$`)

// IsFullSHA reports whether s is a full 40-character lower-case commit id,
// the only form image tags and checkouts accept: an abbreviation can
// become ambiguous as the repository grows.
func IsFullSHA(s string) bool { return fullSHA.MatchString(s) }

// git runs git in r.Dir and returns its stdout; the error carries stderr.
func (r *Repo) git(ctx context.Context, stdin []byte, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, "git", args...)
	cmd.Dir = r.Dir
	// Never prompt for credentials: a private or missing repository must
	// fail, not hang a CI job.
	cmd.Env = append(append(os.Environ(), "GIT_TERMINAL_PROMPT=0", "GIT_ASKPASS=true"), r.Env...)
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return out.Bytes(), fmt.Errorf("git %s: %v: %s", strings.Join(redactArgs(args), " "), err, strings.TrimSpace(errb.String()))
	}
	return out.Bytes(), nil
}

// redactArgs hides credentials embedded in URLs (https://user:token@host).
func redactArgs(args []string) []string {
	out := make([]string, len(args))
	for i, a := range args {
		if at := strings.Index(a, "@"); at > 0 && strings.Contains(a[:at], "://") {
			scheme := a[:strings.Index(a, "://")+3]
			a = scheme + "***" + a[at:]
		}
		out[i] = a
	}
	return out
}

// Show returns the contents of path in the tree-ish rev (a commit or tree
// id), or ErrNotFound.
func (r *Repo) Show(ctx context.Context, rev, path string) ([]byte, error) {
	if _, err := r.git(ctx, nil, "cat-file", "-e", rev+":"+path); err != nil {
		return nil, fmt.Errorf("%s:%s: %w", rev, path, ErrNotFound)
	}
	return r.git(ctx, nil, "cat-file", "blob", rev+":"+path)
}

// TreeID returns the git object id of path (a directory) in rev, or
// ErrNotFound. Equal ids mean byte-identical trees, submodule gitlinks
// included, so it is an exact cache key for what a kernel build reads.
func (r *Repo) TreeID(ctx context.Context, rev, path string) (string, error) {
	out, err := r.git(ctx, nil, "rev-parse", "--verify", "--quiet", rev+":"+path)
	if err != nil {
		return "", fmt.Errorf("%s:%s: %w", rev, path, ErrNotFound)
	}
	return strings.TrimSpace(string(out)), nil
}

// CommitTime returns the committer date of commit in RFC 3339, the date
// SGLang's eras are defined by.
func (r *Repo) CommitTime(ctx context.Context, commit string) (string, error) {
	out, err := r.git(ctx, nil, "show", "-s", "--format=%cI", commit)
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(out)), nil
}

// HasCommit reports whether commit is in the repository.
func (r *Repo) HasCommit(ctx context.Context, commit string) bool {
	_, err := r.git(ctx, nil, "cat-file", "-e", commit+"^{commit}")
	return err == nil
}

// ApplyToTree applies patch to the tree of rev in a scratch index and
// returns the resulting tree id and the method that worked (git apply,
// plain or 3-way), without touching any worktree.
func (r *Repo) ApplyToTree(ctx context.Context, rev string, patch []byte) (string, Method, error) {
	s, done, err := r.scratchIndex()
	if err != nil {
		return "", "", err
	}
	defer done()
	if _, err := s.git(ctx, nil, "read-tree", rev); err != nil {
		return "", "", err
	}
	m := GitApply
	if _, err := s.git(ctx, patch, "apply", "--cached", "--whitespace=nowarn", "-"); err != nil {
		if _, err3 := s.git(ctx, patch, "apply", "--cached", "--3way", "--whitespace=nowarn", "-"); err3 != nil {
			return "", "", err
		}
		m = GitApply3Way
	}
	out, err := s.git(ctx, nil, "write-tree")
	if err != nil {
		return "", "", err
	}
	return strings.TrimSpace(string(out)), m, nil
}

// WorktreeTree returns the tree id of the checkout's files as they are now
// (a patch applied, say), through a scratch index so the real one is kept.
func (r *Repo) WorktreeTree(ctx context.Context) (string, error) {
	s, done, err := r.scratchIndex()
	if err != nil {
		return "", err
	}
	defer done()
	if _, err := s.git(ctx, nil, "read-tree", "HEAD"); err != nil {
		return "", err
	}
	if _, err := s.git(ctx, nil, "add", "-A", "."); err != nil {
		return "", err
	}
	out, err := s.git(ctx, nil, "write-tree")
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(out)), nil
}

// scratchIndex returns r with GIT_INDEX_FILE pointing at a fresh index in
// a temporary directory, and a func that removes it.
func (r *Repo) scratchIndex() (*Repo, func(), error) {
	dir, err := os.MkdirTemp("", "commitbench-index-")
	if err != nil {
		return nil, nil, err
	}
	env := append(append([]string{}, r.Env...), "GIT_INDEX_FILE="+filepath.Join(dir, "index"))
	return &Repo{Dir: r.Dir, Env: env}, func() { os.RemoveAll(dir) }, nil
}

// ChangedPaths lists the files that differ between two commits (or trees).
func (r *Repo) ChangedPaths(ctx context.Context, from, to string) ([]string, error) {
	out, err := r.git(ctx, nil, "diff", "--name-only", "--no-renames", from, to)
	if err != nil {
		return nil, err
	}
	return strings.Fields(string(out)), nil
}

// IsRepo reports whether r.Dir is inside a git repository.
func (r *Repo) IsRepo(ctx context.Context) bool {
	_, err := r.git(ctx, nil, "rev-parse", "--git-dir")
	return err == nil
}

// PatchedTree returns the tree id of commit with patch applied and how it
// applied, without touching r's worktree: through a scratch index when git
// apply (plain or 3-way) suffices, else in a temporary worktree where
// ApplyPatch tries GNU patch too, exactly as a build would.
func (r *Repo) PatchedTree(ctx context.Context, commit string, patch []byte) (string, Method, error) {
	if tree, m, err := r.ApplyToTree(ctx, commit, patch); err == nil {
		return tree, m, nil
	}
	dir, err := os.MkdirTemp("", "commitbench-worktree-")
	if err != nil {
		return "", "", err
	}
	defer os.RemoveAll(dir)
	wt := filepath.Join(dir, "tree")
	if _, err := r.git(ctx, nil, "worktree", "add", "-q", "--detach", wt, commit); err != nil {
		return "", "", err
	}
	defer r.git(context.WithoutCancel(ctx), nil, "worktree", "remove", "--force", wt)
	w := &Repo{Dir: wt, Env: r.Env}
	m, err := w.ApplyPatch(ctx, patch)
	if err != nil {
		return "", "", err
	}
	tree, err := w.WorktreeTree(ctx)
	return tree, m, err
}
