package prior

import "math"

// Edge functions of the SCM: each maps one standardised parent column to a
// contribution to its child. They imitate the shapes real dependencies take:
// smooth nonlinear responses (small MLPs), thresholds and regimes (trees,
// piecewise linear), saturation (dose-response, sigmoid/softplus/hinge),
// polynomial growth, seasonality (periodic), optima (RBF bumps) and
// multiplicative/log scales (signed log/exp). Every function is total on
// finite inputs and bounded by a finite value for inputs in [-100, 100].

// scmFunc is a vectorised scalar function: out[i] = f(x[i]).
type scmFunc interface {
	apply(x, out []float64)
	kind() string
}

// scmEdgeKinds are the edge families, in the order of scmEdgeWeights.
var scmEdgeKinds = []string{"mlp", "tree", "saturating", "piecewise", "poly", "periodic", "rbf", "signed_log", "signed_exp"}

var scmEdgeWeights = []float64{0.18, 0.12, 0.12, 0.12, 0.10, 0.10, 0.09, 0.09, 0.08}

// newSCMEdge draws an edge function of a random family. x is the parent
// column (trees place their thresholds at its quantiles).
func newSCMEdge(r Source, x []float64) scmFunc {
	return newSCMEdgeOfKind(r, WeightedChoice(r, scmEdgeKinds, scmEdgeWeights), x)
}

// newSCMEdgeOfKind draws an edge function of the given family.
func newSCMEdgeOfKind(r Source, kind string, x []float64) scmFunc {
	switch kind {
	case "mlp":
		return newEdgeMLP(r)
	case "tree":
		return &edgeTree{t: growRandomTree(r, [][]float64{x}, IntRange(r, 2, 6), nil, nil)}
	case "saturating":
		return &edgeSaturating{form: Choice(r, []string{"sigmoid", "softplus", "hinge"}),
			aff: newAffine(r, 0.5, 3), amp: randSign(r) * LogUniform(r, 0.5, 2)}
	case "piecewise":
		segs := IntRange(r, 2, 5)
		e := &edgePiecewise{knots: make([]float64, segs-1), slopes: make([]float64, segs)}
		for i := range e.knots {
			e.knots[i] = Normal(r, 0, 1)
		}
		sortFloats(e.knots)
		for i := range e.slopes {
			e.slopes[i] = Normal(r, 0, 1)
		}
		return e
	case "poly":
		deg := IntRange(r, 2, 4)
		e := &edgePoly{aff: newAffine(r, 0.3, 1.5), coef: make([]float64, deg+1)}
		for k := 1; k <= deg; k++ {
			e.coef[k] = Normal(r, 0, 1) / float64(k)
		}
		return e
	case "periodic":
		return &edgePeriodic{amp: LogUniform(r, 0.5, 2), freq: LogUniform(r, 0.5, 4), phase: Uniform(r, 0, 2*math.Pi)}
	case "rbf":
		return &edgeRBF{amp: randSign(r) * LogUniform(r, 0.5, 2), center: Normal(r, 0, 1), width: LogUniform(r, 0.3, 2)}
	case "signed_log":
		return &edgeSignedLog{aff: newAffine(r, 0.5, 5)}
	case "signed_exp":
		return &edgeSignedExp{aff: newAffine(r, 0.3, 1.5)}
	}
	panic("prior: unknown SCM edge kind " + kind)
}

// randSign returns +1 or -1 with equal probability.
func randSign(r Source) float64 {
	if r.Uint64()&1 == 0 {
		return 1
	}
	return -1
}

// affine is the input map u = a*x + b applied before a nonlinearity, so a
// family's kink, bend or knee falls at a random place and with a random
// direction and sharpness.
type affine struct{ a, b float64 }

// newAffine draws a random sign, a log-uniform slope in [lo, hi) and an
// offset of about one standard deviation.
func newAffine(r Source, lo, hi float64) affine {
	return affine{a: randSign(r) * LogUniform(r, lo, hi), b: Normal(r, 0, 0.7)}
}

// sortFloats sorts a short slice in place (insertion sort: knots are few).
func sortFloats(a []float64) {
	for i := 1; i < len(a); i++ {
		for j := i; j > 0 && a[j] < a[j-1]; j-- {
			a[j], a[j-1] = a[j-1], a[j]
		}
	}
}

