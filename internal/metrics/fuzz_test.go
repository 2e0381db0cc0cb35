package metrics

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"testing/iotest"

	"github.com/commitbench/commitbench/internal/engine"
	"github.com/commitbench/commitbench/internal/result"
)

// seed adds every fixture and the variants of variants_test.go.
func seed(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join(outputs, "*.txt"))
	for _, p := range files {
		if data, err := os.ReadFile(p); err == nil {
			f.Add(data)
		}
	}
	f.Add([]byte(servingBlock))
	f.Add([]byte("Benchmark ...\nPrefill. latency: 0.50000 s, throughput:  65536.00 token/s\nDecode 0. Batch size: 32, latency: 0.02000 s, throughput:   1600.00 token/s\nTotal. latency: 20.000 s, throughput:   3276.80 token/s\n"))
	f.Add([]byte("======== Warmup Begin ========\nbatch size: 1\n======== Warmup End   ========\nbatch size: 2\ninput_len: 8\noutput_len: 8\nlatency: 1.00 s\n"))
	f.Add([]byte("{\"a\": Infinity, \"b\": [NaN, {\"c\": -Infinity}], \"batch_size\": 1e400}\n{\"output_throughput\":\n 1}"))
}

// checkBlocks: whatever the input, blocks are JSON-encodable (finite,
// non-negative numbers) and reading one byte at a time changes nothing.
func fuzzParser(f *testing.F, parse func([]byte, bool) ([]result.Block, error)) {
	seed(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		got, err := parse(data, false)
		for _, b := range got {
			for k, v := range b.Metrics {
				if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
					t.Fatalf("block %q: %s = %v", b.Key, k, v)
				}
			}
		}
		if _, err := json.Marshal(got); err != nil {
			t.Fatalf("blocks do not encode: %v", err)
		}
		again, err2 := parse(data, true)
		if !reflect.DeepEqual(got, again) || (err == nil) != (err2 == nil) {
			t.Fatalf("byte-at-a-time read differs:\n%+v %v\n%+v %v", got, err, again, err2)
		}
	})
}

func textParser(tool engine.Tool) func([]byte, bool) ([]result.Block, error) {
	return func(data []byte, slow bool) ([]result.Block, error) {
		r := bytes.NewReader(data)
		if slow {
			return ParseText(tool, iotest.OneByteReader(r))
		}
		return ParseText(tool, r)
	}
}

func FuzzParseServingText(f *testing.F) { fuzzParser(f, textParser(engine.BenchServing)) }

func FuzzParseOfflineText(f *testing.F) { fuzzParser(f, textParser(engine.BenchOfflineThroughput)) }

func FuzzParseOneBatchText(f *testing.F) { fuzzParser(f, textParser(engine.BenchOneBatch)) }

func FuzzParseOneBatchServerText(f *testing.F) { fuzzParser(f, textParser(engine.BenchOneBatchServer)) }

// FuzzParseJSONL also runs Detect and IsJSONL on the input, and picks the
// tool from the detection so every JSONL shape is reached.
func FuzzParseJSONL(f *testing.F) {
	fuzzParser(f, func(data []byte, slow bool) ([]result.Block, error) {
		tool := Detect(data)
		_ = IsJSONL(data)
		if tool == "" {
			tool = engine.BenchOneBatch
		}
		r := bytes.NewReader(data)
		if slow {
			return ParseJSONL(tool, iotest.OneByteReader(r))
		}
		return ParseJSONL(tool, r)
	})
}
