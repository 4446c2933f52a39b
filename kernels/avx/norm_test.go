package avx

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/nori-ml/nori/kernels/ref"
)

// Tests of norm.go and softmax.go against kernels/ref in float64 on the same
// float32 inputs (ref's float64 result rounded to float32 is "want"), at
// every level, rows of awkward widths, outputs NaN-poisoned. The row
// statistics differ from ref only in summation order (float64), so outputs
// agree to vecRowTol = 1 ulp (2^-23 relative, plus cancellation slack
// 1e-13 * the size of the terms) unless stated.

const vecRowTol = 0x1p-23

var vecRowWidths = []int{1, 7, 15, 16, 17, 63, 128, 1000}

func vecRoundSlice(v []float64) []float32 {
	out := make([]float32, len(v))
	for i, x := range v {
		out[i] = float32(x)
	}
	return out
}

// vecSameBits fails unless a and b are bitwise equal.
func vecSameBits(t *testing.T, what string, a, b []float32) {
	t.Helper()
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			t.Fatalf("%s: element %d: %v vs %v", what, i, a[i], b[i])
		}
	}
}

func vecSameBits64(t *testing.T, what string, a, b []float64) {
	t.Helper()
	for i := range a {
		if math.Float64bits(a[i]) != math.Float64bits(b[i]) {
			t.Fatalf("%s: element %d: %v vs %v", what, i, a[i], b[i])
		}
	}
}

// TestNormVsRef checks LayerNorm and RMSNorm forward and backward (with and
// without gamma/beta, dgamma/dbeta) against ref at every level, and that
// every level gives the Generic level's bits.
func TestNormVsRef(t *testing.T) {
	const rows, eps = 5, 1e-5
	for _, n := range vecRowWidths {
		for _, withParams := range []bool{false, true} {
			rng := rand.New(rand.NewPCG(uint64(n), 7))
			x := vecRand(rng, rows*n, 0.4, 2)
			dy := vecRand(rng, rows*n, 0, 1)
			var gamma, beta []float32
			if withParams {
				gamma, beta = vecRand(rng, n, 1, 0.5), vecRand(rng, n, 0, 1)
			}
			xd, dyd := vecF64(x), vecF64(dy)
			gd, bd := vecF64(gamma), vecF64(beta)
			if !withParams {
				gd, bd = nil, nil
			}
			// ref in float64.
			wln, wmu, wrs := make([]float64, rows*n), make([]float64, rows), make([]float64, rows)
			ref.LayerNorm(wln, wmu, wrs, xd, gd, bd, n, 0, rows, eps)
			wrms, wrr := make([]float64, rows*n), make([]float64, rows)
			ref.RMSNorm(wrms, wrr, xd, gd, n, 0, rows, eps)

			var base [][]float32
			var base64 [][]float64
			vecEachLevel(t, func(t *testing.T, l Level) {
				what := fmt.Sprintf("%v n=%d params=%v", l, n, withParams)
				ln, mu, rs := vecNaNs(rows*n), vecNaNs(rows), vecNaNs(rows)
				LayerNorm(ln, mu, rs, x, gamma, beta, n, 0, rows, eps)
				vecCloseTo(t, "LayerNorm mean "+what, mu, vecRound64(wmu), vecAbsScaled(x, 1e-13*float64(n)), vecRowTol)
				vecCloseTo(t, "LayerNorm rstd "+what, rs, vecRound64(wrs), make([]float64, rows), vecRowTol)
				vecCloseTo(t, "LayerNorm out "+what, ln, vecRound64(wln), vecRowScale(wln, 1e-13), vecRowTol)
				rms, rr := vecNaNs(rows*n), vecNaNs(rows)
				RMSNorm(rms, rr, x, gamma, n, 0, rows, eps)
				vecCloseTo(t, "RMSNorm rstd "+what, rr, vecRound64(wrr), make([]float64, rows), vecRowTol)
				// Output (x*rstd32)*gamma in float32: three roundings of
				// 2^-24 relative, plus one for want's rounding: 2^-22.
				vecCloseTo(t, "RMSNorm out "+what, rms, vecRound64(wrms), vecRowScale(wrms, 1e-13), 0x1p-22)

				// Backward from the saved (float32) statistics, as ref
				// would get them.
				mu64, rs64, rr64 := vecF64(mu), vecF64(rs), vecF64(rr)
				wdx, wdg, wdb := make([]float64, rows*n), make([]float64, n), make([]float64, n)
				ref.LayerNormGrad(wdx, wdg, wdb, dyd, xd, mu64, rs64, gd, n, 0, rows)
				dx, dg, db := vecNaNs(rows*n), make([]float64, n), make([]float64, n)
				LayerNormGrad(dx, dg, db, dy, x, mu, rs, gamma, n, 0, rows)
				vecCloseTo(t, "LayerNormGrad dx "+what, dx, vecRound64(wdx), vecRowScale(wdx, 1e-12), vecRowTol)
				vecClose64(t, "LayerNormGrad dgamma "+what, dg, wdg, 1e-13)
				vecClose64(t, "LayerNormGrad dbeta "+what, db, wdb, 1e-13)
				dx2 := vecNaNs(rows * n)
				LayerNormGrad(dx2, nil, nil, dy, x, mu, rs, gamma, n, 0, rows)
				vecSameBits(t, "LayerNormGrad dx without param grads "+what, dx2, dx)

				wrdx, wrdg := make([]float64, rows*n), make([]float64, n)
				ref.RMSNormGrad(wrdx, wrdg, dyd, xd, rr64, gd, n, 0, rows)
				rdx, rdg := vecNaNs(rows*n), make([]float64, n)
				RMSNormGrad(rdx, rdg, dy, x, rr, gamma, n, 0, rows)
				vecCloseTo(t, "RMSNormGrad dx "+what, rdx, vecRound64(wrdx), vecRowScale(wrdx, 1e-12), vecRowTol)
				vecClose64(t, "RMSNormGrad dgamma "+what, rdg, wrdg, 1e-13)

				outs := [][]float32{ln, mu, rs, rms, rr, dx, rdx}
				outs64 := [][]float64{dg, db, rdg}
				if base == nil {
					base, base64 = outs, outs64
					return
				}
				for i := range outs {
					vecSameBits(t, fmt.Sprintf("%s output %d vs generic", what, i), outs[i], base[i])
				}
				for i := range outs64 {
					vecSameBits64(t, fmt.Sprintf("%s param grad %d vs generic", what, i), outs64[i], base64[i])
				}
			})
		}
	}
}

