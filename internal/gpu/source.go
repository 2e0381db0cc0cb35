package gpu

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/xml"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
)

// SMI is the real source: the nvidia-smi binary on PATH (or Path).
type SMI struct {
	Path string
}

func (s SMI) run(ctx context.Context, args ...string) ([]byte, error) {
	bin := s.Path
	if bin == "" {
		bin = "nvidia-smi"
	}
	var stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w: %s", bin, strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return out, nil
}

var cudaVersionRE = regexp.MustCompile(`CUDA Version:\s*([0-9.]+)`)

// Inventory implements Source.
func (s SMI) Inventory(ctx context.Context) (Inventory, error) {
	out, err := s.run(ctx, "--query-gpu="+strings.Join(InventoryFields, ","), "--format=csv,noheader,nounits")
	if err != nil {
		return Inventory{}, err
	}
	gpus, err := ParseInventory(bytes.NewReader(out))
	if err != nil {
		return Inventory{}, err
	}
	inv := Inventory{GPUs: gpus, Source: "nvidia-smi"}
	// The CUDA version is only in the banner; it is informative, so a
	// failure to read it is not an error.
	if banner, err := s.run(ctx); err == nil {
		if m := cudaVersionRE.FindSubmatch(banner); m != nil {
			inv.CUDAVersion = string(m[1])
		}
	}
	return inv, nil
}

// sampleFields are queried once a second during a repetition.
var sampleFields = []string{"index", "memory.used", "clocks.sm", "power.draw", "temperature.gpu", "clocks_event_reasons.active"}

// Sample implements Source. Drivers before 535 call the last field
// clocks_throttle_reasons.active, so that name is tried second.
func (s SMI) Sample(ctx context.Context) ([]Sample, error) {
	fields := sampleFields
	out, err := s.run(ctx, "--query-gpu="+strings.Join(fields, ","), "--format=csv,noheader,nounits")
	if err != nil && ctx.Err() == nil {
		fields = append(fields[:len(fields)-1:len(fields)-1], "clocks_throttle_reasons.active")
		out, err = s.run(ctx, "--query-gpu="+strings.Join(fields, ","), "--format=csv,noheader,nounits")
	}
	if err != nil {
		return nil, err
	}
	rows, err := parseCSV(bytes.NewReader(out), fields)
	if err != nil {
		return nil, err
	}
	return samplesFromRows(rows, fields[len(fields)-1]), nil
}

func samplesFromRows(rows []map[string]string, reasonField string) []Sample {
	var out []Sample
	for _, r := range rows {
		idx, err := strconv.Atoi(r["index"])
		if err != nil {
			continue
		}
		s := Sample{Index: idx, ThrottleReasons: ThrottleReasons(r[reasonField])}
		s.MemoryUsedMiB, _ = num(r["memory.used"])
		s.SMClockMHz, _ = num(r["clocks.sm"])
		s.PowerW, _ = num(r["power.draw"])
		s.TemperatureC, _ = num(r["temperature.gpu"])
		out = append(out, s)
	}
	return out
}

// Fixture replays recorded nvidia-smi output: the GPUs are simulated, and
// Inventory says so. Every Sample returns the same recorded reading.
type Fixture struct {
	name    string
	inv     []GPU
	cuda    string
	samples []Sample
}

var (
	//go:embed fixtures/gpu-info.txt
	embeddedInfo []byte
	//go:embed fixtures/nvidia-smi-q.xml
	embeddedXML []byte
)

// EmbeddedFixture replays the H100 capture in fixtures/ (SOURCE.md).
func EmbeddedFixture() (*Fixture, error) {
	f := &Fixture{name: "fixture:embedded-h100"}
	gpus, err := gpusFromInfo(embeddedInfo)
	if err != nil {
		return nil, err
	}
	x, err := parseXML(embeddedXML)
	if err != nil {
		return nil, err
	}
	f.inv, f.cuda, f.samples = gpus, x.CUDA, x.samples()
	return f, nil
}

// LoadFixture reads a recorded file: `nvidia-smi -q -x` XML, or the output
// of `nvidia-smi --query-gpu=... --format=csv` (with its header line, so
// the columns name themselves), alone or in a gpu-info.txt capture.
func LoadFixture(path string) (*Fixture, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	f := &Fixture{name: "fixture:" + path}
	if bytes.HasPrefix(bytes.TrimSpace(data), []byte("<?xml")) {
		x, err := parseXML(data)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		f.inv, f.cuda, f.samples = x.gpus(), x.CUDA, x.samples()
		return f, nil
	}
	if f.inv, err = gpusFromInfo(data); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	for _, g := range f.inv {
		f.samples = append(f.samples, Sample{Index: g.Index, MemoryUsedMiB: g.MemoryUsedMiB})
	}
	return f, nil
}

