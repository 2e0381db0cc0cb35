package failure

import (
	"bytes"
	"flag"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"testing/iotest"
	"time"
	"unicode/utf8"
)

// FuzzClassify: any input, read whole or one byte at a time, classifies
// without panicking, into a known category, with bounded valid evidence.
func FuzzClassify(f *testing.F) {
	for _, c := range readLabelled(&testing.T{}) {
		f.Add([]byte(c.Log))
	}
	files, _ := filepath.Glob("testdata/classify/*.log")
	for _, p := range files {
		if data, err := os.ReadFile(p); err == nil {
			f.Add(data)
		}
	}
	cats := Categories()
	f.Fuzz(func(t *testing.T, data []byte) {
		got := Classify(bytes.NewReader(data))
		if got == nil || !slices.Contains(cats, got.Category) {
			t.Fatalf("Classify returned %+v", got)
		}
		if len(got.Evidence) > evidenceMax || !utf8.ValidString(got.Evidence) {
			t.Fatalf("evidence of %d bytes (valid UTF-8: %v)", len(got.Evidence), utf8.ValidString(got.Evidence))
		}
		again := Classify(iotest.OneByteReader(bytes.NewReader(data)))
		if *again != *got {
			t.Fatalf("reading one byte at a time changed the result: %+v vs %+v", again, got)
		}
	})
}

var benchSize = flag.Int64("classify.size", 1<<30, "bytes of synthetic log BenchmarkClassify reads per op")

// logGen streams a synthetic log of n bytes built by cycling real lines (a
// server log, benchmark output, benign warnings that hit the prefilter),
// then a last line that a rule matches: the classifier must read it all.
type logGen struct {
	chunk []byte
	n     int64
	off   int
	tail  *strings.Reader
}

func newLogGen(n int64) *logGen {
	var lines []string
	for _, p := range []string{
		"../../testdata/fixtures/sglang-outputs/launch_server_ready_2026-04-20_pr22416.txt",
		"../../testdata/fixtures/sglang-outputs/bench_serving_2025-12-10_766476f52_go-gateway-3runs.txt",
		"../../testdata/fixtures/gpu/nvidia-smi.txt",
		"testdata/classify/UNKNOWN--benign-warnings.log",
	} {
		data, err := os.ReadFile(p)
		if err != nil {
			panic(err)
		}
		for _, l := range strings.Split(string(data), "\n") {
			if Classify(strings.NewReader(l)).Category == Unknown { // filler must not match
				lines = append(lines, l)
			}
		}
	}
	var chunk []byte
	for len(chunk) < 1<<20 {
		for _, l := range lines {
			chunk = append(append(chunk, l...), '\n')
		}
	}
	return &logGen{chunk: chunk, n: n, tail: strings.NewReader("torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB.\n")}
}

func (g *logGen) reset(n int64) { g.n, g.off = n, 0; g.tail.Seek(0, io.SeekStart) }

func (g *logGen) Read(p []byte) (int, error) {
	if g.n <= 0 {
		return g.tail.Read(p)
	}
	k := copy(p[:min(int64(len(p)), g.n)], g.chunk[g.off:])
	g.off = (g.off + k) % len(g.chunk)
	g.n -= int64(k)
	return k, nil
}

// BenchmarkClassify: throughput (MB/s) and memory on a -classify.size log
// (1 GiB by default). B/op is all memory allocated per log; peak-heap-MB is
// the largest live heap seen, both independent of the log's size.
func BenchmarkClassify(b *testing.B) {
	g := newLogGen(*benchSize)
	mustRules()
	b.SetBytes(*benchSize)
	b.ReportAllocs()
	var peak uint64
	for b.Loop() {
		g.reset(*benchSize)
		stop := make(chan struct{})
		done := make(chan uint64)
		go func() { // sample the live heap while Classify runs
			var m runtime.MemStats
			var hi uint64
			t := time.NewTicker(250 * time.Millisecond)
			defer t.Stop()
			for {
				runtime.ReadMemStats(&m)
				hi = max(hi, m.HeapInuse)
				select {
				case <-stop:
					done <- hi
					return
				case <-t.C:
				}
			}
		}()
		if f := Classify(g); f.Category != GPUOOM {
			b.Fatalf("got %s, want GPU_OOM from the last line", f.Category)
		}
		close(stop)
		peak = max(peak, <-done)
	}
	b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MB")
}
