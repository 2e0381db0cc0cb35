package failure

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const fixtures = "../../testdata/fixtures"

// refines: categories of this rule set that split a label of the labelled
// corpus. The corpus files NCCL library/symbol mismatches under NCCL_ERROR
// (error-logs/README.md); here they are NCCL_MISMATCH, a root cause with
// its own fix.
var refines = map[Category]Category{NCCLMismatch: NCCLError}

type labelled struct {
	Category  Category `json:"category"`
	SourceURL string   `json:"source_url"`
	Log       string   `json:"log"`
}

func readLabelled(t *testing.T) []labelled {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(fixtures, "error-logs/labelled.json"))
	if err != nil {
		t.Fatal(err)
	}
	var cases []labelled
	if err := json.Unmarshal(data, &cases); err != nil {
		t.Fatal(err)
	}
	if len(cases) == 0 {
		t.Fatal("labelled.json is empty")
	}
	return cases
}

func TestClassifyLabelled(t *testing.T) {
	for i, c := range readLabelled(t) {
		f := Classify(strings.NewReader(c.Log))
		if f.Category != c.Category && refines[f.Category] != c.Category {
			t.Errorf("case %d (%s): got %s (rule %s, evidence %q), want %s", i, c.SourceURL, f.Category, f.Rule, f.Evidence, c.Category)
		}
	}
}

// TestClassifyCases runs the cases written for this rule set
// (testdata/classify/<CATEGORY>--<what>.log): wording variants of real
// SGLang, vLLM, PyTorch, Docker and pip errors, orderings where a root
// cause must beat its consequence, and benign warnings that must not match.
func TestClassifyCases(t *testing.T) {
	files, err := filepath.Glob("testdata/classify/*.log")
	if err != nil || len(files) == 0 {
		t.Fatalf("no cases in testdata/classify: %v", err)
	}
	for _, p := range files {
		name := filepath.Base(p)
		want, _, ok := strings.Cut(name, "--")
		if !ok {
			t.Fatalf("%s: name it <CATEGORY>--<what>.log", name)
		}
		t.Run(name, func(t *testing.T) {
			fh, err := os.Open(p)
			if err != nil {
				t.Fatal(err)
			}
			defer fh.Close()
			f := Classify(fh)
			if f.Category != Category(want) {
				t.Errorf("got %s (rule %s, line %d, evidence %q), want %s", f.Category, f.Rule, f.Line, f.Evidence, want)
			}
			if f.Evidence == "" {
				t.Errorf("no evidence")
			}
		})
	}
}

// TestClassifyGPUFixtures: the failures captured on a real H100 get their
// category; the non-failure captures (nvidia-smi output) match no rule.
func TestClassifyGPUFixtures(t *testing.T) {
	for file, want := range map[string]Category{
		"arch-runs.txt":        CUDAArch,
		"nccl-error.txt":       NCCLError, // torch.distributed.DistStoreError: the rendezvous timed out
		"torch-oom.txt":        GPUOOM,
		"undefined-symbol.txt": ImportError,
		"gpu-info.txt":         Unknown,
		"nvidia-smi.txt":       Unknown,
		"nvidia-smi-q.xml":     Unknown,
	} {
		t.Run(file, func(t *testing.T) {
			fh, err := os.Open(filepath.Join(fixtures, "gpu", file))
			if err != nil {
				t.Fatal(err)
			}
			defer fh.Close()
			if f := Classify(fh); f.Category != want {
				t.Errorf("got %s (rule %s, evidence %q), want %s", f.Category, f.Rule, f.Evidence, want)
			}
		})
	}
}

func TestRulesLoad(t *testing.T) {
	rs, err := parseRules(rulesJSON)
	if err != nil {
		t.Fatal(err)
	}
	declared := []Category{ImportError, CUDAArch, GPUOOM, NCCLMismatch, NCCLError, VersionMismatch, ModelPath,
		ModelAccess, LoRAConfig, DatasetDownload, InvalidDevice, NoGPU, PortInUse, DiskFull, TimeoutServerStart,
		TimeoutBenchmark, ServerCrash, MetricsMissing, PatchFailed, BuildFailed, Infra, Cancelled, Unknown,
		UnsupportedModel, BenchmarkFailed}
	for _, c := range declared {
		if info, ok := rs.byCategory[c]; !ok || info.RootCause == "" || info.Hint == "" {
			t.Errorf("category %s: missing from rules.json categories or without root_cause/hint", c)
		}
	}
	if got := len(Categories()); got != len(declared) {
		t.Errorf("Categories() has %d entries, failure.go declares %d", got, len(declared))
	}
	if Categories()[len(Categories())-1] != Unknown {
		t.Errorf("UNKNOWN must come last in Categories()")
	}
	for _, r := range rs.rules {
		for field, v := range map[string]string{"root_cause": r.RootCause, "hint": r.Hint} {
			if v == "" || strings.Contains(v, "\n") {
				t.Errorf("rule %s: %s must be one non-empty line", r.Name, field)
			}
		}
	}
	if !Retriable(Infra) || Retriable(GPUOOM) {
		t.Errorf("INFRA must be retriable and GPU_OOM not")
	}
}

