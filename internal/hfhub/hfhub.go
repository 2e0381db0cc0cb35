// Package hfhub is a small client for the Hugging Face Hub's commit API,
// enough to add or replace files in a dataset repo in one commit: create
// the repo, read its head, preupload, upload LFS objects when the Hub asks
// for them, and post the NDJSON commit with parentCommit as an optimistic
// lock. The protocol is read from huggingface_hub (notes §9); there is no
// maintained Go client to use instead.
//
// The token goes only into the Authorization header of Hub API calls (not
// to pre-signed LFS upload URLs), and never into an error message.
package hfhub

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// DefaultEndpoint is used when HF_ENDPOINT is unset.
const DefaultEndpoint = "https://huggingface.co"

// Client talks to one Hub endpoint with one token.
type Client struct {
	endpoint string
	token    string
	http     *http.Client
	// Sleep waits between retries after a 412; tests make it instant.
	Sleep func(time.Duration)
	// Attempts bounds the tries of one commit (1 + retries after 412).
	Attempts int
}

// New returns a client. endpoint "" means DefaultEndpoint.
func New(endpoint, token string, hc *http.Client) *Client {
	if endpoint == "" {
		endpoint = DefaultEndpoint
	}
	if hc == nil {
		hc = &http.Client{Timeout: 5 * time.Minute}
	}
	return &Client{endpoint: strings.TrimRight(endpoint, "/"), token: token, http: hc, Sleep: time.Sleep, Attempts: 5}
}

// ErrConflict is a 412: the branch moved since the parentCommit we sent.
var ErrConflict = errors.New("hfhub: the branch moved since parentCommit (412)")

// HTTPError is a Hub answer other than success.
type HTTPError struct {
	Op, Status, Message string
	Code                int
}

func (e *HTTPError) Error() string {
	msg := fmt.Sprintf("hfhub: %s: %s", e.Op, e.Status)
	if e.Message != "" {
		msg += ": " + e.Message
	}
	switch e.Code {
	case http.StatusUnauthorized, http.StatusForbidden:
		msg += " (the hf-token needs write access to the repo)"
	case http.StatusTooManyRequests:
		msg += " (the Hub allows about 128 commits per hour per repo: publish once per run)"
	}
	return msg
}

// SplitRepo checks a repo id "namespace/name".
func SplitRepo(id string) (ns, name string, err error) {
	ns, name, ok := strings.Cut(id, "/")
	if !ok || ns == "" || name == "" || strings.ContainsAny(name, "/ ") || strings.Contains(ns, " ") {
		return "", "", fmt.Errorf("hf-repo: %q is not namespace/name; pass e.g. my-org/commitbench-results", id)
	}
	return ns, name, nil
}

// CreateRepo creates a dataset repo; one that exists already is fine.
func (c *Client) CreateRepo(ctx context.Context, repoID string, private bool) error {
	ns, name, err := SplitRepo(repoID)
	if err != nil {
		return err
	}
	body, _ := json.Marshal(map[string]any{"name": name, "organization": ns, "type": "dataset", "private": private})
	resp, err := c.do(ctx, "POST", "/api/repos/create", "application/json", bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("hfhub: create %s: %w", repoID, err)
	}
	defer drain(resp)
	if resp.StatusCode == http.StatusConflict {
		// "already exists" is fine; "conflicting operation in progress"
		// is not, and says so.
		if msg := errorMessage(resp); strings.Contains(strings.ToLower(msg), "in progress") {
			return &HTTPError{Op: "create " + repoID, Status: resp.Status, Code: resp.StatusCode, Message: msg}
		}
		return nil
	}
	return check(resp, "create "+repoID)
}

// Info is what a commit needs to know about a branch.
type Info struct {
	SHA   string
	Files map[string]bool
}

// Head reads the branch's head commit and file list:
// GET /api/datasets/{repo}/revision/{rev}, what HfApi.repo_info calls.
func (c *Client) Head(ctx context.Context, repoID, revision string) (Info, error) {
	resp, err := c.do(ctx, "GET", "/api/datasets/"+repoID+"/revision/"+url.PathEscape(revision), "", nil)
	if err != nil {
		return Info{}, fmt.Errorf("hfhub: read %s@%s: %w", repoID, revision, err)
	}
	defer drain(resp)
	if err := check(resp, "read "+repoID+"@"+revision); err != nil {
		return Info{}, err
	}
	var info struct {
		SHA      string `json:"sha"`
		Siblings []struct {
			Name string `json:"rfilename"`
		} `json:"siblings"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&info); err != nil {
		return Info{}, fmt.Errorf("hfhub: read %s@%s: %w", repoID, revision, err)
	}
	out := Info{SHA: info.SHA, Files: map[string]bool{}}
	for _, s := range info.Siblings {
		out.Files[s.Name] = true
	}
	return out, nil
}

// do sends one request to the Hub API at path, with the token.
func (c *Client) do(ctx context.Context, method, path, contentType string, body io.Reader) (*http.Response, error) {
	req, err := newRequest(ctx, method, c.endpoint+path, body)
	if err != nil {
		return nil, err
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	// Its url.Error quotes the URL, which never holds the token.
	return c.http.Do(req)
}

func newRequest(ctx context.Context, method, u string, body io.Reader) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return nil, err
	}
	req.Header.Set("User-Agent", "commitbench-hfhub")
	return req, nil
}

func check(resp *http.Response, op string) error {
	if resp.StatusCode/100 == 2 {
		return nil
	}
	if resp.StatusCode == http.StatusPreconditionFailed {
		return ErrConflict
	}
	return &HTTPError{Op: op, Status: resp.Status, Code: resp.StatusCode, Message: errorMessage(resp)}
}

// errorMessage reads the Hub's explanation: X-Error-Message, else the
// JSON body's "error", else the first line of the body.
func errorMessage(resp *http.Response) string {
	if m := resp.Header.Get("X-Error-Message"); m != "" {
		return m
	}
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	var e struct {
		Error string `json:"error"`
	}
	if json.Unmarshal(data, &e) == nil && e.Error != "" {
		return e.Error
	}
	line, _, _ := strings.Cut(strings.TrimSpace(string(data)), "\n")
	return line
}

func drain(resp *http.Response) {
	io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
}
