package avx

import "math"

// The float32 exponential and the logistic/GELU family built on it. The
// assembly kernels (exp_avx512_amd64.s, exp_avx2_amd64.s) and the pure-Go
// code below run the same algorithm with the same operation order; the Go
// code emulates a float32 FMA through float64 (fma32), which can differ from
// a true FMA by double rounding in rare cases, so the levels agree to an ulp
// rather than bit for bit.
//
// exp(x), all levels:
//
//	x is clamped to [-174, 89] (NaN passes through: exp(NaN) = NaN; beyond
//	the clamp the result is +Inf or 0 anyway, and the low end keeps
//	t >= -251 so that AVX2 can scale by 2^(t>>1) and 2^(t-t>>1), both
//	normal), t = round(x*log2(e)) (nearest
//	even), r = x - t*ln2 by Cody-Waite with an FMA (ln2hi = float32(ln2), so
//	x - t*ln2hi is exact, then - t*ln2lo), p = the degree-7 Taylor polynomial
//	of e^r on |r| <= 0.347 (truncation < 6e-9 relative) by Horner with FMAs,
//	and exp(x) = p*2^t with one rounding (VSCALEFPS, or two exact-then-one
//	power-of-two multiplies on AVX2), so subnormal results are correctly
//	rounded from p.
//
// Accuracy (TestExpAccuracy, a sweep of 2^22 points over [-103, 88.7] plus
// [-1, 1] in steps of 2^-16, against math.Exp): maximum relative error
// 7.64e-8 (1.28 units of 2^-24, at x = -5.887), the same at every level,
// where the result is a normal float32; subnormal results within 2^-149.
// exp(+Inf) = +Inf, exp(-Inf) = 0, exp(NaN) = NaN.
//
// The logistic s = 1/(1+e^-x) is evaluated without cancellation or
// overflow for either sign: with E = exp(-|x|) = p*2^t and d = 1/(1+E),
//
//	x >= 0: s = d,          1-s = E*d
//	x <  0: s = (p*d)*2^t,  1-s = d
//
// and every output linear in s (sigmoid, SiLU, GELU-tanh, SwiGLU and their
// gradients) is formed from the unscaled p*d and multiplied by 2^t last, so
// tiny results (x < -87) are rounded once instead of flushing through a
// subnormal s. Exact for -|x| >= -174; beyond, the output F*s becomes
// F*p*d*2^-251, which is 0 unless the other factors exceed 2^100.
//
// erf: the GELU-erf kernels use erfc(z) = t*exp(-z^2 + P(t)), t = 1/(1+z/2)
// with the degree-9 polynomial P of Numerical Recipes' erfcc (relative error
// below 1.05e-7 for z >= 0 in exact arithmetic, checked in float64 over
// [0, 9]); float32 evaluation adds a few ulp (TestExpFamilyVsRef: GELU-erf
// within 3e-7*max(|GELU|, 1) of the float64 formula; sigmoid and SiLU within
// 3e-7 relative; GELU-tanh within 3e-7*(1+|2u|) relative, the float32
// rounding of its argument 2u being amplified by exp; gradients within 3e-7
// of |result| + |dy|/2).

// Exp constants (float32 bit patterns in the assembly).
const (
	expLog2E = float32(math.Log2E)
	expLn2Hi = float32(math.Ln2)
	expLn2Lo = float32(math.Ln2 - float64(expLn2Hi))
	expC2    = float32(1.0 / 2)
	expC3    = float32(1.0 / 6)
	expC4    = float32(1.0 / 24)
	expC5    = float32(1.0 / 120)
	expC6    = float32(1.0 / 720)
	expC7    = float32(1.0 / 5040)
	expLo    = float32(-174)
	expHi    = float32(89)
)

// GELU constants: 2c and 2ck for the tanh form (u2 = x*(2c + 2ck*x^2)), 6ck
// for its derivative, 1/sqrt(2) and 1/sqrt(2 pi) for the erf form.
const (
	geluC      = math.Sqrt2 / math.SqrtPi // sqrt(2/pi)
	geluK      = 0.044715
	gelu2C     = float32(2 * geluC)
	gelu2CK    = float32(2 * geluC * geluK)
	gelu6CK    = float32(6 * geluC * geluK)
	geluInvSq2 = float32(1 / math.Sqrt2)
	geluInvS2P = float32(1 / (math.Sqrt2 * math.SqrtPi))
)