// Activations of the MLP edges and the TabICL-style SCM.
var scmActivations = []string{"tanh", "relu", "leaky_relu", "sigmoid", "sin", "softplus", "elu", "abs", "square"}

// applyActivation applies the named activation to buf in place; the switch
// sits outside the row loop.
func applyActivation(act string, buf []float64) {
	switch act {
	case "tanh":
		for i, v := range buf {
			buf[i] = math.Tanh(v)
		}
	case "relu":
		for i, v := range buf {
			buf[i] = math.Max(v, 0)
		}
	case "leaky_relu":
		for i, v := range buf {
			if v < 0 {
				buf[i] = 0.1 * v
			}
		}
	case "sigmoid":
		for i, v := range buf {
			buf[i] = 1 / (1 + math.Exp(-v))
		}
	case "sin":
		for i, v := range buf {
			buf[i] = math.Sin(v)
		}
	case "softplus":
		for i, v := range buf {
			buf[i] = softplus(v)
		}
	case "elu":
		for i, v := range buf {
			if v < 0 {
				buf[i] = math.Expm1(v)
			}
		}
	case "abs":
		for i, v := range buf {
			buf[i] = math.Abs(v)
		}
	case "square":
		// Bounded so that stacked layers cannot square their way to Inf.
		for i, v := range buf {
			v = math.Max(-1e3, math.Min(1e3, v))
			buf[i] = v * v
		}
	default:
		panic("prior: unknown activation " + act)
	}
}

// softplus is log(1 + e^v), computed without overflow.
func softplus(v float64) float64 { return math.Max(v, 0) + math.Log1p(math.Exp(-math.Abs(v))) }

// edgeMLP is a scalar-to-scalar MLP with 1-3 hidden layers of 2-6 units, one
// random activation, and the output squashed as 50*tanh(out/50) so a steep
// network cannot dominate its child.
type edgeMLP struct {
	act    string
	w1, b1 []float64   // first layer: unit j computes act(w1[j]*x + b1[j])
	ws     [][]float64 // later layers, row-major width x width
	bs     [][]float64
	out    []float64
	outB   float64
	layers int
}

func newEdgeMLP(r Source) *edgeMLP {
	h := IntRange(r, 2, 6)
	e := &edgeMLP{act: Choice(r, scmActivations), layers: IntRange(r, 1, 3),
		w1: make([]float64, h), b1: make([]float64, h), out: make([]float64, h)}
	for j := 0; j < h; j++ {
		e.w1[j] = Normal(r, 0, 1.5)
		e.b1[j] = Normal(r, 0, 1)
		e.out[j] = Normal(r, 0, 1/math.Sqrt(float64(h)))
	}
	for l := 1; l < e.layers; l++ {
		w, b := make([]float64, h*h), make([]float64, h)
		for i := range w {
			w[i] = Normal(r, 0, 1.5/math.Sqrt(float64(h)))
		}
		for i := range b {
			b[i] = Normal(r, 0, 0.5)
		}
		e.ws, e.bs = append(e.ws, w), append(e.bs, b)
	}
	e.outB = Normal(r, 0, 0.1)
	return e
}

func (e *edgeMLP) kind() string { return "mlp" }

func (e *edgeMLP) apply(x, out []float64) {
	h, n := len(e.w1), len(x)
	hid := make([]float64, 2*h*n)
	cur, nxt := hid[:h*n], hid[h*n:]
	for j := 0; j < h; j++ {
		c := cur[j*n : (j+1)*n]
		w, b := e.w1[j], e.b1[j]
		for i, v := range x {
			c[i] = w*v + b
		}
		applyActivation(e.act, c)
	}
	for l := range e.ws {
		w, b := e.ws[l], e.bs[l]
		for j := 0; j < h; j++ {
			c := nxt[j*n : (j+1)*n]
			for i := range c {
				c[i] = b[j]
			}
			for k := 0; k < h; k++ {
				wk := w[j*h+k]
				src := cur[k*n : (k+1)*n]
				for i, v := range src {
					c[i] += wk * v
				}
			}
			applyActivation(e.act, c)
		}
		cur, nxt = nxt, cur
	}
	for i := range out {
		out[i] = e.outB
	}
	for k := 0; k < h; k++ {
		v := e.out[k]
		src := cur[k*n : (k+1)*n]
		for i, s := range src {
			out[i] += v * s
		}
	}
	for i, v := range out {
		out[i] = 50 * math.Tanh(v/50)
	}
}

