package metrics

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"

	"github.com/commitbench/commitbench/internal/engine"
	"github.com/commitbench/commitbench/internal/result"
)

// pyJSON turns a tool's result file, written with Python's json.dumps, into
// a stream encoding/json accepts, without holding it in memory:
//   - Infinity, -Infinity and NaN (json.dumps of a float inf/nan, e.g.
//     "request_rate": Infinity) become null;
//   - a line that does not open an object ({" or {}) is dropped, so text
//     pasted around the JSON (a user's own prints, a "# source" header) is
//     ignored;
//   - line breaks inside an object are kept as whitespace, so an object
//     broken over two lines by a paste still decodes.
type pyJSON struct {
	br    *bufio.Reader
	out   []byte
	depth int
	inStr bool
	esc   bool
	skip  bool // dropping the rest of a line that does not open an object
	err   error
}

func newPyJSON(r io.Reader) *pyJSON {
	return &pyJSON{br: bufio.NewReaderSize(r, 64<<10)}
}

func (p *pyJSON) Read(b []byte) (int, error) {
	for len(p.out) < len(b) && p.err == nil {
		c, err := p.br.ReadByte()
		if err != nil {
			p.err = err
			break
		}
		p.step(c)
	}
	n := copy(b, p.out)
	p.out = p.out[n:]
	if n == 0 && p.err != nil {
		return 0, p.err
	}
	return n, nil
}

func (p *pyJSON) step(c byte) {
	switch {
	case p.skip:
		if c == '\n' {
			p.skip = false
		}
	case p.inStr:
		p.out = append(p.out, c)
		switch {
		case p.esc:
			p.esc = false
		case c == '\\':
			p.esc = true
		case c == '"':
			p.inStr = false
		}
	case p.depth == 0:
		switch {
		case c == '\n' || c == ' ' || c == '\t' || c == '\r':
		case c == '{' && p.opensObject():
			p.depth = 1
			p.out = append(p.out, c)
		default:
			p.skip = true
		}
	default:
		switch c {
		case '"':
			p.inStr = true
		case '{', '[':
			p.depth++
		case '}', ']':
			p.depth--
		case 'I', 'N', '-':
			if p.nonFinite(c) {
				p.out = append(p.out, "null"...)
				return
			}
		}
		p.out = append(p.out, c)
	}
}

// opensObject reports whether the '{' just read starts a JSON object
// rather than, say, a Python dict repr ({'a': 1}).
func (p *pyJSON) opensObject() bool {
	next, err := p.br.Peek(1)
	return err == nil && (next[0] == '"' || next[0] == '}')
}

// nonFinite consumes the rest of Infinity, -Infinity or NaN after c, if
// that is what follows.
func (p *pyJSON) nonFinite(c byte) bool {
	// A switch, not a map literal: this runs for every '-' of a negative
	// number in a file that may hold millions.
	var rest string
	switch c {
	case 'I':
		rest = "nfinity"
	case 'N':
		rest = "aN"
	case '-':
		rest = "Infinity"
	}
	got, err := p.br.Peek(len(rest))
	if err != nil || string(got) != rest {
		return false
	}
	_, _ = p.br.Discard(len(rest))
	return true
}

// keyFields are the parameters that name a one-batch combination: the key,
// not metrics.
var keyFields = map[string]bool{"batch_size": true, "input_len": true, "output_len": true}

// argFields are bench_serving arguments echoed in its JSONL: not
// measurements.
var argFields = map[string]bool{
	"sharegpt_output_len": true, "random_input_len": true, "random_output_len": true,
	"random_range_ratio": true, "seed": true,
}

func parseJSONL(tool engine.Tool, r io.Reader) ([]result.Block, error) {
	dec := json.NewDecoder(newPyJSON(r))
	dec.UseNumber()
	var blocks []result.Block
	for n := 1; ; n++ {
		obj, err := readObject(dec)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return finishJSONL(tool, blocks), fmt.Errorf("result object %d: %w", n, err)
		}
		blocks = append(blocks, toBlock(tool, obj))
	}
	return finishJSONL(tool, blocks), nil
}

func finishJSONL(tool engine.Tool, blocks []result.Block) []result.Block {
	switch tool {
	case engine.BenchServing, engine.BenchOfflineThroughput:
		return keyRuns(blocks)
	}
	return blocks
}

// readObject reads one top-level object's numeric fields, skipping strings,
// nulls, booleans and nested values (server_info, --output-details arrays)
// token by token, so a huge object never sits in memory whole.
func readObject(dec *json.Decoder) (map[string]float64, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, fmt.Errorf("want an object, got %v", tok)
	}
	obj := map[string]float64{}
	for dec.More() {
		kt, err := dec.Token()
		if err != nil {
			return nil, unexpected(err)
		}
		k, _ := kt.(string)
		vt, err := dec.Token()
		if err != nil {
			return nil, unexpected(err)
		}
		switch v := vt.(type) {
		case json.Number:
			if x, ok := finite(v.String()); ok {
				obj[k] = x
			}
		case json.Delim:
			if err := skipNested(dec); err != nil {
				return nil, unexpected(err)
			}
		}
	}
	if _, err := dec.Token(); err != nil {
		return nil, unexpected(err)
	}
	return obj, nil
}

func unexpected(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF // a file cut off mid-object
	}
	return err
}

func skipNested(dec *json.Decoder) error {
	for depth := 1; depth > 0; {
		t, err := dec.Token()
		if err != nil {
			return err
		}
		if d, ok := t.(json.Delim); ok {
			if d == '{' || d == '[' {
				depth++
			} else {
				depth--
			}
		}
	}
	return nil
}

func toBlock(tool engine.Tool, obj map[string]float64) result.Block {
	b := result.Block{Metrics: map[string]float64{}}
	switch tool {
	case engine.BenchOneBatch, engine.BenchLatency, engine.BenchOneBatchServer:
		bs, okB := obj["batch_size"]
		in, okI := obj["input_len"]
		out, okO := obj["output_len"]
		if okB && okI && okO {
			b.Key = fmt.Sprintf("bs=%s,in=%s,out=%s", itoa(bs), itoa(in), itoa(out))
		}
	}
	for k, v := range obj {
		if keyFields[k] || (tool == engine.BenchServing && argFields[k]) {
			continue
		}
		if k == "total_throughput" && (tool == engine.BenchOneBatch || tool == engine.BenchLatency) {
			k = "overall_throughput" // bench_latency's name for the same number
		}
		b.Metrics[k] = v
	}
	if tool == engine.BenchServing {
		deriveTotal(b.Metrics)
	}
	return b
}

// deriveTotal fills bench_serving's total_throughput (input + output token
// throughput, its definition) where the output predates it: the text block
// printed it from 2024-11-14, the JSONL only from 2025-11-12. Every era
// then answers to the same name with the same meaning.
func deriveTotal(m map[string]float64) {
	in, okI := m["input_throughput"]
	out, okO := m["output_throughput"]
	if _, ok := m["total_throughput"]; !ok && okI && okO {
		m["total_throughput"] = in + out
	}
}

func itoa(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }
