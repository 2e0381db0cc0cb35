package hfhub

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/commitbench/commitbench/internal/hfhub/hubtest"
)

const token = "hf_test_secret"

func newClient(srv *hubtest.Server, tok string) (*Client, *[]time.Duration) {
	c := New(srv.URL, tok, srv.Client())
	var slept []time.Duration
	c.Sleep = func(d time.Duration) { slept = append(slept, d) }
	return c, &slept
}

func publish(t *testing.T, c *Client, files ...File) Result {
	t.Helper()
	ctx := context.Background()
	if err := c.CreateRepo(ctx, "org/results", false); err != nil {
		t.Fatal(err)
	}
	res, err := c.CommitLatest(ctx, "org/results", "main", func(info Info) (Commit, error) {
		fs := append([]File(nil), files...)
		if !info.Files["README.md"] {
			fs = append(fs, BytesFile("README.md", []byte("# card\n")))
		}
		return Commit{Summary: "commitbench run 42", Files: fs}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func TestCommitRetriesOn412AndLandsOnce(t *testing.T) {
	srv := hubtest.New(token)
	defer srv.Close()
	srv.Interlopers = 1 // another writer commits between our head read and our commit
	c, slept := newClient(srv, token)
	rows := "{\"case\":\"a\"}\n{\"case\":\"b\"}\n"
	res := publish(t, c, BytesFile("data/42.jsonl", []byte(rows)))
	if srv.Answered412 != 1 || len(*slept) != 1 {
		t.Errorf("412s answered %d, sleeps %v; want one retry", srv.Answered412, *slept)
	}
	commits := srv.Commits("org/results")
	// initial, the other writer's, ours: exactly one of ours landed.
	if len(commits) != 3 || commits[2].OID != res.OID || commits[2].Summary != "commitbench run 42" {
		t.Fatalf("commits = %+v, result %+v", commits, res)
	}
	if ours := commits[2]; ours.ParentSent != commits[1].OID {
		t.Errorf("retry sent parentCommit %q, want the new head %q", ours.ParentSent, commits[1].OID)
	}
	files := srv.Files("org/results")
	if files["data/42.jsonl"] != rows || files["README.md"] != "# card\n" || files["data/other-writer.jsonl"] == "" {
		t.Errorf("files = %v", files)
	}
	if len(srv.Violations) > 0 {
		t.Errorf("protocol violations: %v", srv.Violations)
	}
	want := []string{"POST /api/repos/create", "GET /api/datasets/org/results/revision/main",
		"POST /api/datasets/org/results/preupload/main", "POST /api/datasets/org/results/commit/main"}
	for i, w := range want {
		if srv.Requests[i] != w {
			t.Errorf("request %d = %q, want %q", i, srv.Requests[i], w)
		}
	}
}

func TestRepublishReplacesTheRunFile(t *testing.T) {
	srv := hubtest.New(token)
	defer srv.Close()
	c, _ := newClient(srv, token)
	publish(t, c, BytesFile("data/42.jsonl", []byte("{\"v\":1}\n")))
	second := publish(t, c, BytesFile("data/42.jsonl", []byte("{\"v\":2}\n")))
	files := srv.Files("org/results")
	if files["data/42.jsonl"] != "{\"v\":2}\n" {
		t.Errorf("data/42.jsonl = %q, want the second publish's rows only", files["data/42.jsonl"])
	}
	commits := srv.Commits("org/results")
	if len(commits) != 3 || strings.Join(commits[2].Paths, ",") != "data/42.jsonl" {
		t.Errorf("second commit wrote %v (the card exists already; only the run file changes)", commits[len(commits)-1].Paths)
	}
	// The same rows again: nothing to commit.
	third := publish(t, c, BytesFile("data/42.jsonl", []byte("{\"v\":2}\n")))
	if !third.Unchanged || third.OID != second.OID || len(srv.Commits("org/results")) != 3 {
		t.Errorf("identical republish = %+v; want no new commit", third)
	}
}

func TestLFSUploads(t *testing.T) {
	for _, tc := range []struct {
		name      string
		multipart bool
	}{{"basic", false}, {"multipart", true}} {
		t.Run(tc.name, func(t *testing.T) {
			srv := hubtest.New(token)
			defer srv.Close()
			srv.LFSThreshold = 1000
			if tc.multipart {
				srv.MultipartThreshold, srv.ChunkSize = 1000, 700
			}
			c, _ := newClient(srv, token)
			data := bytes.Repeat([]byte("{\"row\":12345}\n"), 200) // 2,800 bytes
			publish(t, c, BytesFile("data/42.jsonl", data))
			if got := srv.Files("org/results")["data/42.jsonl"]; got != string(data) {
				t.Errorf("stored %d bytes, want %d", len(got), len(data))
			}
			if len(srv.Violations) > 0 {
				t.Errorf("protocol violations: %v", srv.Violations)
			}
			joined := strings.Join(srv.Requests, "\n")
			for _, want := range []string{"POST /datasets/org/results.git/info/lfs/objects/batch", "POST /lfs-verify"} {
				if !strings.Contains(joined, want) {
					t.Errorf("no %q in requests:\n%s", want, joined)
				}
			}
			if tc.multipart && !strings.Contains(joined, "PUT /lfs-part/") {
				t.Errorf("multipart upload sent no parts:\n%s", joined)
			}
		})
	}
}

func TestErrors(t *testing.T) {
	srv := hubtest.New(token)
	defer srv.Close()
	c, _ := newClient(srv, "hf_wrong_token")
	err := c.CreateRepo(context.Background(), "org/results", false)
	var he *HTTPError
	if !errors.As(err, &he) || he.Code != 401 || !strings.Contains(err.Error(), "write access") || strings.Contains(err.Error(), "hf_wrong_token") {
		t.Errorf("bad token: %v", err)
	}
	good, _ := newClient(srv, token)
	if err := good.CreateRepo(context.Background(), "org/results", true); err != nil {
		t.Fatal(err)
	}
	if err := good.CreateRepo(context.Background(), "org/results", true); err != nil {
		t.Errorf("409 on an existing repo must be fine: %v", err)
	}
	if _, err := good.Head(context.Background(), "org/none", "main"); err == nil || !strings.Contains(err.Error(), "404") {
		t.Errorf("missing repo: %v", err)
	}
	srv.Interlopers = 10
	good.Attempts = 3
	_, err = good.CommitLatest(context.Background(), "org/results", "main", func(Info) (Commit, error) {
		return Commit{Summary: "x", Files: []File{BytesFile("a.jsonl", []byte("{}\n"))}}, nil
	})
	if !errors.Is(err, ErrConflict) || !strings.Contains(err.Error(), "3 attempts") {
		t.Errorf("endless 412: %v", err)
	}
	for _, id := range []string{"org", "org/", "/x", "a/b/c"} {
		if _, _, err := SplitRepo(id); err == nil {
			t.Errorf("SplitRepo(%q) accepted", id)
		}
	}
}

// TestLFSFileReadOncePerStep: replacing an LFS file reads it once for the
// sample, once for its sha256 (compared with the Hub's and sent in the
// commit) and once for the upload.
func TestLFSFileReadOncePerStep(t *testing.T) {
	srv := hubtest.New(token)
	defer srv.Close()
	srv.LFSThreshold = 10
	c, _ := newClient(srv, token)
	publish(t, c, BytesFile("data/42.jsonl", []byte("{\"v\":1,\"pad\":\"xxxx\"}\n")))
	opens := 0
	f := BytesFile("data/42.jsonl", []byte("{\"v\":2,\"pad\":\"yyyy\"}\n"))
	open := f.Open
	f.Open = func() (io.ReadCloser, error) { opens++; return open() }
	publish(t, c, f)
	if opens != 3 {
		t.Errorf("the changed LFS file was opened %d times, want 3 (sample, sha256, upload)", opens)
	}
	if len(srv.Violations) > 0 {
		t.Errorf("protocol violations: %v", srv.Violations)
	}
}