// edgeTree is a random regression tree on the parent alone (a step function
// with up to 2^depth levels): regimes and thresholds.
type edgeTree struct{ t *randomTree }

func (e *edgeTree) kind() string { return "tree" }

func (e *edgeTree) apply(x, out []float64) { e.t.eval([][]float64{x}, out) }

// edgeSaturating is a sigmoid, softplus or hinge of an affine map of x.
type edgeSaturating struct {
	form string
	aff  affine
	amp  float64
}

func (e *edgeSaturating) kind() string { return "saturating" }

func (e *edgeSaturating) apply(x, out []float64) {
	a, b, amp := e.aff.a, e.aff.b, e.amp
	switch e.form {
	case "sigmoid":
		for i, v := range x {
			out[i] = amp / (1 + math.Exp(-(a*v + b)))
		}
	case "softplus":
		for i, v := range x {
			out[i] = amp * softplus(a*v+b)
		}
	default: // hinge
		for i, v := range x {
			out[i] = amp * math.Max(a*v+b, 0)
		}
	}
}

// edgePiecewise is a continuous piecewise-linear function with 2-5 segments.
type edgePiecewise struct{ knots, slopes []float64 }

func (e *edgePiecewise) kind() string { return "piecewise" }

func (e *edgePiecewise) apply(x, out []float64) {
	s0 := e.slopes[0]
	for i, v := range x {
		out[i] = s0 * v
	}
	for k, knot := range e.knots {
		d := e.slopes[k+1] - e.slopes[k]
		for i, v := range x {
			if v > knot {
				out[i] += d * (v - knot)
			}
		}
	}
}

// edgePoly is a polynomial of degree 2-4 in an affine map of x.
type edgePoly struct {
	aff  affine
	coef []float64 // coef[k] multiplies u^k; coef[0] = 0
}

func (e *edgePoly) kind() string { return "poly" }

func (e *edgePoly) apply(x, out []float64) {
	a, b := e.aff.a, e.aff.b
	for i, v := range x {
		u := a*v + b
		acc := 0.0
		for k := len(e.coef) - 1; k >= 1; k-- {
			acc = (acc + e.coef[k]) * u
		}
		out[i] = acc
	}
}

// edgePeriodic is A*sin(f*x + phi).
type edgePeriodic struct{ amp, freq, phase float64 }

func (e *edgePeriodic) kind() string { return "periodic" }

func (e *edgePeriodic) apply(x, out []float64) {
	for i, v := range x {
		out[i] = e.amp * math.Sin(e.freq*v+e.phase)
	}
}

// edgeRBF is a Gaussian bump A*exp(-(x-c)^2 / (2w^2)).
type edgeRBF struct{ amp, center, width float64 }

func (e *edgeRBF) kind() string { return "rbf" }

func (e *edgeRBF) apply(x, out []float64) {
	k := -0.5 / (e.width * e.width)
	for i, v := range x {
		d := v - e.center
		out[i] = e.amp * math.Exp(k*d*d)
	}
}

// edgeSignedLog is sign(u)*log(1+|u|) of an affine map u of x.
type edgeSignedLog struct{ aff affine }

func (e *edgeSignedLog) kind() string { return "signed_log" }

func (e *edgeSignedLog) apply(x, out []float64) {
	for i, v := range x {
		u := e.aff.a*v + e.aff.b
		out[i] = math.Copysign(math.Log1p(math.Abs(u)), u)
	}
}

// edgeSignedExp is sign(u)*(exp(|u|)-1) of an affine map u of x, with |u|
// capped at 30 so the value stays below 1.1e13.
type edgeSignedExp struct{ aff affine }

func (e *edgeSignedExp) kind() string { return "signed_exp" }

func (e *edgeSignedExp) apply(x, out []float64) {
	for i, v := range x {
		u := e.aff.a*v + e.aff.b
		out[i] = math.Copysign(math.Expm1(math.Min(math.Abs(u), 30)), u)
	}
}
