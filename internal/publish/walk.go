package publish

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sync"

	"github.com/commitbench/commitbench/internal/cli"
	"github.com/commitbench/commitbench/internal/report"
	"github.com/commitbench/commitbench/internal/result"
	"github.com/commitbench/commitbench/internal/verdict"
)

// findResults lists the result.json files under dirs: in the order the
// dirs were given, then in lexical order within each, so that the report
// and the dataset rows come out the same on every publish of one set.
func findResults(dirs []string) ([]string, error) {
	var out []string
	for _, d := range dirs {
		st, err := os.Stat(d)
		if err != nil {
			return nil, cli.Usagef("results: %s: %v; pass the directories the download-artifact step wrote", d, errors.Unwrap(err))
		}
		if !st.IsDir() {
			if filepath.Base(d) != result.FileName {
				return nil, cli.Usagef("results: %s is a file, not a directory of result.json files", d)
			}
			out = append(out, d)
			continue
		}
		err = filepath.WalkDir(d, func(p string, e fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if !e.IsDir() && e.Name() == result.FileName {
				out = append(out, p)
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("results: walking %s: %w", d, err)
		}
	}
	return out, nil
}

// item is one result file, read and summarized by a worker.
type item struct {
	idx  int
	path string
	run  runInfo
	c    *verdict.Case
	row  []byte // the HF row, JSON, no newline
	// details is the case's rendered <details> block.
	details []byte
	err     error
}

// runInfo is what publish needs of a result beyond its summary.
type runInfo struct{ RunID, RunURL, Version string }

// worker is one worker's state: its own details renderer.
type worker struct {
	o       *Options
	details report.Details
}

// summarize is the per-file work: decode, validate, summarize, build the
// dataset row while the full result is at hand (so that only the summary
// and the row outlive it), and render the case's details.
func (w *worker) summarize(path string) item {
	it := summarize(path, w.o)
	if it.err == nil {
		it.details = bytes.Clone(w.details.Render(it.c))
	}
	return it
}

func summarize(path string, o *Options) item {
	r, err := result.Read(path)
	if err != nil {
		return item{path: path, err: err}
	}
	c := verdict.Summarize(r, o.Primary)
	row, err := json.Marshal(NewRow(r, c, o.RunID, o.RunURL, o.Version))
	if err != nil {
		return item{path: path, err: fmt.Errorf("%s: dataset row: %w", path, err)}
	}
	return item{path: path, c: c, row: row, run: runInfo{r.RunID, r.RunURL, r.ToolkitVersion}}
}

// stream runs the work of newWorker() (one per worker goroutine) on paths
// and hands the items to fn in path order. At most window items are in
// flight or waiting, which bounds memory however many files there are.
func stream(ctx context.Context, paths []string, workers int, newWorker func() func(string) item, fn func(item) error) error {
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	window := 4 * workers
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	slots := make(chan struct{}, window)
	jobs := make(chan int)
	out := make(chan item, window)
	go func() {
		defer close(jobs)
		for i := range paths {
			select {
			case slots <- struct{}{}:
			case <-ctx.Done():
				return
			}
			select {
			case jobs <- i:
			case <-ctx.Done():
				return
			}
		}
	}()
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		work := newWorker()
		go func() {
			defer wg.Done()
			for i := range jobs {
				it := work(paths[i])
				it.idx = i
				select {
				case out <- it:
				case <-ctx.Done():
					return
				}
			}
		}()
	}
	go func() { wg.Wait(); close(out) }()
	pending := map[int]item{}
	next := 0
	for it := range out {
		pending[it.idx] = it
		for {
			p, ok := pending[next]
			if !ok {
				break
			}
			delete(pending, next)
			next++
			<-slots
			if err := fn(p); err != nil {
				cancel()
				for range out { // let the workers finish
				}
				return err
			}
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	return nil
}
