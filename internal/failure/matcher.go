package failure

// matcher finds every occurrence of a set of literal keywords in one pass
// over a line, ASCII case-insensitively: an Aho-Corasick automaton compiled
// to a dense DFA. It is the prefilter that keeps Classify near memory speed
// on multi-GB logs: one table lookup per byte whatever the number of
// keywords, where a bytes.Contains per keyword would rescan every line once
// for each of the ~200 keywords. Regular expressions run only on lines that
// hold a keyword of their rule.
type matcher struct {
	class  [256]uint16 // byte -> input class; letters folded, unused bytes share class 0
	nclass int
	// delta[s+c] is the next state's offset (state×nclass), with hasOut set
	// when that state ends at least one keyword.
	delta []uint32
	out   map[uint32][]int // state offset -> keyword ids ending there
}

const hasOut = 1 << 31

func lower(b byte) byte {
	if 'A' <= b && b <= 'Z' {
		return b + 'a' - 'A'
	}
	return b
}

func newMatcher(keywords []string) *matcher {
	m := &matcher{out: map[uint32][]int{}}
	// Input classes: one per distinct (folded) byte used by a keyword.
	m.nclass = 1
	for _, k := range keywords {
		for i := 0; i < len(k); i++ {
			c := lower(k[i])
			if m.class[c] == 0 {
				m.class[c] = uint16(m.nclass)
				m.nclass++
			}
		}
	}
	for c := 'A'; c <= 'Z'; c++ {
		m.class[c] = m.class[c+'a'-'A']
	}
	// Trie.
	type node struct {
		next map[uint16]int
		fail int
		out  []int
	}
	nodes := []node{{next: map[uint16]int{}}}
	for id, k := range keywords {
		s := 0
		for i := 0; i < len(k); i++ {
			c := m.class[lower(k[i])]
			n, ok := nodes[s].next[c]
			if !ok {
				n = len(nodes)
				nodes = append(nodes, node{next: map[uint16]int{}})
				nodes[s].next[c] = n
			}
			s = n
		}
		nodes[s].out = append(nodes[s].out, id)
	}
	// Failure links breadth first, then the dense DFA.
	m.delta = make([]uint32, len(nodes)*m.nclass)
	queue := []int{0}
	for len(queue) > 0 {
		s := queue[0]
		queue = queue[1:]
		if s != 0 {
			nodes[s].out = append(nodes[s].out, nodes[nodes[s].fail].out...)
		}
		for c := 0; c < m.nclass; c++ {
			n, ok := nodes[s].next[uint16(c)]
			switch {
			case ok:
				if s != 0 {
					nodes[n].fail = int(m.delta[nodes[s].fail*m.nclass+c] &^ hasOut / uint32(m.nclass))
				}
				queue = append(queue, n)
			case s == 0:
				n = 0
			default:
				n = int(m.delta[nodes[s].fail*m.nclass+c] &^ hasOut / uint32(m.nclass))
			}
			m.delta[s*m.nclass+c] = uint32(n * m.nclass)
		}
	}
	// Mark transitions into accepting states (their out lists are complete
	// now that every failure chain has been merged).
	for i, t := range m.delta {
		if st := int(t) / m.nclass; len(nodes[st].out) > 0 {
			m.delta[i] = t | hasOut
			m.out[t] = nodes[st].out
		}
	}
	return m
}

// scan calls hit for each keyword occurrence in line (a keyword may be
// reported more than once).
func (m *matcher) scan(line []byte, hit func(kw int)) {
	var s uint32
	d, cl := m.delta, &m.class
	for _, b := range line {
		t := d[s+uint32(cl[b])]
		s = t &^ hasOut
		if t&hasOut != 0 {
			for _, k := range m.out[s] {
				hit(k)
			}
		}
	}
}
