package failure

import (
	"bufio"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"sync"
)

// rules.json is the rule set, kept as data so that a new failure is a new
// entry plus a test case, not new code. Rules are tried in file order and
// the first rule that matches anywhere in the log wins, so root causes are
// listed before their consequences (an NCCL symbol error before the import
// error it raises; an import error before the server timeout it causes).
//
//go:embed rules.json
var rulesJSON []byte

// rule is one entry of rules.json.
type rule struct {
	Name     string   `json:"name"`
	Category Category `json:"category"`
	// Keywords are literals, matched ASCII case-insensitively; a line is
	// tried against Pattern only if it holds one of them.
	Keywords []string `json:"keywords"`
	Pattern  string   `json:"pattern"`
	// Retriable overrides the category's when set.
	Retriable *bool `json:"retriable,omitempty"`
	// Unless voids the rule when any of these literals appears anywhere in
	// the log (e.g. "waiting for the server" lines are no timeout once the
	// server said it was ready).
	Unless    []string `json:"unless,omitempty"`
	RootCause string   `json:"root_cause"`
	Hint      string   `json:"hint"`

	re       *regexp.Regexp     // the whole pattern: the rule's definition
	triggers [][]*regexp.Regexp // per keyword: the alternatives holding it (split.go)
	fold     bool               // triggers run on the lower-cased line
}

type categoryInfo struct {
	Name      Category `json:"name"`
	Retriable bool     `json:"retriable"`
	RootCause string   `json:"root_cause"`
	Hint      string   `json:"hint"`
}

type ruleSet struct {
	rules      []*rule
	categories []categoryInfo
	byCategory map[Category]categoryInfo
	m          *matcher
	// kwRule and kwKind say, per matcher keyword id, which rule it belongs
	// to and whether it is a prefilter keyword, an Unless literal or one of
	// the UNKNOWN fallback's error markers (kwErrLine, rule -1).
	kwRule []int
	kwKind []uint8
	kwSub  []int // index of the keyword within its rule (its trigger)
}

const (
	kwPrefilter uint8 = iota
	kwUnless
	kwErrLine
)

// errLineKeywords mark the line shown as evidence when no rule matches:
// the last one that looks like an error ("RuntimeError: ...", "ERROR: ...").
var errLineKeywords = []string{"error:", "exception:", "error ", "fatal"}

var loadRules = sync.OnceValues(func() (*ruleSet, error) { return parseRules(rulesJSON) })

func parseRules(data []byte) (*ruleSet, error) {
	var f struct {
		Categories []categoryInfo `json:"categories"`
		Rules      []*rule        `json:"rules"`
	}
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("rules.json: %w", err)
	}
	rs := &ruleSet{rules: f.Rules, categories: f.Categories, byCategory: map[Category]categoryInfo{}}
	for _, c := range f.Categories {
		rs.byCategory[c.Name] = c
	}
	var kws []string
	seen := map[string]bool{}
	for i, r := range f.Rules {
		if seen[r.Name] {
			return nil, fmt.Errorf("rules.json: rule %q appears twice", r.Name)
		}
		seen[r.Name] = true
		if _, ok := rs.byCategory[r.Category]; !ok {
			return nil, fmt.Errorf("rules.json: rule %q: category %q is not in categories", r.Name, r.Category)
		}
		if len(r.Keywords) == 0 {
			return nil, fmt.Errorf("rules.json: rule %q: no keywords; every rule needs a literal prefilter", r.Name)
		}
		re, err := regexp.Compile(r.Pattern)
		if err != nil {
			return nil, fmt.Errorf("rules.json: rule %q: pattern: %w", r.Name, err)
		}
		r.re = re
		if r.triggers, r.fold, err = compileTriggers(r); err != nil {
			return nil, fmt.Errorf("rules.json: rule %q: pattern split: %w", r.Name, err)
		}
		for j, k := range r.Keywords {
			if k == "" {
				return nil, fmt.Errorf("rules.json: rule %q: empty keyword", r.Name)
			}
			kws = append(kws, k)
			rs.kwRule, rs.kwKind, rs.kwSub = append(rs.kwRule, i), append(rs.kwKind, kwPrefilter), append(rs.kwSub, j)
		}
		for _, u := range r.Unless {
			kws = append(kws, u)
			rs.kwRule, rs.kwKind, rs.kwSub = append(rs.kwRule, i), append(rs.kwKind, kwUnless), append(rs.kwSub, -1)
		}
	}
	for _, k := range errLineKeywords {
		kws = append(kws, k)
		rs.kwRule, rs.kwKind, rs.kwSub = append(rs.kwRule, -1), append(rs.kwKind, kwErrLine), append(rs.kwSub, -1)
	}
	rs.m = newMatcher(kws)
	return rs, nil
}

func mustRules() *ruleSet {
	rs, err := loadRules()
	if err != nil {
		panic(err) // rules.json is embedded: TestRulesLoad catches this before any release
	}
	return rs
}

// Describe returns the root cause and fix hint of a category (for tables in publish).
func Describe(c Category) (rootCause, hint string) {
	info := mustRules().byCategory[c]
	return info.RootCause, info.Hint
}

// Retriable says whether a failure of category c is worth retrying as is.
func Retriable(c Category) bool { return mustRules().byCategory[c].Retriable }

// Categories returns every category in rule order: categories in the order
// of their first rule, then those no rule produces (METRICS_MISSING comes
// from the metrics check, UNKNOWN when nothing matches).
func Categories() []Category {
	rs := mustRules()
	var out []Category
	seen := map[Category]bool{}
	add := func(c Category) {
		if !seen[c] {
			seen[c] = true
			out = append(out, c)
		}
	}
	for _, r := range rs.rules {
		add(r.Category)
	}
	for _, c := range rs.categories {
		add(c.Name)
	}
	return out
}

// Classify reads a log as a stream (bounded memory, whole log, not just the
// tail) and returns the first-matching rule's failure; Category UNKNOWN
// (never nil) when nothing matches, with the last error-looking line as
// evidence. A read error ends the scan: what was read is classified.
func Classify(r io.Reader) *Failure {
	rs := mustRules()
	sc := newScan(rs)
	br := bufio.NewReaderSize(r, 64<<10)
	for !sc.done() {
		line, err := br.ReadSlice('\n')
		if len(line) > 0 {
			sc.line(line)
		}
		if err != nil && !errors.Is(err, bufio.ErrBufferFull) {
			break // EOF or a read error: classify what we have
		}
	}
	return sc.result()
}
