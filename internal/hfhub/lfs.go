package hfhub

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strconv"
	"strings"
)

const lfsMediaType = "application/vnd.git-lfs+json"

type lfsAction struct {
	Href   string            `json:"href"`
	Header map[string]string `json:"header"`
}

type lfsObject struct {
	OID     string `json:"oid"`
	Size    int64  `json:"size"`
	Actions *struct {
		Upload *lfsAction `json:"upload"`
		Verify *lfsAction `json:"verify"`
	} `json:"actions"`
	Error *struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// uploadLFS sends the LFS objects the commit references: one batch call,
// then for each object the Hub lacks, a PUT of the bytes (or of each part,
// for multipart) to the pre-signed URL, and a verify call when asked.
// Objects the batch answers without actions are already stored.
func (c *Client) uploadLFS(ctx context.Context, repoID, revision string, ups []upload) error {
	type obj struct {
		OID  string `json:"oid"`
		Size int64  `json:"size"`
	}
	byOID := map[string]File{}
	var objs []obj
	for _, u := range ups {
		if u.lfs && !u.unchanged {
			if _, dup := byOID[u.sha256]; !dup {
				objs = append(objs, obj{u.sha256, u.Size})
			}
			byOID[u.sha256] = u.File
		}
	}
	if len(objs) == 0 {
		return nil
	}
	body, _ := json.Marshal(map[string]any{"operation": "upload", "transfers": []string{"basic", "multipart"},
		"objects": objs, "hash_algo": "sha256", "ref": map[string]string{"name": revision}})
	resp, err := c.lfsCall(ctx, "POST", c.endpoint+"/datasets/"+repoID+".git/info/lfs/objects/batch", body, true)
	if err != nil {
		return fmt.Errorf("hfhub: LFS batch for %s: %w", repoID, err)
	}
	var ans struct {
		Objects []lfsObject `json:"objects"`
	}
	err = errStatus(resp, "LFS batch for "+repoID)
	if err == nil {
		err = json.NewDecoder(resp.Body).Decode(&ans)
	}
	drain(resp)
	if err != nil {
		return err
	}
	for _, o := range ans.Objects {
		f := byOID[o.OID]
		if o.Error != nil {
			return fmt.Errorf("hfhub: LFS upload of %s: %d %s", f.Path, o.Error.Code, o.Error.Message)
		}
		if o.Actions == nil || o.Actions.Upload == nil {
			continue // already stored
		}
		if err := c.putObject(ctx, f, o.OID, o.Actions.Upload); err != nil {
			return err
		}
		if v := o.Actions.Verify; v != nil {
			b, _ := json.Marshal(map[string]any{"oid": o.OID, "size": o.Size})
			resp, err := c.lfsCall(ctx, "POST", v.Href, b, true)
			if err != nil {
				return fmt.Errorf("hfhub: LFS verify of %s: %w", f.Path, err)
			}
			err = errStatus(resp, "LFS verify of "+f.Path)
			drain(resp)
			if err != nil {
				return err
			}
		}
	}
	return nil
}

// putObject uploads one object. Upload URLs are pre-signed: they get no
// Authorization header, so the token never leaves the Hub's API.
func (c *Client) putObject(ctx context.Context, f File, oid string, up *lfsAction) error {
	chunk, multipart := up.Header["chunk_size"]
	if !multipart {
		r, err := f.Open()
		if err != nil {
			return fmt.Errorf("hfhub: %s: %w", f.Path, err)
		}
		defer r.Close()
		resp, err := c.put(ctx, up.Href, io.NopCloser(r), f.Size)
		if err != nil {
			return fmt.Errorf("hfhub: LFS upload of %s: %w", f.Path, err)
		}
		err = errStatus(resp, "LFS upload of "+f.Path)
		drain(resp)
		return err
	}
	size, err := strconv.ParseInt(chunk, 10, 64)
	if err != nil || size <= 0 {
		return fmt.Errorf("hfhub: LFS upload of %s: bad chunk_size %q", f.Path, chunk)
	}
	// Part URLs are the header keys that are numbers ("00001"…), in
	// numeric order.
	var parts []string
	for k := range up.Header {
		if _, err := strconv.Atoi(k); err == nil {
			parts = append(parts, k)
		}
	}
	sort.Slice(parts, func(i, j int) bool {
		a, _ := strconv.Atoi(parts[i])
		b, _ := strconv.Atoi(parts[j])
		return a < b
	})
	r, err := f.Open()
	if err != nil {
		return fmt.Errorf("hfhub: %s: %w", f.Path, err)
	}
	defer r.Close()
	type part struct {
		N    int    `json:"partNumber"`
		ETag string `json:"etag"`
	}
	var done []part
	for i, key := range parts {
		buf := make([]byte, size)
		k, err := io.ReadFull(r, buf)
		if err != nil && k == 0 {
			return fmt.Errorf("hfhub: %s: part %d: %w", f.Path, i+1, err)
		}
		resp, err := c.put(ctx, up.Header[key], io.NopCloser(bytes.NewReader(buf[:k])), int64(k))
		if err != nil {
			return fmt.Errorf("hfhub: LFS upload of %s, part %d: %w", f.Path, i+1, err)
		}
		err = errStatus(resp, fmt.Sprintf("LFS upload of %s, part %d", f.Path, i+1))
		etag := resp.Header.Get("ETag")
		drain(resp)
		if err != nil {
			return err
		}
		done = append(done, part{i + 1, etag})
	}
	b, _ := json.Marshal(map[string]any{"oid": oid, "parts": done})
	resp, err := c.lfsCall(ctx, "POST", up.Href, b, false)
	if err != nil {
		return fmt.Errorf("hfhub: LFS completion of %s: %w", f.Path, err)
	}
	err = errStatus(resp, "LFS completion of "+f.Path)
	drain(resp)
	return err
}

func (c *Client) put(ctx context.Context, href string, body io.ReadCloser, size int64) (*http.Response, error) {
	req, err := newRequest(ctx, "PUT", href, body)
	if err != nil {
		return nil, err
	}
	req.ContentLength = size
	return c.http.Do(req)
}

func (c *Client) lfsCall(ctx context.Context, method, href string, body []byte, auth bool) (*http.Response, error) {
	req, err := newRequest(ctx, method, href, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", lfsMediaType)
	req.Header.Set("Content-Type", lfsMediaType)
	if auth && c.token != "" && strings.HasPrefix(href, c.endpoint+"/") {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	return c.http.Do(req)
}
