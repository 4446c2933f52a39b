package avx

import "math"

// The exponential of the softmax kernels (softmax_rows*.s and the Go rows
// below), cheaper than exp.go's because a softmax row only needs its
// exponentials up to one common power of two: with m the row maximum and
// k = round(m*log2(e)), each element gets
//
//	e_j = exp(x_j) * 2^-k = p(r_j) * 2^(t_j - k),
//
// t_j = round(x_j*log2(e)) (from the float32 FMA u = x_j*log2(e) + (M - k),
// M = 1.5*2^23, so that u holds t_j - k in its low mantissa bits),
// r_j = x_j - t_j*ln2 by Cody-Waite with two FMAs, p the degree-6 minimax
// polynomial of e^r on |r| <= 0.3466 (c0 = c1 = 1; truncation error 3.1e-9
// relative, 0.05 units of 2^-24, in exact arithmetic; Horner with FMAs), and
// the power of two added to p's exponent field as the integer (bits(u) <<
// 23). The input x_j itself is reduced, not x_j - m, so no subtraction is
// rounded before the exponential (the old kernels needed a TwoSum for it).
// Softmax is invariant to the common factor 2^-k.
//
// Domain: |m| <= 2^21 (then t_j - k lies in [-125, 1] for every element
// with x_j >= m - 86, so p*2^(t_j-k) is a normal float32 and the integer
// exponent add is exact). Elements with x_j < RN(m - 86) give e_j = 0
// exactly: their true exponential is below e^-86 = 4.5e-38 of the maximum's,
// so the softmax output, below 2^-124, is flushed to zero instead of being
// rounded to a subnormal. Rows with |m| > 2^21 are shifted first: x_j - m
// (exact for every x_j >= m - 86 by Sterbenz's lemma) with k = 0. Rows whose
// maximum is NaN or infinite are NaN throughout, as in ref.
//
// Accuracy (TestSoftmaxExpAccuracy: every float32 in [-87.3, 88.7] whose
// low 9 bits are clear (2^23 points), plus a dense sweep of [-1, 1],
// against math.Exp in float64): e_j within smExpMaxErr of exp(x_j)*2^-k,
// relative.
//
// Softmax output and its error bound (smOutErr). All in float32, as
// PyTorch's CPU softmax: s = the smLanes sum of the e_j (16 lanes, then a
// 4-level tree), inv = RN(1/s), y_j = RN(e_j*inv). With u = 2^-24, eps =
// smExpMaxErr, E_j = exp(x_j)*2^-k exactly and S = sum E_j:
//
//   - e_j = E_j(1+d_j), |d_j| <= eps;
//   - every term of s passes through at most h(n) = ceil(n/16) + 3
//     roundings (ceil(n/16) - 1 lane additions, the first one into a zero
//     lane being exact, then 4 tree levels), and all terms are >= 0, so
//     s = (sum e_j)(1+t), |t| <= g(h) = h*u/(1 - h*u) (Higham, Thm 4.3);
//   - the elements flushed to 0 (below m - 86) drop less than n*e^-86 of S;
//   - inv and the product add one rounding each (|r| <= u).
//
// Hence |y_j - E_j/S| <= B(n) * E_j/S with
//
//	B(n) = (1+eps)(1+u)^2 / ((1-eps)(1-g(h(n)))(1-n*e^-86)) - 1
//	     ~ (ceil(n/16) + 3 + 2 + 2*1.3) * 2^-24,
//
// 15.6 units of 2^-24 at n = 128 and 68.6 at n = 1000: a worst case
// (all roundings of the sum in one direction); the measured errors are a
// few units (TestSoftmaxRowsVsRef logs them). Outputs below 2^-126
// (possible only near the flush threshold: y_j >= e^-86/n) are subnormal
// and carry an absolute error of up to 2^-150 besides.

// Constants of the softmax exponential.
const (
	smMagic = float32(1.5 * (1 << 23)) // M: u = x*log2(e) + (M - k) rounds to an integer
	smLimit = float32(1 << 21)         // |m| above this: shift by m first
	smFlush = float32(86)              // elements below m - 86 give 0
	smC2    = float32(0.49999994)      // minimax coefficients of e^r, r^2..r^6
	smC3    = float32(0.16666521)
	smC4    = float32(0.04166839)
	smC5    = float32(0.008368716)
	smC6    = float32(0.0013814602)
)

// smExpMaxErr bounds the measured maximum relative error of smExp, 1.267
// units of 2^-24 at x = -26.708 (TestSoftmaxExpAccuracy).
const smExpMaxErr = 1.3 * 0x1p-24

