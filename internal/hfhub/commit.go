package hfhub

import (
	"bytes"
	"context"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"slices"
	"time"
)

// File is one file to add or replace at Path. Open is called several
// times (sample, hashes, upload, a retry), each time from the start.
type File struct {
	Path string
	Size int64
	Open func() (io.ReadCloser, error)
}

// BytesFile is a File held in memory.
func BytesFile(path string, data []byte) File {
	return File{Path: path, Size: int64(len(data)), Open: func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(data)), nil
	}}
}

// DiskFile is a File read from local, so a large JSONL is streamed from
// disk rather than held in memory.
func DiskFile(path, local string) (File, error) {
	st, err := os.Stat(local)
	if err != nil {
		return File{}, err
	}
	return File{Path: path, Size: st.Size(), Open: func() (io.ReadCloser, error) { return os.Open(local) }}, nil
}

// Commit is one commit's content.
type Commit struct {
	Summary, Description string
	Files                []File
}

// Result is a landed commit. Unchanged means every file already had this
// content, so no commit was made and OID is the existing head.
type Result struct {
	OID, URL  string
	Unchanged bool
}

// CommitLatest commits to revision on top of its current head, reading
// the head first and sending it as parentCommit. On 412 (someone committed
// in between) it reads the head again, rebuilds the commit (build may
// depend on the files there, e.g. whether a dataset card exists) and
// retries, up to c.Attempts times with exponential backoff. Only 412 is
// retried: a lost response to a commit POST may have landed, and blindly
// re-posting could duplicate it.
func (c *Client) CommitLatest(ctx context.Context, repoID, revision string, build func(Info) (Commit, error)) (Result, error) {
	wait := time.Second
	var err error
	for attempt := 1; attempt <= max(1, c.Attempts); attempt++ {
		var info Info
		if info, err = c.Head(ctx, repoID, revision); err != nil {
			return Result{}, err
		}
		var cm Commit
		if cm, err = build(info); err != nil {
			return Result{}, err
		}
		var res Result
		res, err = c.Commit(ctx, repoID, revision, info.SHA, cm)
		if !errors.Is(err, ErrConflict) {
			return res, err
		}
		c.Sleep(wait)
		wait *= 2
	}
	return Result{}, fmt.Errorf("hfhub: commit to %s gave up after %d attempts: %w", repoID, c.Attempts, err)
}

// upload is what the preupload step decided for one file.
type upload struct {
	File
	lfs       bool
	sha256    string
	unchanged bool
}

// Commit posts one commit of cm to revision with parentCommit parent
// ("" sends none).
func (c *Client) Commit(ctx context.Context, repoID, revision, parent string, cm Commit) (Result, error) {
	ups, err := c.preupload(ctx, repoID, revision, cm.Files)
	if err != nil {
		return Result{}, err
	}
	if !slices.ContainsFunc(ups, func(u upload) bool { return !u.unchanged }) {
		return Result{OID: parent, Unchanged: true}, nil
	}
	if err := c.uploadLFS(ctx, repoID, revision, ups); err != nil {
		return Result{}, err
	}
	return c.postCommit(ctx, repoID, revision, parent, cm, ups)
}

const preuploadBatch = 256

func (c *Client) preupload(ctx context.Context, repoID, revision string, files []File) ([]upload, error) {
	var out []upload
	for start := 0; start < len(files); start += preuploadBatch {
		batch := files[start:min(len(files), start+preuploadBatch)]
		type entry struct {
			Path   string `json:"path"`
			Sample string `json:"sample"`
			Size   int64  `json:"size"`
		}
		req := struct {
			Files []entry `json:"files"`
		}{}
		for _, f := range batch {
			sample, err := head(f, 512)
			if err != nil {
				return nil, err
			}
			req.Files = append(req.Files, entry{f.Path, base64.StdEncoding.EncodeToString(sample), f.Size})
		}
		body, _ := json.Marshal(req)
		resp, err := c.do(ctx, "POST", "/api/datasets/"+repoID+"/preupload/"+url.PathEscape(revision), "application/json", bytes.NewReader(body))
		if err != nil {
			return nil, fmt.Errorf("hfhub: preupload to %s: %w", repoID, err)
		}
		var ans struct {
			Files []struct {
				Path         string  `json:"path"`
				UploadMode   string  `json:"uploadMode"`
				ShouldIgnore bool    `json:"shouldIgnore"`
				OID          *string `json:"oid"`
			} `json:"files"`
		}
		err = check(resp, "preupload to "+repoID)
		if err == nil {
			err = json.NewDecoder(resp.Body).Decode(&ans)
		}
		drain(resp)
		if err != nil {
			return nil, err
		}
		modes := map[string]int{}
		for i, a := range ans.Files {
			modes[a.Path] = i
		}
		for _, f := range batch {
			i, ok := modes[f.Path]
			if !ok {
				return nil, fmt.Errorf("hfhub: preupload to %s: no answer for %s", repoID, f.Path)
			}
			a := ans.Files[i]
			if a.ShouldIgnore {
				return nil, fmt.Errorf("hfhub: %s is ignored by the .gitignore of %s; remove that rule so results can be published", f.Path, repoID)
			}
			u := upload{File: f, lfs: a.UploadMode == "lfs" && f.Size > 0}
			// An LFS file's sha256 is both compared here and sent in the
			// commit, so it is hashed once, now.
			if u.lfs {
				if u.sha256, err = hashFile(f, sha256.New()); err != nil {
					return nil, err
				}
			}
			if a.OID != nil && *a.OID != "" {
				// The Hub sends the current object id: git's blob sha1 for
				// regular files, sha256 for LFS ones.
				h := u.sha256
				if !u.lfs {
					if h, err = gitBlobSHA(f); err != nil {
						return nil, err
					}
				}
				u.unchanged = h == *a.OID
			}
			out = append(out, u)
		}
	}
	return out, nil
}

