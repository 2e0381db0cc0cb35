// Package result is the contract between run-bench and publish: the
// versioned result.json of one case. It keeps every repetition's raw values
// (never only an aggregate), each variant's status and failure, the image
// digests, the GPUs seen and the timings. Nothing here compares variants:
// publish does.
package result

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	fastjson "github.com/goccy/go-json"

	"github.com/commitbench/commitbench/internal/failure"
)

// Schema is the value of the schema field this package writes and reads.
const Schema = "commitbench.result/v1"

// FileName is the name of the result file inside results/<case-id>/.
const FileName = "result.json"

// Variant names.
const (
	Baseline = "baseline"
	Human    = "human"
	Agent    = "agent"
)

// Variant statuses.
const (
	// StatusSuccess: every process exited 0 and the required metrics were
	// parsed for every measured repetition.
	StatusSuccess = "success"
	StatusFailed  = "failed"
	// StatusNotRun: the variant was planned out (no patch) or never started.
	StatusNotRun = "not_run"
	// StatusRunning: the run is still going (or was killed before it ended).
	StatusRunning = "running"
)

// Run statuses.
const (
	RunComplete  = "complete"
	RunCancelled = "cancelled"
	RunRunning   = "running"
)

// Result is one case's outcome.
type Result struct {
	Schema         string     `json:"schema"`
	ToolkitVersion string     `json:"toolkit_version"`
	RunID          string     `json:"run_id"`
	RunURL         string     `json:"run_url,omitempty"`
	Backend        string     `json:"backend"`
	Status         string     `json:"status"`
	Case           Case       `json:"case"`
	Host           Host       `json:"host"`
	Started        time.Time  `json:"started"`
	Finished       *time.Time `json:"finished,omitempty"`
	// Order is every repetition in the order it ran, across variants.
	Order    []Slot     `json:"order"`
	Variants []*Variant `json:"variants"`
	// Settings are the run's repetition scheme and limits (added for
	// run-bench, issue 5).
	Settings *Settings `json:"settings,omitempty"`
}

// Settings record how a run was asked to measure, so that a reader can
// tell a 3-repetition run from a 10-repetition one without the job's log.
type Settings struct {
	Repetitions               int     `json:"repetitions"`
	Warmup                    int     `json:"warmup"`
	Rounds                    int     `json:"rounds"`
	ServerStartTimeoutSeconds float64 `json:"server_start_timeout_seconds,omitempty"`
	BenchmarkTimeoutSeconds   float64 `json:"benchmark_timeout_seconds,omitempty"`
	// GPUs is the devices used, as given ("all", "0,1").
	GPUs string `json:"gpus,omitempty"`
}

// Case is what was benchmarked, copied from the plan.
type Case struct {
	ID             string `json:"id"`
	Repo           string `json:"repo,omitempty"`
	Commit         string `json:"commit"`
	Parent         string `json:"parent"`
	Subject        string `json:"subject,omitempty"`
	PR             string `json:"pr,omitempty"`
	Model          string `json:"model"`
	PerfCommand    string `json:"perf_command"`
	Tool           string `json:"tool"`
	Mode           string `json:"mode"`
	GPUType        string `json:"gpu_type"`
	GPUCount       int    `json:"gpu_count"`
	TP             int    `json:"tp"`
	GenericCommand bool   `json:"generic_command,omitempty"`
}

// Host is the machine and GPUs the run saw.
type Host struct {
	Runner        string `json:"runner,omitempty"`
	DriverVersion string `json:"driver_version,omitempty"`
	CUDAVersion   string `json:"cuda_version,omitempty"`
	GPUs          []GPU  `json:"gpus,omitempty"`
	// GPUsSimulated is true when no real GPU was queried (a stand-in run);
	// GPUSource then names the replayed recording.
	GPUsSimulated bool   `json:"gpus_simulated,omitempty"`
	GPUSource     string `json:"gpu_source,omitempty"`
}

// GPU is one device as nvidia-smi reported it.
type GPU struct {
	Index        int     `json:"index"`
	Name         string  `json:"name"`
	UUID         string  `json:"uuid,omitempty"`
	MemoryMiB    int     `json:"memory_mib,omitempty"`
	ComputeCap   string  `json:"compute_cap,omitempty"`
	MemoryUsedMB float64 `json:"memory_used_mib,omitempty"`
}

// Slot is one entry of the run order.
type Slot struct {
	Variant    string    `json:"variant"`
	Round      int       `json:"round"`
	Repetition int       `json:"repetition"`
	Warmup     bool      `json:"warmup,omitempty"`
	Started    time.Time `json:"started"`
}

// Variant is one of baseline, human, agent.
type Variant struct {
	Name        string           `json:"name"`
	Image       string           `json:"image,omitempty"`
	ImageDigest string           `json:"image_digest,omitempty"`
	Status      string           `json:"status"`
	Reason      string           `json:"reason,omitempty"`
	Failure     *failure.Failure `json:"failure,omitempty"`
	// AgentName and AgentModel identify the agent (agent variant only),
	// as the plan gave them.
	AgentName  string `json:"agent_name,omitempty"`
	AgentModel string `json:"agent_model,omitempty"`
	// ServerReadySeconds is the time from container start to readiness,
	// one entry per server start (server mode).
	ServerReadySeconds []float64     `json:"server_ready_seconds,omitempty"`
	Repetitions        []*Repetition `json:"repetitions"`
}

// Repetition is one run of the perf command.
type Repetition struct {
	Index           int        `json:"index"`
	Round           int        `json:"round"`
	Warmup          bool       `json:"warmup,omitempty"`
	Started         time.Time  `json:"started"`
	DurationSeconds float64    `json:"duration_seconds"`
	ExitCode        int        `json:"exit_code"`
	Blocks          []Block    `json:"blocks"`
	Logs            Logs       `json:"logs"`
	Telemetry       *Telemetry `json:"telemetry,omitempty"`
	// Failure is set when this repetition failed.
	Failure *failure.Failure `json:"failure,omitempty"`
}

// Block is one result block of a tool's output, in order. Key tells apart
// the groups of tools that print several (bench_one_batch prints one per
// batch size, input and output length: "bs=1,in=128,out=8").
type Block struct {
	Key     string             `json:"key,omitempty"`
	Metrics map[string]float64 `json:"metrics"`
}

// Logs are paths relative to the result directory.
type Logs struct {
	Server string `json:"server,omitempty"`
	Client string `json:"client,omitempty"`
}

// Telemetry summarises the GPU samples taken during one repetition.
type Telemetry struct {
	Samples          int      `json:"samples"`
	MaxMemoryUsedMiB float64  `json:"max_memory_used_mib,omitempty"`
	MinSMClockMHz    float64  `json:"min_sm_clock_mhz,omitempty"`
	MaxSMClockMHz    float64  `json:"max_sm_clock_mhz,omitempty"`
	MaxPowerW        float64  `json:"max_power_w,omitempty"`
	MaxTemperatureC  float64  `json:"max_temperature_c,omitempty"`
	ThrottleReasons  []string `json:"throttle_reasons,omitempty"`
	// Simulated is true when the samples replay a recording, not a GPU.
	Simulated bool `json:"simulated,omitempty"`
	// Errors counts samples that could not be taken.
	Errors int `json:"errors,omitempty"`
}

// Variant returns the named variant, or nil.
func (r *Result) Variant(name string) *Variant {
	for _, v := range r.Variants {
		if v.Name == name {
			return v
		}
	}
	return nil
}

// Measured returns the repetitions that count: not warm-ups, exited 0,
// with metrics.
func (v *Variant) Measured() []*Repetition {
	var out []*Repetition
	for _, r := range v.Repetitions {
		if r.measured() {
			out = append(out, r)
		}
	}
	return out
}

func (r *Repetition) measured() bool {
	return !r.Warmup && r.ExitCode == 0 && r.Failure == nil && len(r.Blocks) > 0
}

