package result

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/commitbench/commitbench/internal/failure"
)

func sample() *Result {
	t0 := time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)
	return &Result{
		Schema: Schema, RunID: "r1", Backend: "docker", Status: RunComplete,
		Case:    Case{ID: "c1", Commit: strings.Repeat("a", 40), Parent: strings.Repeat("b", 40), Tool: "bench_serving", Mode: "server"},
		Started: t0,
		Variants: []*Variant{
			{Name: Baseline, Status: StatusSuccess, Repetitions: []*Repetition{
				{Index: 0, Warmup: true, Blocks: []Block{{Metrics: map[string]float64{"output_throughput": 1}}}},
				{Index: 1, Blocks: []Block{{Metrics: map[string]float64{"output_throughput": 100}}}},
				{Index: 2, Blocks: []Block{{Metrics: map[string]float64{"output_throughput": 110}}}},
			}},
			{Name: Agent, Status: StatusFailed, Failure: &failure.Failure{Category: failure.PatchFailed}},
		},
	}
}

func TestWriteReadRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c1", FileName)
	if err := WriteFile(path, sample()); err != nil {
		t.Fatal(err)
	}
	got, err := Read(path)
	if err != nil {
		t.Fatal(err)
	}
	if v := got.Variant(Baseline).Values("", "output_throughput"); len(v) != 2 || v[0] != 100 || v[1] != 110 {
		t.Fatalf("values = %v (warm-up must be excluded)", v)
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Fatalf("temp files left behind: %v", entries)
	}
}

func TestValidateRejects(t *testing.T) {
	for _, tc := range []struct {
		name   string
		mutate func(*Result)
		want   string
	}{
		{"schema", func(r *Result) { r.Schema = "v0" }, "schema:"},
		{"phantom success", func(r *Result) { r.Variants[0].Repetitions = r.Variants[0].Repetitions[:1] }, "phantom success"},
		{"nonzero exit in success", func(r *Result) { r.Variants[0].Repetitions[1].ExitCode = 1 }, "exit_code"},
		{"failed without failure", func(r *Result) { r.Variants[1].Failure = nil }, "variants[1].failure"},
		{"bad name", func(r *Result) { r.Variants[1].Name = "candidate" }, "variants[1].name"},
		{"bad status", func(r *Result) { r.Variants[1].Status = "ok" }, "variants[1].status"},
		{"no id", func(r *Result) { r.Case.ID = "" }, "case.id"},
	} {
		r := sample()
		tc.mutate(r)
		err := r.Validate()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want mention of %q", tc.name, err, tc.want)
		}
	}
	if err := sample().Validate(); err != nil {
		t.Fatalf("valid sample rejected: %v", err)
	}
}