func vecRound64(v []float64) []float64 {
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = float64(float32(x))
	}
	return out
}

// vecRowScale returns c * (sum of |v| over the row of n containing i) for
// every i: the size of the terms of a row sum, for cancellation slack.
func vecRowScale(v []float64, c float64) []float64 {
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = c * (math.Abs(x) + 1)
	}
	return out
}

func vecClose64(t *testing.T, what string, got, want []float64, rtol float64) {
	t.Helper()
	for i := range want {
		if !(math.Abs(got[i]-want[i]) <= rtol*(math.Abs(want[i])+1)) {
			t.Fatalf("%s: element %d = %v, want %v", what, i, got[i], want[i])
		}
	}
}

// TestSoftmaxVsRef checks softmax and log-softmax forward and backward
// against ref at every level, with rows shifted by +-1000, a row holding
// -Inf and one spanning 800. Tolerances: softmax smOutErr(n) relative (the
// bound of softmax_exp.go: exp, float32 row sum, 1/sum and product) plus
// 2^-24 for want's rounding to float32, log-softmax 1 ulp plus 1e-13 of |x - max| + log(sum);
// gradients 1 ulp plus 2^-22 of the size of their terms.
func TestSoftmaxVsRef(t *testing.T) {
	const rows = 6
	for _, n := range vecRowWidths {
		rng := rand.New(rand.NewPCG(uint64(n), 8))
		x := vecRand(rng, rows*n, 0, 3)
		for j := 0; j < n; j++ {
			x[1*n+j] += 1000
			x[4*n+j] -= 1000
		}
		x[2*n+n/2] = 800
		if n > 1 {
			x[3*n] = float32(math.Inf(-1))
		}
		xd := vecF64(x)
		dy := vecRand(rng, rows*n, 0, 1)
		for _, log := range []bool{false, true} {
			want := make([]float64, rows*n)
			ref.Softmax(want, xd, n, 0, rows, log)
			var base []float32
			vecEachLevel(t, func(t *testing.T, l Level) {
				what := fmt.Sprintf("%v n=%d log=%v", l, n, log)
				y := vecNaNs(rows * n)
				Softmax(y, x, n, 0, rows, log)
				sc := make([]float64, rows*n)
				// Softmax: smOutErr(n) against the exact value, 2^-24 more
				// against its float32 rounding (|want| within (1+2^-24)
				// of the exact value's size).
				rtol := (smOutErr(n) + 0x1p-24) * (1 + 0x1p-23)
				if log {
					rtol = vecRowTol
					for i := range sc {
						sc[i] = 1e-13 * (math.Abs(want[i]) + 1)
					}
				}
				vecCloseTo(t, "Softmax "+what, y, vecRound64(want), sc, rtol)
				// In place (dst aliasing x) gives the same bits.
				y2 := append([]float32(nil), x...)
				Softmax(y2, y2, n, 0, rows, log)
				vecSameBits(t, "Softmax in place "+what, y2, y)

				yd := vecF64(y)
				wg := make([]float64, rows*n)
				ref.SoftmaxGrad(wg, yd, vecF64(dy), n, 0, rows, log)
				gs := make([]float64, rows*n)
				for r := 0; r < rows; r++ {
					s := 0.0
					for j := 0; j < n; j++ {
						if log {
							s += math.Abs(float64(dy[r*n+j]))
						} else {
							s += math.Abs(float64(dy[r*n+j]) * yd[r*n+j])
						}
					}
					for j := 0; j < n; j++ {
						i := r*n + j
						if log {
							gs[i] = 2 * (math.Abs(float64(dy[i])) + math.Exp(yd[i])*s)
						} else {
							gs[i] = 2 * math.Abs(yd[i]) * (math.Abs(float64(dy[i])) + s)
						}
					}
				}
				dx := vecNaNs(rows * n)
				SoftmaxGrad(dx, y, dy, n, 0, rows, log)
				vecCloseTo(t, "SoftmaxGrad "+what, dx, vecRound64(wg), gs, vecRowTol)
				if base == nil {
					base = append(y, dx...)
				} else if !log {
					// Softmax has no double-rounded exp in its Go path
					// for these inputs: demand the generic bits.
					vecSameBits(t, "Softmax vs generic "+what, append(y, dx...), base)
				}
			})
		}
	}
}

