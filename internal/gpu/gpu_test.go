package gpu

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/commitbench/commitbench/internal/cudaarch"
)

func TestSupport(t *testing.T) {
	for _, tc := range []struct {
		archs, cc string
		want      cudaarch.Support
	}{
		{"sm_90,sm_90a", "9.0", cudaarch.Native},
		{"sm_90a", "9.0", cudaarch.Native},
		{"sm_80,sm_86", "9.0", cudaarch.None},
		{"sm_90a", "10.0", cudaarch.None},
		{"compute_90", "9.0", cudaarch.PTXOnly},
		{"", "9.0", cudaarch.None},
		{"sm_90", "", cudaarch.None},
	} {
		if got := Support(tc.archs, tc.cc); got != tc.want {
			t.Errorf("Support(%q, %q) = %v, want %v", tc.archs, tc.cc, got, tc.want)
		}
	}
	if SMName("9.0") != "sm_90" || SMName("x") != "" {
		t.Errorf("SMName: %q %q", SMName("9.0"), SMName("x"))
	}
}

// The capture's noheader,nounits line was taken with other columns than
// run-bench queries: parsing by the given field list reads it right.
func TestParseCSVFixture(t *testing.T) {
	info, err := os.ReadFile("fixtures/gpu-info.txt")
	if err != nil {
		t.Fatal(err)
	}
	_, after, _ := strings.Cut(string(info), "## nvidia-smi --query-gpu csv,noheader,nounits\n")
	line, _, _ := strings.Cut(after, "\n")
	rows, err := parseCSV(strings.NewReader(line), []string{"index", "name", "compute_cap", "memory.total", "memory.free", "driver_version"})
	if err != nil {
		t.Fatal(err)
	}
	gpus, err := gpusFromRows(rows)
	if err != nil || len(gpus) != 1 {
		t.Fatalf("%v %v", gpus, err)
	}
	g := gpus[0]
	if g.Name != "NVIDIA H100 80GB HBM3" || g.ComputeCap != "9.0" || g.MemoryTotalMiB != 81559 || g.MemoryUsedMiB != 480 || g.Driver != "580.159.04" {
		t.Errorf("got %+v", g)
	}
	if _, err := ParseInventory(strings.NewReader("0, H100\n")); err == nil {
		t.Error("short row accepted")
	}
}

func TestFixtureSources(t *testing.T) {
	emb, err := EmbeddedFixture()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	csvPath := filepath.Join(dir, "q.csv")
	os.WriteFile(csvPath, []byte("index, name, uuid, compute_cap, memory.total [MiB], memory.used [MiB]\n0, NVIDIA A100-SXM4-80GB, GPU-1, 8.0, 81920 MiB, 1024 MiB\n1, NVIDIA A100-SXM4-80GB, GPU-2, 8.0, 81920 MiB, 0 MiB\n"), 0o644)
	xmlSrc, err := LoadFixture("fixtures/nvidia-smi-q.xml")
	if err != nil {
		t.Fatal(err)
	}
	csvSrc, err := LoadFixture(csvPath)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name             string
		src              *Fixture
		gpus             int
		cc, cuda, source string
		smClock          float64
	}{
		{"embedded", emb, 1, "9.0", "13.0", "fixture:embedded-h100", 345},
		{"xml", xmlSrc, 1, "9.0", "13.0", "fixture:fixtures/nvidia-smi-q.xml", 345},
		{"csv", csvSrc, 2, "8.0", "", "fixture:" + csvPath, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			inv, _ := tc.src.Inventory(context.Background())
			if !inv.Simulated || inv.Source != tc.source || len(inv.GPUs) != tc.gpus || inv.GPUs[0].ComputeCap != tc.cc || inv.CUDAVersion != tc.cuda {
				t.Errorf("inventory %+v", inv)
			}
			s, err := tc.src.Sample(context.Background())
			if err != nil || len(s) != tc.gpus || s[0].SMClockMHz != tc.smClock {
				t.Errorf("sample %+v %v", s, err)
			}
		})
	}
	if s, _ := emb.Sample(context.Background()); s[0].PowerW != 72.52 || s[0].TemperatureC != 38 || !slices.Equal(s[0].ThrottleReasons, []string{"gpu_idle"}) {
		t.Errorf("embedded sample %+v", s[0])
	}
}