// corpusLines is every line the tests know: the labelled excerpts, the GPU
// captures and this package's cases.
func corpusLines(t *testing.T) []string {
	var lines []string
	for _, c := range readLabelled(t) {
		lines = append(lines, strings.Split(c.Log, "\n")...)
	}
	files, _ := filepath.Glob(filepath.Join(fixtures, "gpu", "*.txt"))
	more, _ := filepath.Glob("testdata/classify/*.log")
	for _, p := range append(files, more...) {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		lines = append(lines, strings.Split(string(data), "\n")...)
	}
	return lines
}

// TestPrefilterHidesNothing: a rule's pattern is only tried on lines that
// hold one of its keywords, so a line its pattern matches without any
// keyword would be missed. No such line may exist in the corpus.
func TestPrefilterHidesNothing(t *testing.T) {
	rs := mustRules()
	for _, line := range corpusLines(t) {
		low := strings.ToLower(line)
		for _, r := range rs.rules {
			if !r.re.MatchString(line) {
				continue
			}
			found := false
			for _, k := range r.Keywords {
				found = found || strings.Contains(low, strings.ToLower(k))
			}
			if !found {
				t.Errorf("rule %s: pattern matches %q but none of its keywords is in it", r.Name, line)
			}
		}
	}
}

func TestMatcherFindsEveryOccurrence(t *testing.T) {
	m := newMatcher([]string{"he", "she", "his", "hers", "NCCL error"})
	var got []int
	m.scan([]byte("uSHErs: nccl ERROR his"), func(k int) { got = append(got, k) })
	want := []int{1, 0, 3, 4, 2} // she, he, hers, nccl error, his
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

// TestSplitMatchesWholePattern: the per-keyword triggers (split.go) find a
// match exactly where the rule's whole pattern does, on every corpus line
// that holds a keyword of the rule.
func TestSplitMatchesWholePattern(t *testing.T) {
	rs := mustRules()
	for _, line := range corpusLines(t) {
		low := lowerASCII(line) // as the scanner lowers a line for folded patterns
		for _, r := range rs.rules {
			split, any := false, false
			for j, k := range r.Keywords {
				if !strings.Contains(low, strings.ToLower(k)) {
					continue
				}
				any = true
				in := line
				if r.fold {
					in = low
				}
				split = split || matchTrigger(r.triggers[j], []byte(in)) != nil
			}
			if any && split != r.re.MatchString(line) {
				t.Errorf("rule %s: whole pattern %v, split %v on %q", r.Name, !split, split, line)
			}
		}
	}
}

func TestSplitAlternatives(t *testing.T) {
	for p, want := range map[string]string{
		`(a|b(c|d)|[|(]|\|)`: `a / b(c|d) / [|(] / \|`,
		`(a)|(b)`:            `(a) / (b)`,
		`(?:x|y)`:            `x / y`,
		`error: (p|q)`:       `error: (p|q)`,
	} {
		if got := strings.Join(splitAlternatives(p), " / "); got != want {
			t.Errorf("splitAlternatives(%q) = %q, want %q", p, got, want)
		}
	}
}

// TestEveryAlternativeHasAKeyword: each top-level alternative of a pattern
// holds one of its rule's keywords literally, so a keyword hit runs only
// the few alternatives that can match (split.go) and the split stays cheap.
func TestEveryAlternativeHasAKeyword(t *testing.T) {
	for _, r := range mustRules().rules {
		body, _ := strings.CutPrefix(r.Pattern, "(?i)")
		for _, a := range splitAlternatives(body) {
			has := false
			for _, k := range r.Keywords {
				has = has || strings.Contains(literalText(a), strings.ToLower(k))
			}
			if !has {
				t.Errorf("rule %s: alternative %q holds none of the keywords %q", r.Name, a, r.Keywords)
			}
		}
	}
}

func lowerASCII(s string) string {
	b := []byte(s)
	for i := range b {
		b[i] = lower(b[i])
	}
	return string(b)
}
