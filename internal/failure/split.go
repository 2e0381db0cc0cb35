package failure

import (
	"regexp"
	"strings"
)

// Go's regexp runs an alternation of 10 case-insensitive phrases over a
// 300-byte line in ~100 µs: fine for the rare line that holds a keyword,
// ruinous if a log repeats such a line (a warning per decode step). So each
// rule's pattern is split into its top-level alternatives, and a keyword
// triggers only the alternatives that contain it, each compiled alone; a
// case-insensitive pattern is folded to lower case and run on the line
// lowered once, which lets regexp use its literal-prefix scan. The whole
// pattern stays the definition: TestSplitMatchesWholePattern checks that
// both agree on every line of the corpus.

// splitAlternatives returns the top-level alternatives of p, after
// unwrapping one group that encloses all of it.
func splitAlternatives(p string) []string {
	if inner, ok := unwrapGroup(p); ok {
		p = inner
	}
	var alts []string
	depth, start := 0, 0
	for i := 0; i < len(p); i++ {
		switch c := p[i]; {
		case c == '\\':
			i++
		case c == '[':
			i = classEnd(p, i)
		case c == '(':
			depth++
		case c == ')':
			depth--
		case c == '|' && depth == 0:
			alts = append(alts, p[start:i])
			start = i + 1
		}
	}
	return append(alts, p[start:])
}

// unwrapGroup strips "(...)" or "(?:...)" when it spans all of p.
func unwrapGroup(p string) (string, bool) {
	if len(p) < 2 || p[0] != '(' || p[len(p)-1] != ')' || strings.HasPrefix(p, "(?P") || (strings.HasPrefix(p, "(?") && !strings.HasPrefix(p, "(?:")) {
		return p, false
	}
	depth := 0
	for i := 0; i < len(p); i++ {
		switch p[i] {
		case '\\':
			i++
		case '[':
			i = classEnd(p, i)
		case '(':
			depth++
		case ')':
			if depth--; depth == 0 && i != len(p)-1 {
				return p, false // "(a)|(b)": the first group closes early
			}
		}
	}
	if strings.HasPrefix(p, "(?:") {
		return p[3 : len(p)-1], true
	}
	return p[1 : len(p)-1], true
}

// classEnd returns the index of the ']' closing the class opened at i.
func classEnd(p string, i int) int {
	j := i + 1
	if j < len(p) && p[j] == '^' {
		j++
	}
	if j < len(p) && p[j] == ']' {
		j++
	}
	for ; j < len(p); j++ {
		if p[j] == '\\' {
			j++
		} else if p[j] == ']' {
			return j
		}
	}
	return len(p)
}

// literalText approximates the text an alternative matches literally,
// lower-cased: escaped punctuation kept, class escapes (\d, \s, \b) dropped.
func literalText(alt string) string {
	var b strings.Builder
	for i := 0; i < len(alt); i++ {
		c := alt[i]
		if c == '\\' && i+1 < len(alt) {
			i++
			if n := alt[i]; !('a' <= lower(n) && lower(n) <= 'z') {
				b.WriteByte(n)
			}
			continue
		}
		b.WriteByte(lower(c))
	}
	return b.String()
}

// foldPattern lower-cases a pattern's letters, leaving escapes (\S, \D)
// alone, for matching against a lower-cased line.
func foldPattern(p string) string {
	b := []byte(p)
	for i := 0; i < len(b); i++ {
		if b[i] == '\\' {
			i++
			continue
		}
		b[i] = lower(b[i])
	}
	return string(b)
}

// compileTriggers returns, per keyword of r, the alternatives to try when
// that keyword is in a line, each compiled on its own so that regexp can
// skip to its literal prefix; and whether they run on the lowered line.
func compileTriggers(r *rule) ([][]*regexp.Regexp, bool, error) {
	body, fold := strings.CutPrefix(r.Pattern, "(?i)")
	alts := splitAlternatives(body)
	compiled := make([]*regexp.Regexp, len(alts))
	for i, a := range alts {
		if fold {
			a = foldPattern(a)
		}
		re, err := regexp.Compile(a)
		if err != nil {
			return nil, false, err
		}
		compiled[i] = re
	}
	res := make([][]*regexp.Regexp, len(r.Keywords))
	for j, k := range r.Keywords {
		for i, a := range alts {
			if strings.Contains(literalText(a), strings.ToLower(k)) {
				res[j] = append(res[j], compiled[i])
			}
		}
		if len(res[j]) == 0 {
			res[j] = compiled // the keyword names no alternative: try them all
		}
	}
	return res, fold, nil
}

// matchTrigger returns the first match of any of res in line.
func matchTrigger(res []*regexp.Regexp, line []byte) []int {
	for _, re := range res {
		if loc := re.FindIndex(line); loc != nil {
			return loc
		}
	}
	return nil
}
