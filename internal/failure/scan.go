package failure

import (
	"bytes"
	"regexp"
	"strings"
	"unicode/utf8"
)

// Evidence shape: a few lines either side of the matching line, each cut
// short, the whole capped, so that a failure stays small enough for a job
// summary or a PR comment table however long the log's lines are.
const (
	ctxBefore   = 2
	ctxAfter    = 3
	ctxLineMax  = 300
	matchWindow = 600
	evidenceMax = 2048
)

// capture is one candidate evidence: a matching line and its context.
type capture struct {
	lineNo int64
	before []string
	line   string
	after  []string
	need   int // after-lines still to collect
}

// scan holds the state of one pass over a log. Memory is bounded by the
// rule count and the evidence shape, never by the log's size.
type scan struct {
	rs      *ruleSet
	ring    [ctxBefore][]byte
	ringN   int
	lineNo  int64
	partial bool // the previous fragment had no newline: same line continues
	first   []*capture
	voided  []bool
	bound   int // rules at or after this index cannot win any more
	pending []*capture
	errCap  errCapture
	frag    int64   // calls to line, counting each piece of an over-long line
	stamp   []int64 // per keyword: last frag it was queued for, to dedupe hits
	cand    []int   // keyword ids hit in this line
	errHit  bool
	low     []byte // the line lower-cased, for folded triggers
}

func newScan(rs *ruleSet) *scan {
	n := len(rs.rules)
	s := &scan{rs: rs, first: make([]*capture, n), voided: make([]bool, n), bound: n, stamp: make([]int64, len(rs.kwRule))}
	for i := range s.ring {
		s.ring[i] = make([]byte, 0, ctxLineMax)
	}
	return s
}

// done: the first rule matched for good and its evidence is complete, so
// the rest of the log cannot change the answer.
func (s *scan) done() bool { return s.bound == 0 && len(s.pending) == 0 }

var ansiRE = regexp.MustCompile(`\x1b\[[0-9;?]*[ -/]*[@-~]`)

func (s *scan) line(raw []byte) {
	if !s.partial {
		s.lineNo++
	}
	s.frag++
	s.partial = raw[len(raw)-1] != '\n'
	line := bytes.TrimRight(raw, "\r\n")

	if len(s.pending) > 0 {
		keep := s.pending[:0]
		for _, c := range s.pending {
			c.after = append(c.after, ctxText(line))
			if c.need--; c.need > 0 {
				keep = append(keep, c)
			}
		}
		s.pending = keep
	}
	if s.errCap.need > 0 {
		s.errCap.after[ctxAfter-s.errCap.need] = append(s.errCap.after[ctxAfter-s.errCap.need][:0], line[:min(len(line), ctxLineMax)]...)
		s.errCap.need--
	}

	s.cand, s.errHit = s.cand[:0], false
	s.rs.m.scan(line, s.hit)
	lowered := false
	for _, kw := range s.cand {
		i := s.rs.kwRule[kw]
		if i >= s.bound || s.first[i] != nil {
			continue
		}
		r := s.rs.rules[i]
		in := line
		if r.fold {
			if !lowered {
				s.low = append(s.low[:0], line...)
				for j, b := range s.low {
					s.low[j] = lower(b)
				}
				lowered = true
			}
			in = s.low
		}
		loc := matchTrigger(r.triggers[s.rs.kwSub[kw]], in)
		if loc == nil {
			continue
		}
		c := s.capture(line, loc)
		s.first[i] = c
		s.pending = append(s.pending, c)
		if len(r.Unless) == 0 && i < s.bound {
			s.bound = i
		}
	}
	if s.errHit && s.bound == len(s.rs.rules) {
		s.errCap.set(s, line)
	}

	// Keep the line as context for a match on the next lines.
	oldest := s.ring[0] // rotate, reusing the oldest buffer
	copy(s.ring[:], s.ring[1:])
	s.ring[ctxBefore-1] = oldest
	last := &s.ring[ctxBefore-1]
	*last = append((*last)[:0], line[:min(len(line), ctxLineMax)]...)
	s.ringN = min(s.ringN+1, ctxBefore)
}

