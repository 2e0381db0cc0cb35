package batch

import (
	"errors"
	"flag"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/commitbench/commitbench/internal/failure"
	"github.com/commitbench/commitbench/internal/result"
	"github.com/commitbench/commitbench/internal/testenv"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

// TestRender: the progress lines and the summary of a batch with a
// success, a failed variant, a case that wrote no result and a skip.
func TestRender(t *testing.T) {
	ok := &result.Result{Status: result.RunComplete, Variants: []*result.Variant{
		{Name: result.Baseline, Status: result.StatusSuccess}, {Name: result.Human, Status: result.StatusSuccess},
		{Name: result.Agent, Status: result.StatusNotRun}}}
	oom := &result.Result{Status: result.RunComplete, Variants: []*result.Variant{
		{Name: result.Baseline, Status: result.StatusSuccess},
		{Name: result.Human, Status: result.StatusFailed, Failure: &failure.Failure{Category: failure.GPUOOM}},
		{Name: result.Agent, Status: result.StatusFailed, Failure: &failure.Failure{Category: failure.Infra}}}}
	outcomes := []Outcome{
		{ID: "sglang-0001", Duration: 21*time.Minute + 37*time.Second},
		{ID: "sglang-0002", Err: errors.New("case sglang-0002: human (GPU_OOM), agent (INFRA) failed"), Duration: 9 * time.Minute},
		{ID: "sglang-0003", Err: errors.New("case: image-human: empty | pass the ref\nmore"), Duration: 2 * time.Second},
		{ID: "sglang-0004", Skipped: "not runnable: model does not fit on 8xH100"},
	}
	results := []*result.Result{ok, oom, nil, nil}
	var b strings.Builder
	for i, o := range outcomes {
		b.WriteString(Line(o, results[i]) + "\n")
	}
	line, md := Summary(outcomes, results, 31*time.Minute)
	b.WriteString(line + "\n\n" + md)
	testenv.Golden(t, filepath.Join("testdata", "render.golden"), []byte(b.String()), *update)
}
