package hubtest

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
)

// The LFS side: the batch call, pre-signed uploads (whole and in parts),
// the multipart completion, and verify.

func (s *Server) batch(w http.ResponseWriter, r *http.Request) {
	const mt = "application/vnd.git-lfs+json"
	if !strings.HasSuffix(r.PathValue("repo"), ".git") {
		s.violate(w, "LFS batch path must be /datasets/{repo}.git/info/lfs/objects/batch")
		return
	}
	if r.Header.Get("Accept") != mt || r.Header.Get("Content-Type") != mt {
		s.violate(w, "LFS batch: Accept and Content-Type must be %s", mt)
		return
	}
	var req struct {
		Operation string
		Transfers []string
		HashAlgo  string `json:"hash_algo"`
		Objects   []struct {
			OID  string
			Size int64
		}
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil || req.Operation != "upload" || req.HashAlgo != "sha256" {
		s.violate(w, "LFS batch: want operation upload, hash_algo sha256 (%v)", err)
		return
	}
	var out []map[string]any
	for _, o := range req.Objects {
		obj := map[string]any{"oid": o.OID, "size": o.Size}
		if _, ok := s.lfs[o.OID]; !ok {
			up := map[string]any{"href": s.URL + "/lfs-upload/" + o.OID}
			if o.Size >= s.MultipartThreshold {
				hdr := map[string]string{"chunk_size": strconv.FormatInt(s.ChunkSize, 10)}
				for i := int64(1); (i-1)*s.ChunkSize < o.Size; i++ {
					hdr[fmt.Sprintf("%05d", i)] = fmt.Sprintf("%s/lfs-part/%s/%d", s.URL, o.OID, i)
				}
				up["header"] = hdr
			}
			obj["actions"] = map[string]any{"upload": up, "verify": map[string]any{"href": s.URL + "/lfs-verify"}}
		}
		out = append(out, obj)
	}
	w.Header().Set("Content-Type", mt)
	json.NewEncoder(w).Encode(map[string]any{"transfer": "basic", "objects": out})
}

func (s *Server) putObject(w http.ResponseWriter, r *http.Request) {
	data, _ := io.ReadAll(r.Body)
	if h := sha256.Sum256(data); hex.EncodeToString(h[:]) != r.PathValue("oid") {
		s.violate(w, "LFS upload: content does not hash to %s", r.PathValue("oid"))
		return
	}
	s.lfs[r.PathValue("oid")] = data
}

func (s *Server) putPart(w http.ResponseWriter, r *http.Request) {
	data, _ := io.ReadAll(r.Body)
	oidv := r.PathValue("oid")
	n, _ := strconv.Atoi(r.PathValue("n"))
	if s.parts[oidv] == nil {
		s.parts[oidv] = map[int][]byte{}
	}
	s.parts[oidv][n] = data
	w.Header().Set("ETag", fmt.Sprintf(`"etag-%d"`, n))
}

func (s *Server) complete(w http.ResponseWriter, r *http.Request) {
	var req struct {
		OID   string `json:"oid"`
		Parts []struct {
			PartNumber int    `json:"partNumber"`
			ETag       string `json:"etag"`
		} `json:"parts"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil || req.OID != r.PathValue("oid") {
		s.violate(w, "LFS completion: want {oid, parts} (%v)", err)
		return
	}
	var all []byte
	for i, p := range req.Parts {
		if p.PartNumber != i+1 || p.ETag != fmt.Sprintf(`"etag-%d"`, i+1) {
			s.violate(w, "LFS completion: part %d has number %d, etag %q", i+1, p.PartNumber, p.ETag)
			return
		}
		all = append(all, s.parts[req.OID][i+1]...)
	}
	if h := sha256.Sum256(all); hex.EncodeToString(h[:]) != req.OID {
		s.violate(w, "LFS completion: parts do not hash to %s", req.OID)
		return
	}
	s.lfs[req.OID] = all
}

func (s *Server) verify(w http.ResponseWriter, r *http.Request) {
	var req struct {
		OID  string
		Size int64
	}
	json.NewDecoder(r.Body).Decode(&req)
	if d, ok := s.lfs[req.OID]; !ok || int64(len(d)) != req.Size {
		s.violate(w, "LFS verify: object %s not stored with size %d", req.OID, req.Size)
	}
}