// smOutErr returns B(n), the bound on the relative error of the softmax
// outputs of a row of n elements (derivation above).
func smOutErr(n int) float64 {
	const u = 0x1p-24
	h := float64((n+15)/16 + 3)
	g := h * u / (1 - h*u)
	return (1+smExpMaxErr)*(1+u)*(1+u)/((1-smExpMaxErr)*(1-g)*(1-float64(n)*math.Exp(-86))) - 1
}

// fmaf is a correctly rounded float32 fused multiply-add (a*b+c with one
// rounding), as the assembly's VFMADD: the product is exact in float64, the
// sum is rounded to float64 with round-to-odd (so that the second rounding,
// to float32, cannot double-round), then to float32.
func fmaf(a, b, c float32) float32 {
	p := float64(a) * float64(b)
	cc := float64(c)
	s := p + cc
	// TwoSum error of s (exact: p + cc = s + e).
	bp := s - p
	e := (p - (s - bp)) + (cc - bp)
	if e != 0 && !math.IsInf(s, 0) {
		bits := math.Float64bits(s)
		if (e < 0) != (s < 0) {
			bits-- // |s| > |p+cc|: truncate toward zero
		}
		s = math.Float64frombits(bits | 1)
	}
	return float32(s)
}

// smExp returns p(r)*2^(t-k) for x with mk = M - k (see above); x must be
// in the domain (x*log2(e) - k within [-125.4, 1.2]).
func smExp(x, mk float32) float32 {
	u := fmaf(x, expLog2E, mk)
	t := u - mk
	r := fmaf(-t, expLn2Hi, x)
	r = fmaf(-t, expLn2Lo, r)
	p := fmaf(smC6, r, smC5)
	p = fmaf(p, r, smC4)
	p = fmaf(p, r, smC3)
	p = fmaf(p, r, smC2)
	p = fmaf(p, r, 1)
	p = fmaf(p, r, 1)
	return math.Float32frombits(math.Float32bits(p) + math.Float32bits(u)<<23)
}

// smRowShift returns a row's shift c, M - k and flush threshold thr (an
// element x gives e = 0 when x - c < thr) from its maximum m, and ok =
// false when m is NaN or infinite (the row is NaN).
func smRowShift(m float32) (c, mk, thr float32, ok bool) {
	switch {
	case m != m || math.IsInf(float64(m), 0):
		return 0, 0, 0, false
	case m >= -smLimit && m <= smLimit:
		k := float32(math.RoundToEven(float64(m * expLog2E)))
		return 0, smMagic - k, m - smFlush, true
	}
	return m, smMagic, -smFlush, true
}

// smLanes is a softmax row sum in 16 float32 lanes: for each 16-element
// block q of the row (the last one zero-padded), lane l adds e[16q+l], in
// order of q; tree() then adds lanes l and l+8, then l and l+4, then l and
// l+2, then 0 and 1. The AVX-512 kernel keeps the 16 lanes in one register
// per row (accumulated in the exponential's sweep), the AVX2 kernel in two.
// Adding a padding zero is exact (the lanes are never -0), so whether a
// level adds or skips them gives the same bits.
type smLanes [16]float32

func (a *smLanes) tree() float32 {
	b := *a
	for i := 0; i < 8; i++ {
		b[i] += b[i+8]
	}
	for i := 0; i < 4; i++ {
		b[i] += b[i+4]
	}
	b[0] += b[2]
	b[1] += b[3]
	return b[0] + b[1]
}

// smExpSumGo writes e_j (see above) for a row with shift c, M - k and
// threshold thr to dst (dst may alias x) and returns their smLanes sum.
func smExpSumGo(dst, x []float32, c, mk, thr float32) float32 {
	var acc smLanes
	for q := 0; q < len(x); q += 16 {
		blk := x[q:min(q+16, len(x))]
		for j, v := range blk {
			xs := v - c
			e := float32(0)
			if !(xs < thr) {
				e = smExp(xs, mk)
			}
			dst[q+j] = e
			acc[j] += e
		}
	}
	return acc.tree()
}

// smNaNRow fills dst with NaN (a row whose maximum is NaN or infinite).
func smNaNRow(dst []float32) {
	nan := float32(math.NaN())
	for j := range dst {
		dst[j] = nan
	}
}

// softmaxRowsGo is the Generic multi-row softmax: per row the maximum
// (rowMaxGo: NaN wins), the exponentials and their smLanes sum,
// inv = 1/sum and the products, all in float32. The assembly kernels give
// the same bits.
func softmaxRowsGo(dst, x []float32, n int) {
	for r := 0; r+n <= len(x) && n > 0; r += n {
		xr, dr := x[r:r+n], dst[r:r+n]
		c, mk, thr, ok := smRowShift(rowMaxGo(xr))
		if !ok {
			smNaNRow(dr)
			continue
		}
		inv := 1 / smExpSumGo(dr, xr, c, mk, thr)
		for j := range dr {
			dr[j] *= inv
		}
	}
}
