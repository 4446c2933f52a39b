package ref_test

import (
	"math"
	"testing"

	"github.com/nori-ml/nori/kernels/ref"
)

// SwiGLU kernels: [lo, hi) ranges, saturation at large |gate|, and the
// gradient against a central difference of the float64 kernel (a sanity
// check of the closed form; tensor/norm_test.go checks it against the
// analytic formula at float32 and float64).
func TestSwiGLURef(t *testing.T) {
	const n = 50
	g := mnlConv[float64](mnlVals(7, n))
	for i := range g {
		g[i] *= 4
	}
	g[0], g[1] = 800, -800 // exp(800) overflows: sigmoid must saturate cleanly
	u := mnlConv[float64](mnlVals(8, n))
	dy := mnlConv[float64](mnlVals(9, n))
	out, dg, du := make([]float64, n), make([]float64, n), make([]float64, n)
	mnlSplitRows(t, "SwiGLU", n, func() [][]float64 { return [][]float64{out} }, func(lo, hi int) { ref.SwiGLU(out, g, u, lo, hi) })
	mnlSplitRows(t, "SwiGLUGrad", n, func() [][]float64 { return [][]float64{dg, du} }, func(lo, hi int) {
		ref.SwiGLUGrad(dg, du, dy, g, u, lo, hi)
	})
	if out[0] != 800*u[0] || out[1] != 0 || dg[0] != dy[0]*u[0] || dg[1] != 0 {
		t.Fatalf("saturation: out %v %v, dgate %v %v", out[0], out[1], dg[0], dg[1])
	}
	// Tolerance 1e-7 relative: the central difference with h = 1e-5 has
	// truncation error ~h^2 * |f'''| and rounding error ~1e-16/h.
	const h = 1e-5
	for i := 2; i < n; i++ {
		f := func(gi, ui float64) float64 {
			var o [1]float64
			ref.SwiGLU(o[:], []float64{gi}, []float64{ui}, 0, 1)
			return o[0] * dy[i]
		}
		ng := (f(g[i]+h, u[i]) - f(g[i]-h, u[i])) / (2 * h)
		nu := (f(g[i], u[i]+h) - f(g[i], u[i]-h)) / (2 * h)
		if math.Abs(ng-dg[i]) > 1e-7*(1+math.Abs(ng)) || math.Abs(nu-du[i]) > 1e-7*(1+math.Abs(nu)) {
			t.Fatalf("element %d: dgate %v (numeric %v), dup %v (numeric %v)", i, dg[i], ng, du[i], nu)
		}
	}
}
