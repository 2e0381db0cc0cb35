package image

import (
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"

	toml "github.com/pelletier/go-toml/v2"
)

// TreeError is a problem with the commit's own files (a pyproject.toml
// that does not parse, say): the commit cannot be built as it stands, which
// is a BUILD_FAILED outcome of the variant, not a bug of commitbench.
type TreeError struct {
	File string
	Err  error
}

func (e *TreeError) Error() string {
	return fmt.Sprintf("%s: %v; the commit's own file is broken, so this variant cannot be built as it stands", e.File, e.Err)
}
func (e *TreeError) Unwrap() error { return e.Err }

// pyproject is the part of a pyproject.toml the pins come from.
type pyproject struct {
	BuildSystem struct {
		Requires     []string `toml:"requires"`
		BuildBackend string   `toml:"build-backend"`
	} `toml:"build-system"`
	Project struct {
		Name                 string              `toml:"name"`
		Version              string              `toml:"version"`
		Dependencies         []string            `toml:"dependencies"`
		OptionalDependencies map[string][]string `toml:"optional-dependencies"`
	} `toml:"project"`
}

func parsePyproject(file string, data []byte) (*pyproject, error) {
	var p pyproject
	if err := toml.Unmarshal(data, &p); err != nil {
		var de *toml.DecodeError
		if errors.As(err, &de) {
			row, col := de.Position()
			return nil, &TreeError{File: file, Err: fmt.Errorf("line %d, column %d: %v", row, col, err)}
		}
		return nil, &TreeError{File: file, Err: err}
	}
	return &p, nil
}

// Requirement is one PEP 508 requirement, as much of it as pins need.
type Requirement struct {
	// Name is normalised (PEP 503: lower case, runs of -_. as "-").
	Name   string
	Extras string // "[srt]" or ""
	Spec   string // ">=0.0.2.post8" or "==2.5.1,<3" or ""
	Marker string // "; python_version >= '3.9'" or ""
}

var reqRe = regexp.MustCompile(`^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(\[[^\]]*\])?\s*([^;]*?)\s*(;.*)?$`)

// ParseRequirement parses a dependency string; URL requirements
// ("pkg @ https://...") keep the URL in Spec.
func ParseRequirement(s string) (Requirement, error) {
	m := reqRe.FindStringSubmatch(s)
	if m == nil {
		return Requirement{}, fmt.Errorf("requirement %q: cannot parse", s)
	}
	return Requirement{Name: NormalizeName(m[1]), Extras: m[2], Spec: strings.ReplaceAll(m[3], " ", ""), Marker: m[4]}, nil
}

func (r Requirement) String() string {
	s := r.Name + r.Extras + r.Spec
	if r.Marker != "" {
		s += " " + r.Marker
	}
	return s
}

var nameSep = regexp.MustCompile(`[-_.]+`)

// NormalizeName is PEP 503 normalisation: sgl_kernel and sgl-kernel are
// one package.
func NormalizeName(n string) string { return nameSep.ReplaceAllString(strings.ToLower(n), "-") }

// Exact returns the version a spec fixes: "==X" gives X; a lone ">=X"
// also gives X, because installed today it would resolve to the newest
// release, not what the commit was tested with (SGLang's sgl-kernel pins
// were ">=" from 2024-12-25 to 2025-02-27: notes/sglang.md §3.3). A range
// with an upper bound, or no spec, gives "".
func Exact(spec string) string {
	parts := strings.Split(spec, ",")
	if len(parts) == 1 {
		for _, op := range []string{"===", "==", ">="} {
			if v, ok := strings.CutPrefix(parts[0], op); ok && !strings.ContainsAny(v, "*<>=!~") && v != "" {
				return v
			}
		}
		return ""
	}
	for _, p := range parts {
		if v, ok := strings.CutPrefix(p, "=="); ok {
			return v
		}
	}
	return ""
}

// LowerBound returns X of a ">=X" clause, or "".
func LowerBound(spec string) string {
	for _, p := range strings.Split(spec, ",") {
		if v, ok := strings.CutPrefix(p, ">="); ok {
			return v
		}
	}
	return ""
}

// expandExtra returns the requirements of the project's dependencies plus
// extra, expanding self-references such as "sglang[runtime_common]"
// recursively, deduplicated and in first-seen order.
func (p *pyproject) expandExtra(extra string) ([]Requirement, error) {
	self := NormalizeName(p.Project.Name)
	var out []Requirement
	seenReq := map[string]bool{}
	seenExtra := map[string]bool{}
	var walk func(list []string) error
	walk = func(list []string) error {
		for _, s := range list {
			r, err := ParseRequirement(s)
			if err != nil {
				return err
			}
			if r.Name == self && r.Extras != "" {
				for _, e := range strings.Split(strings.Trim(r.Extras, "[]"), ",") {
					if e = strings.TrimSpace(e); e != "" && !seenExtra[e] {
						seenExtra[e] = true
						if err := walk(p.Project.OptionalDependencies[e]); err != nil {
							return err
						}
					}
				}
				continue
			}
			if k := r.String(); !seenReq[k] {
				seenReq[k] = true
				out = append(out, r)
			}
		}
		return nil
	}
	if err := walk(p.Project.Dependencies); err != nil {
		return nil, err
	}
	seenExtra[extra] = true
	if err := walk(p.Project.OptionalDependencies[extra]); err != nil {
		return nil, err
	}
	return out, nil
}

// find returns the first requirement named name (normalised), if any.
func find(reqs []Requirement, names ...string) (Requirement, bool) {
	for _, r := range reqs {
		for _, n := range names {
			if r.Name == NormalizeName(n) {
				return r, true
			}
		}
	}
	return Requirement{}, false
}

// extras lists the optional-dependency groups, sorted.
func (p *pyproject) extras() []string {
	var out []string
	for k := range p.Project.OptionalDependencies {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
