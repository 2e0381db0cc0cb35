package publish

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"runtime/debug"
	"strings"
	"testing"

	fastjson "github.com/goccy/go-json"

	"github.com/commitbench/commitbench/internal/actionsio"
	"github.com/commitbench/commitbench/internal/cli"
	"github.com/commitbench/commitbench/internal/failure"
	"github.com/commitbench/commitbench/internal/github/ghtest"
	"github.com/commitbench/commitbench/internal/hfhub/hubtest"
	"github.com/commitbench/commitbench/internal/report"
	"github.com/commitbench/commitbench/internal/result"
	"github.com/commitbench/commitbench/internal/verdict"
)

const (
	ghToken = "ghs_secret_gh_token"
	hfToken = "hf_secret_hub_token"
	sha     = "09deb20deef8181a23f66c933ea74b86fee47366"
)

// env is a fake Actions job: files for outputs and the summary, captured
// stdout (workflow commands) and stderr.
type env struct {
	dir            string
	vars           map[string]string
	stdout, stderr bytes.Buffer
}

func newEnv(t *testing.T) *env {
	d := t.TempDir()
	e := &env{dir: d, vars: map[string]string{"GITHUB_ACTIONS": "true",
		"GITHUB_OUTPUT": filepath.Join(d, "output"), "GITHUB_STEP_SUMMARY": filepath.Join(d, "summary")}}
	for _, f := range []string{"output", "summary"} {
		os.WriteFile(filepath.Join(d, f), nil, 0o644)
	}
	return e
}

func (e *env) io() *actionsio.IO {
	return actionsio.New("publish", actionsio.Options{Getenv: func(k string) string { return e.vars[k] }, Stdout: &e.stdout, Stderr: &e.stderr})
}

func (e *env) read(name string) string {
	b, _ := os.ReadFile(filepath.Join(e.dir, name))
	return string(b)
}

// results copies the report fixtures into two artifact directories, as
// download-artifact leaves a matrix's results, plus one broken file.
func results(t *testing.T) []string {
	t.Helper()
	root := t.TempDir()
	src, _ := filepath.Glob("../report/testdata/results/*/result.json")
	if len(src) != 32 {
		t.Fatalf("%d fixtures", len(src))
	}
	dirs := []string{filepath.Join(root, "results-a"), filepath.Join(root, "results-b")}
	for i, p := range src {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		dst := filepath.Join(dirs[i%2], filepath.Base(filepath.Dir(p)), "result.json")
		os.MkdirAll(filepath.Dir(dst), 0o755)
		os.WriteFile(dst, data, 0o644)
	}
	bad := filepath.Join(dirs[1], "sglang_999_deadbeef", "result.json")
	os.MkdirAll(filepath.Dir(bad), 0o755)
	os.WriteFile(bad, []byte(`{"schema":"commitbench.result/v1","case":{"id":"sglang_999_deadbeef"},"variants":[]}`), 0o644)
	return dirs
}

func options(dirs []string, gh *ghtest.Server, hub *hubtest.Server, e *env) Options {
	return Options{
		Results: dirs, Report: filepath.Join(e.dir, "out", "report.md"), Primary: verdict.DefaultPrimary(),
		RunID: "19790000001", RunURL: "https://github.com/o/r/actions/runs/19790000001",
		Token: ghToken, APIURL: gh.URL, Repository: "sgl-project/sglang", PR: 420, SHA: sha, CheckName: "commitbench",
		HFRepo: "org/commitbench-results", HFToken: hfToken, HFEndpoint: hub.URL,
		HTTP: gh.Client(), TempDir: e.dir, Workers: 2,
		Describe: func(failure.Category) (string, string) { return "", "" },
	}
}

func servers(t *testing.T) (*ghtest.Server, *hubtest.Server) {
	gh := ghtest.New("sgl-project", "sglang")
	gh.Token = ghToken
	hub := hubtest.New(hfToken)
	t.Cleanup(gh.Close)
	t.Cleanup(hub.Close)
	return gh, hub
}