func (s *scan) hit(kw int) {
	switch s.rs.kwKind[kw] {
	case kwPrefilter:
		if s.stamp[kw] != s.frag {
			s.stamp[kw] = s.frag
			s.cand = append(s.cand, kw)
		}
	case kwUnless:
		s.voided[s.rs.kwRule[kw]] = true
	case kwErrLine:
		s.errHit = true
	}
}

func (s *scan) capture(line []byte, loc []int) *capture {
	c := &capture{lineNo: s.lineNo, need: ctxAfter}
	for i := ctxBefore - s.ringN; i < ctxBefore; i++ {
		c.before = append(c.before, ctxText(s.ring[i]))
	}
	// A window around the match: the line may be a megabyte of progress bar.
	start := max(0, loc[0]-matchWindow/3)
	end := min(len(line), max(loc[1], start+matchWindow))
	if j := bytes.LastIndexByte(line[start:loc[0]], '\r'); j >= 0 {
		start += j + 1 // only the progress-bar redraw that holds the match
	}
	c.line = clean(line[start:end])
	return c
}

func ctxText(b []byte) string {
	if i := bytes.LastIndexByte(b, '\r'); i >= 0 {
		b = b[i+1:]
	}
	return clean(b[:min(len(b), ctxLineMax)])
}

func clean(b []byte) string {
	if bytes.IndexByte(b, 0x1b) >= 0 {
		b = ansiRE.ReplaceAll(b, nil)
	}
	return strings.ToValidUTF8(string(b), "")
}

func (c *capture) evidence() string {
	lines := append(append(append([]string(nil), c.before...), c.line), c.after...)
	ev := strings.Join(lines, "\n")
	if len(ev) > evidenceMax {
		ev = ev[:evidenceMax]
		for !utf8.ValidString(ev) {
			ev = ev[:len(ev)-1]
		}
	}
	return ev
}

func (s *scan) result() *Failure {
	for i, c := range s.first {
		if c == nil || s.voided[i] {
			continue
		}
		r := s.rs.rules[i]
		retriable := s.rs.byCategory[r.Category].Retriable
		if r.Retriable != nil {
			retriable = *r.Retriable
		}
		return &Failure{Category: r.Category, Retriable: retriable, Evidence: c.evidence(),
			RootCause: r.RootCause, Hint: r.Hint, Rule: r.Name, Line: c.lineNo}
	}
	info := s.rs.byCategory[Unknown]
	f := &Failure{Category: Unknown, RootCause: info.RootCause, Hint: info.Hint}
	if s.errCap.lineNo > 0 {
		f.Evidence, f.Line = s.errCap.capture().evidence(), s.errCap.lineNo
	}
	return f
}

// errCapture keeps the UNKNOWN fallback's evidence, the last error-looking
// line and its context, in reused buffers: such lines can be frequent
// ("ERROR" log levels) and only the last one is ever shown.
type errCapture struct {
	lineNo int64
	before [ctxBefore][]byte
	nb     int
	line   []byte
	after  [ctxAfter][]byte
	need   int
}

func (e *errCapture) set(s *scan, line []byte) {
	e.lineNo, e.need, e.nb = s.lineNo, ctxAfter, s.ringN
	for i := 0; i < s.ringN; i++ {
		e.before[i] = append(e.before[i][:0], s.ring[ctxBefore-s.ringN+i]...)
	}
	e.line = append(e.line[:0], line[:min(len(line), matchWindow)]...)
}

func (e *errCapture) capture() *capture {
	c := &capture{lineNo: e.lineNo, line: clean(e.line)}
	for i := 0; i < e.nb; i++ {
		c.before = append(c.before, ctxText(e.before[i]))
	}
	for i := 0; i < ctxAfter-e.need; i++ {
		c.after = append(c.after, ctxText(e.after[i]))
	}
	return c
}
