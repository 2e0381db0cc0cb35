package cases

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
)

// The ISO-Bench export's columns that commitbench reads; every other column
// is the previous pipeline's output and is ignored.
var isoColumns = []string{"commit_hash", "parent_commit", "commit_subject", "pr_url", "dataset_models",
	"dataset_perf_command", "files_changed"}

var prRepoRe = regexp.MustCompile(`github\.com/([^/]+/[^/]+)/pull/\d+`)

func decodeCSV(data []byte) ([]Case, []error, error) {
	r := csv.NewReader(bytes.NewReader(data))
	r.FieldsPerRecord = -1
	header, err := r.Read()
	if err != nil {
		return nil, nil, fmt.Errorf("not a CSV cases file: %v", err)
	}
	col := map[string]int{}
	for i, h := range header {
		col[strings.TrimSpace(strings.TrimPrefix(h, "\ufeff"))] = i
	}
	var missing []string
	for _, c := range isoColumns {
		if _, ok := col[c]; !ok {
			missing = append(missing, c)
		}
	}
	if len(missing) > 0 {
		return nil, nil, fmt.Errorf("CSV lacks the ISO-Bench columns %s; export with them or use the JSONL schema (docs/cases.md)", strings.Join(missing, ", "))
	}
	var out []Case
	var errs []error
	for row := 2; ; row++ {
		rec, err := r.Read()
		if err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			errs = append(errs, &RowError{Where: fmt.Sprintf("row %d", row), Err: fmt.Errorf("not valid CSV (%v); fix the quoting of this row", err)})
			if _, ok := err.(*csv.ParseError); ok {
				continue
			}
			break
		}
		get := func(name string) string {
			if i, ok := col[name]; ok && i < len(rec) {
				return strings.TrimSpace(rec[i])
			}
			return ""
		}
		c := Case{
			ID:          get("item_id"),
			Commit:      get("commit_hash"),
			Parent:      get("parent_commit"),
			Subject:     get("commit_subject"),
			PR:          PR(get("pr_url")),
			Models:      pythonList(get("dataset_models")),
			PerfCommand: get("dataset_perf_command"),
		}
		if f := get("files_changed"); f != "" {
			c.FilesChanged = strings.Split(f, ";")
		}
		if m := prRepoRe.FindStringSubmatch(string(c.PR)); m != nil {
			c.Repo = m[1]
		}
		if c.ID == "" {
			c.ID = shortID(c.Commit, row)
		}
		c.Where = "case " + c.ID
		out = append(out, c)
	}
	return out, errs, nil
}

// shortID names a case without an item_id by its commit.
func shortID(commit string, row int) string {
	if len(commit) >= 12 {
		return commit[:12]
	}
	return fmt.Sprintf("row-%d", row)
}

// pythonList reads the export's Python-literal lists ("['a', 'b']") and
// drops its "N/A" placeholder.
func pythonList(s string) []string {
	s = strings.TrimSpace(s)
	s = strings.TrimPrefix(s, "[")
	s = strings.TrimSuffix(s, "]")
	var out []string
	for _, part := range strings.Split(s, ",") {
		v := strings.Trim(strings.TrimSpace(part), `'"`)
		if v != "" && v != "N/A" {
			out = append(out, v)
		}
	}
	return out
}