func TestPublishEndToEnd(t *testing.T) {
	gh, hub := servers(t)
	hub.Interlopers = 1 // a concurrent writer: the first commit gets 412
	dirs := results(t)
	ctx := context.Background()

	e1 := newEnv(t)
	out1, err := Run(ctx, options(dirs, gh, hub, e1), e1.io())
	if err != nil {
		t.Fatalf("first publish: %v\nstderr: %s", err, e1.stderr.String())
	}
	if out1.Cases != 32 || out1.Skipped != 1 || out1.Conclusion != "neutral" {
		t.Errorf("outcome = %+v", out1)
	}
	// The broken file is reported by name and skipped; the rest published.
	if !strings.Contains(e1.stdout.String(), "::error::") || !strings.Contains(e1.stdout.String(), "sglang_999_deadbeef/result.json: not published") {
		t.Errorf("no error annotation naming the bad file:\n%s", e1.stdout.String())
	}
	outputs := e1.read("output")
	for _, k := range []string{"report-path<<", "verdicts<<", "comment-url<<", "hf-commit<<"} {
		if !strings.Contains(outputs, k) {
			t.Errorf("output %s missing", k)
		}
	}
	if sum := e1.read("summary"); !strings.Contains(sum, "## commitbench: 32 cases") || len(sum) > report.SummaryLimit {
		t.Errorf("job summary: %d bytes", len(sum))
	}
	if full, _ := os.ReadFile(out1.ReportPath); !bytes.Contains(full, []byte("<details>")) {
		t.Error("full report has no details")
	}
	var verdicts struct {
		Cases   int
		PerCase []map[string]any `json:"per_case"`
	}
	if err := json.Unmarshal(out1.Verdicts, &verdicts); err != nil || verdicts.Cases != 32 || len(verdicts.PerCase) != 32 {
		t.Errorf("verdicts output: %v %s", err, out1.Verdicts)
	}

	// Second publish of the same run to the same PR, one case changed.
	changed := filepath.Join(dirs[0], "sglang_001_09deb20d", "result.json")
	os.Remove(changed)
	e2 := newEnv(t)
	out2, err := Run(ctx, options(dirs, gh, hub, e2), e2.io())
	if err != nil {
		t.Fatalf("second publish: %v", err)
	}
	comments, checks := gh.Snapshot()
	if len(comments) != 1 || !strings.HasPrefix(comments[0].Body, report.Marker+"\n") || !strings.Contains(comments[0].Body, "## commitbench: 31 cases") {
		t.Fatalf("comments = %d; want one, edited to the second publish", len(comments))
	}
	if out1.CommentURL != out2.CommentURL {
		t.Errorf("comment urls %q, %q", out1.CommentURL, out2.CommentURL)
	}
	if len(checks) != 2 {
		t.Fatalf("check runs = %d, want one per publish", len(checks))
	}
	for _, c := range checks {
		if c.Status != "completed" || c.Conclusion != "neutral" || c.HeadSHA != sha || c.Name != "commitbench" ||
			c.StartedAt == "" || c.CompletedAt == "" || !strings.Contains(c.Title, "human vs baseline") || len([]rune(c.Summary)) > 65535 {
			t.Errorf("check run %+v", c)
		}
	}
	checkCalls := 0
	for _, r := range gh.Calls() {
		if strings.Contains(r.Path, "/check-runs") {
			checkCalls++
			want := map[string]string{"POST": "in_progress", "PATCH": "completed"}[r.Method]
			if r.Body["status"] != want {
				t.Errorf("%s %s status %v, want %s", r.Method, r.Path, r.Body["status"], want)
			}
		}
	}
	if checkCalls != 4 {
		t.Errorf("check-run calls = %d, want create+update twice", checkCalls)
	}

	// HF: one commit per publish; the run's file replaced, not appended.
	commits := hub.Commits("org/commitbench-results")
	var ours []hubtest.Commit
	for _, c := range commits {
		if strings.HasPrefix(c.Summary, "commitbench: run ") {
			ours = append(ours, c)
		}
	}
	if len(ours) != 2 || hub.Answered412 != 1 || len(hub.Violations) > 0 {
		t.Fatalf("our commits %d, 412s %d, violations %v", len(ours), hub.Answered412, hub.Violations)
	}
	files := hub.Files("org/commitbench-results")
	rows := strings.Split(strings.TrimSpace(files["data/19790000001.jsonl"]), "\n")
	if len(rows) != 31 || strings.Contains(files["data/19790000001.jsonl"], `"case_id":"sglang_001_09deb20d"`) {
		t.Errorf("data/19790000001.jsonl has %d rows, want the 31 of the second publish", len(rows))
	}
	if !strings.Contains(files["README.md"], "| `human_vs_baseline` |") || strings.Join(ours[1].Paths, ",") != "data/19790000001.jsonl" {
		t.Errorf("card missing, or the second commit rewrote it: %v", ours[1].Paths)
	}
	if out2.HFCommit != ours[1].OID {
		t.Errorf("hf-commit %q, want %q", out2.HFCommit, ours[1].OID)
	}
	// Secrets never reach logs, annotations, the summary or the report
	// (the ::add-mask:: command itself aside).
	var stdout []string
	for _, l := range strings.Split(e1.stdout.String()+e2.stdout.String(), "\n") {
		if !strings.HasPrefix(l, "::add-mask::") {
			stdout = append(stdout, l)
		}
	}
	for name, s := range map[string]string{"stdout": strings.Join(stdout, "\n"), "stderr": e1.stderr.String() + e2.stderr.String(),
		"summary": e1.read("summary"), "outputs": outputs, "comment": comments[0].Body, "rows": files["data/19790000001.jsonl"]} {
		if strings.Contains(s, ghToken) || strings.Contains(s, hfToken) {
			t.Errorf("a token leaked into %s", name)
		}
	}
	if !strings.Contains(e1.stdout.String(), "::add-mask::"+ghToken) {
		t.Error("the GitHub token was not masked")
	}
}