// erfcPoly are Numerical Recipes' erfcc coefficients, highest degree first:
// erfc(z) = t*exp(-z^2 + P(t)), P(t) = sum erfcPoly[9-i] t^i.
var erfcPoly = [10]float32{0.17087277, -0.82215223, 1.48851587, -1.13520398, 0.27886807,
	-0.18628806, 0.09678418, 0.37409196, 1.00002368, -1.26551223}

// fma32 is a float32 fused multiply-add emulated in float64 (exact product,
// then the sum rounded to float64 and to float32).
func fma32(a, b, c float32) float32 {
	return float32(math.FMA(float64(a), float64(b), float64(c)))
}

// expParts returns p and t with exp(x) = p*2^t, p in [0.70, 1.42], t an
// integer in [-150, 128] (as float32); NaN gives p = NaN.
func expParts(x float32) (p, t float32) {
	if x != x {
		return x, 0
	}
	x = min(max(x, expLo), expHi)
	t = float32(math.RoundToEven(float64(x * expLog2E)))
	r := fma32(-t, expLn2Hi, x)
	r = fma32(-t, expLn2Lo, r)
	p = fma32(expC7, r, expC6)
	p = fma32(p, r, expC5)
	p = fma32(p, r, expC4)
	p = fma32(p, r, expC3)
	p = fma32(p, r, expC2)
	p = fma32(p, r, 1)
	p = fma32(p, r, 1)
	return p, t
}

// scale2 returns v*2^t rounded once to float32.
func scale2(v, t float32) float32 {
	return float32(math.Ldexp(float64(v), int(t)))
}

// expf is the float32 exponential of the kernels.
func expf(x float32) float32 {
	p, t := expParts(x)
	return scale2(p, t)
}

// logistic returns su, oms and sc with sigmoid(x) = su*2^sc and
// 1-sigmoid(x) = oms (see the package comment above).
func logistic(x float32) (su, oms, sc float32) {
	p, t := expParts(-float32(math.Abs(float64(x))))
	e := scale2(p, t)
	d := 1 / (1 + e)
	if math.Signbit(float64(x)) {
		if math.IsInf(float64(x), -1) {
			return 0, d, t // s = 0 exactly: -Inf*s is NaN, as in ref
		}
		return p * d, d, t
	}
	return d, e * d, 0
}

func sigmoidf(x float32) float32 {
	su, _, sc := logistic(x)
	return scale2(su, sc)
}

func siluf(x float32) float32 {
	su, _, sc := logistic(x)
	return scale2(x*su, sc)
}

// siluGradf returns dy * s*(1 + x*(1-s)).
func siluGradf(x, dy float32) float32 {
	su, oms, sc := logistic(x)
	return scale2(su*fma32(x, oms, 1)*dy, sc)
}

// geluTanhf returns x*sigmoid(2u), u = sqrt(2/pi)(x + 0.044715x^3).
func geluTanhf(x float32) float32 {
	v := x * fma32(x*x, gelu2CK, gelu2C)
	su, _, sc := logistic(v)
	return scale2(x*su, sc)
}

// geluTanhGradf returns dy * (s + 2x s(1-s) c (1+3k x^2)), s = sigmoid(2u),
// as dy * s*(1 + x(1-s)(2c + 6ck x^2)).
func geluTanhGradf(x, dy float32) float32 {
	xx := x * x
	v := x * fma32(xx, gelu2CK, gelu2C)
	su, oms, sc := logistic(v)
	w := fma32(xx, gelu6CK, gelu2C)
	return scale2(su*fma32(x*oms, w, 1)*dy, sc)
}

// erfcParts returns the pieces of erfc(|x|/sqrt 2) = tp*2^n (tp = t*p
// unscaled).
func erfcParts(x float32) (tp, n float32) {
	z := float32(math.Abs(float64(x))) * geluInvSq2
	t := 1 / fma32(z, 0.5, 1)
	q := erfcPoly[0]
	for _, c := range erfcPoly[1:] {
		q = fma32(q, t, c)
	}
	p, n := expParts(fma32(-z, z, q))
	return t * p, n
}