// SMI runs a real process; a script replaying the capture stands in for
// nvidia-smi, which this machine lacks.
func TestSMI(t *testing.T) {
	dir := t.TempDir()
	script := filepath.Join(dir, "nvidia-smi")
	os.WriteFile(script, []byte(`#!/bin/sh
case "$1" in
--query-gpu=index,name,*) echo "0, NVIDIA H100 80GB HBM3, GPU-20de7683-1885-9732-16d4-4d369650f2ce, 81559, 0, 9.0, 580.159.04";;
--query-gpu=index,memory.used,*clocks_event*) echo "Field \"clocks_event_reasons.active\" is not a valid field to query." >&2; exit 2;;
--query-gpu=index,memory.used,*) echo "0, 1234, 1980, 350.5, 61, 0x0000000000000004";;
*) cat "`+filepath.Join(mustAbs(t, "fixtures"), "nvidia-smi.txt")+`";;
esac
`), 0o755)
	s := SMI{Path: script}
	inv, err := s.Inventory(context.Background())
	if err != nil || len(inv.GPUs) != 1 || inv.GPUs[0].ComputeCap != "9.0" || inv.CUDAVersion != "13.0" || inv.Simulated {
		t.Fatalf("inventory %+v, %v", inv, err)
	}
	sm, err := s.Sample(context.Background())
	if err != nil || len(sm) != 1 || sm[0].MemoryUsedMiB != 1234 || sm[0].PowerW != 350.5 || !slices.Equal(sm[0].ThrottleReasons, []string{"sw_power_cap"}) {
		t.Fatalf("sample %+v, %v", sm, err)
	}
	if _, err := (SMI{Path: filepath.Join(dir, "absent")}).Inventory(context.Background()); err == nil {
		t.Error("missing nvidia-smi: no error")
	}
}

func mustAbs(t *testing.T, p string) string {
	a, err := filepath.Abs(p)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func TestSelect(t *testing.T) {
	all := []GPU{{Index: 0, UUID: "GPU-a"}, {Index: 1, UUID: "GPU-b"}, {Index: 2, UUID: "GPU-c"}}
	for _, tc := range []struct {
		spec    string
		want    []int
		wantErr bool
	}{
		{"all", []int{0, 1, 2}, false}, {"", []int{0, 1, 2}, false}, {"2,0", []int{2, 0}, false},
		{"GPU-b", []int{1}, false}, {"1,1", []int{1}, false}, {"7", nil, true},
	} {
		got, err := Select(all, tc.spec)
		var idx []int
		for _, g := range got {
			idx = append(idx, g.Index)
		}
		if (err != nil) != tc.wantErr || !slices.Equal(idx, tc.want) {
			t.Errorf("Select(%q) = %v, %v; want %v", tc.spec, idx, err, tc.want)
		}
	}
}

func TestThrottleReasons(t *testing.T) {
	if got := ThrottleReasons("0x0000000000000044"); !slices.Equal(got, []string{"sw_power_cap", "hw_thermal_slowdown"}) {
		t.Errorf("got %v", got)
	}
	if got := ThrottleReasons("[N/A]"); got != nil {
		t.Errorf("got %v", got)
	}
}

type seqSource struct{ n int }

func (s *seqSource) Inventory(context.Context) (Inventory, error) { return Inventory{}, nil }
func (s *seqSource) Sample(context.Context) ([]Sample, error) {
	s.n++
	return []Sample{{Index: 0, MemoryUsedMiB: float64(100 * s.n), SMClockMHz: float64(2000 - 100*s.n), PowerW: 300, ThrottleReasons: []string{"sw_power_cap"}},
		{Index: 1, MemoryUsedMiB: 99999}}, nil
}

func TestSampler(t *testing.T) {
	src := &seqSource{}
	s := StartSampler(context.Background(), src, 10*time.Millisecond, []int{0}, false)
	time.Sleep(55 * time.Millisecond)
	tel := s.Stop()
	if tel.Samples < 2 || tel.MaxMemoryUsedMiB != float64(100*src.n) || tel.MinSMClockMHz != float64(2000-100*src.n) || tel.MaxSMClockMHz != 1900 ||
		!slices.Equal(tel.ThrottleReasons, []string{"sw_power_cap"}) || tel.Simulated {
		t.Errorf("telemetry %+v after %d samples (GPU 1 must be ignored)", tel, src.n)
	}
}