// The rows keep the old 47 columns first, in order, then the new ones, and
// the dataset card documents every column.
func TestRowColumns(t *testing.T) {
	var fixture struct{ Columns []string }
	data, err := os.ReadFile("testdata/sglang_push_row_47col.json")
	if err != nil || json.Unmarshal(data, &fixture) != nil || len(fixture.Columns) != 47 {
		t.Fatalf("fixture: %v", err)
	}
	var names []string
	rt := reflect.TypeOf(Row{})
	for i := range rt.NumField() {
		names = append(names, strings.Split(rt.Field(i).Tag.Get("json"), ",")[0])
	}
	if !reflect.DeepEqual(names[:47], fixture.Columns) {
		t.Errorf("first 47 columns differ from the old schema:\n got %v\nwant %v", names[:47], fixture.Columns)
	}
	var card []string
	for _, c := range append(append([]column(nil), oldColumns...), newColumns...) {
		card = append(card, c.name)
	}
	if !reflect.DeepEqual(names, card) {
		t.Errorf("card columns differ from Row:\n row %v\ncard %v", names, card)
	}
	// One real row: nulls where nothing was measured, numbers where it was.
	it := summarize(new(result.Reader), "../report/testdata/results/sglang_001_09deb20d/result.json", &Options{Primary: verdict.DefaultPrimary()})
	var row map[string]any
	if it.err != nil || json.Unmarshal(it.row, &row) != nil {
		t.Fatal(it.err)
	}
	if row["status"] != "success" || row["baseline_ttft_median"] == nil || row["agent_name"] != "claude-code" || row["agent_model"] != "claude-sonnet-4-20250514" ||
		row["benchmark_mode"] != "serving" || row["gpu_config"] != "H100:1" {
		t.Errorf("row: %v", row)
	}
	// Where the plan named no agent, the columns are null, not "".
	r, _ := result.Read("../report/testdata/results/sglang_002_132dad87/result.json")
	if nr := NewRow(r, verdict.Summarize(r, verdict.DefaultPrimary()), "", "", ""); nr.AgentName != nil || nr.AgentModel != nil {
		t.Errorf("agent_name set: %v, agent_model set: %v; want both null", nr.AgentName != nil, nr.AgentModel != nil)
	}
	hv := row["human_vs_baseline"].(map[string]any)
	if hv["verdict"] != "Beats" || hv["delta_low"] == nil {
		t.Errorf("human_vs_baseline = %v", hv)
	}
	if len(row) != len(names) {
		t.Errorf("row has %d keys, Row %d fields", len(row), len(names))
	}
}