// TestSwiGLUVsRef checks SwiGLU and its gradients against ref.SwiGLU in
// float64 (rounded), at every level, with saturated gates: forward within
// 3e-7 relative, gradients within 3e-7 of |result| + |dy*up|/2.
func TestSwiGLUVsRef(t *testing.T) {
	for _, n := range append(vecSizes, 4099) {
		rng := rand.New(rand.NewPCG(uint64(n), 9))
		g, u, dy := vecRand(rng, n, 0, 4), vecRand(rng, n, 0, 1), vecRand(rng, n, 0, 1)
		if n >= 7 {
			g[0], g[1], g[2], g[3], g[4], g[5] = 30, -30, 100, -100, 0, float32(math.Inf(-1))
		}
		gd, ud, dyd := vecF64(g), vecF64(u), vecF64(dy)
		want := make([]float64, n)
		ref.SwiGLU(want, gd, ud, 0, n)
		wdg, wdu := make([]float64, n), make([]float64, n)
		ref.SwiGLUGrad(wdg, wdu, dyd, gd, ud, 0, n)
		scale := make([]float64, n)
		for i := range scale {
			scale[i] = 0.5 * math.Abs(dyd[i]*ud[i])
		}
		vecEachLevel(t, func(t *testing.T, l Level) {
			what := fmt.Sprintf("%v n=%d", l, n)
			out := vecNaNs(n)
			SwiGLU(out, g, u)
			vecCloseTo(t, "SwiGLU "+what, out, vecRound64(want), make([]float64, n), 3e-7)
			dg, du := vecNaNs(n), vecNaNs(n)
			SwiGLUGrad(dg, du, dy, g, u)
			vecCloseTo(t, "SwiGLUGrad dgate "+what, dg, vecRound64(wdg), scale, 3e-7)
			vecCloseTo(t, "SwiGLUGrad dup "+what, du, vecRound64(wdu), make([]float64, n), 3e-7)
		})
	}
}

