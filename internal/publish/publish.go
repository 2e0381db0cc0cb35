// Package publish is the last stage: it reads every result.json of a run
// (matrix artifacts, downloaded), computes comparisons and verdicts, and
// publishes them: the job summary, the full report file, one sticky PR
// comment, one check run, and one commit to a Hugging Face dataset.
// docs/publish.md is the user's guide.
package publish

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/commitbench/commitbench/internal/actionsio"
	"github.com/commitbench/commitbench/internal/cli"
	"github.com/commitbench/commitbench/internal/failure"
	"github.com/commitbench/commitbench/internal/github"
	"github.com/commitbench/commitbench/internal/hfhub"
	"github.com/commitbench/commitbench/internal/report"
	"github.com/commitbench/commitbench/internal/verdict"
)

// Options are publish's inputs (docs/publish.md has the action's names).
type Options struct {
	Results []string
	Report  string
	Primary verdict.Primary
	// RunID names the dataset file; RunURL links the run. Both default
	// to the results' own.
	RunID, RunURL, Version string

	Token, APIURL, Repository string
	PR                        int
	SHA, CheckName            string
	FailOnRegression          bool
	// CommentFile, when set, receives the comment body instead of posting
	// it (fork PRs: a trusted workflow_run posts it with PostComment).
	CommentFile string

	HFRepo, HFToken, HFEndpoint string
	HFPrivate                   bool

	HTTP    *http.Client
	TempDir string
	Workers int
	// Describe overrides failure.Describe (tests pin the error table).
	Describe func(failure.Category) (rootCause, hint string)
}

// Outcome is what publish did.
type Outcome struct {
	ReportPath, CommentURL, CommentFile, HFCommit, Conclusion string
	Cases, Skipped                                            int
	Regressions                                               []string
	Verdicts                                                  []byte
}

var (
	shaRE   = regexp.MustCompile(`^[0-9a-f]{40}$`)
	runIDRE = regexp.MustCompile(`[^A-Za-z0-9._-]+`)
)

func (o *Options) validate() error {
	var errs []error
	if len(o.Results) == 0 {
		errs = append(errs, cli.Usagef("results: empty; pass one or more directories holding */result.json"))
	}
	// The repository only addresses the comment and the check: a run that
	// posts neither (act names a local clone's path here) does not need it.
	if o.Repository != "" && (o.PR > 0 || o.CheckName != "") {
		if _, _, err := github.SplitRepo(o.Repository); err != nil {
			errs = append(errs, &cli.UsageError{Err: err})
		}
	}
	if o.CheckName != "" && o.Token != "" && !shaRE.MatchString(o.SHA) {
		errs = append(errs, cli.Usagef("sha: %q is not a 40-character commit SHA; pass the commit the check belongs to (e.g. ${{ github.event.pull_request.head.sha }})", o.SHA))
	}
	if o.Token != "" && (o.PR > 0 || o.CheckName != "") && o.Repository == "" {
		errs = append(errs, cli.Usagef("repository: empty; pass owner/repo (${{ github.repository }}) to comment or create a check"))
	}
	if o.HFRepo != "" {
		if _, _, err := hfhub.SplitRepo(o.HFRepo); err != nil {
			errs = append(errs, &cli.UsageError{Err: err})
		}
		if o.HFToken == "" {
			errs = append(errs, cli.Usagef("hf-token: empty while hf-repo is set; pass a token with write access (secrets.HF_TOKEN)"))
		}
	}
	if len(errs) > 0 {
		return &cli.UsageError{Err: errors.Join(errs...)}
	}
	return nil
}

