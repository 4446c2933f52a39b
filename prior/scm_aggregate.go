package prior

import "math"

// How an SCM node combines its parents. Most nodes pass each parent through
// its own edge function and aggregate the contributions (additive effects,
// weighted blends, saturating joint responses, "weakest link" products,
// "strongest cause" maxima, soft maxima); the rest use a joint mechanism
// that cannot be split per parent: a quadratic form (pairwise
// interactions), the product of two edge functions (modulation, e.g. price
// times quantity), or a tree over several parents (rules on combinations).

// scmMechanism computes a node's raw (unstandardised) values from its
// parents' standardised columns.
type scmMechanism interface {
	compute(parents [][]float64, out []float64)
	// describe names the mechanism, the aggregation ("" for joint ones) and
	// the edge families used.
	describe() (mech, agg string, edges []string)
}

// scmAggKinds are the aggregations of per-parent contributions.
var scmAggKinds = []string{"mean", "dirichlet", "tanh_mlp", "clipped_product", "max", "logsumexp"}

var scmAggWeights = []float64{0.3, 0.25, 0.15, 0.1, 0.1, 0.1}

// scmJointKinds are the joint mechanisms.
var scmJointKinds = []string{"quadratic_form", "product", "tree"}

// newSCMMechanism draws a mechanism for a node with the given parent columns.
// pJoint is the table's probability of a joint mechanism.
func newSCMMechanism(r Source, parents [][]float64, pJoint float64) scmMechanism {
	k := len(parents)
	if Bernoulli(r, pJoint) {
		kind := Choice(r, scmJointKinds)
		switch {
		case kind == "quadratic_form" && k >= 2:
			return newQuadForm(r, k)
		case kind == "tree" && k >= 2:
			return &mechTree{t: growRandomTree(r, parents, IntRange(r, 2, 6), nil, nil)}
		case kind == "product" || k == 1:
			a, b := r.Intn(k), r.Intn(k)
			if k >= 2 {
				for b == a {
					b = r.Intn(k)
				}
			}
			return &mechProduct{ia: a, ib: b, fa: newSCMEdge(r, parents[a]), fb: newSCMEdge(r, parents[b])}
		}
	}
	m := &mechEdges{edges: make([]scmFunc, k), agg: "mean"}
	for i, p := range parents {
		m.edges[i] = newSCMEdge(r, p)
	}
	if k == 1 {
		return m
	}
	m.agg = WeightedChoice(r, scmAggKinds, scmAggWeights)
	switch m.agg {
	case "dirichlet":
		m.w = DirichletSym(r, k, 1)
	case "tanh_mlp":
		h := IntRange(r, 2, 6)
		m.hidden = h
		m.w = make([]float64, h*k)
		m.b = make([]float64, h)
		m.v = make([]float64, h)
		for i := range m.w {
			m.w[i] = Normal(r, 0, 1/math.Sqrt(float64(k)))
		}
		for i := range m.b {
			m.b[i] = Normal(r, 0, 0.5)
			m.v[i] = Normal(r, 0, 1)
		}
	case "clipped_product":
		m.clip = LogUniform(r, 2, 10)
	}
	return m
}

// mechEdges applies one edge function per parent and aggregates.
type mechEdges struct {
	edges  []scmFunc
	agg    string
	w      []float64 // Dirichlet weights, or the tanh MLP's hidden x parents weights
	b, v   []float64 // tanh MLP biases and output weights
	hidden int
	clip   float64 // clipped product bound
}

func (m *mechEdges) describe() (string, string, []string) {
	kinds := make([]string, len(m.edges))
	for i, e := range m.edges {
		kinds[i] = e.kind()
	}
	return "edges", m.agg, kinds
}

