package publish

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	fastjson "github.com/goccy/go-json"

	"github.com/commitbench/commitbench/internal/report"
	"github.com/commitbench/commitbench/internal/result"
	"github.com/commitbench/commitbench/internal/verdict"
)

// genResults writes n result.json files into dir, cycling through the 30
// report fixtures with fresh case ids, written the way run-bench writes
// them (result.WriteFile: indented JSON).
func genResults(b *testing.B, dir string, n int) int64 {
	b.Helper()
	src, _ := filepath.Glob("../report/testdata/results/*/result.json")
	var base []*result.Result
	for _, p := range src {
		r, err := result.Read(p)
		if err != nil {
			b.Fatal(err)
		}
		base = append(base, r)
	}
	var total int64
	for i := range n {
		r := base[i%len(base)]
		id := r.Case.ID
		r.Case.ID = fmt.Sprintf("%s-%05d", id, i)
		path := filepath.Join(dir, fmt.Sprintf("shard-%d", i%8), r.Case.ID, result.FileName)
		if err := result.WriteFile(path, r); err != nil {
			b.Fatal(err)
		}
		r.Case.ID = id
		if st, err := os.Stat(path); err == nil {
			total += st.Size()
		}
	}
	return total
}

// cpuTime is the process's user+system CPU time: on a shared machine
// wall time says as much about the neighbours as about publish.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// peakHeap samples the live heap while fn runs.
func peakHeap(fn func()) uint64 {
	var peak atomic.Uint64
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			if ms.HeapAlloc > peak.Load() {
				peak.Store(ms.HeapAlloc)
			}
			select {
			case <-done:
				return
			case <-time.After(5 * time.Millisecond):
			}
		}
	}()
	fn()
	close(done)
	wg.Wait()
	return peak.Load()
}

// BenchmarkPublish publishes n generated result files: read, validate,
// summarize, the dataset rows file, the full report, the job summary, the
// comment body (to a file) and the verdicts output. The GitHub calls are a
// constant handful, and the Hub upload streams the rows file from disk;
// both are left out because their in-process fakes (which hold the whole
// upload in memory) would dominate the memory measured.
//
// gc=go is Go's default collector (GOGC=100); gc=publish is what the
// publish command sets (TuneGC).
func BenchmarkPublish(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		dir := b.TempDir()
		size := genResults(b, dir, n)
		for _, gc := range []string{"go", "publish"} {
			b.Run(fmt.Sprintf("files=%d/gc=%s", n, gc), func(b *testing.B) {
				if gc == "publish" {
					defer TuneGC(func(string) string { return "" })()
				}
				benchPublish(b, dir, n, size)
			})
		}
	}
}

func benchPublish(b *testing.B, dir string, n int, size int64) {
	b.ReportAllocs()
	b.ResetTimer()
	var peak uint64
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	gcs0 := ms.NumGC
	cpu0 := cpuTime()
	for i := range b.N {
		work := b.TempDir()
		e := &env{dir: work, vars: map[string]string{}}
		o := Options{Results: []string{dir}, Report: filepath.Join(work, "report.md"), Primary: verdict.DefaultPrimary(),
			RunID: fmt.Sprint("bench-", i), CommentFile: filepath.Join(work, "comment.md"), TempDir: work}
		var out *Outcome
		var err error
		runtime.GC()
		peak = max(peak, peakHeap(func() { out, err = Run(context.Background(), o, e.io()) }))
		if err != nil || out.Cases != n {
			b.Fatalf("publish: %v (%+v)", err, out)
		}
	}
	b.ReportMetric((cpuTime()-cpu0).Seconds()/float64(b.N), "cpu-s/op")
	runtime.ReadMemStats(&ms)
	// Less one forced collection per op (the runtime.GC above).
	b.ReportMetric(float64(ms.NumGC-gcs0)/float64(b.N)-1, "GCs/op")
	b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
	b.ReportMetric(float64(size)/(1<<20), "input-MiB")
}

// BenchmarkPerFile splits one worker's per-file work into its parts, for
// docs/performance.md: decoding and validating result.json, the
// statistics, the dataset row, and the case's Markdown details.
func BenchmarkPerFile(b *testing.B) {
	p := "../report/testdata/results/sglang_001_09deb20d/result.json"
	r, err := result.Read(p)
	if err != nil {
		b.Fatal(err)
	}
	primary := verdict.DefaultPrimary()
	c := verdict.Summarize(r, primary)
	var d report.Details
	var rd result.Reader
	for _, tc := range []struct {
		name string
		fn   func()
	}{
		{"decode", func() { rd.Read(p) }},
		{"statistics", func() { verdict.Summarize(r, primary) }},
		{"row", func() { fastjson.Marshal(NewRow(r, c, "", "", "")) }},
		{"details", func() { d.Render(c) }},
	} {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for range b.N {
				tc.fn()
			}
		})
	}
}
