package image

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/commitbench/commitbench/internal/source"
)

// ReadFacts reads the files pins come from out of rev (a commit or a tree
// id) of repo, without a checkout; date is the commit's date, which the
// era tables are keyed by (a patched tree has the parent's date).
func ReadFacts(ctx context.Context, repo *source.Repo, rev string, date time.Time) (Facts, error) {
	f := Facts{Date: date}
	var err error
	if f.Python, err = repo.Show(ctx, rev, "python/pyproject.toml"); err != nil {
		if errors.Is(err, source.ErrNotFound) {
			return f, &TreeError{File: "python/pyproject.toml", Err: fmt.Errorf("missing at %s: is this an SGLang tree?", rev)}
		}
		return f, err
	}
	if f.KernelTree, err = repo.TreeID(ctx, rev, "sgl-kernel"); errors.Is(err, source.ErrNotFound) {
		return f, nil // before 2024-11-30 SGLang had no kernel sources
	} else if err != nil {
		return f, err
	}
	for path, dst := range map[string]*[]byte{
		"sgl-kernel/pyproject.toml": &f.KernelPyproject,
		"sgl-kernel/setup.py":       &f.KernelSetupPy,
		"sgl-kernel/CMakeLists.txt": &f.KernelCMake,
	} {
		b, err := repo.Show(ctx, rev, path)
		if err != nil && !errors.Is(err, source.ErrNotFound) {
			return f, err
		}
		*dst = b
	}
	return f, nil
}

// CommitDate is the committer date of commit, parsed.
func CommitDate(ctx context.Context, repo *source.Repo, commit string) (time.Time, error) {
	s, err := repo.CommitTime(ctx, commit)
	if err != nil {
		return time.Time{}, err
	}
	return time.Parse(time.RFC3339, s)
}
