// Package ghtest is a GitHub REST fake for tests: an httptest server that
// serves the exact paths go-github calls under a GHES base URL
// (/api/v3/repos/{o}/{r}/…) for issue comments and check runs, keeps their
// state, and records every request with its body.
package ghtest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
)

// Request is one recorded call.
type Request struct {
	Method, Path, Query string
	Body                map[string]any
}

// Comment is a stored issue comment.
type Comment struct {
	ID   int64
	PR   int
	Body string
}

// CheckRun is a stored check run with the fields publish sets.
type CheckRun struct {
	ID                                int64
	Name, HeadSHA, Status, Conclusion string
	Title, Summary, DetailsURL        string
	StartedAt, CompletedAt            string
}

// Server is the fake. Set Token before use to require it; set ReadOnly to
// answer writes as GitHub does for a fork PR's token.
type Server struct {
	*httptest.Server
	Token    string
	ReadOnly bool
	// PerPage caps list pages (GitHub's default is 30) so pagination is
	// exercised with few comments.
	PerPage int

	mu       sync.Mutex
	Requests []Request
	Comments []*Comment
	Checks   []*CheckRun
	nextID   int64
}

// New starts a fake serving owner/repo.
func New(owner, repo string) *Server {
	s := &Server{Token: "ghs_test", PerPage: 100, nextID: 1000}
	base := "/api/v3/repos/" + owner + "/" + repo
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+base+"/issues/{n}/comments", s.listComments)
	mux.HandleFunc("POST "+base+"/issues/{n}/comments", s.createComment)
	mux.HandleFunc("PATCH "+base+"/issues/comments/{id}", s.updateComment)
	mux.HandleFunc("POST "+base+"/check-runs", s.createCheck)
	mux.HandleFunc("PATCH "+base+"/check-runs/{id}", s.updateCheck)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		s.record(r)
		fail(w, http.StatusNotFound, "Not Found: "+r.Method+" "+r.URL.Path)
	})
	s.Server = httptest.NewServer(s.auth(mux))
	return s
}

func (s *Server) auth(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.Token != "" && r.Header.Get("Authorization") != "Bearer "+s.Token {
			s.record(r)
			fail(w, http.StatusUnauthorized, "Bad credentials")
			return
		}
		if s.ReadOnly && r.Method != http.MethodGet {
			s.record(r)
			fail(w, http.StatusForbidden, "Resource not accessible by integration")
			return
		}
		next.ServeHTTP(w, r)
	})
}

func fail(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(map[string]string{"message": msg})
}

func (s *Server) record(r *http.Request) map[string]any {
	var body map[string]any
	if data, _ := io.ReadAll(r.Body); len(data) > 0 {
		json.Unmarshal(data, &body)
	}
	s.mu.Lock()
	s.Requests = append(s.Requests, Request{Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, Body: body})
	s.mu.Unlock()
	return body
}

func reply(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(v)
}

func (s *Server) commentJSON(c *Comment) map[string]any {
	return map[string]any{"id": c.ID, "body": c.Body,
		"html_url": fmt.Sprintf("%s/pull/%d#issuecomment-%d", s.URL, c.PR, c.ID)}
}

func (s *Server) listComments(w http.ResponseWriter, r *http.Request) {
	s.record(r)
	pr, _ := strconv.Atoi(r.PathValue("n"))
	per := s.PerPage
	if p, err := strconv.Atoi(r.URL.Query().Get("per_page")); err == nil && p > 0 && p < per {
		per = p
	}
	page := max(1, atoi(r.URL.Query().Get("page")))
	s.mu.Lock()
	var all []map[string]any
	for _, c := range s.Comments {
		if c.PR == pr {
			all = append(all, s.commentJSON(c))
		}
	}
	s.mu.Unlock()
	lo, hi := min(len(all), (page-1)*per), min(len(all), page*per)
	if hi < len(all) {
		w.Header().Set("Link", fmt.Sprintf(`<%s%s?page=%d&per_page=%d>; rel="next"`, s.URL, r.URL.Path, page+1, per))
	}
	out := all[lo:hi]
	if out == nil {
		out = []map[string]any{}
	}
	reply(w, http.StatusOK, out)
}

func atoi(s string) int { n, _ := strconv.Atoi(s); return n }

func (s *Server) createComment(w http.ResponseWriter, r *http.Request) {
	body := s.record(r)
	pr, _ := strconv.Atoi(r.PathValue("n"))
	text, _ := body["body"].(string)
	s.mu.Lock()
	s.nextID++
	c := &Comment{ID: s.nextID, PR: pr, Body: text}
	s.Comments = append(s.Comments, c)
	s.mu.Unlock()
	reply(w, http.StatusCreated, s.commentJSON(c))
}

func (s *Server) updateComment(w http.ResponseWriter, r *http.Request) {
	body := s.record(r)
	id, _ := strconv.ParseInt(r.PathValue("id"), 10, 64)
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.Comments {
		if c.ID == id {
			c.Body, _ = body["body"].(string)
			reply(w, http.StatusOK, s.commentJSON(c))
			return
		}
	}
	fail(w, http.StatusNotFound, "Not Found")
}

func (s *Server) createCheck(w http.ResponseWriter, r *http.Request) {
	body := s.record(r)
	s.mu.Lock()
	s.nextID++
	c := &CheckRun{ID: s.nextID}
	apply(c, body)
	s.Checks = append(s.Checks, c)
	s.mu.Unlock()
	reply(w, http.StatusCreated, map[string]any{"id": c.ID, "name": c.Name, "head_sha": c.HeadSHA, "status": c.Status})
}

func (s *Server) updateCheck(w http.ResponseWriter, r *http.Request) {
	body := s.record(r)
	id, _ := strconv.ParseInt(r.PathValue("id"), 10, 64)
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.Checks {
		if c.ID == id {
			apply(c, body)
			reply(w, http.StatusOK, map[string]any{"id": c.ID, "status": c.Status, "conclusion": c.Conclusion})
			return
		}
	}
	fail(w, http.StatusNotFound, "Not Found")
}

func apply(c *CheckRun, body map[string]any) {
	str := func(m map[string]any, k string, dst *string) {
		if v, ok := m[k].(string); ok {
			*dst = v
		}
	}
	str(body, "name", &c.Name)
	str(body, "head_sha", &c.HeadSHA)
	str(body, "status", &c.Status)
	str(body, "conclusion", &c.Conclusion)
	str(body, "details_url", &c.DetailsURL)
	str(body, "started_at", &c.StartedAt)
	str(body, "completed_at", &c.CompletedAt)
	if out, ok := body["output"].(map[string]any); ok {
		str(out, "title", &c.Title)
		str(out, "summary", &c.Summary)
	}
}

// Snapshot returns copies of the comments and check runs.
func (s *Server) Snapshot() ([]Comment, []CheckRun) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var cs []Comment
	for _, c := range s.Comments {
		cs = append(cs, *c)
	}
	var ks []CheckRun
	for _, k := range s.Checks {
		ks = append(ks, *k)
	}
	return cs, ks
}

// Calls returns the recorded requests.
func (s *Server) Calls() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.Requests...)
}
