// Package hubtest is a Hugging Face Hub fake for tests: an httptest server
// that checks the commit protocol as huggingface_hub speaks it (notes §9)
// instead of accepting anything: bearer auth on API calls and none on
// pre-signed uploads, the NDJSON content type, a header line first,
// parentCommit as an optimistic lock (412 when stale), strict base64 file
// lines, and lfsFile lines only for objects that were uploaded.
package hubtest

import (
	"bufio"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
)

// Repo is one dataset repo's state.
type Repo struct {
	Head    string
	Files   map[string][]byte
	Commits []Commit
	Private bool
}

// Commit is a landed commit.
type Commit struct {
	OID, Parent, Summary string
	// Paths written (added or replaced) by the commit.
	Paths []string
	// ParentSent is the parentCommit of the header ("" when absent).
	ParentSent string
}

// Server is the fake. Knobs are read under its lock; set them before use.
type Server struct {
	*httptest.Server
	Token string
	// LFSThreshold: files at least this big are "lfs" in preupload.
	LFSThreshold int64
	// MultipartThreshold: LFS objects at least this big upload in parts of
	// ChunkSize bytes.
	MultipartThreshold, ChunkSize int64
	// Interlopers is the number of commit requests before which another
	// writer commits first, making the request's parentCommit stale.
	Interlopers int

	mu          sync.Mutex
	Repos       map[string]*Repo
	lfs         map[string][]byte
	parts       map[string]map[int][]byte
	Requests    []string
	Answered412 int
	// Violations are protocol errors the fake saw (also answered 400).
	Violations []string
}

// New starts a fake Hub.
func New(token string) *Server {
	s := &Server{Token: token, LFSThreshold: 10 << 20, MultipartThreshold: 1 << 40, ChunkSize: 5 << 20,
		Repos: map[string]*Repo{}, lfs: map[string][]byte{}, parts: map[string]map[int][]byte{}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/repos/create", s.api(s.create))
	mux.HandleFunc("GET /api/datasets/{ns}/{name}/revision/{rev}", s.api(s.revision))
	mux.HandleFunc("POST /api/datasets/{ns}/{name}/preupload/{rev}", s.api(s.preupload))
	mux.HandleFunc("POST /api/datasets/{ns}/{name}/commit/{rev}", s.api(s.commit))
	mux.HandleFunc("POST /datasets/{ns}/{repo}/info/lfs/objects/batch", s.api(s.batch))
	mux.HandleFunc("POST /lfs-verify", s.api(s.verify))
	mux.HandleFunc("PUT /lfs-upload/{oid}", s.presigned(s.putObject))
	mux.HandleFunc("PUT /lfs-part/{oid}/{n}", s.presigned(s.putPart))
	mux.HandleFunc("POST /lfs-upload/{oid}", s.presigned(s.complete))
	s.Server = httptest.NewServer(mux)
	return s
}

func (s *Server) violate(w http.ResponseWriter, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	s.Violations = append(s.Violations, msg)
	http.Error(w, `{"error":"`+msg+`"}`, http.StatusBadRequest)
}

// api wraps Hub API handlers: recorded, bearer token required, locked.
func (s *Server) api(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.Requests = append(s.Requests, r.Method+" "+r.URL.Path)
		if r.Header.Get("Authorization") != "Bearer "+s.Token {
			w.Header().Set("X-Error-Message", "Invalid credentials in Authorization header")
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		h(w, r)
	}
}

// presigned wraps storage URLs: they must not receive the token.
func (s *Server) presigned(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.Requests = append(s.Requests, r.Method+" "+r.URL.Path)
		if r.Header.Get("Authorization") != "" {
			s.violate(w, "pre-signed URL %s got an Authorization header", r.URL.Path)
			return
		}
		h(w, r)
	}
}

func reply(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v)
}

