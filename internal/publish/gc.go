package publish

import "runtime/debug"

// The publish process's garbage collector settings. Publish is a short
// batch job whose live heap is small (≈ 10 MB after 10,000 cases) while
// it allocates ≈ 65 KB per result file; with Go's default GOGC=100 it
// collected some 105 times per 10,000 files. GOGC=400 collects a quarter
// as often, trading ≈ 25 MB more peak heap for ≈ 20 % less CPU
// (docs/performance.md); the soft limit makes the collector work harder
// again long before a runner's memory is in danger.
const (
	GCPercent   = 400
	MemoryLimit = 1 << 30
)

// TuneGC applies GCPercent and MemoryLimit, except where the user chose
// with GOGC or GOMEMLIMIT. restore puts back what was there (benchmarks).
func TuneGC(getenv func(string) string) (restore func()) {
	var undo []func()
	if getenv("GOGC") == "" {
		old := debug.SetGCPercent(GCPercent)
		undo = append(undo, func() { debug.SetGCPercent(old) })
	}
	if getenv("GOMEMLIMIT") == "" {
		old := debug.SetMemoryLimit(MemoryLimit)
		undo = append(undo, func() { debug.SetMemoryLimit(old) })
	}
	return func() {
		for _, u := range undo {
			u()
		}
	}
}
