package source

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
)

// Method says how a patch went in. It is recorded in the image labels and
// the build result: a patch that needed fuzz is not byte-for-byte what the
// agent wrote against this tree, and a reader should know.
type Method string

// The methods, tried in this order.
const (
	GitApply     Method = "git-apply"
	GitApply3Way Method = "git-apply-3way"
	PatchFuzz    Method = "patch-fuzz"
)

// PatchError is a patch that no method could apply.
type PatchError struct {
	// Attempts has one line per method: what it said.
	Attempts []string
	// Rejects holds the hunks that did not apply (patch's .rej output).
	Rejects string
}

func (e *PatchError) Error() string {
	msg := "patch does not apply: " + strings.Join(e.Attempts, "; ")
	if e.Rejects != "" {
		msg += "\nrejected hunks:\n" + e.Rejects
	}
	return msg
}

// PatchSHA256 is the hex sha256 of a patch's bytes, which names the agent
// image (its first 12 characters) and fills the patch-sha256 label.
func PatchSHA256(patch []byte) string {
	s := sha256.Sum256(patch)
	return hex.EncodeToString(s[:])
}

// ApplyPatch applies patch to the checkout r: git apply, then git apply
// --3way, then patch -p1 with fuzz. Between attempts the tree is reset, so
// a failed attempt leaves nothing half-applied; when all fail the tree is
// back at HEAD and the error is a *PatchError.
func (r *Repo) ApplyPatch(ctx context.Context, patch []byte) (Method, error) {
	var attempts []string
	if _, err := r.git(ctx, patch, "apply", "--whitespace=nowarn", "-"); err == nil {
		return GitApply, nil
	} else {
		attempts = append(attempts, "git apply: "+lastLine(err.Error()))
	}
	// A 3-way merge needs the blobs the patch was written against; a depth-1
	// checkout may lack them, so fetch the history first when it does.
	if r.IsShallow(ctx) && r.missingPreimage(ctx, patch) {
		if err := r.Unshallow(ctx); err != nil {
			attempts = append(attempts, "fetching history for --3way: "+lastLine(err.Error()))
		}
	}
	if _, err := r.git(ctx, patch, "apply", "--3way", "--whitespace=nowarn", "-"); err == nil {
		return GitApply3Way, nil
	} else {
		attempts = append(attempts, "git apply --3way: "+lastLine(err.Error()))
	}
	if err := r.reset(ctx); err != nil {
		return "", err
	}
	rejects, err := r.patchFuzz(ctx, patch)
	if err == nil {
		return PatchFuzz, nil
	}
	attempts = append(attempts, "patch -p1 --fuzz=3: "+lastLine(err.Error()))
	if rerr := r.reset(ctx); rerr != nil {
		return "", rerr
	}
	return "", &PatchError{Attempts: attempts, Rejects: rejects}
}

// patchFuzz runs GNU patch, collecting rejected hunks in one file.
func (r *Repo) patchFuzz(ctx context.Context, patch []byte) (rejects string, err error) {
	tmp, err := os.MkdirTemp("", "commitbench-rej-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tmp)
	rej := filepath.Join(tmp, "rejects.rej")
	cmd := exec.CommandContext(ctx, "patch", "-p1", "--fuzz=3", "--forward", "--batch",
		"--no-backup-if-mismatch", "-r", rej)
	cmd.Dir = r.Dir
	cmd.Stdin = bytes.NewReader(patch)
	out, err := cmd.CombinedOutput()
	if err == nil {
		return "", nil
	}
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		return "", fmt.Errorf("running patch: %w (is GNU patch installed?)", err)
	}
	data, _ := os.ReadFile(rej)
	return string(data), fmt.Errorf("%s", strings.TrimSpace(string(out)))
}

// reset puts the checkout back at HEAD, untracked files removed (nested
// repositories such as submodules are kept: clean needs -ff for those).
func (r *Repo) reset(ctx context.Context) error {
	if _, err := r.git(ctx, nil, "reset", "-q", "--hard", "HEAD"); err != nil {
		return err
	}
	_, err := r.git(ctx, nil, "clean", "-q", "-fd")
	return err
}

var indexLine = regexp.MustCompile(`(?m)^index ([0-9a-f]{7,64})\.\.[0-9a-f]{7,64}`)

// missingPreimage reports whether the patch names a preimage blob the
// repository does not have.
func (r *Repo) missingPreimage(ctx context.Context, patch []byte) bool {
	for _, m := range indexLine.FindAllSubmatch(patch, -1) {
		id := string(m[1])
		if strings.Trim(id, "0") == "" {
			continue // a new file
		}
		if _, err := r.git(ctx, nil, "cat-file", "-e", id); err != nil {
			return true
		}
	}
	return false
}

// PatchedPaths lists the files a unified diff touches (new and old names,
// without the a/ b/ prefixes), for deciding whether a change reaches
// sgl-kernel/.
func PatchedPaths(patch []byte) []string {
	seen := map[string]bool{}
	var out []string
	add := func(p string, prefixed bool) {
		p = strings.TrimSpace(p)
		if i := strings.IndexByte(p, '\t'); i >= 0 {
			p = p[:i]
		}
		if p == "/dev/null" || p == "" {
			return
		}
		if prefixed && (strings.HasPrefix(p, "a/") || strings.HasPrefix(p, "b/")) {
			p = p[2:]
		}
		if !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	// Lines inside a hunk ("-- x" removed, "++ y" added) can look like
	// file headers, so hunks are skipped by their line counts.
	inOld, inNew := 0, 0
	lines := strings.Split(string(patch), "\n")
	for i, line := range lines {
		if inOld > 0 || inNew > 0 {
			switch {
			case strings.HasPrefix(line, "-"):
				inOld--
			case strings.HasPrefix(line, "+"):
				inNew--
			case strings.HasPrefix(line, "\\"):
			default:
				inOld, inNew = inOld-1, inNew-1
			}
			continue
		}
		switch {
		case strings.HasPrefix(line, "@@ "):
			inOld, inNew = hunkCounts(line)
		case strings.HasPrefix(line, "--- ") && i+1 < len(lines) && strings.HasPrefix(lines[i+1], "+++ "):
			add(line[4:], true)
			add(lines[i+1][4:], true)
		case strings.HasPrefix(line, "rename from "):
			add(strings.TrimPrefix(line, "rename from "), false)
		case strings.HasPrefix(line, "rename to "):
			add(strings.TrimPrefix(line, "rename to "), false)
		}
	}
	return out
}

var hunkHeader = regexp.MustCompile(`^@@ -\d+(?:,(\d+))? \+\d+(?:,(\d+))? @@`)

// hunkCounts returns the old and new line counts of a hunk header (a
// missing count means 1).
func hunkCounts(line string) (int, int) {
	m := hunkHeader.FindStringSubmatch(line)
	if m == nil {
		return 0, 0
	}
	n := func(s string) int {
		if s == "" {
			return 1
		}
		v, _ := strconv.Atoi(s)
		return v
	}
	return n(m[1]), n(m[2])
}

func lastLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		return s[i+1:]
	}
	return s
}
