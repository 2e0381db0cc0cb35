// Package cases reads a cases file: commitbench's own JSONL/JSON schema
// (docs/cases.md) or the ISO-Bench CSV export. It only decodes; checking
// that a case can run is the planner's job. A row that cannot be decoded is
// reported by its position and never stops the other rows.
package cases

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Case is one case as written in the file.
type Case struct {
	ID      string `json:"id"`
	Repo    string `json:"repo,omitempty"`
	Commit  string `json:"commit"`
	Parent  string `json:"parent"`
	Subject string `json:"subject,omitempty"`
	// PR is a pull-request URL or number.
	PR PR `json:"pr,omitempty"`
	// Model is the Hub id to serve. Models are candidate Hub ids, used when
	// the perf command names a local path (the ISO-Bench dataset_models).
	Model       string   `json:"model,omitempty"`
	Models      []string `json:"models,omitempty"`
	PerfCommand string   `json:"perf_command"`
	// AgentPatch is a path to the agent's diff, relative to the cases file.
	AgentPatch string `json:"agent_patch,omitempty"`
	// AgentName and AgentModel say who wrote the patch ("claude-code",
	// "claude-sonnet-4-20250514"); they override the plan's defaults and
	// end up in the dataset's agent_name and agent_model columns.
	AgentName  string `json:"agent_name,omitempty"`
	AgentModel string `json:"agent_model,omitempty"`
	GPUType    string `json:"gpu_type,omitempty"`
	GPUCount   int    `json:"gpu_count,omitempty"`
	// LoRAPaths are name=path adapters for a perf command using --lora-name.
	LoRAPaths    []string `json:"lora_paths,omitempty"`
	FilesChanged []string `json:"files_changed,omitempty"`

	// Where is the case's position in its file, for messages.
	Where string `json:"-"`
}

// PR accepts a URL or a number.
type PR string

// UnmarshalJSON takes a string or a number.
func (p *PR) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		*p = PR(s)
		return nil
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		return fmt.Errorf("pr must be a URL or a number")
	}
	*p = PR(n.String())
	return nil
}

// RowError is a row that could not be decoded.
type RowError struct {
	Where string
	Err   error
}

func (e *RowError) Error() string { return e.Where + ": " + e.Err.Error() }

// Format of a cases file.
type Format string

const (
	JSONL Format = "jsonl"
	JSON  Format = "json"
	CSV   Format = "csv"
)

// Load reads path. Row errors come back beside the rows that decoded; err
// is for a file that cannot be read at all.
func Load(path string) ([]Case, []error, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, err
	}
	return Decode(data, Detect(path, data))
}

// Detect picks the format from the extension, else from the content.
func Detect(path string, data []byte) Format {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".jsonl", ".ndjson":
		return JSONL
	case ".json":
		return JSON
	case ".csv":
		return CSV
	}
	t := bytes.TrimSpace(data)
	switch {
	case bytes.HasPrefix(t, []byte("[")):
		return JSON
	case bytes.HasPrefix(t, []byte("{")):
		// One object spanning the file is JSON ({"cases": [...]}); one
		// object per line is JSONL.
		first, _, _ := bytes.Cut(t, []byte("\n"))
		if json.Valid(bytes.TrimSpace(first)) {
			return JSONL
		}
		return JSON
	}
	return CSV
}

// Decode reads data in format f.
func Decode(data []byte, f Format) ([]Case, []error, error) {
	switch f {
	case JSONL:
		return decodeJSONL(data)
	case JSON:
		return decodeJSON(data)
	case CSV:
		return decodeCSV(data)
	}
	return nil, nil, fmt.Errorf("unknown cases format %q; use jsonl, json or csv", f)
}

func decodeJSONL(data []byte) ([]Case, []error, error) {
	var out []Case
	var errs []error
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	for n := 1; sc.Scan(); n++ {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 || line[0] == '#' {
			continue
		}
		where := fmt.Sprintf("line %d", n)
		c, err := decodeOne(line, where)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out = append(out, c)
	}
	if err := sc.Err(); err != nil {
		return out, errs, err
	}
	return out, errs, nil
}

func decodeJSON(data []byte) ([]Case, []error, error) {
	var raws []json.RawMessage
	if err := json.Unmarshal(data, &raws); err != nil {
		var wrapper struct {
			Cases []json.RawMessage `json:"cases"`
		}
		if err2 := json.Unmarshal(data, &wrapper); err2 != nil || wrapper.Cases == nil {
			return nil, nil, fmt.Errorf("not a JSON array of cases nor {\"cases\": [...]}: %v", err)
		}
		raws = wrapper.Cases
	}
	var out []Case
	var errs []error
	for i, raw := range raws {
		c, err := decodeOne(raw, fmt.Sprintf("cases[%d]", i))
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out = append(out, c)
	}
	return out, errs, nil
}

func decodeOne(raw []byte, where string) (Case, error) {
	var c Case
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		if id := peekID(raw); id != "" {
			where = "case " + id
		}
		return c, &RowError{Where: where, Err: explain(err)}
	}
	c.Where = where
	if c.ID != "" {
		c.Where = "case " + c.ID
	}
	return c, nil
}

func peekID(raw []byte) string {
	var v struct {
		ID string `json:"id"`
	}
	_ = json.Unmarshal(raw, &v)
	return v.ID
}

var fieldNames = []string{"id", "repo", "commit", "parent", "subject", "pr", "model", "models", "perf_command",
	"agent_patch", "gpu_type", "gpu_count", "lora_paths", "files_changed"}

// explain turns a decoder error into "<field>: <problem>; <fix>".
func explain(err error) error {
	msg := err.Error()
	if f, ok := strings.CutPrefix(msg, "json: unknown field "); ok {
		f = strings.Trim(f, `"`)
		if s := closest(f, fieldNames); s != "" {
			return fmt.Errorf("%s: not a case field; did you mean %s? (docs/cases.md lists the fields)", f, s)
		}
		return fmt.Errorf("%s: not a case field; see docs/cases.md for the fields", f)
	}
	var te *json.UnmarshalTypeError
	if ok := asType(err, &te); ok {
		return fmt.Errorf("%s: is a JSON %s, want %s; fix the value's type", te.Field, te.Value, te.Type)
	}
	return fmt.Errorf("not valid JSON (%v); fix the syntax of this row", err)
}

func asType(err error, target **json.UnmarshalTypeError) bool {
	te, ok := err.(*json.UnmarshalTypeError)
	if ok {
		*target = te
	}
	return ok
}

// closest returns the field within edit distance 3 of f, if any.
func closest(f string, names []string) string {
	// A shortened name ("agent", "lora") means the field it begins.
	for _, n := range names {
		if len(f) >= 4 && strings.HasPrefix(n, f) {
			return n
		}
	}
	best, bestD := "", 4
	for _, n := range names {
		if d := editDistance(f, n); d < bestD {
			best, bestD = n, d
		}
	}
	return best
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}
