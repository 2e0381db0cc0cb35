package publish

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"

	fastjson "github.com/goccy/go-json"

	"github.com/commitbench/commitbench/internal/cli"
	"github.com/commitbench/commitbench/internal/report"
	"github.com/commitbench/commitbench/internal/result"
	"github.com/commitbench/commitbench/internal/verdict"
)

// checkResults checks that every results argument exists, before
// anything is published: a mistyped path is a usage error, not a run with
// fewer cases.
func checkResults(dirs []string) error {
	for _, d := range dirs {
		st, err := os.Stat(d)
		if err != nil {
			return cli.Usagef("results: %s: %v; pass the directories the download-artifact step wrote", d, errors.Unwrap(err))
		}
		if !st.IsDir() && filepath.Base(d) != result.FileName {
			return cli.Usagef("results: %s is a file, not a directory of result.json files", d)
		}
	}
	return nil
}

// startWalk starts walkResults and waits for its first file, so that an
// empty download is a usage error before anything is published or a check
// is started. next gives the files in order (from one goroutine); wait
// returns the walk's error once next has said there are no more.
func startWalk(ctx context.Context, dirs []string) (next func() (string, bool), wait func() error, err error) {
	found := make(chan string, 256)
	walked := make(chan error, 1)
	go func() { walked <- walkResults(ctx, dirs, found) }()
	head, ok := <-found
	if !ok {
		if err := <-walked; err != nil {
			return nil, nil, err
		}
		return nil, nil, cli.Usagef("results: no result.json under %s; check that the download-artifact step put the matrix artifacts there", strings.Join(dirs, ", "))
	}
	next = func() (string, bool) {
		if head != "" {
			p := head
			head = ""
			return p, true
		}
		p, ok := <-found
		return p, ok
	}
	return next, func() error { return <-walked }, nil
}

// walkResults sends the result.json files under dirs to paths, in the
// order the dirs were given and in lexical order within each, so that the
// report and the dataset rows come out the same on every publish of one
// set. It runs beside the workers: walking 10,000 case directories is a
// tenth of a second that need not come first. It closes paths.
func walkResults(ctx context.Context, dirs []string, paths chan<- string) error {
	defer close(paths)
	send := func(p string) error {
		select {
		case paths <- p:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	for _, d := range dirs {
		// A result.json given as a file (checkResults allows no other) is
		// walked as itself.
		err := filepath.WalkDir(d, func(p string, e fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if !e.IsDir() && e.Name() == result.FileName {
				return send(p)
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("results: walking %s: %w", d, err)
		}
	}
	return nil
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

// worker is one worker's state: its own read buffer and details renderer.
type worker struct {
	o       *Options
	reader  result.Reader
	details report.Details
}

// summarize is the per-file work: decode, validate, summarize, build the
// dataset row while the full result is at hand (so that only the summary
// and the row outlive it), and render the case's details.
func (w *worker) summarize(path string) item {
	it := summarize(&w.reader, path, w.o)
	if it.err == nil {
		it.details = bytes.Clone(w.details.Render(it.c))
	}
	return it
}

func summarize(rd *result.Reader, path string, o *Options) item {
	r, err := rd.Read(path)
	if err != nil {
		return item{path: path, err: err}
	}
	c := verdict.Summarize(r, o.Primary)
	// goccy/go-json writes the same bytes as encoding/json for the row's
	// types (TestRowEncodersAgree) at a third of the cost.
	row, err := fastjson.Marshal(NewRow(r, c, o.RunID, o.RunURL, o.Version))
	if err != nil {
		return item{path: path, err: fmt.Errorf("%s: dataset row: %w", path, err)}
	}
	return item{path: path, c: c, row: row, run: runInfo{r.RunID, r.RunURL, r.ToolkitVersion}}
}

// stream runs the work of newWorker() (one per worker goroutine) on the
// paths next gives, until it says there are no more, and hands the items
// to fn in that order. next is called from one goroutine. At most window items are in flight or waiting, which bounds
// memory however many files there are. It returns how many paths it took.
func stream(ctx context.Context, next func() (string, bool), workers int, newWorker func() func(string) item, fn func(item) error) (int, error) {
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	window := 4 * workers
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type job struct {
		idx  int
		path string
	}
	slots := make(chan struct{}, window)
	jobs := make(chan job)
	out := make(chan item, window)
	taken := 0
	go func() {
		defer close(jobs)
		for {
			p, ok := next()
			if !ok {
				return
			}
			select {
			case slots <- struct{}{}:
			case <-ctx.Done():
				return
			}
			select {
			case jobs <- job{taken, p}:
				taken++
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
			for j := range jobs {
				it := work(j.path)
				it.idx = j.idx
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
	done := 0
	for it := range out {
		pending[it.idx] = it
		for {
			p, ok := pending[done]
			if !ok {
				break
			}
			delete(pending, done)
			done++
			<-slots
			if err := fn(p); err != nil {
				cancel()
				for range out { // let the workers finish
				}
				return done, err
			}
		}
	}
	// out is closed only after the feeder has closed jobs: taken is final.
	if err := ctx.Err(); err != nil {
		return taken, err
	}
	return taken, nil
}
