// Package github is publish's narrow use of the GitHub REST API through
// go-github v93: one sticky PR comment, found by a hidden marker and edited
// in place, and one check run per publish, created when publishing starts
// and completed with the verdict.
package github

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	gh "github.com/google/go-github/v93/github"
)

// Check-run limits (REST docs): output.summary and output.text hold at
// most 65,535 characters each.
const CheckTextLimit = 65535

// Conclusions publish uses.
const (
	Neutral = "neutral"
	Failure = "failure"
	Success = "success"
)

// Client talks to one GitHub (github.com or GHES).
type Client struct {
	gh *gh.Client
}

// New returns a client for the API at apiURL (GITHUB_API_URL:
// https://api.github.com, or https://HOST/api/v3 on GHES; "" means
// github.com). go-github adds /api/v3/ only to hosts not starting with
// "api.", so the same call serves both (notes §2).
func New(apiURL, token string, hc *http.Client) (*Client, error) {
	if token == "" {
		return nil, errors.New("github: no token; set the github-token input (usually ${{ github.token }})")
	}
	if apiURL == "" {
		apiURL = "https://api.github.com"
	}
	opts := []gh.ClientOptionsFunc{gh.WithAuthToken(token), gh.WithEnterpriseURLs(apiURL, apiURL)}
	if hc != nil {
		opts = append(opts, gh.WithHTTPClient(hc))
	}
	c, err := gh.NewClient(opts...)
	if err != nil {
		return nil, fmt.Errorf("github: client for %s: %w", apiURL, err)
	}
	return &Client{gh: c}, nil
}

// SplitRepo splits "owner/repo".
func SplitRepo(full string) (owner, repo string, err error) {
	owner, repo, ok := strings.Cut(full, "/")
	if !ok || owner == "" || repo == "" || strings.Contains(repo, "/") {
		return "", "", fmt.Errorf("repository: %q is not owner/repo; pass e.g. sgl-project/sglang (usually ${{ github.repository }})", full)
	}
	return owner, repo, nil
}

// UpsertComment makes body the PR's one comment that starts with marker:
// it edits the first such comment, or creates one. body must start with
// marker (it is prepended otherwise). Only comments that *start* with the
// marker count, so a reply quoting ours is never overwritten.
func (c *Client) UpsertComment(ctx context.Context, owner, repo string, pr int, marker, body string) (url string, created bool, err error) {
	if !strings.HasPrefix(body, marker) {
		body = marker + "\n" + body
	}
	opts := &gh.IssueListCommentsOptions{ListOptions: gh.ListOptions{PerPage: 100}}
	for {
		cs, resp, err := c.gh.Issues.ListComments(ctx, owner, repo, pr, opts)
		if err != nil {
			return "", false, apiError("list comments of PR #"+fmt.Sprint(pr), err)
		}
		for _, cm := range cs {
			if strings.HasPrefix(strings.TrimSpace(cm.GetBody()), marker) {
				up, _, err := c.gh.Issues.UpdateComment(ctx, owner, repo, cm.GetID(), gh.IssueCommentRequest{Body: body})
				if err != nil {
					return "", false, apiError(fmt.Sprintf("edit comment %d", cm.GetID()), err)
				}
				return up.GetHTMLURL(), false, nil
			}
		}
		if resp.NextPage == 0 {
			break
		}
		opts.Page = resp.NextPage
	}
	cm, _, err := c.gh.Issues.CreateComment(ctx, owner, repo, pr, gh.IssueCommentRequest{Body: body})
	if err != nil {
		return "", false, apiError("comment on PR #"+fmt.Sprint(pr), err)
	}
	return cm.GetHTMLURL(), true, nil
}

// StartCheck creates an in-progress check run on sha and returns its id.
func (c *Client) StartCheck(ctx context.Context, owner, repo, name, sha, detailsURL string) (int64, error) {
	opts := gh.CreateCheckRunOptions{
		Name: name, HeadSHA: sha, Status: gh.Ptr("in_progress"),
		StartedAt: &gh.Timestamp{Time: time.Now().UTC()},
		Output:    &gh.CheckRunOutput{Title: gh.Ptr("Publishing benchmark results"), Summary: gh.Ptr("Reading result files…")},
	}
	if detailsURL != "" {
		opts.DetailsURL = gh.Ptr(detailsURL)
	}
	run, _, err := c.gh.Checks.CreateCheckRun(ctx, owner, repo, opts)
	if err != nil {
		return 0, apiError("create check run "+name, err)
	}
	return run.GetID(), nil
}

// FinishCheck completes check run id with conclusion and output. summary
// and text are cut to the API's limit.
func (c *Client) FinishCheck(ctx context.Context, owner, repo string, id int64, name, conclusion, title, summary string) error {
	_, _, err := c.gh.Checks.UpdateCheckRun(ctx, owner, repo, id, gh.UpdateCheckRunOptions{
		Name: name, Status: gh.Ptr("completed"), Conclusion: gh.Ptr(conclusion),
		CompletedAt: &gh.Timestamp{Time: time.Now().UTC()},
		Output:      &gh.CheckRunOutput{Title: gh.Ptr(title), Summary: gh.Ptr(clip(summary, CheckTextLimit))},
	})
	if err != nil {
		return apiError(fmt.Sprintf("complete check run %d", id), err)
	}
	return nil
}

// clip cuts s to at most n characters, on a line boundary when it can.
func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	const tail = "\n\n…(cut to GitHub's check-run limit)"
	cut := string(r[:n-len([]rune(tail))])
	if i := strings.LastIndexByte(cut, '\n'); i > 0 {
		cut = cut[:i]
	}
	return cut + tail
}

// apiError names what was attempted and, for the errors people hit,
// what to do about it.
func apiError(what string, err error) error {
	var er *gh.ErrorResponse
	if errors.As(err, &er) && er.Response != nil {
		hint := ""
		switch er.Response.StatusCode {
		case http.StatusUnauthorized:
			hint = "; the github-token is invalid or expired"
		case http.StatusForbidden, http.StatusNotFound:
			hint = "; the token lacks permission (workflow needs `permissions: pull-requests: write, checks: write`); on a fork PR write the comment with comment-file and post it from a workflow_run workflow (docs/publish.md)"
		}
		return fmt.Errorf("github: %s: %d %s%s", what, er.Response.StatusCode, er.Message, hint)
	}
	return fmt.Errorf("github: %s: %w", what, err)
}
