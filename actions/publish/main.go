// Command publish reads the result.json files of a run, decides verdicts,
// and publishes them: job summary, full report file, sticky PR comment,
// check run, and one Hugging Face dataset commit (docs/publish.md).
//
//	publish --results DIR[,DIR…] [--github-token T --repository O/R --pr N --sha S --check-name C] [--hf-repo NS/NAME --hf-token T]
//	publish --comment-from FILE --pr N --repository O/R --github-token T
//
// The second form posts a body that a fork PR's publish wrote with
// --comment-file: the trusted workflow_run half of the fork flow.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/commitbench/commitbench/internal/actionsio"
	"github.com/commitbench/commitbench/internal/cli"
	"github.com/commitbench/commitbench/internal/github"
	"github.com/commitbench/commitbench/internal/hfhub"
	"github.com/commitbench/commitbench/internal/publish"
	"github.com/commitbench/commitbench/internal/verdict"
)

func main() {
	publish.TuneGC(os.Getenv)
	os.Exit(cli.Run("publish", os.Stderr, func(ctx context.Context) error {
		return run(ctx, os.Args[1:], actionsio.Options{})
	}))
}

func run(ctx context.Context, args []string, o actionsio.Options) error {
	x := actionsio.New("publish", o)
	fs := x.Flags()
	results := fs.String("results", "", "result directories (matrix artifacts), separated by commas or newlines")
	reportPath := fs.String("report", "commitbench-report.md", "where to write the full Markdown report")
	token := fs.String("github-token", "", "token for the PR comment and the check run")
	repository := fs.String("repository", "", "owner/repo the PR and commit belong to (default $GITHUB_REPOSITORY)")
	pr := fs.Int("pr", 0, "PR number to comment on (0: no comment)")
	sha := fs.String("sha", "", "commit SHA for the check run")
	checkName := fs.String("check-name", "", "check run name (empty: no check run)")
	failOnRegression := fs.Bool("fail-on-regression", false, "fail the step and the check when human vs baseline is Worse")
	commentFile := fs.String("comment-file", "", "write the comment body here instead of posting it (fork PRs)")
	commentFrom := fs.String("comment-from", "", "post this prepared comment body to --pr and exit")
	hfRepo := fs.String("hf-repo", "", "Hugging Face dataset repo namespace/name (empty: no dataset commit)")
	hfToken := fs.String("hf-token", "", "Hugging Face token with write access")
	hfPrivate := fs.Bool("hf-private", false, "create the dataset repo private if it does not exist")
	runID := fs.String("run-id", "", "run id naming data/<run-id>.jsonl (default $GITHUB_RUN_ID, else the results')")
	runURL := fs.String("run-url", "", "link to the run (default from GITHUB_SERVER_URL, GITHUB_REPOSITORY, GITHUB_RUN_ID)")
	primary := fs.String("primary-metric", "", "headline metrics: METRIC[,…] or TOOL=METRIC[,…], entries separated by ';' or newlines")
	if err := x.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return cli.Usagef("%v", err)
	}
	x.Mask(*token)
	x.Mask(*hfToken)
	env := x.Getenv
	opts := publish.Options{
		Report: *reportPath, Token: *token, APIURL: env("GITHUB_API_URL"),
		Repository: first(*repository, env("GITHUB_REPOSITORY")), PR: *pr, SHA: strings.ToLower(*sha),
		CheckName: *checkName, FailOnRegression: *failOnRegression, CommentFile: *commentFile,
		HFRepo: *hfRepo, HFToken: *hfToken, HFPrivate: *hfPrivate, HFEndpoint: first(env("HF_ENDPOINT"), hfhub.DefaultEndpoint),
		RunID: first(*runID, env("GITHUB_RUN_ID")), RunURL: *runURL,
	}
	if _, _, err := github.SplitRepo(opts.Repository); opts.RunURL == "" && err == nil && env("GITHUB_SERVER_URL") != "" && env("GITHUB_RUN_ID") != "" {
		opts.RunURL = fmt.Sprintf("%s/%s/actions/runs/%s", env("GITHUB_SERVER_URL"), opts.Repository, env("GITHUB_RUN_ID"))
	}
	if *commentFrom != "" {
		_, err := publish.PostComment(ctx, opts, *commentFrom, x)
		return err
	}
	p, err := verdict.ParsePrimary(*primary)
	if err != nil {
		return &cli.UsageError{Err: err}
	}
	opts.Primary = p
	opts.Results = splitList(*results)
	out, err := publish.Run(ctx, opts, x)
	if out != nil {
		x.Infof("publish: %d cases, %d unreadable files; report %s; conclusion %s", out.Cases, out.Skipped, out.ReportPath, out.Conclusion)
	}
	return err
}

func splitList(s string) []string {
	var out []string
	for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == '\n' }) {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

func first(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
