// Package batch runs many jobs (run-bench cases) with a bound on how many
// run at once, reporting each as it finishes: the local "run the whole
// plan" mode for users without Actions, where the cases' GPUs are remote
// (Modal) and the time is spent waiting, not computing.
package batch

import (
	"context"
	"sync"
	"time"
)

// Job is one unit of work. Skip, when set, says why it is not run.
type Job struct {
	ID   string
	Skip string
	Run  func(ctx context.Context) error
}

// Outcome is how a job ended.
type Outcome struct {
	ID       string
	Err      error
	Skipped  string
	Duration time.Duration
}

// Run runs jobs, at most parallel at once, in the order given, and calls
// report (serially) as each ends, with how many have ended. A cancelled
// ctx starts no further job; those report ctx's error. The outcomes come
// back in the jobs' order.
func Run(ctx context.Context, jobs []Job, parallel int, report func(done, total int, o Outcome)) []Outcome {
	parallel = max(parallel, 1)
	out := make([]Outcome, len(jobs))
	sem := make(chan struct{}, parallel)
	var mu sync.Mutex
	done := 0
	finish := func(i int, o Outcome) {
		mu.Lock()
		defer mu.Unlock()
		out[i] = o
		done++
		if report != nil {
			report(done, len(jobs), o)
		}
	}
	var wg sync.WaitGroup
	for i, j := range jobs {
		if j.Skip != "" {
			finish(i, Outcome{ID: j.ID, Skipped: j.Skip})
			continue
		}
		acquired := false
		select {
		case sem <- struct{}{}:
			acquired = true
		case <-ctx.Done():
		}
		// Checked after the wait too: both may be ready, and a select
		// picks either.
		if ctx.Err() != nil {
			if acquired {
				<-sem
			}
			finish(i, Outcome{ID: j.ID, Err: ctx.Err()})
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			start := time.Now()
			err := j.Run(ctx)
			finish(i, Outcome{ID: j.ID, Err: err, Duration: time.Since(start)})
		}()
	}
	wg.Wait()
	return out
}