func (s *Server) create(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Name, Organization, Type string
		Private                  bool
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil || req.Name == "" || req.Type != "dataset" {
		s.violate(w, "create: want JSON name, organization, type=dataset (%v)", err)
		return
	}
	id := req.Organization + "/" + req.Name
	if _, ok := s.Repos[id]; ok {
		w.WriteHeader(http.StatusConflict)
		reply(w, map[string]string{"error": "You already created this dataset repo"})
		return
	}
	repo := &Repo{Files: map[string][]byte{".gitattributes": []byte("*.parquet filter=lfs diff=lfs merge=lfs -text\n")}, Private: req.Private}
	repo.Head = oid("initial", id)
	repo.Commits = append(repo.Commits, Commit{OID: repo.Head, Summary: "initial commit", Paths: []string{".gitattributes"}})
	s.Repos[id] = repo
	reply(w, map[string]string{"url": s.URL + "/datasets/" + id})
}

func oid(parts ...string) string {
	h := sha1.Sum([]byte(strings.Join(parts, "\x00")))
	return hex.EncodeToString(h[:])
}

func (s *Server) repo(w http.ResponseWriter, r *http.Request) *Repo {
	id := r.PathValue("ns") + "/" + r.PathValue("name")
	repo := s.Repos[id]
	if repo == nil {
		w.Header().Set("X-Error-Code", "RepoNotFound")
		http.Error(w, `{"error":"Repository not found"}`, http.StatusNotFound)
		return nil
	}
	if rev := r.PathValue("rev"); rev != "main" {
		s.violate(w, "revision %q: only main exists", rev)
		return nil
	}
	return repo
}

func (s *Server) revision(w http.ResponseWriter, r *http.Request) {
	repo := s.repo(w, r)
	if repo == nil {
		return
	}
	var sib []map[string]string
	for p := range repo.Files {
		sib = append(sib, map[string]string{"rfilename": p})
	}
	reply(w, map[string]any{"id": r.PathValue("ns") + "/" + r.PathValue("name"), "sha": repo.Head, "siblings": sib})
}

func (s *Server) preupload(w http.ResponseWriter, r *http.Request) {
	repo := s.repo(w, r)
	if repo == nil {
		return
	}
	var req struct {
		Files []struct {
			Path, Sample string
			Size         int64
		}
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil || len(req.Files) == 0 {
		s.violate(w, "preupload: want {files:[{path,sample,size}]} (%v)", err)
		return
	}
	var out []map[string]any
	for _, f := range req.Files {
		if sample, err := base64.StdEncoding.DecodeString(f.Sample); err != nil || len(sample) > 512 {
			s.violate(w, "preupload %s: sample must be base64 of ≤ 512 bytes", f.Path)
			return
		}
		lfs := f.Size >= s.LFSThreshold || strings.HasSuffix(f.Path, ".parquet")
		mode := "regular"
		if lfs {
			mode = "lfs"
		}
		var cur any
		if data, ok := repo.Files[f.Path]; ok {
			if lfs {
				h := sha256.Sum256(data)
				cur = hex.EncodeToString(h[:])
			} else {
				h := sha1.New()
				fmt.Fprintf(h, "blob %d\x00", len(data))
				h.Write(data)
				cur = hex.EncodeToString(h.Sum(nil))
			}
		}
		out = append(out, map[string]any{"path": f.Path, "uploadMode": mode, "shouldIgnore": false, "oid": cur})
	}
	reply(w, map[string]any{"files": out})
}

// Files returns a copy of a repo's files (nil when it does not exist).
func (s *Server) Files(id string) map[string]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	repo := s.Repos[id]
	if repo == nil {
		return nil
	}
	out := map[string]string{}
	for p, d := range repo.Files {
		out[p] = string(d)
	}
	return out
}

// Commits returns a copy of a repo's commit log.
func (s *Server) Commits(id string) []Commit {
	s.mu.Lock()
	defer s.mu.Unlock()
	if repo := s.Repos[id]; repo != nil {
		return append([]Commit(nil), repo.Commits...)
	}
	return nil
}

