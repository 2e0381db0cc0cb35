package metrics

import (
	"flag"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/commitbench/commitbench/internal/engine"
)

var parseSize = flag.Int64("parse.size", 256<<20, "bytes of synthetic log BenchmarkParseText reads per op")

// cycle streams n bytes of chunk repeated, then tail.
type cycle struct {
	chunk, tail []byte
	n           int64
	off         int
}

func (c *cycle) Read(p []byte) (int, error) {
	if c.n <= 0 {
		if len(c.tail) == 0 {
			return 0, io.EOF
		}
		k := copy(p, c.tail)
		c.tail = c.tail[k:]
		return k, nil
	}
	k := copy(p[:min(int64(len(p)), c.n)], c.chunk[c.off:])
	c.off = (c.off + k) % len(c.chunk)
	c.n -= int64(k)
	return k, nil
}

// BenchmarkParseText: a bench_serving log of -parse.size bytes (a server
// log's lines, then the result block at the very end). B/op stays flat as
// the size grows: the parser holds one line at a time.
func BenchmarkParseText(b *testing.B) {
	server, err := os.ReadFile(filepath.Join(outputs, "launch_server_ready_2026-04-20_pr22416.txt"))
	if err != nil {
		b.Fatal(err)
	}
	block, err := os.ReadFile(filepath.Join(outputs, "bench_serving_2026-04-05_pr21405_p90-e2e.txt"))
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(*parseSize)
	b.ReportAllocs()
	for b.Loop() {
		blocks, err := ParseText(engine.BenchServing, &cycle{chunk: server, tail: block, n: *parseSize})
		if err != nil || len(blocks) != 1 {
			b.Fatalf("%d blocks, %v", len(blocks), err)
		}
	}
}