// gpusFromInfo finds the CSV-with-header block (the line starting
// "index,") in a capture and parses it.
func gpusFromInfo(data []byte) ([]GPU, error) {
	lines := strings.Split(string(data), "\n")
	for i, l := range lines {
		if !strings.HasPrefix(strings.TrimSpace(l), "index,") {
			continue
		}
		var block []string
		for _, b := range lines[i:] {
			if strings.HasPrefix(b, "#") || strings.TrimSpace(b) == "" {
				break
			}
			block = append(block, b)
		}
		rows, err := parseCSV(strings.NewReader(strings.Join(block, "\n")), nil)
		if err != nil {
			return nil, err
		}
		return gpusFromRows(rows)
	}
	return nil, errors.New("no nvidia-smi --query-gpu csv with a header line (index, ...) found")
}

// Inventory implements Source.
func (f *Fixture) Inventory(context.Context) (Inventory, error) {
	return Inventory{GPUs: append([]GPU(nil), f.inv...), CUDAVersion: f.cuda, Simulated: true, Source: f.name}, nil
}

// Sample implements Source.
func (f *Fixture) Sample(ctx context.Context) ([]Sample, error) {
	return append([]Sample(nil), f.samples...), ctx.Err()
}

// smiLog is the part of nvidia-smi -q -x output the fixture source reads.
type smiLog struct {
	Driver string `xml:"driver_version"`
	CUDA   string `xml:"cuda_version"`
	GPUs   []struct {
		Name    string `xml:"product_name"`
		UUID    string `xml:"uuid"`
		Minor   string `xml:"minor_number"`
		Reasons struct {
			Any []struct {
				XMLName xml.Name
				Value   string `xml:",chardata"`
			} `xml:",any"`
		} `xml:"clocks_event_reasons"`
		Mem struct {
			Total string `xml:"total"`
			Used  string `xml:"used"`
		} `xml:"fb_memory_usage"`
		Temp  string `xml:"temperature>gpu_temp"`
		Power string `xml:"gpu_power_readings>instant_power_draw"`
		SM    string `xml:"clocks>sm_clock"`
	} `xml:"gpu"`
}

func parseXML(data []byte) (*smiLog, error) {
	var x smiLog
	if err := xml.Unmarshal(data, &x); err != nil {
		return nil, fmt.Errorf("nvidia-smi -q -x: %w", err)
	}
	if len(x.GPUs) == 0 {
		return nil, errors.New("nvidia-smi -q -x: no <gpu> element")
	}
	return &x, nil
}

func (x *smiLog) gpus() []GPU {
	var out []GPU
	for i, g := range x.GPUs {
		gp := GPU{Index: i, Name: g.Name, UUID: g.UUID, Driver: x.Driver, ComputeCap: computeCapOf(g.Name)}
		gp.MemoryTotalMiB, _ = num(stripUnit(g.Mem.Total))
		gp.MemoryUsedMiB, _ = num(stripUnit(g.Mem.Used))
		out = append(out, gp)
	}
	return out
}

func (x *smiLog) samples() []Sample {
	var out []Sample
	for i, g := range x.GPUs {
		s := Sample{Index: i}
		s.MemoryUsedMiB, _ = num(stripUnit(g.Mem.Used))
		s.SMClockMHz, _ = num(stripUnit(g.SM))
		s.PowerW, _ = num(stripUnit(g.Power))
		s.TemperatureC, _ = num(stripUnit(g.Temp))
		for _, r := range g.Reasons.Any {
			if strings.TrimSpace(r.Value) == "Active" {
				s.ThrottleReasons = append(s.ThrottleReasons, strings.TrimPrefix(r.XMLName.Local, "clocks_event_reason_"))
			}
		}
		out = append(out, s)
	}
	return out
}

// computeCapOf fills in what nvidia-smi -q -x does not print, for the
// data-centre GPUs a benchmark runs on; "" for others.
func computeCapOf(name string) string {
	for _, m := range []struct{ sub, cc string }{
		{"H100", "9.0"}, {"H200", "9.0"}, {"H800", "9.0"}, {"GH200", "9.0"}, {"A100", "8.0"}, {"A800", "8.0"},
		{"L40", "8.9"}, {"L4", "8.9"}, {"B200", "10.0"}, {"GB200", "10.0"}, {"A10", "8.6"},
	} {
		if strings.Contains(name, m.sub) {
			return m.cc
		}
	}
	return ""
}