func (m *mechEdges) compute(parents [][]float64, out []float64) {
	k, n := len(parents), len(out)
	if k == 1 {
		m.edges[0].apply(parents[0], out)
		return
	}
	contrib := make([]float64, k*n)
	for j, e := range m.edges {
		e.apply(parents[j], contrib[j*n:(j+1)*n])
	}
	c := func(j int) []float64 { return contrib[j*n : (j+1)*n] }
	switch m.agg {
	case "mean", "dirichlet":
		for i := range out {
			out[i] = 0
		}
		for j := 0; j < k; j++ {
			w := 1 / float64(k)
			if m.agg == "dirichlet" {
				w = m.w[j]
			}
			for i, v := range c(j) {
				out[i] += w * v
			}
		}
	case "tanh_mlp":
		for i := range out {
			out[i] = 0
		}
		h := make([]float64, n)
		for u := 0; u < m.hidden; u++ {
			for i := range h {
				h[i] = m.b[u]
			}
			for j := 0; j < k; j++ {
				w := m.w[u*k+j]
				for i, v := range c(j) {
					h[i] += w * v
				}
			}
			vu := m.v[u]
			for i, v := range h {
				out[i] += vu * math.Tanh(v)
			}
		}
	case "clipped_product":
		for i := range out {
			out[i] = 1
		}
		for j := 0; j < k; j++ {
			for i, v := range c(j) {
				out[i] *= math.Max(-m.clip, math.Min(m.clip, v))
			}
		}
	case "max":
		copy(out, c(0))
		for j := 1; j < k; j++ {
			for i, v := range c(j) {
				out[i] = math.Max(out[i], v)
			}
		}
	case "logsumexp":
		copy(out, c(0))
		for j := 1; j < k; j++ {
			for i, v := range c(j) {
				out[i] = math.Max(out[i], v)
			}
		}
		for i, mx := range out {
			s := 0.0
			for j := 0; j < k; j++ {
				s += math.Exp(contrib[j*n+i] - mx)
			}
			out[i] = mx + math.Log(s)
		}
	default:
		panic("prior: unknown SCM aggregation " + m.agg)
	}
}

// mechQuadForm is sum_{i<=j} A_ij p_i p_j + sum_i b_i p_i over the parents.
type mechQuadForm struct {
	a []float64 // upper triangle, row-major over i <= j
	b []float64
}

func newQuadForm(r Source, k int) *mechQuadForm {
	m := &mechQuadForm{b: make([]float64, k)}
	for i := 0; i < k; i++ {
		for j := i; j < k; j++ {
			m.a = append(m.a, Normal(r, 0, 1/float64(k)))
		}
		m.b[i] = Normal(r, 0, 0.5)
	}
	return m
}

func (m *mechQuadForm) describe() (string, string, []string) { return "quadratic_form", "", nil }

func (m *mechQuadForm) compute(parents [][]float64, out []float64) {
	k := len(parents)
	for i := range out {
		out[i] = 0
	}
	q := 0
	for a := 0; a < k; a++ {
		pa := parents[a]
		ba := m.b[a]
		for i, v := range pa {
			out[i] += ba * v
		}
		for b := a; b < k; b++ {
			w := m.a[q]
			q++
			pb := parents[b]
			for i, v := range pa {
				out[i] += w * v * pb[i]
			}
		}
	}
}

// mechProduct is fa(p_ia) * fb(p_ib).
type mechProduct struct {
	ia, ib int
	fa, fb scmFunc
}

func (m *mechProduct) describe() (string, string, []string) {
	return "product", "", []string{m.fa.kind(), m.fb.kind()}
}

func (m *mechProduct) compute(parents [][]float64, out []float64) {
	tmp := make([]float64, len(out))
	m.fa.apply(parents[m.ia], out)
	m.fb.apply(parents[m.ib], tmp)
	for i, v := range tmp {
		out[i] *= v
	}
}

// mechTree is a random regression tree over all parents.
type mechTree struct{ t *randomTree }

func (m *mechTree) describe() (string, string, []string) { return "tree", "", nil }

func (m *mechTree) compute(parents [][]float64, out []float64) { m.t.eval(parents, out) }