func TestFailOnRegression(t *testing.T) {
	gh, hub := servers(t)
	e := newEnv(t)
	o := options(results(t), gh, hub, e)
	o.FailOnRegression = true
	out, err := Run(context.Background(), o, e.io())
	if cli.ExitCode(err) != cli.ExitFailed || !strings.Contains(err.Error(), "sglang_004_2ed68d7a") {
		t.Fatalf("err = %v (exit %d), want exit 1 naming the regression", err, cli.ExitCode(err))
	}
	_, checks := gh.Snapshot()
	if out.Conclusion != "failure" || len(checks) != 1 || checks[0].Conclusion != "failure" {
		t.Errorf("conclusion %s, checks %+v", out.Conclusion, checks)
	}
	if len(hub.Commits("org/commitbench-results")) != 2 { // initial + ours: a verdict never blocks the dataset
		t.Error("the dataset commit did not land")
	}
}

func TestForkFlow(t *testing.T) {
	gh, hub := servers(t)
	gh.ReadOnly = true // a fork PR's token: every write is refused
	e := newEnv(t)
	o := options(results(t), gh, hub, e)
	o.CheckName, o.HFRepo = "", ""
	o.CommentFile = filepath.Join(e.dir, "comment.md")
	if _, err := Run(context.Background(), o, e.io()); err != nil {
		t.Fatalf("fork publish: %v", err)
	}
	if calls := gh.Calls(); len(calls) != 0 {
		t.Errorf("fork publish called GitHub: %+v", calls)
	}
	if !strings.Contains(e.read("output"), "comment-file<<") {
		t.Error("no comment-file output")
	}
	// The trusted workflow_run half posts it.
	gh.ReadOnly = false
	e2 := newEnv(t)
	url, err := PostComment(context.Background(), Options{Token: ghToken, APIURL: gh.URL, Repository: "sgl-project/sglang", PR: 420, HTTP: gh.Client()}, o.CommentFile, e2.io())
	comments, _ := gh.Snapshot()
	body, _ := os.ReadFile(o.CommentFile)
	if err != nil || url == "" || len(comments) != 1 || comments[0].Body != string(body) {
		t.Fatalf("post: url=%q err=%v comments=%d", url, err, len(comments))
	}
}

func TestGitHubFailureDoesNotStopTheDataset(t *testing.T) {
	gh, hub := servers(t)
	gh.ReadOnly = true
	e := newEnv(t)
	out, err := Run(context.Background(), options(results(t), gh, hub, e), e.io())
	if cli.ExitCode(err) != cli.ExitFailed || !strings.Contains(err.Error(), "403") {
		t.Fatalf("err = %v, want exit 1 with the 403", err)
	}
	if out == nil || out.HFCommit == "" || out.ReportPath == "" {
		t.Errorf("outcome %+v: the report and the dataset commit must still happen", out)
	}
}

func TestBadInput(t *testing.T) {
	gh, hub := servers(t)
	dirs := results(t)
	for _, tc := range []struct {
		name   string
		mutate func(*Options)
		want   string
	}{
		{"missing dir", func(o *Options) { o.Results = []string{"/nonexistent/results"} }, "results: /nonexistent/results"},
		{"empty dir", func(o *Options) { o.Results = []string{o.TempDir} }, "no result.json under"},
		{"bad sha", func(o *Options) { o.SHA = "abc" }, "sha:"},
		{"bad hf repo", func(o *Options) { o.HFRepo = "nope" }, "hf-repo:"},
		{"hf without token", func(o *Options) { o.HFToken = "" }, "hf-token:"},
		{"bad repository", func(o *Options) { o.Repository = "sglang" }, "repository:"},
		{"nothing readable", func(o *Options) {
			d := filepath.Join(o.TempDir, "bad", "x")
			os.MkdirAll(d, 0o755)
			os.WriteFile(filepath.Join(d, "result.json"), []byte("{"), 0o644)
			o.Results = []string{filepath.Join(o.TempDir, "bad")}
		}, "none of the 1 result files"},
	} {
		e := newEnv(t)
		o := options(dirs, gh, hub, e)
		tc.mutate(&o)
		_, err := Run(context.Background(), o, e.io())
		if cli.ExitCode(err) != cli.ExitUsage || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v (exit %d), want exit 2 mentioning %q", tc.name, err, cli.ExitCode(err), tc.want)
		}
	}
	// Only "nothing readable" gets as far as the check run, which it must
	// complete as failed rather than leave in progress.
	_, checks := gh.Snapshot()
	if len(checks) != 1 {
		t.Errorf("%d check runs, want the one of \"nothing readable\"", len(checks))
	}
	for _, c := range checks {
		if c.Status != "completed" || c.Conclusion != "failure" {
			t.Errorf("check left %s/%s", c.Status, c.Conclusion)
		}
	}
	if comments, _ := gh.Snapshot(); len(comments) != 0 || len(hub.Commits("org/commitbench-results")) != 0 {
		t.Error("bad input still commented or committed")
	}
}

