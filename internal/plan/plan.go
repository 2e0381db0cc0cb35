// Package plan is the plan.json contract: which cases can run, on what GPUs,
// with which tool, and why the others cannot. plan writes it; build-image
// and run-bench read one entry of it. Documented in docs/plan.md.
package plan

import (
	"encoding/json"
	"fmt"
	"os"
)

// Schema identifies this version of the plan format.
const Schema = "commitbench.plan/v1"

// Plan is the whole plan.
type Plan struct {
	Schema string  `json:"schema"`
	Cases  []*Case `json:"cases"`
	Counts Counts  `json:"counts"`
}

// Counts summarise the plan.
type Counts struct {
	Total         int `json:"total"`
	Runnable      int `json:"runnable"`
	NotRunnable   int `json:"not_runnable"`
	VariantImages int `json:"variant_images"`
}

// Case is one planned case.
type Case struct {
	ID          string `json:"id"`
	Repo        string `json:"repo"`
	Commit      string `json:"commit"`
	Parent      string `json:"parent"`
	Subject     string `json:"subject,omitempty"`
	PR          string `json:"pr,omitempty"`
	Model       string `json:"model"`
	PerfCommand string `json:"perf_command"`
	Runnable    bool   `json:"runnable"`
	// Reason says why the case cannot run; empty when it can.
	Reason   string    `json:"reason"`
	GPU      GPU       `json:"gpu"`
	TP       int       `json:"tp"`
	DP       int       `json:"dp,omitempty"`
	Bench    Bench     `json:"bench"`
	Variants []Variant `json:"variants"`
	// ModelSubstitutedFrom is the local path the perf command named, when
	// the case's model column gave the Hub id used instead.
	ModelSubstitutedFrom string `json:"model_substituted_from,omitempty"`
	// WeightsGB is the estimated size of the model's weights.
	WeightsGB float64 `json:"weights_gb,omitempty"`
	// WeightsSource is "table", "pattern" (a guess from the name) or "user".
	WeightsSource  string   `json:"weights_source,omitempty"`
	GenericCommand bool     `json:"generic_command,omitempty"`
	FilesChanged   []string `json:"files_changed,omitempty"`
	Warnings       []string `json:"warnings,omitempty"`
}

// GPU is the type and count a case runs on.
type GPU struct {
	Type  string `json:"type"`
	Count int    `json:"count"`
}

// Bench describes the perf command.
type Bench struct {
	Tool string `json:"tool"`
	Mode string `json:"mode"`
	// Args is the argv to run: the perf command tokenized as a POSIX shell
	// would, with server-only flags moved to ServerArgs in server mode and a
	// substituted model path replaced by its Hub id.
	Args []string `json:"args,omitempty"`
	// Env holds the command's leading NAME=value assignments.
	Env []string `json:"env,omitempty"`
	// ServerArgs are server flags the perf command implies (server mode):
	// commitbench adds them to the launch_server command it builds.
	ServerArgs []string `json:"server_args,omitempty"`
	Dataset    string   `json:"dataset,omitempty"`
	// NeedsDownload is true when the dataset is fetched at run time.
	NeedsDownload bool   `json:"needs_download,omitempty"`
	LoRA          string `json:"lora,omitempty"`
	// TranslatedFrom is the original command when a vLLM-style command was
	// translated into the engine's own tool.
	TranslatedFrom string `json:"translated_from,omitempty"`
}

// Variant is one of baseline, human, agent.
type Variant struct {
	Name     string `json:"name"`
	Runnable bool   `json:"runnable"`
	Reason   string `json:"reason,omitempty"`
	// Commit is the source tree: the parent for baseline and agent.
	Commit string `json:"commit"`
	// Patch is the agent's patch file.
	Patch string `json:"patch,omitempty"`
	// AgentName and AgentModel identify the agent (agent variant only).
	AgentName  string `json:"agent_name,omitempty"`
	AgentModel string `json:"agent_model,omitempty"`
}

// Read loads a plan file.
func Read(path string) (*Plan, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var p Plan
	if err := json.Unmarshal(data, &p); err != nil {
		return nil, fmt.Errorf("%s: not a plan file: %w", path, err)
	}
	if p.Schema != Schema {
		return nil, fmt.Errorf("%s: schema is %q, want %q", path, p.Schema, Schema)
	}
	return &p, nil
}

// Find returns the case with id.
func (p *Plan) Find(id string) (*Case, error) {
	for _, c := range p.Cases {
		if c.ID == id {
			return c, nil
		}
	}
	return nil, fmt.Errorf("case %q is not in the plan; run plan again or check the id", id)
}

// Variant returns the named variant of c, or nil.
func (c *Case) Variant(name string) *Variant {
	for i := range c.Variants {
		if c.Variants[i].Name == name {
			return &c.Variants[i]
		}
	}
	return nil
}
