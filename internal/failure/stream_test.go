package failure

import (
	"bytes"
	"io"
	"strings"
	"testing"
)

// repeatReader yields s n times without holding n copies.
type repeatReader struct {
	s   string
	n   int
	pos int
}

func (r *repeatReader) Read(p []byte) (int, error) {
	if r.n == 0 {
		return 0, io.EOF
	}
	k := copy(p, r.s[r.pos:])
	if r.pos += k; r.pos == len(r.s) {
		r.pos, r.n = 0, r.n-1
	}
	return k, nil
}

const benign = "[2025-03-01 10:05:00 TP0] Decode batch. #running-req: 64, #token: 17408, token usage: 0.98, gen throughput (token/s): 2511.32, #queue-req: 12\n"

func TestClassifyReadsTheWholeLog(t *testing.T) {
	filler := func() io.Reader { return &repeatReader{s: benign, n: 200_000} } // ~27 MB
	oom := "torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB.\n"
	for name, log := range map[string]io.Reader{
		"head": io.MultiReader(strings.NewReader(oom), filler()),
		"tail": io.MultiReader(filler(), strings.NewReader(oom)),
		"both": io.MultiReader(filler(), strings.NewReader(oom), filler()),
	} {
		f := Classify(log)
		if f.Category != GPUOOM {
			t.Errorf("%s: got %s, want GPU_OOM", name, f.Category)
		}
	}
	// The root cause early in the log beats its consequence at the end.
	log := io.MultiReader(strings.NewReader("ImportError: libnuma.so.1: cannot open shared object file: No such file or directory\n"),
		filler(), strings.NewReader("commitbench: server did not become ready after 600 s\n"))
	if f := Classify(log); f.Category != ImportError || f.Line != 1 {
		t.Errorf("got %s at line %d, want IMPORT_ERROR at line 1", f.Category, f.Line)
	}
}

func TestEvidenceIsBounded(t *testing.T) {
	long := strings.Repeat("x", 5<<20) // a 5 MB line (a progress bar that never printed \n)
	for name, log := range map[string]string{
		"match at the end of a huge line":   long + " RuntimeError: CUDA error: out of memory\n",
		"match at the start of a huge line": "RuntimeError: CUDA error: out of memory " + long + "\n",
		"huge context lines":                long + "\nRuntimeError: CUDA error: out of memory\n" + long + "\n" + long,
		"progress bar redraws":              strings.Repeat("Capturing batches 10%|#   |\r", 100_000) + "CUDA error: out of memory\n",
	} {
		f := Classify(strings.NewReader(log))
		if f.Category != GPUOOM {
			t.Errorf("%s: got %s, want GPU_OOM", name, f.Category)
		}
		if len(f.Evidence) > evidenceMax || !strings.Contains(f.Evidence, "out of memory") {
			t.Errorf("%s: evidence of %d bytes, want <= %d holding the match", name, len(f.Evidence), evidenceMax)
		}
	}
}

func TestClassifyEmptyAndBinary(t *testing.T) {
	for name, log := range map[string][]byte{
		"empty":  nil,
		"binary": bytes.Repeat([]byte{0, 0xff, 0xfe, '\n', 0x1b, '['}, 10_000),
	} {
		f := Classify(bytes.NewReader(log))
		if f == nil || f.Category != Unknown {
			t.Errorf("%s: got %+v, want UNKNOWN", name, f)
		}
	}
}

func TestEvidenceHasContext(t *testing.T) {
	log := "a\nb\nc\nRuntimeError: CUDA error: out of memory\nd\ne\nf\ng\n"
	f := Classify(strings.NewReader(log))
	if want := "b\nc\nRuntimeError: CUDA error: out of memory\nd\ne\nf"; f.Evidence != want || f.Line != 4 {
		t.Errorf("evidence %q at line %d, want %q at line 4", f.Evidence, f.Line, want)
	}
}