// Rows are encoded with goccy/go-json for speed; the dataset must not
// change because of it. Every fixture's row, and one whose text holds what
// encoding/json escapes (HTML, U+2028, invalid UTF-8, control bytes).
func TestRowEncodersAgree(t *testing.T) {
	paths, _ := filepath.Glob("../report/testdata/results/*/result.json")
	if len(paths) < 20 {
		t.Fatalf("only %d fixtures", len(paths))
	}
	o := &Options{Primary: verdict.DefaultPrimary(), RunID: "1", RunURL: "https://example.com/?a=1&b=<2>"}
	check := func(name string, r *result.Result) {
		c := verdict.Summarize(r, o.Primary)
		row := NewRow(r, c, o.RunID, o.RunURL, "v1")
		want, werr := json.Marshal(row)
		got, gerr := fastjson.Marshal(row)
		if werr != nil || gerr != nil || !bytes.Equal(got, want) {
			t.Fatalf("%s: encodings differ (errors %v, %v):\nencoding/json %s\ngo-json       %s", name, werr, gerr, want, got)
		}
	}
	for _, p := range paths {
		r, err := result.Read(p)
		if err != nil {
			t.Fatal(err)
		}
		check(p, r)
		r.Case.Subject = "fix <b>&</b> \u2028 \u2029 \x01 \xff\xfe tab\t \"q\" \\ é 表"
		r.Case.PerfCommand = r.Case.Subject
		check(p+" (escapes)", r)
	}
}

// The walk feeds the workers while it goes; what it sends, and in which
// order, is what makes two publishes of one set byte-identical.
func TestWalkResultsOrder(t *testing.T) {
	root := t.TempDir()
	for _, p := range []string{"b/z/result.json", "b/a/result.json", "a/m/result.json", "a/m/server.log", "c/result.json"} {
		p = filepath.Join(root, p)
		os.MkdirAll(filepath.Dir(p), 0o755)
		os.WriteFile(p, []byte("{}"), 0o644)
	}
	dirs := []string{filepath.Join(root, "b"), filepath.Join(root, "c", "result.json"), filepath.Join(root, "a")}
	if err := checkResults(dirs); err != nil {
		t.Fatal(err)
	}
	ch := make(chan string)
	var got []string
	done := make(chan error)
	go func() { done <- walkResults(context.Background(), dirs, ch) }()
	for p := range ch {
		rel, _ := filepath.Rel(root, p)
		got = append(got, rel)
	}
	want := []string{"b/a/result.json", "b/z/result.json", "c/result.json", "a/m/result.json"}
	if err := <-done; err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("walk = %v, %v; want %v", got, err, want)
	}
	// A cancelled walk stops and says so instead of blocking on its channel.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := walkResults(ctx, dirs, make(chan string)); err == nil {
		t.Error("cancelled walk returned nil")
	}
}

func TestTuneGCLeavesTheUsersChoice(t *testing.T) {
	env := map[string]string{}
	getenv := func(k string) string { return env[k] }
	restore := TuneGC(getenv)
	got := debug.SetGCPercent(GCPercent)
	restore()
	if got != GCPercent {
		t.Errorf("GC percent = %d after TuneGC, want %d", got, GCPercent)
	}
	env["GOGC"], env["GOMEMLIMIT"] = "50", "100MiB"
	before := debug.SetGCPercent(77)
	restore = TuneGC(getenv)
	if got := debug.SetGCPercent(before); got != 77 {
		t.Errorf("GC percent = %d with GOGC set, want it left at 77", got)
	}
	restore()
}
