package avx

import "math"

// tanh for the model's gates (FiLM and QASSMax apply it to every token), on
// the SIMD exponential. Both branches are computed for every element and one
// is selected (no data-dependent branch), on |x|, with x's sign copied last:
//
//	|x| <  tanhPolyMax: |x| + |x|^3 P(x^2), P of degree 4 fitted to
//	                    (tanh(x) - x)/x^3 at Chebyshev nodes of x^2 in
//	                    [0, 0.55^2] (4.0e-9 relative in exact arithmetic), by
//	                    Horner in float32;
//	|x| >= tanhPolyMax: (1-E)/(1+E), E = exp(-2|x|) from Exp (1-E >= 0.67
//	                    there, so the exponential's 7.6e-8 relative error
//	                    grows at most 1.5x; E underflows to 0 for |x| > 87,
//	                    giving exactly 1).
//
// Accuracy (TestTanhAccuracy, 99,429 points against math.Tanh): worst
// relative error 1.54e-7 (2.6 units of 2^-24, at |x| = 0.565, just above the
// switch), the same at every level. tanh(+-Inf) = +-1, tanh(NaN) = NaN,
// tanh(-0) = -0. The Go code is the same at every level; only Exp differs.
// Speed (BenchmarkTanh, 64K values in cache, dev machine): 0.34 Gvalues/s,
// 7.2x the float64 math.Tanh loop it replaces in the tensor op.

const tanhPolyMax = 0.55

// tanhP is P(z) = tanhP[0] + tanhP[1] z + ... + tanhP[4] z^4.
var tanhP = [5]float32{
	-0.33333332045271097,
	0.1333311761945517,
	-0.053910066843290465,
	0.021312745950492262,
	-0.006615756829436612,
}

// tanhChunk bounds the stack buffer of exponentials.
const tanhChunk = 256

// Tanh sets dst[i] = tanh(x[i]). dst may alias x exactly.
func Tanh(dst, x []float32) {
	x = x[:len(dst)]
	var buf [tanhChunk]float32
	c0, c1, c2, c3, c4 := tanhP[0], tanhP[1], tanhP[2], tanhP[3], tanhP[4]
	for off := 0; off < len(dst); off += tanhChunk {
		n := min(tanhChunk, len(dst)-off)
		xs, ds, e := x[off:off+n], dst[off:off+n:off+n], buf[:n:n]
		for i, v := range xs {
			e[i] = -2 * abs32(v)
		}
		Exp(e, e)
		for i, v := range xs {
			bits := math.Float32bits(v)
			a := math.Float32frombits(bits &^ signBit32)
			z := a * a
			q := a + a*z*((((c4*z+c3)*z+c2)*z+c1)*z+c0)
			r := (1 - e[i]) / (1 + e[i])
			if a < tanhPolyMax {
				r = q
			}
			ds[i] = math.Float32frombits(math.Float32bits(r) | bits&signBit32)
		}
	}
}

const signBit32 = 1 << 31

func abs32(v float32) float32 { return math.Float32frombits(math.Float32bits(v) &^ signBit32) }
