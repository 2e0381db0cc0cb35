package verdict

import (
	"cmp"
	"math"
	"slices"
	"strings"

	"github.com/commitbench/commitbench/internal/failure"
	"github.com/commitbench/commitbench/internal/result"
)

// MaxErrorCases caps the case names kept per error category: the table
// must stay readable (and bounded) for a nightly of thousands of cases.
const MaxErrorCases = 20

// Aggregate accumulates cases as they stream past; it keeps counts and
// running sums, never the cases.
type Aggregate struct {
	Total, Successful, Failed int
	// WithMetrics counts cases whose variant succeeded with metrics.
	WithMetrics map[string]int
	// Counts is the headline class per comparison.
	Counts map[Pair]map[Class]int
	// GSOPass of GSOTotal cases with a measured agent meet GSO's rule.
	GSOPass, GSOTotal int
	means             [3]harmonic
	// ErrorGroups by category, in first-seen order (see ErrorTable).
	groups map[failure.Category]*ErrorGroup
	order  []failure.Category
	// Regressions are cases whose human-vs-baseline headline is Worse.
	Regressions []string
	// Describe gives a category's stock root cause and fix
	// (failure.Describe); tests pin it so goldens do not move when the
	// wording there does.
	Describe func(failure.Category) (rootCause, hint string)
}

// ErrorGroup is one row of the error table.
type ErrorGroup struct {
	Category failure.Category
	// Count is the number of cases with at least one variant in Category.
	Count int
	// Cases are "id (variants)", at most MaxErrorCases; More the rest.
	Cases []string
	More  int
	// RootCause and Hint: from failure.Describe, else from the first
	// failure seen in this category.
	RootCause, Hint string
}

// Mean is a harmonic mean of speedups with its count.
type Mean struct {
	Value float64
	N     int
}

type harmonic struct {
	inv float64
	n   int
}

func (h *harmonic) add(x float64) {
	if x > 0 {
		h.inv += 1 / x
		h.n++
	}
}

func (h harmonic) mean() Mean {
	if h.n == 0 {
		return Mean{Value: math.NaN()}
	}
	return Mean{Value: float64(h.n) / h.inv, N: h.n}
}

// NewAggregate returns an empty aggregate.
func NewAggregate() *Aggregate {
	a := &Aggregate{WithMetrics: map[string]int{}, Counts: map[Pair]map[Class]int{}, groups: map[failure.Category]*ErrorGroup{},
		Describe: failure.Describe}
	for _, p := range Pairs {
		a.Counts[p] = map[Class]int{}
	}
	return a
}

// Add folds one case in.
func (a *Aggregate) Add(c *Case) {
	a.Total++
	if c.Successful() {
		a.Successful++
	} else {
		a.Failed++
	}
	for _, v := range c.Variants {
		if v.Measured() {
			a.WithMetrics[v.Name]++
		}
	}
	for _, p := range Pairs {
		a.Counts[p][c.Class(p)]++
	}
	if c.Class(HumanVsBaseline) == Worse {
		a.Regressions = append(a.Regressions, c.ID)
	}
	if pass, ok := c.GSO(); ok {
		a.GSOTotal++
		if pass {
			a.GSOPass++
		}
	}
	h, ag, r := c.Speedups()
	a.means[0].add(h)
	a.means[1].add(ag)
	a.means[2].add(r)
	a.addErrors(c)
}

func (a *Aggregate) addErrors(c *Case) {
	byCat := map[failure.Category][]string{}
	var cats []failure.Category
	for _, v := range c.Variants {
		if !v.Broken() {
			continue
		}
		cat := v.Category()
		if _, ok := byCat[cat]; !ok {
			cats = append(cats, cat)
		}
		byCat[cat] = append(byCat[cat], v.Name)
		g := a.group(cat)
		// Fall back to the classifier's own words when the category has
		// no stock description.
		if v.Failure != nil && g.RootCause == "" {
			g.RootCause = v.Failure.RootCause
		}
		if v.Failure != nil && g.Hint == "" {
			g.Hint = v.Failure.Hint
		}
	}
	if c.RunStatus == result.RunCancelled && len(cats) == 0 {
		cats = append(cats, failure.Cancelled)
		byCat[failure.Cancelled] = []string{"run"}
	}
	for _, cat := range cats {
		g := a.group(cat)
		g.Count++
		if len(g.Cases) < MaxErrorCases {
			g.Cases = append(g.Cases, c.ID+" ("+strings.Join(byCat[cat], ", ")+")")
		} else {
			g.More++
		}
	}
}

// group returns cat's row, adding it in first-seen order with the stock
// description when cat is new.
func (a *Aggregate) group(cat failure.Category) *ErrorGroup {
	g := a.groups[cat]
	if g == nil {
		g = &ErrorGroup{Category: cat}
		g.RootCause, g.Hint = a.Describe(cat)
		a.groups[cat] = g
		a.order = append(a.order, cat)
	}
	return g
}

// ErrorTable returns the error table rows, most frequent first (ties in
// category order, so the table is stable).
func (a *Aggregate) ErrorTable() []*ErrorGroup {
	out := make([]*ErrorGroup, 0, len(a.order))
	for _, c := range a.order {
		out = append(out, a.groups[c])
	}
	slices.SortFunc(out, func(x, y *ErrorGroup) int {
		return cmp.Or(cmp.Compare(y.Count, x.Count), cmp.Compare(x.Category, y.Category))
	})
	return out
}

// HumanSpeedup, AgentSpeedup and SpeedupRatio are the harmonic means of the
// headline speedups (see Case.Speedups for what counts).
func (a *Aggregate) HumanSpeedup() Mean { return a.means[0].mean() }
func (a *Aggregate) AgentSpeedup() Mean { return a.means[1].mean() }
func (a *Aggregate) SpeedupRatio() Mean { return a.means[2].mean() }
