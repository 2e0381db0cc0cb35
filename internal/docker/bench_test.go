package docker

import (
	"context"
	"testing"
	"time"

	"github.com/commitbench/commitbench/internal/backend"
	"github.com/commitbench/commitbench/internal/standin"
	"github.com/commitbench/commitbench/internal/standin/standintest"
	"github.com/commitbench/commitbench/internal/testenv"
)

// BenchmarkExec is the fixed cost of one benchmark repetition's exec in
// the server's container (create, attach, run a process that exits at
// once, exit status), and of reading a file through the daemon's archive
// API: the cost the scratch directory avoids for result files.
func BenchmarkExec(b *testing.B) {
	testenv.RequireDocker(b)
	be, err := New(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	defer be.Close()
	img := standintest.Image(b, be.c, standin.Config{StartupMS: 10, Speed: 1, Fail: standin.FailHang, FailIn: "launch_server"}, nil)
	p, err := be.Start(context.Background(), backend.Spec{Name: "cb-bench-exec", Image: img, Labels: map[string]string{backend.LabelManaged: "true", standintest.TestLabel: "1"},
		Cmd: []string{"python3", "-m", "sglang.launch_server", "--model-path", "/m"}})
	if err != nil {
		b.Fatal(err)
	}
	defer p.Remove(context.Background(), 0)
	var execT, readT time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		if code, err := p.Exec(context.Background(), backend.ExecSpec{Cmd: []string{"python3", "-m", "sglang.none"}}); err != nil || code != 1 {
			b.Fatal(code, err)
		}
		t1 := time.Now()
		p.ReadFile(context.Background(), "/etc/commitbench-standin.json")
		execT += t1.Sub(t0)
		readT += time.Since(t1)
	}
	b.ReportMetric(float64(execT.Milliseconds())/float64(b.N), "ms-exec")
	b.ReportMetric(float64(readT.Milliseconds())/float64(b.N), "ms-readfile-archive")
}
