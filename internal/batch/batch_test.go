package batch

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"
)

// TestRun: every job runs once, never more than parallel at a time, each
// is reported once, skipped jobs are reported and not run, and the
// outcomes keep the jobs' order.
func TestRun(t *testing.T) {
	for _, tc := range []struct {
		jobs, parallel int
	}{{1, 1}, {7, 1}, {20, 3}, {5, 10}} {
		t.Run(fmt.Sprintf("%d jobs, %d at once", tc.jobs, tc.parallel), func(t *testing.T) {
			var running, peak, ran atomic.Int32
			var jobs []Job
			for i := 0; i < tc.jobs; i++ {
				j := Job{ID: fmt.Sprint(i), Run: func(context.Context) error {
					n := running.Add(1)
					for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
					}
					time.Sleep(5 * time.Millisecond)
					running.Add(-1)
					ran.Add(1)
					if i%4 == 3 {
						return errors.New("failed")
					}
					return nil
				}}
				if i == 2 {
					j.Skip = "not runnable"
				}
				jobs = append(jobs, j)
			}
			reports := 0
			out := Run(context.Background(), jobs, tc.parallel, func(done, total int, o Outcome) {
				reports++
				if done != reports || total != tc.jobs {
					t.Errorf("report %d: done %d of %d", reports, done, total)
				}
			})
			wantRan := tc.jobs
			if tc.jobs > 2 {
				wantRan--
			}
			if int(ran.Load()) != wantRan || reports != tc.jobs || int(peak.Load()) > tc.parallel {
				t.Errorf("ran %d (want %d), reports %d, peak %d (limit %d)", ran.Load(), wantRan, reports, peak.Load(), tc.parallel)
			}
			for i, o := range out {
				if o.ID != fmt.Sprint(i) || (i == 2 && tc.jobs > 2) != (o.Skipped != "") || (i%4 == 3) != (o.Err != nil) {
					t.Errorf("outcome %d: %+v", i, o)
				}
			}
		})
	}
}

// TestCancel: after a cancel no job starts; those left report the error.
func TestCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var started atomic.Int32
	jobs := make([]Job, 5)
	for i := range jobs {
		jobs[i] = Job{ID: fmt.Sprint(i), Run: func(ctx context.Context) error {
			started.Add(1)
			cancel()
			<-ctx.Done()
			return ctx.Err()
		}}
	}
	out := Run(ctx, jobs, 1, nil)
	if started.Load() != 1 {
		t.Errorf("%d jobs started after the cancel, want 1", started.Load())
	}
	for _, o := range out {
		if !errors.Is(o.Err, context.Canceled) {
			t.Errorf("%s: %v, want canceled", o.ID, o.Err)
		}
	}
}
