// Package gpusize decides how many GPUs a case needs: the smallest of 1, 2,
// 4 or 8 GPUs of the chosen type whose memory holds the model's weights
// with room for the KV cache and activations. The old pipeline took TP from
// the perf command alone and sent a 700 GB model to 8×80 GB, where it could
// only fail with an out-of-memory error; here such a case is refused up
// front with the count it would need.
package gpusize

import (
	"fmt"
	"math"
	"strings"
)

// WeightsFraction is the share of total GPU memory the weights may take.
// SGLang's own mem_fraction_static on an 80 GB H100 is about 0.88 for
// weights plus KV cache; keeping weights to 75 % leaves a KV pool big
// enough for a serving benchmark's concurrency.
const WeightsFraction = 0.75

// MaxGPUsPerNode is the largest allocation: multi-node runs are not supported.
const MaxGPUsPerNode = 8

// GPUType is a GPU model and its memory.
type GPUType struct {
	Name     string
	MemoryGB float64
}

// Types are the GPU types a plan can target.
var Types = []GPUType{
	{"H100", 80},
	{"H200", 141},
	{"A100", 80},
}

// LookupType finds a GPU type by name, case-insensitively ("h100", "H100-80GB").
func LookupType(name string) (GPUType, error) {
	n := strings.ToUpper(strings.TrimSpace(name))
	for _, t := range Types {
		if n == t.Name || strings.HasPrefix(n, t.Name+"-") || strings.HasPrefix(n, t.Name+" ") {
			return t, nil
		}
	}
	var names []string
	for _, t := range Types {
		names = append(names, t.Name)
	}
	return GPUType{}, fmt.Errorf("unknown GPU type %q; use one of %s", name, strings.Join(names, ", "))
}

// Sizing is the outcome for one case.
type Sizing struct {
	Count int
	TP    int
	// Fits is false when no single-node allocation can run the case;
	// Reason then says why and how many GPUs it would need.
	Fits   bool
	Reason string
}

// Size decides the GPU count and TP for weights (GB) on gpu. tp and dp are
// the perf command's own values (0 when it gives none): TP is the
// command's when given, else the GPU count; each DP replica holds all the
// weights.
func Size(weightsGB float64, gpu GPUType, tp, dp int) Sizing {
	if dp < 1 {
		dp = 1
	}
	perReplica := minGPUs(weightsGB, gpu)
	if tp > 0 {
		n := tp * dp
		switch {
		case n > MaxGPUsPerNode:
			return Sizing{Count: n, TP: tp, Reason: fmt.Sprintf("needs %d×%s (TP %d × DP %d): multi-node is not supported yet", n, gpu.Name, tp, dp)}
		case tp < perReplica:
			return Sizing{Count: n, TP: tp, Reason: fmt.Sprintf("the command's TP %d cannot hold ~%.0f GB of weights: they need TP ≥ %d on %s; raise --tp or remove it", tp, weightsGB, perReplica, gpu.Name)}
		}
		return Sizing{Count: roundUp(n), TP: tp, Fits: true}
	}
	n := perReplica * dp
	if n > MaxGPUsPerNode {
		return Sizing{Count: n, TP: perReplica, Reason: fmt.Sprintf("needs %d×%s for ~%.0f GB of weights: multi-node is not supported yet", n, gpu.Name, weightsGB)}
	}
	return Sizing{Count: n, TP: perReplica, Fits: true}
}

// minGPUs is the smallest power-of-two count whose memory budget holds the
// weights; above 8 it keeps doubling so the reason can name the real need.
func minGPUs(weightsGB float64, gpu GPUType) int {
	n := 1
	for weightsGB > float64(n)*gpu.MemoryGB*WeightsFraction {
		n *= 2
		if n > 1024 {
			break
		}
	}
	return n
}

func roundUp(n int) int {
	p := 1
	for p < n {
		p *= 2
	}
	return p
}

// Model is a known model's size.
type Model struct {
	ParamsB       float64 `json:"params_b"`
	BytesPerParam float64 `json:"bytes_per_param"`
	// WeightsGB overrides ParamsB × BytesPerParam when set.
	WeightsGB float64 `json:"weights_gb,omitempty"`
}

// GB returns the weights' size in GB.
func (m Model) GB() float64 {
	if m.WeightsGB > 0 {
		return m.WeightsGB
	}
	return m.ParamsB * m.BytesPerParam
}

// Estimate is a model's weights and where the figure came from.
type Estimate struct {
	GB float64
	// Source is "user", "table", "pattern" or "unknown".
	Source  string
	Warning string
}

// Table maps lower-cased Hub ids to sizes. The user's models file is
// consulted first.
type Table struct {
	user map[string]Model
}

// NewTable returns the built-in table with user entries on top.
func NewTable(user map[string]Model) *Table {
	t := &Table{user: map[string]Model{}}
	for k, v := range user {
		t.user[strings.ToLower(k)] = v
	}
	return t
}

// Estimate returns the weights of model, a Hub id.
func (t *Table) Estimate(model string) Estimate {
	key := strings.ToLower(model)
	if m, ok := t.user[key]; ok {
		return Estimate{GB: m.GB(), Source: "user"}
	}
	if m, ok := builtin[key]; ok {
		return Estimate{GB: m.GB(), Source: "table"}
	}
	if gb, ok := fromName(model); ok {
		return Estimate{GB: gb, Source: "pattern", Warning: fmt.Sprintf("weights of %s estimated from its name (~%.0f GB); add it to the models file for an exact figure", model, gb)}
	}
	return Estimate{GB: 0, Source: "unknown", Warning: fmt.Sprintf("size of %s is unknown; assuming it fits one GPU; add it to the models file", model)}
}

// GBOf is the weights of a model in the built-in table (for tests and docs).
func GBOf(id string) (float64, bool) {
	m, ok := builtin[strings.ToLower(id)]
	return math.Round(m.GB()*10) / 10, ok
}
