package nori

import "math"

// The per-column adaptive transform of ensemble members 4-7 (the second half
// of the ensemble), chosen from the column's training values:
//
//   - fewer than 10 distinct values: identity (codes and counts stay exact);
//   - all values >= 0 and skewness > 5: log1p (applied as sign(x)*log1p(|x|)
//     so that a negative query value cannot give NaN);
//   - skewness > 2: Box-Cox when every value is > 0, else Yeo-Johnson, with
//     lambda by maximum likelihood on [-3, 3], after dividing by the column's
//     std (Box-Cox's lambda is scale-free; the scaling keeps x^lambda finite);
//   - skewness < -2: exp((x - max)/std) or Yeo-Johnson, whichever leaves the
//     smaller absolute skewness on the training values;
//   - otherwise: quantile transform to a standard normal (n/5 percentiles,
//     at most 256).
//
// It is fitted on at most adaptiveFitRows non-missing values (a seeded sample
// when there are more). Missing values stay missing.

const (
	adaptiveFitRows   = 2000
	adaptiveMinUnique = 10
	lambdaMin         = -3.0
	lambdaMax         = 3.0
)

type adaptiveKind uint8

const (
	adaptIdentity adaptiveKind = iota
	adaptLog1p
	adaptBoxCox
	adaptYeoJohnson
	adaptExp
	adaptQuantileNormal
)

func (k adaptiveKind) String() string {
	return [...]string{"identity", "log1p", "box-cox", "yeo-johnson", "exp", "quantile-normal"}[k]
}

type adaptiveTransform struct {
	kind   adaptiveKind
	lambda float64 // Box-Cox / Yeo-Johnson
	scale  float64 // divisor applied first (Box-Cox, Yeo-Johnson, exp)
	shift  float64 // exp: the training maximum; Box-Cox: the smallest input allowed
	qt     *quantileTransform
}

// fitAdaptive chooses and fits the transform on non-missing values (not
// modified, at least one).
func fitAdaptive(vals []float64) *adaptiveTransform {
	if countDistinct(vals) < adaptiveMinUnique {
		return &adaptiveTransform{kind: adaptIdentity}
	}
	_, std, skew := momentStats(vals)
	lo, hi := minMax(vals)
	scale := std
	if !(scale > 0) || math.IsInf(scale, 0) {
		scale = 1
	}
	switch {
	case lo >= 0 && skew > 5:
		return &adaptiveTransform{kind: adaptLog1p}
	case skew > 2 && lo > 0:
		t := &adaptiveTransform{kind: adaptBoxCox, scale: scale, shift: 0.5 * lo / scale}
		t.lambda = maxLikelihoodLambda(vals, scale, boxCox, boxCoxLogJacobian)
		return t
	case skew > 2:
		t := &adaptiveTransform{kind: adaptYeoJohnson, scale: scale}
		t.lambda = maxLikelihoodLambda(vals, scale, yeoJohnson, yeoJohnsonLogJacobian)
		return t
	case skew < -2:
		yj := &adaptiveTransform{kind: adaptYeoJohnson, scale: scale}
		yj.lambda = maxLikelihoodLambda(vals, scale, yeoJohnson, yeoJohnsonLogJacobian)
		ex := &adaptiveTransform{kind: adaptExp, scale: scale, shift: hi}
		if math.Abs(transformedSkew(ex, vals)) < math.Abs(transformedSkew(yj, vals)) {
			return ex
		}
		return yj
	default:
		return &adaptiveTransform{kind: adaptQuantileNormal, qt: fitQuantile(vals, nQuantiles(len(vals)), true)}
	}
}

func transformedSkew(t *adaptiveTransform, vals []float64) float64 {
	out := make([]float64, len(vals))
	for i, v := range vals {
		out[i] = t.apply(v)
	}
	_, _, s := momentStats(out)
	return s
}