func (s *Server) commit(w http.ResponseWriter, r *http.Request) {
	repo := s.repo(w, r)
	if repo == nil {
		return
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/x-ndjson" {
		s.violate(w, "commit: Content-Type %q, want application/x-ndjson", ct)
		return
	}
	if s.Interlopers > 0 {
		s.Interlopers--
		// Another writer's commit lands first.
		repo.Files["data/other-writer.jsonl"] = []byte("{}\n")
		parent := repo.Head
		repo.Head = oid(parent, "interloper")
		repo.Commits = append(repo.Commits, Commit{OID: repo.Head, Parent: parent, Summary: "another writer", Paths: []string{"data/other-writer.jsonl"}})
	}
	sc := bufio.NewScanner(r.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<30)
	var c Commit
	writes := map[string][]byte{}
	for n := 0; sc.Scan(); n++ {
		var line struct {
			Key   string          `json:"key"`
			Value json.RawMessage `json:"value"`
		}
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			s.violate(w, "commit line %d is not JSON: %v", n+1, err)
			return
		}
		if (n == 0) != (line.Key == "header") {
			s.violate(w, "commit line %d has key %q; the header must come first, once", n+1, line.Key)
			return
		}
		if err := s.applyLine(line.Key, line.Value, &c, writes); err != nil {
			s.violate(w, "commit line %d (%s): %v", n+1, line.Key, err)
			return
		}
	}
	if err := sc.Err(); err != nil {
		s.violate(w, "commit body: %v", err)
		return
	}
	if c.ParentSent != "" && c.ParentSent != repo.Head {
		s.Answered412++
		w.Header().Set("X-Error-Message", "A commit has happened since. Please refresh and try again.")
		w.WriteHeader(http.StatusPreconditionFailed)
		return
	}
	c.Parent = repo.Head
	c.OID = oid(repo.Head, c.Summary, fmt.Sprint(len(repo.Commits)))
	for p, d := range writes {
		repo.Files[p] = d
		c.Paths = append(c.Paths, p)
	}
	repo.Head = c.OID
	repo.Commits = append(repo.Commits, c)
	reply(w, map[string]string{"commitOid": c.OID, "commitUrl": s.URL + "/datasets/" + r.PathValue("ns") + "/" + r.PathValue("name") + "/commit/" + c.OID})
}

func (s *Server) applyLine(key string, raw json.RawMessage, c *Commit, writes map[string][]byte) error {
	switch key {
	case "header":
		var h struct {
			Summary      string  `json:"summary"`
			Description  *string `json:"description"`
			ParentCommit string  `json:"parentCommit"`
		}
		if err := json.Unmarshal(raw, &h); err != nil || h.Summary == "" {
			return fmt.Errorf("want {summary, description, parentCommit?} with a summary (%v)", err)
		}
		c.Summary, c.ParentSent = h.Summary, h.ParentCommit
	case "file":
		var f struct{ Path, Encoding, Content string }
		if err := json.Unmarshal(raw, &f); err != nil || f.Path == "" || f.Encoding != "base64" {
			return fmt.Errorf("want {path, encoding: base64, content} (%v)", err)
		}
		data, err := base64.StdEncoding.Strict().DecodeString(f.Content)
		if err != nil {
			return fmt.Errorf("content of %s is not base64: %v", f.Path, err)
		}
		writes[f.Path] = data
	case "lfsFile":
		var f struct {
			Path, Algo, OID string
			Size            int64
		}
		if err := json.Unmarshal(raw, &f); err != nil || f.Algo != "sha256" {
			return fmt.Errorf("want {path, algo: sha256, oid, size} (%v)", err)
		}
		data, ok := s.lfs[f.OID]
		if !ok || int64(len(data)) != f.Size {
			return fmt.Errorf("LFS object %s of %s was not uploaded (or has another size)", f.OID, f.Path)
		}
		writes[f.Path] = data
	default:
		return fmt.Errorf("unknown key")
	}
	return nil
}