// Run publishes. Side effects are independent: a failed comment does not
// stop the dataset commit. Their errors are joined (exit 1); a regression
// fails the step only with FailOnRegression.
func Run(ctx context.Context, o Options, x *actionsio.IO) (out *Outcome, err error) {
	x.Mask(o.Token)
	x.Mask(o.HFToken)
	if err := o.validate(); err != nil {
		return nil, err
	}
	if err := checkResults(o.Results); err != nil {
		return nil, err
	}
	walkCtx, stopWalk := context.WithCancel(ctx)
	defer stopWalk()
	next, walked, err := startWalk(walkCtx, o.Results)
	if err != nil {
		return nil, err
	}
	out = &Outcome{Conclusion: github.Neutral}
	var failures []error
	gh, owner, repo, checkID := o.startCheck(ctx, x, &failures)
	if checkID != 0 {
		// A check left in progress would spin on the PR forever: on an
		// early return, complete it as failed with the reason, even after
		// a cancel.
		defer func() {
			if checkID != 0 && err != nil {
				gh.FinishCheck(context.WithoutCancel(ctx), owner, repo, checkID, o.CheckName, github.Failure,
					"Publishing failed", x.Redact(err.Error()))
			}
		}()
	}

	agg := verdict.NewAggregate()
	if o.Describe != nil {
		agg.Describe = o.Describe
	}
	b, err := report.NewBuilder(report.Meta{RunID: o.RunID, RunURL: o.RunURL, ToolkitVersion: o.Version,
		FullReport: fmt.Sprintf("the report artifact (%s)", filepath.Base(o.reportPath()))}, agg, o.TempDir)
	if err != nil {
		return nil, err
	}
	defer b.Close()
	rows, err := os.CreateTemp(o.TempDir, "commitbench-rows-*.jsonl")
	if err != nil {
		return nil, err
	}
	defer os.Remove(rows.Name())
	defer rows.Close()
	w := bufio.NewWriterSize(rows, 1<<16)
	var cases []caseVerdict
	var firstRun runInfo
	newWorker := func() func(string) item { return (&worker{o: &o}).summarize }
	files, err := stream(ctx, next, o.Workers, newWorker, func(it item) error {
		if it.err != nil {
			// result.Read's errors often start with the path already.
			msg := strings.TrimPrefix(it.err.Error(), it.path+": ")
			x.Errorf("%s: not published: %s", it.path, msg)
			b.Skip(it.path, errors.New(msg))
			return nil
		}
		if firstRun.RunID == "" {
			firstRun = it.run
		}
		cases = append(cases, newCaseVerdict(it.c))
		w.Write(it.row)
		w.WriteByte('\n')
		return b.AddRendered(it.c, it.details)
	})
	if err == nil {
		err = walked()
	}
	if err == nil {
		err = w.Flush()
	}
	if err != nil {
		return nil, err
	}
	o.RunID, o.RunURL, o.Version = first(o.RunID, firstRun.RunID), first(o.RunURL, firstRun.RunURL), first(o.Version, firstRun.Version)
	b.SetRun(o.RunID, o.RunURL)
	out.Cases, out.Skipped, out.Regressions = b.Cases(), files-b.Cases(), agg.Regressions
	if o.FailOnRegression && len(agg.Regressions) > 0 {
		out.Conclusion = github.Failure
	}

	if e := o.writeReport(b, x, out); e != nil {
		return out, e
	}
	if out.Cases == 0 {
		// Nothing valid: publishing would replace the run's dataset rows
		// and its comment with emptiness.
		return out, cli.Usagef("results: none of the %d result files could be read (see the errors above); nothing was published", files)
	}
	out.Verdicts = verdictsJSON(agg, cases, out)
	x.SetOutput("verdicts", string(out.Verdicts))
	for _, id := range agg.Regressions {
		x.Warningf("case %s: human vs baseline is Worse (a regression beyond −5 %% at 95 %% confidence)", id)
	}
	o.comment(ctx, b, gh, owner, repo, x, out, &failures)
	if gh != nil && checkID != 0 {
		var sum bytes.Buffer
		if e := b.CheckSummary(&sum); e != nil {
			return out, e
		}
		if err := gh.FinishCheck(ctx, owner, repo, checkID, o.CheckName, out.Conclusion, b.Title(), sum.String()); err != nil {
			failures = append(failures, err)
		}
		checkID = 0
	}
	if o.HFRepo != "" {
		if err := o.commitHF(ctx, rows.Name(), agg, out); err != nil {
			failures = append(failures, err)
		} else {
			x.SetOutput("hf-commit", out.HFCommit)
		}
	}
	if out.Conclusion == github.Failure {
		failures = append(failures, fmt.Errorf("fail-on-regression: %d case(s) regressed: %s", len(agg.Regressions), strings.Join(agg.Regressions, ", ")))
	}
	return out, errors.Join(failures...)
}

func (o *Options) reportPath() string {
	if o.Report != "" {
		return o.Report
	}
	return "commitbench-report.md"
}

// writeReport writes the full report file and the job summary.
func (o *Options) writeReport(b *report.Builder, x *actionsio.IO, out *Outcome) error {
	path := o.reportPath()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("report: %w", err)
	}
	bw := bufio.NewWriter(f)
	err = b.Full(bw)
	if err == nil {
		err = bw.Flush()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("report: writing %s: %w", path, err)
	}
	out.ReportPath = path
	x.SetOutput("report-path", path)
	var sum bytes.Buffer
	if err := b.Summary(&sum); err != nil {
		return err
	}
	x.AddSummary(sum.String())
	return nil
}