func head(f File, n int) ([]byte, error) {
	r, err := f.Open()
	if err != nil {
		return nil, fmt.Errorf("hfhub: %s: %w", f.Path, err)
	}
	defer r.Close()
	buf := make([]byte, n)
	k, err := io.ReadFull(r, buf)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("hfhub: %s: %w", f.Path, err)
	}
	return buf[:k], nil
}

type hasher interface {
	io.Writer
	Sum([]byte) []byte
}

func hashFile(f File, h hasher) (string, error) {
	r, err := f.Open()
	if err != nil {
		return "", fmt.Errorf("hfhub: %s: %w", f.Path, err)
	}
	defer r.Close()
	if _, err := io.Copy(h, r); err != nil {
		return "", fmt.Errorf("hfhub: %s: %w", f.Path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func gitBlobSHA(f File) (string, error) {
	h := sha1.New()
	fmt.Fprintf(h, "blob %d\x00", f.Size)
	return hashFile(f, h)
}

// postCommit streams the NDJSON commit: a header line, then one line per
// file: "file" with base64 content for regular files, "lfsFile" with the
// sha256 for LFS ones. The body is written through a pipe, so a large
// data file is never held in memory twice.
func (c *Client) postCommit(ctx context.Context, repoID, revision, parent string, cm Commit, ups []upload) (Result, error) {
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(writeNDJSON(pw, parent, cm, ups)) }()
	resp, err := c.do(ctx, "POST", "/api/datasets/"+repoID+"/commit/"+url.PathEscape(revision), "application/x-ndjson", pr)
	pr.Close()
	if err != nil {
		return Result{}, fmt.Errorf("hfhub: commit to %s: %w", repoID, err)
	}
	defer drain(resp)
	if err := check(resp, "commit to "+repoID); err != nil {
		return Result{}, err
	}
	var ans struct {
		OID string `json:"commitOid"`
		URL string `json:"commitUrl"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&ans); err != nil || ans.OID == "" {
		return Result{}, fmt.Errorf("hfhub: commit to %s: %s but no commitOid in the answer (%v)", repoID, resp.Status, err)
	}
	return Result{OID: ans.OID, URL: ans.URL}, nil
}

func writeNDJSON(w io.Writer, parent string, cm Commit, ups []upload) error {
	hdr := map[string]any{"summary": cm.Summary, "description": cm.Description}
	if parent != "" {
		hdr["parentCommit"] = parent
	}
	line, _ := json.Marshal(map[string]any{"key": "header", "value": hdr})
	if _, err := w.Write(append(line, '\n')); err != nil {
		return err
	}
	for _, u := range ups {
		if u.unchanged {
			continue
		}
		if u.lfs {
			line, _ := json.Marshal(map[string]any{"key": "lfsFile", "value": map[string]any{
				"path": u.Path, "algo": "sha256", "oid": u.sha256, "size": u.Size}})
			if _, err := w.Write(append(line, '\n')); err != nil {
				return err
			}
			continue
		}
		path, _ := json.Marshal(u.Path)
		if _, err := fmt.Fprintf(w, `{"key":"file","value":{"path":%s,"encoding":"base64","content":"`, path); err != nil {
			return err
		}
		r, err := u.Open()
		if err != nil {
			return fmt.Errorf("hfhub: %s: %w", u.Path, err)
		}
		enc := base64.NewEncoder(base64.StdEncoding, w)
		_, err = io.Copy(enc, r)
		r.Close()
		if err == nil {
			err = enc.Close()
		}
		if err != nil {
			return err
		}
		if _, err := io.WriteString(w, "\"}}\n"); err != nil {
			return err
		}
	}
	return nil
}

// errStatus turns a non-2xx answer from an LFS endpoint into an error.
func errStatus(resp *http.Response, op string) error {
	if resp.StatusCode/100 == 2 {
		return nil
	}
	return &HTTPError{Op: op, Status: resp.Status, Code: resp.StatusCode, Message: errorMessage(resp)}
}
