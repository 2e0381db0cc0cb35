package github

import (
	"context"
	"fmt"
	"strings"
	"testing"

	gh "github.com/google/go-github/v93/github"

	"github.com/commitbench/commitbench/internal/github/ghtest"
)

const marker = "<!-- commitbench -->"

func client(t *testing.T, srv *ghtest.Server) *Client {
	t.Helper()
	c, err := New(srv.URL, srv.Token, srv.Client())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestUpsertCommentEditsInPlace(t *testing.T) {
	srv := ghtest.New("sgl-project", "sglang")
	defer srv.Close()
	srv.PerPage = 2 // our comment lands on page 3: pagination must be followed
	ctx := context.Background()
	gc := client(t, srv)
	// Other people's comments, one quoting ours: neither may be touched.
	for _, b := range []string{"LGTM", "nit: rename", "> " + marker + "\n> old numbers", "ping"} {
		if _, _, err := gc.gh.Issues.CreateComment(ctx, "sgl-project", "sglang", 42, commentReq(b)); err != nil {
			t.Fatal(err)
		}
	}
	url1, created1, err := gc.UpsertComment(ctx, "sgl-project", "sglang", 42, marker, "first numbers")
	if err != nil || !created1 {
		t.Fatalf("first publish: created=%v err=%v", created1, err)
	}
	url2, created2, err := gc.UpsertComment(ctx, "sgl-project", "sglang", 42, marker, marker+"\nsecond numbers")
	if err != nil || created2 {
		t.Fatalf("second publish: created=%v err=%v", created2, err)
	}
	if url1 != url2 || !strings.Contains(url1, "/pull/42#issuecomment-") {
		t.Errorf("urls %q and %q: want the same comment", url1, url2)
	}
	comments, _ := srv.Snapshot()
	var ours []ghtest.Comment
	for _, c := range comments {
		if strings.HasPrefix(c.Body, marker) {
			ours = append(ours, c)
		}
	}
	if len(comments) != 5 || len(ours) != 1 || ours[0].Body != marker+"\nsecond numbers" {
		t.Fatalf("comments after two publishes: %+v", comments)
	}
	if comments[2].Body != "> "+marker+"\n> old numbers" {
		t.Errorf("the quoting reply was edited: %q", comments[2].Body)
	}
	var creates, patches int
	for _, r := range srv.Calls() {
		switch {
		case r.Method == "POST" && r.Path == "/api/v3/repos/sgl-project/sglang/issues/42/comments":
			creates++
		case r.Method == "PATCH" && r.Path == fmt.Sprintf("/api/v3/repos/sgl-project/sglang/issues/comments/%d", ours[0].ID):
			patches++
			if r.Body["body"] != marker+"\nsecond numbers" {
				t.Errorf("PATCH body = %v", r.Body)
			}
		}
	}
	if creates != 5 || patches != 1 {
		t.Errorf("creates=%d (4 others + ours) patches=%d, want 5 and 1", creates, patches)
	}
}

func TestCheckRunCreatedThenCompleted(t *testing.T) {
	srv := ghtest.New("o", "r")
	defer srv.Close()
	ctx := context.Background()
	gc := client(t, srv)
	sha := strings.Repeat("ab", 20)
	id, err := gc.StartCheck(ctx, "o", "r", "commitbench", sha, "https://example.invalid/run/1")
	if err != nil {
		t.Fatal(err)
	}
	if err := gc.FinishCheck(ctx, "o", "r", id, "commitbench", Failure, "1 Worse", strings.Repeat("x", 70000)); err != nil {
		t.Fatal(err)
	}
	calls := srv.Calls()
	if len(calls) != 2 || calls[0].Method != "POST" || calls[0].Path != "/api/v3/repos/o/r/check-runs" ||
		calls[1].Method != "PATCH" || calls[1].Path != fmt.Sprintf("/api/v3/repos/o/r/check-runs/%d", id) {
		t.Fatalf("calls = %+v", calls)
	}
	create, update := calls[0].Body, calls[1].Body
	if create["name"] != "commitbench" || create["head_sha"] != sha || create["status"] != "in_progress" ||
		create["details_url"] != "https://example.invalid/run/1" || create["started_at"] == nil {
		t.Errorf("create body = %v", create)
	}
	out, _ := update["output"].(map[string]any)
	summary, _ := out["summary"].(string)
	if update["status"] != "completed" || update["conclusion"] != "failure" || update["completed_at"] == nil ||
		out["title"] != "1 Worse" || len([]rune(summary)) > CheckTextLimit || !strings.HasSuffix(summary, "check-run limit)") {
		t.Errorf("update body: status=%v conclusion=%v title=%v summary %d chars", update["status"], update["conclusion"], out["title"], len([]rune(summary)))
	}
}

func TestErrorsSayWhatToDo(t *testing.T) {
	srv := ghtest.New("o", "r")
	defer srv.Close()
	srv.ReadOnly = true
	_, _, err := client(t, srv).UpsertComment(context.Background(), "o", "r", 7, marker, "x")
	if err == nil || !strings.Contains(err.Error(), "403") || !strings.Contains(err.Error(), "comment-file") {
		t.Errorf("fork-token error = %v; want the 403 and the comment-file way out", err)
	}
	bad, _ := New(srv.URL, "wrong", srv.Client())
	_, err = bad.StartCheck(context.Background(), "o", "r", "n", strings.Repeat("a", 40), "")
	if err == nil || !strings.Contains(err.Error(), "401") || strings.Contains(err.Error(), "wrong") {
		t.Errorf("bad-token error = %v; want 401 and no token in the message", err)
	}
	if _, err := New(srv.URL, "", nil); err == nil {
		t.Error("New without a token succeeded")
	}
	for _, tc := range []struct {
		in string
		ok bool
	}{{"sgl-project/sglang", true}, {"sglang", false}, {"a/b/c", false}, {"/b", false}} {
		if _, _, err := SplitRepo(tc.in); (err == nil) != tc.ok {
			t.Errorf("SplitRepo(%q) err = %v", tc.in, err)
		}
	}
}

func commentReq(body string) gh.IssueCommentRequest { return gh.IssueCommentRequest{Body: body} }