func (o *Options) startCheck(ctx context.Context, x *actionsio.IO, failures *[]error) (*github.Client, string, string, int64) {
	wantComment := o.PR > 0 && o.CommentFile == ""
	wantCheck := o.CheckName != "" && o.SHA != ""
	if o.Token == "" || !(wantComment || wantCheck) {
		return nil, "", "", 0
	}
	gh, err := github.New(o.APIURL, o.Token, o.HTTP)
	if err != nil {
		*failures = append(*failures, err)
		return nil, "", "", 0
	}
	owner, repo, _ := github.SplitRepo(o.Repository)
	if !wantCheck {
		return gh, owner, repo, 0
	}
	id, err := gh.StartCheck(ctx, owner, repo, o.CheckName, o.SHA, o.RunURL)
	if err != nil {
		*failures = append(*failures, err)
	}
	return gh, owner, repo, id
}

func (o *Options) comment(ctx context.Context, b *report.Builder, gh *github.Client, owner, repo string, x *actionsio.IO, out *Outcome, failures *[]error) {
	if o.CommentFile == "" && (o.PR <= 0 || gh == nil) {
		return
	}
	var body bytes.Buffer
	if err := b.Comment(&body); err != nil {
		*failures = append(*failures, err)
		return
	}
	if o.CommentFile != "" {
		if err := os.WriteFile(o.CommentFile, body.Bytes(), 0o644); err != nil {
			*failures = append(*failures, fmt.Errorf("comment-file: %w", err))
			return
		}
		out.CommentFile = o.CommentFile
		x.SetOutput("comment-file", o.CommentFile)
		return
	}
	url, _, err := gh.UpsertComment(ctx, owner, repo, o.PR, report.Marker, body.String())
	if err != nil {
		*failures = append(*failures, err)
		return
	}
	out.CommentURL = url
	x.SetOutput("comment-url", url)
}

// commitHF adds data/<run-id>.jsonl (and the dataset card, if the repo
// has none) in one commit.
func (o *Options) commitHF(ctx context.Context, rowsPath string, agg *verdict.Aggregate, out *Outcome) error {
	runID := strings.Trim(runIDRE.ReplaceAllString(o.RunID, "-"), "-.")
	if runID == "" {
		return cli.Usagef("run-id: empty and the results carry none; pass ${{ github.run_id }} so the dataset file can be named")
	}
	c := hfhub.New(o.HFEndpoint, o.HFToken, o.HTTP)
	if err := c.CreateRepo(ctx, o.HFRepo, o.HFPrivate); err != nil {
		return err
	}
	data, err := hfhub.DiskFile("data/"+runID+".jsonl", rowsPath)
	if err != nil {
		return err
	}
	desc := fmt.Sprintf("%d cases, %d successful. %s", agg.Total, agg.Successful, o.RunURL)
	res, err := c.CommitLatest(ctx, o.HFRepo, "main", func(info hfhub.Info) (hfhub.Commit, error) {
		files := []hfhub.File{data}
		if !info.Files["README.md"] {
			files = append(files, hfhub.BytesFile("README.md", Card(o.HFRepo)))
		}
		return hfhub.Commit{Summary: "commitbench: run " + runID, Description: desc, Files: files}, nil
	})
	if err != nil {
		return err
	}
	out.HFCommit = res.OID
	return nil
}

// PostComment posts a prepared comment body (the comment-file of a fork
// PR's publish) as the sticky comment: the trusted workflow_run half.
func PostComment(ctx context.Context, o Options, file string, x *actionsio.IO) (string, error) {
	x.Mask(o.Token)
	if o.PR <= 0 {
		return "", cli.Usagef("pr: %d; pass the PR number to comment on", o.PR)
	}
	if _, _, err := github.SplitRepo(o.Repository); err != nil {
		return "", &cli.UsageError{Err: err}
	}
	body, err := os.ReadFile(file)
	if err != nil {
		return "", cli.Usagef("comment-from: %v; pass the comment-file a publish step wrote", err)
	}
	if !bytes.HasPrefix(body, []byte(report.Marker)) {
		return "", cli.Usagef("comment-from: %s does not start with %s; it was not written by publish", file, report.Marker)
	}
	if n := len([]rune(string(body))); n > report.CommentLimit {
		return "", cli.Usagef("comment-from: %s has %d characters, over GitHub's %d", file, n, report.CommentLimit)
	}
	gh, err := github.New(o.APIURL, o.Token, o.HTTP)
	if err != nil {
		return "", &cli.UsageError{Err: err}
	}
	owner, repo, _ := github.SplitRepo(o.Repository)
	url, _, err := gh.UpsertComment(ctx, owner, repo, o.PR, report.Marker, string(body))
	if err != nil {
		return "", err
	}
	x.SetOutput("comment-url", url)
	return url, nil
}