// apply transforms one value; NaN stays NaN.
func (t *adaptiveTransform) apply(v float64) float64 {
	if math.IsNaN(v) {
		return v
	}
	switch t.kind {
	case adaptLog1p:
		return math.Copysign(math.Log1p(math.Abs(v)), v)
	case adaptBoxCox:
		return boxCox(max(v/t.scale, t.shift), t.lambda)
	case adaptYeoJohnson:
		return yeoJohnson(v/t.scale, t.lambda)
	case adaptExp:
		return math.Exp(min((v-t.shift)/t.scale, 10))
	case adaptQuantileNormal:
		return t.qt.apply(v)
	}
	return v
}

// boxCox is (x^l - 1)/l, log x at l = 0; x > 0.
func boxCox(x, l float64) float64 {
	if math.Abs(l) < 1e-12 {
		return math.Log(x)
	}
	return math.Expm1(l*math.Log(x)) / l
}

// boxCoxInverse inverts boxCox.
func boxCoxInverse(y, l float64) float64 {
	if math.Abs(l) < 1e-12 {
		return math.Exp(y)
	}
	return math.Exp(math.Log1p(l*y) / l)
}

func boxCoxLogJacobian(x float64) float64 { return math.Log(x) }

// yeoJohnson is the Yeo-Johnson power transform, defined for every real x.
func yeoJohnson(x, l float64) float64 {
	if x >= 0 {
		if math.Abs(l) < 1e-12 {
			return math.Log1p(x)
		}
		return math.Expm1(l*math.Log1p(x)) / l
	}
	if math.Abs(l-2) < 1e-12 {
		return -math.Log1p(-x)
	}
	return -math.Expm1((2-l)*math.Log1p(-x)) / (2 - l)
}

// yeoJohnsonInverse inverts yeoJohnson (the sign of y equals that of x).
func yeoJohnsonInverse(y, l float64) float64 {
	if y >= 0 {
		if math.Abs(l) < 1e-12 {
			return math.Expm1(y)
		}
		return math.Expm1(math.Log1p(l*y) / l)
	}
	if math.Abs(l-2) < 1e-12 {
		return -math.Expm1(-y)
	}
	return -math.Expm1(math.Log1p(-(2-l)*y) / (2 - l))
}

func yeoJohnsonLogJacobian(x float64) float64 { return math.Copysign(math.Log1p(math.Abs(x)), x) }

// maxLikelihoodLambda maximises the profile log-likelihood of a power
// transform, -n/2*log(var(f(x/scale, l))) + (l-1)*sum(logJac(x/scale)), by
// golden-section search on [lambdaMin, lambdaMax] (the likelihood is
// unimodal in lambda for these families).
func maxLikelihoodLambda(vals []float64, scale float64, f func(x, l float64) float64, logJac func(float64) float64) float64 {
	xs := make([]float64, len(vals))
	var jac float64
	for i, v := range sortedCopy(vals) {
		xs[i] = v / scale
		jac += logJac(xs[i])
	}
	buf := make([]float64, len(xs))
	ll := func(l float64) float64 {
		for i, x := range xs {
			buf[i] = f(x, l)
		}
		_, std, _ := momentStats(buf)
		if !(std > 0) || math.IsInf(std, 0) {
			return math.Inf(-1)
		}
		return -float64(len(xs))*math.Log(std) + (l-1)*jac
	}
	const gr = 0.6180339887498949
	a, b := lambdaMin, lambdaMax
	c, d := b-gr*(b-a), a+gr*(b-a)
	fc, fd := ll(c), ll(d)
	for b-a > 1e-4 {
		if fc > fd {
			b, d, fd = d, c, fc
			c = b - gr*(b-a)
			fc = ll(c)
		} else {
			a, c, fc = c, d, fd
			d = a + gr*(b-a)
			fd = ll(d)
		}
	}
	return 0.5 * (a + b)
}

// countDistinct counts distinct values (NaN-free input).
func countDistinct(vals []float64) int {
	s := sortedCopy(vals)
	n := 0
	for i, v := range s {
		if i == 0 || v != s[i-1] {
			n++
		}
	}
	return n
}

func minMax(vals []float64) (lo, hi float64) {
	lo, hi = math.Inf(1), math.Inf(-1)
	for _, v := range vals {
		lo, hi = min(lo, v), max(hi, v)
	}
	return lo, hi
}