// geluErff returns x*Phi(x) = x - x*erfc(z)/2 (x >= 0) or x*erfc(z)/2
// (x < 0), z = |x|/sqrt 2.
func geluErff(x float32) float32 {
	tp, n := erfcParts(x)
	h := scale2(0.5*x*tp, n)
	if math.Signbit(float64(x)) {
		return h
	}
	return x - h
}

// geluErfGradf returns dy * (Phi(x) + x*phi(x)).
func geluErfGradf(x, dy float32) float32 {
	tp, n := erfcParts(x)
	h := scale2(0.5*tp, n) // erfc(z)/2
	if !math.Signbit(float64(x)) {
		h = 1 - h
	}
	p, t := expParts(-0.5 * x * x)
	phi := scale2(p, t) * geluInvS2P
	return fma32(x, phi, h) * dy
}

// Pure-Go loops over slices: the Generic level of the kernels below.

func expGo(dst, x []float32) {
	x = x[:len(dst)]
	for i, v := range x {
		dst[i] = expf(v)
	}
}

func sigmoidGo(dst, x []float32) {
	x = x[:len(dst)]
	for i, v := range x {
		dst[i] = sigmoidf(v)
	}
}

func siluGo(dst, x []float32) {
	x = x[:len(dst)]
	for i, v := range x {
		dst[i] = siluf(v)
	}
}

func geluTanhGo(dst, x []float32) {
	x = x[:len(dst)]
	for i, v := range x {
		dst[i] = geluTanhf(v)
	}
}

func geluErfGo(dst, x []float32) {
	x = x[:len(dst)]
	for i, v := range x {
		dst[i] = geluErff(v)
	}
}

func siluGradGo(dx, x, dy []float32) {
	x, dy = x[:len(dx)], dy[:len(dx)]
	for i, v := range x {
		dx[i] = siluGradf(v, dy[i])
	}
}

func geluTanhGradGo(dx, x, dy []float32) {
	x, dy = x[:len(dx)], dy[:len(dx)]
	for i, v := range x {
		dx[i] = geluTanhGradf(v, dy[i])
	}
}

func geluErfGradGo(dx, x, dy []float32) {
	x, dy = x[:len(dx)], dy[:len(dx)]
	for i, v := range x {
		dx[i] = geluErfGradf(v, dy[i])
	}
}

// Exp sets dst[i] = e^x[i] (float32, accuracy in the comment above) for
// i < len(dst); dst may alias x exactly.
func Exp(dst, x []float32) { vk().exp(dst, x[:len(dst)]) }

// Sigmoid sets dst[i] = 1/(1+e^-x[i]).
func Sigmoid(dst, x []float32) { vk().sigmoid(dst, x[:len(dst)]) }

// SiLU sets dst[i] = x[i]*sigmoid(x[i]).
func SiLU(dst, x []float32) { vk().silu(dst, x[:len(dst)]) }

// GELUTanh sets dst[i] = 0.5x(1+tanh(sqrt(2/pi)(x+0.044715x^3))), evaluated
// as x*sigmoid(2u) like ref.Unary.
func GELUTanh(dst, x []float32) { vk().geluTanh(dst, x[:len(dst)]) }

// GELUErf sets dst[i] = 0.5x(1+erf(x/sqrt 2)).
func GELUErf(dst, x []float32) { vk().geluErf(dst, x[:len(dst)]) }

// SiLUGrad sets dx[i] = dy[i] * d silu/dx at x[i]; dx may alias dy or x.
func SiLUGrad(dx, x, dy []float32) { vk().siluGrad(dx, x[:len(dx)], dy[:len(dx)]) }

// GELUTanhGrad sets dx[i] = dy[i] * d GELUTanh/dx at x[i].
func GELUTanhGrad(dx, x, dy []float32) { vk().geluTanhGrad(dx, x[:len(dx)], dy[:len(dx)]) }

// GELUErfGrad sets dx[i] = dy[i] * (Phi(x) + x phi(x)) at x[i].
func GELUErfGrad(dx, x, dy []float32) { vk().geluErfGrad(dx, x[:len(dx)], dy[:len(dx)]) }