// TestAdamWVsRef checks that AdamW gives ref.AdamW's float32 bits at every
// level over three steps (the arithmetic is the same, only vectorised).
func TestAdamWVsRef(t *testing.T) {
	const lr, b1, b2, eps, wd = 1e-2, 0.9, 0.95, 1e-8, 0.1
	for _, n := range append(vecSizes, 4099) {
		vecEachLevel(t, func(t *testing.T, l Level) {
			rng := rand.New(rand.NewPCG(uint64(n), 10))
			p := vecRand(rng, n, 0, 1)
			m, v := make([]float32, n), make([]float32, n)
			wp, wm, wv := append([]float32(nil), p...), make([]float32, n), make([]float32, n)
			for step := 1; step <= 3; step++ {
				g := vecRand(rng, n, 0, 1)
				bc1, bc2 := 1-math.Pow(b1, float64(step)), 1-math.Pow(b2, float64(step))
				ref.AdamW(wp, g, wm, wv, lr, b1, b2, eps, wd, bc1, bc2)
				AdamW(p, g, m, v, lr, b1, b2, eps, wd, bc1, bc2)
				what := fmt.Sprintf("%v n=%d step %d", l, n, step)
				vecSameBits(t, "AdamW p "+what, p, wp)
				vecSameBits(t, "AdamW m "+what, m, wm)
				vecSameBits(t, "AdamW v "+what, v, wv)
			}
		})
	}
}

// TestCopy checks Copy at awkward lengths.
func TestCopy(t *testing.T) {
	for _, n := range []int{1, 63, 64, 65, 1000, 4099} {
		vecEachLevel(t, func(t *testing.T, l Level) {
			src := vecRand(rand.New(rand.NewPCG(uint64(n), 11)), n+1, 0, 1)
			dst := vecNaNs(n + 1)
			Copy(dst[:n], src)
			vecSameBits(t, fmt.Sprintf("Copy %v n=%d", l, n), dst[:n], src[:n])
			if !math.IsNaN(float64(dst[n])) {
				t.Fatalf("Copy %v n=%d wrote past the end", l, n)
			}
		})
	}
}

// TestPinballVsRef checks PinballSum (1e-13 relative of ref's float64 sum)
// and PinballGrad (ref's bits) at every level, over flat ranges that start
// and end inside rows, with ties planted.
func TestPinballVsRef(t *testing.T) {
	for _, sz := range [][2]int{{1, 1}, {7, 3}, {5, 17}, {37, 999}, {100, 7}, {9, 64}} {
		nr, q := sz[0], sz[1]
		rng := rand.New(rand.NewPCG(uint64(nr), uint64(q)))
		pred, target := vecRand(rng, nr*q, 0, 1), vecRand(rng, nr, 0, 1)
		for i := 0; i < nr*q; i += 5 {
			pred[i] = target[i/q]
		}
		taus := make([]float32, q)
		for i := range taus {
			taus[i] = float32(float64(i+1) / float64(q+1))
		}
		for _, r := range [][2]int{{0, nr * q}, {q / 2, nr*q - q/3}} {
			lo, hi := r[0], r[1]
			want := ref.PinballSum(pred, target, taus, q, lo, hi)
			wg := vecNaNs(nr * q)
			ref.PinballGrad(wg, pred, target, taus, q, 0.37, lo, hi)
			vecEachLevel(t, func(t *testing.T, l Level) {
				what := fmt.Sprintf("%v N=%d Q=%d [%d,%d)", l, nr, q, lo, hi)
				if got := PinballSum(pred, target, taus, q, lo, hi); !(math.Abs(got-want) <= 1e-13*want) {
					t.Fatalf("PinballSum %s = %v, want %v", what, got, want)
				}
				g := vecNaNs(nr * q)
				PinballGrad(g, pred, target, taus, q, 0.37, lo, hi)
				vecSameBitsNaN(t, "PinballGrad "+what, g, wg)
			})
		}
	}
}