// Values returns metric's value in the block with key, one per measured
// repetition, in run order. Repetitions lacking the metric are skipped.
// Publish asks for some thirty per variant and case, hence no
// intermediate slice of repetitions.
func (v *Variant) Values(key, metric string) []float64 {
	var out []float64
	for i, r := range v.Repetitions {
		if !r.measured() {
			continue
		}
		for _, b := range r.Blocks {
			if b.Key != key {
				continue
			}
			if x, ok := b.Metrics[metric]; ok {
				if out == nil {
					out = make([]float64, 0, len(v.Repetitions)-i)
				}
				out = append(out, x)
			}
			break
		}
	}
	return out
}

// Validate checks the invariants publish relies on. The error names the
// field and what is wrong with it.
func (r *Result) Validate() error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", field, fmt.Sprintf(format, args...)))
	}
	if r.Schema != Schema {
		bad("schema", "is %q, want %q (written by an incompatible commitbench?)", r.Schema, Schema)
	}
	if r.Case.ID == "" {
		bad("case.id", "is empty")
	}
	if len(r.Variants) == 0 {
		bad("variants", "is empty")
	}
	seen := map[string]bool{}
	for i, v := range r.Variants {
		f := fmt.Sprintf("variants[%d]", i)
		switch v.Name {
		case Baseline, Human, Agent:
		default:
			bad(f+".name", "is %q, want baseline, human or agent", v.Name)
		}
		if seen[v.Name] {
			bad(f+".name", "%q appears twice", v.Name)
		}
		seen[v.Name] = true
		switch v.Status {
		case StatusSuccess:
			if len(v.Measured()) == 0 {
				bad(f+".status", "is success but no repetition has metrics (a phantom success)")
			}
			for j, rep := range v.Repetitions {
				if rep.ExitCode != 0 {
					bad(fmt.Sprintf("%s.repetitions[%d].exit_code", f, j), "is %d in a successful variant", rep.ExitCode)
				}
			}
		case StatusFailed:
			if v.Failure == nil {
				bad(f+".failure", "is missing for a failed variant")
			}
		case StatusNotRun, StatusRunning:
		default:
			bad(f+".status", "is %q, want success, failed, not_run or running", v.Status)
		}
	}
	return errors.Join(errs...)
}

// Read decodes and validates a result file.
func Read(path string) (*Result, error) {
	var rd Reader
	return rd.Read(path)
}

// Reader reads result files into one buffer it keeps: publish reads
// thousands, and a fresh buffer per file was a sixth of what it allocated.
// The decoded Result does not refer to the buffer. Not safe for
// concurrent use.
type Reader struct{ buf []byte }

// Read decodes and validates a result file.
func (rd *Reader) Read(path string) (*Result, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b := bytes.NewBuffer(rd.buf[:0])
	_, err = b.ReadFrom(f)
	rd.buf = b.Bytes()
	if err != nil {
		return nil, err
	}
	r, err := Unmarshal(rd.buf)
	if cap(rd.buf) > maxKeptBuffer {
		rd.buf = nil // one huge file must not stay in memory for the rest
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return r, nil
}

const maxKeptBuffer = 4 << 20

// Unmarshal decodes and validates a result. It uses goccy/go-json, which
// decodes result files about 4× faster than encoding/json (114 µs against
// 477 µs for a 33 KB report fixture): publish reads every result of a
// nightly, and decoding was over half of its CPU time.
func Unmarshal(data []byte) (*Result, error) {
	var r Result
	if err := fastjson.Unmarshal(data, &r); err != nil {
		return nil, fmt.Errorf("not a result file: %w", err)
	}
	if err := r.Validate(); err != nil {
		return nil, err
	}
	return &r, nil
}

// WriteFile writes r to path atomically (temp file + rename), so a crash or
// a cancel mid-write leaves the previous complete version, never half a file.
func WriteFile(path string, r *Result) error {
	data, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	data = append(data, '\n')
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".result-*.json")
	if err != nil {
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	return os.Rename(tmp.Name(), path)
}
