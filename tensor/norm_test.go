package tensor

import (
	"fmt"
	"math"
	"testing"
)

// Tests of Softmax, LayerNorm, RMSNorm, SwiGLU and their gradients
// (cpu_norm.go) against float64 loops written here. The backend methods are
// called directly with every output poisoned with NaN (they must overwrite
// it); the public ops are covered by the worker test.
//
// Gradients are checked against the explicit Jacobian (dx_k = sum_j dy_j
// dy_j/dx_k, O(n^2) per row), a different formula from the kernels'
// simplified closed forms, using the mean/rstd the forward pass saved.
//
// Tolerance, per element: |got - want| <= rtol*|want| + slack*scale, where
// scale is the sum of the absolute values of the terms making up the element
// (so cancellation is allowed its rounding) and rtol is 2^-22 for float32
// (the kernels compute in float64 from the float32 inputs and round once;
// softmax rounds twice) and 1e-12 for float64 (sums of up to 1000 terms in
// different orders). slack is 1e-12 for float64; for float32 it is 2^-21:
// on AVX2/AVX-512 float32 runs the SIMD kernels of kernels/avx, whose
// exponentials are float32 (within 1.3 ulp) and whose SwiGLU products are
// float32 roundings, a few 2^-24 of the size of the terms (kernels/avx
// tests each kernel against kernels/ref with its own tighter bound).

var mnlWidths = []int{1, 7, 64, 128, 1000}

// mnlData returns n values mean + std*N(0,1) from seed, rounded to float32
// so that the float32 and float64 tensors built from it hold the same numbers.
func mnlData(seed uint64, n int, mean, std float64) []float64 {
	r := NewRNG(seed, 0)
	v := make([]float64, n)
	for i := range v {
		v[i] = float64(float32(mean + std*r.NormFloat64()))
	}
	return v
}

// mnlTensor returns a CPU tensor of dtype dt holding v.
func mnlTensor(dt DType, v []float64, shape ...int) *Tensor {
	if dt == Float64 {
		return FromFloat64s(v, shape...)
	}
	f := make([]float32, len(v))
	for i, x := range v {
		f[i] = float32(x)
	}
	return FromSlice(f, shape...)
}

// mnlOut returns a NaN-filled tensor of dtype dt.
func mnlOut(dt DType, shape ...int) *Tensor { return mnlPoison(New(CPU, dt, shape...)) }

// mnlTiny is the spacing of dt's subnormals: results that underflow keep
// only absolute precision.
func mnlTiny(dt DType) float64 {
	if dt == Float32 {
		return 0x1p-149
	}
	return 0x1p-1074
}

func mnlRTol(dt DType) float64 {
	if dt == Float32 {
		return 0x1p-22
	}
	return 1e-12
}

// mnlSlack is the tolerance relative to the size of the terms (above).
func mnlSlack(dt DType) float64 {
	if dt == Float32 {
		return 0x1p-21
	}
	return 1e-12
}

// mnlCheck fails when got[i] is not within rtol*|want[i]| + slack*scale[i]
// of want[i] (scale nil: |want[i]|).
func mnlCheck(t *testing.T, what string, dt DType, got, want, scale []float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	for i := range want {
		s := math.Abs(want[i])
		if scale != nil {
			s = scale[i]
		}
		tol := mnlRTol(dt)*math.Abs(want[i]) + mnlSlack(dt)*s + mnlTiny(dt)
		if !(math.Abs(got[i]-want[i]) <= tol) {
			t.Fatalf("%s: element %d = %v, want %v (|diff| %.3g > tol %.3g)", what, i, got[i], want[i], math.Abs(got[i]-want[i]), tol)
		}
	}
}

// mnlAbsSum returns sum |v|.
func mnlAbsSum(v []float64) float64 {
	s := 0.0
	for _, x := range v {
		s += math.Abs(x)
	}
	return s
}

func TestNormSoftmax(t *testing.T) {
	be := CPU.Backend()
	for _, dt := range mnlDTypes {
		for _, n := range mnlWidths {
			const rows = 6
			x := mnlData(uint64(n), rows*n, 0, 3)
			// Rows far from 0: exp(+-1000) over/underflows even float64, so
			// these pass only with the maximum subtracted.
			for j := 0; j < n; j++ {
				x[1*n+j] = float64(float32(x[1*n+j] + 1000))
				x[4*n+j] = float64(float32(x[4*n+j] - 1000))
			}
			// A row spanning 800: exp(x - min) would overflow too.
			x[2*n+n/2] = 800
			xt := mnlTensor(dt, x, 2, 3, n)
			for _, log := range []bool{false, true} {
				what := fmt.Sprintf("%v n=%d log=%v", dt, n, log)
				// Reference: y_j = 1/sum_k exp(x_k - x_j) (log: -log of it),
				// which needs no maximum.
				want, scale := make([]float64, rows*n), make([]float64, rows*n)
				for r := 0; r < rows; r++ {
					xr := x[r*n : r*n+n]
					for j := range xr {
						s := 0.0
						for _, v := range xr {
							s += math.Exp(v - xr[j])
						}
						want[r*n+j], scale[r*n+j] = 1/s, 1/s
						if log {
							want[r*n+j], scale[r*n+j] = -math.Log(s), math.Abs(xr[j])+math.Log(s)
						}
					}
				}
				y := mnlOut(dt, 2, 3, n)
				be.Softmax(y, xt, log)
				mnlCheck(t, "Softmax "+what, dt, y.Float64s(), want, scale)

				// Gradient through the Jacobian of the saved output:
				// softmax dy_j/dx_k = y_j(delta_jk - y_k); log-softmax
				// delta_jk - exp(y_k).
				yv := y.Float64s()
				dy := mnlData(uint64(n)+100, rows*n, 0, 1)
				gw, gs := make([]float64, rows*n), make([]float64, rows*n)
				for r := 0; r < rows; r++ {
					yr, gr := yv[r*n:r*n+n], dy[r*n:r*n+n]
					for k := range yr {
						s, a := 0.0, 0.0
						for j := range yr {
							var jac float64
							switch {
							case log && j == k:
								jac = 1 - math.Exp(yr[k])
							case log:
								jac = -math.Exp(yr[k])
							case j == k:
								jac = yr[j] * (1 - yr[k])
							default:
								jac = -yr[j] * yr[k]
							}
							s += gr[j] * jac
							a += math.Abs(gr[j] * jac)
						}
						gw[r*n+k], gs[r*n+k] = s, a
					}
				}
				dx := mnlOut(dt, 2, 3, n)
				be.SoftmaxGrad(dx, y, mnlTensor(dt, dy, 2, 3, n), log)
				mnlCheck(t, "SoftmaxGrad "+what, dt, dx.Float64s(), gw, gs)
			}
		}
	}
}

// mnlParams returns gamma and beta data for width n, or nil when not used.
func mnlParams(n int, withGamma, withBeta bool) (gamma, beta []float64) {
	if withGamma {
		gamma = mnlData(uint64(n)+200, n, 1, 0.5)
	}
	if withBeta {
		beta = mnlData(uint64(n)+300, n, 0, 1)
	}
	return gamma, beta
}

// mnlOpt returns a tensor for optional data (nil for nil).
func mnlOpt(dt DType, v []float64) *Tensor {
	if v == nil {
		return nil
	}
	return mnlTensor(dt, v, len(v))
}

func mnlAt(v []float64, j int) float64 {
	if v == nil {
		return 1
	}
	return v[j]
}

// mnlRowsFor keeps the O(rows*n^2) Jacobian references fast while still
// covering several dgamma chunks (normChunkRows is 32 rows).
func mnlRowsFor(n int) int {
	if n >= 1000 {
		return 35
	}
	return 70
}

func TestNormLayerNorm(t *testing.T) {
	be := CPU.Backend()
	const eps = 1e-5
	for _, dt := range mnlDTypes {
		for _, n := range mnlWidths {
			for _, pv := range [][2]bool{{false, false}, {true, true}, {false, true}, {true, false}} {
				rows := mnlRowsFor(n)
				what := fmt.Sprintf("%v n=%d gamma=%v beta=%v", dt, n, pv[0], pv[1])
				x := mnlData(uint64(n)+1, rows*n, 0.5, 2)
				gamma, beta := mnlParams(n, pv[0], pv[1])
				xt := mnlTensor(dt, x, rows, n)
				out, mean, rstd := mnlOut(dt, rows, n), mnlOut(dt, rows), mnlOut(dt, rows)
				be.LayerNorm(out, mean, rstd, xt, mnlOpt(dt, gamma), mnlOpt(dt, beta), eps)

				// Statistics by the textbook two-pass formulas.
				wm, wr := make([]float64, rows), make([]float64, rows)
				for r := 0; r < rows; r++ {
					xr := x[r*n : r*n+n]
					for _, v := range xr {
						wm[r] += v / float64(n)
					}
					q := 0.0
					for _, v := range xr {
						q += (v - wm[r]) * (v - wm[r])
					}
					wr[r] = 1 / math.Sqrt(q/float64(n)+eps)
				}
				mnlCheck(t, "LayerNorm mean "+what, dt, mean.Float64s(), wm, mnlScaleOf(x, n, rows))
				mnlCheck(t, "LayerNorm rstd "+what, dt, rstd.Float64s(), wr, nil)

				// The output uses the float64 statistics, the gradients the
				// saved ones.
				want, scale := make([]float64, rows*n), make([]float64, rows*n)
				for r := 0; r < rows; r++ {
					for j := 0; j < n; j++ {
						xh := (x[r*n+j] - wm[r]) * wr[r]
						want[r*n+j] = xh * mnlAt(gamma, j)
						scale[r*n+j] = math.Abs(want[r*n+j])
						if beta != nil {
							want[r*n+j] += beta[j]
							scale[r*n+j] += math.Abs(beta[j])
						}
					}
				}
				mnlCheck(t, "LayerNorm out "+what, dt, out.Float64s(), want, scale)

				sm, sr := mean.Float64s(), rstd.Float64s()
				dy := mnlData(uint64(n)+2, rows*n, 0, 1)
				dx, dg, db := mnlOut(dt, rows, n), mnlOut(dt, n), mnlOut(dt, n)
				be.LayerNormGrad(dx, dg, db, mnlTensor(dt, dy, rows, n), xt, mean, rstd, mnlOpt(dt, gamma))
				wdx, sdx := make([]float64, rows*n), make([]float64, rows*n)
				wdg, sdg, wdb, sdb := make([]float64, n), make([]float64, n), make([]float64, n), make([]float64, n)
				xh := make([]float64, n)
				for r := 0; r < rows; r++ {
					for j := 0; j < n; j++ {
						xh[j] = (x[r*n+j] - sm[r]) * sr[r]
						wdg[j] += dy[r*n+j] * xh[j]
						sdg[j] += math.Abs(dy[r*n+j] * xh[j])
						wdb[j] += dy[r*n+j]
						sdb[j] += math.Abs(dy[r*n+j])
					}
					// d xhat_j / d x_k = rstd*(delta_jk - 1/n - xhat_j*xhat_k/n)
					for k := 0; k < n; k++ {
						s, a := 0.0, 0.0
						for j := 0; j < n; j++ {
							jac, ja := -1/float64(n)-xh[j]*xh[k]/float64(n), 1/float64(n)+math.Abs(xh[j]*xh[k])/float64(n)
							if j == k {
								jac, ja = jac+1, ja+1
							}
							c := dy[r*n+j] * mnlAt(gamma, j) * sr[r]
							s += c * jac
							a += math.Abs(c) * ja
						}
						wdx[r*n+k], sdx[r*n+k] = s, a
					}
				}
				mnlCheck(t, "LayerNormGrad dx "+what, dt, dx.Float64s(), wdx, sdx)
				mnlCheck(t, "LayerNormGrad dgamma "+what, dt, dg.Float64s(), wdg, sdg)
				mnlCheck(t, "LayerNormGrad dbeta "+what, dt, db.Float64s(), wdb, sdb)

				// Without parameter gradients only dx is written.
				dx2 := mnlOut(dt, rows, n)
				be.LayerNormGrad(dx2, nil, nil, mnlTensor(dt, dy, rows, n), xt, mean, rstd, mnlOpt(dt, gamma))
				mnlCheck(t, "LayerNormGrad dx (no params) "+what, dt, dx2.Float64s(), wdx, sdx)
			}
		}
	}
}

// mnlScaleOf returns, per row of x, the mean of |x| (the scale of a row mean).
func mnlScaleOf(x []float64, n, rows int) []float64 {
	s := make([]float64, rows)
	for r := range s {
		s[r] = mnlAbsSum(x[r*n:r*n+n]) / float64(n)
	}
	return s
}

func TestNormRMSNorm(t *testing.T) {
	be := CPU.Backend()
	const eps = 1e-5
	for _, dt := range mnlDTypes {
		for _, n := range mnlWidths {
			for _, withGamma := range []bool{false, true} {
				rows := mnlRowsFor(n)
				what := fmt.Sprintf("%v n=%d gamma=%v", dt, n, withGamma)
				x := mnlData(uint64(n)+3, rows*n, 0.3, 1.5)
				gamma, _ := mnlParams(n, withGamma, false)
				xt := mnlTensor(dt, x, rows, n)
				out, rstd := mnlOut(dt, rows, n), mnlOut(dt, rows)
				be.RMSNorm(out, rstd, xt, mnlOpt(dt, gamma), eps)

				wr := make([]float64, rows)
				for r := range wr {
					q := 0.0
					for _, v := range x[r*n : r*n+n] {
						q += v * v
					}
					wr[r] = 1 / math.Sqrt(q/float64(n)+eps)
				}
				mnlCheck(t, "RMSNorm rstd "+what, dt, rstd.Float64s(), wr, nil)
				want := make([]float64, rows*n)
				for i := range want {
					want[i] = x[i] * wr[i/n] * mnlAt(gamma, i%n)
				}
				mnlCheck(t, "RMSNorm out "+what, dt, out.Float64s(), want, nil)

				// Gradients from the saved rstd.
				sr := rstd.Float64s()

				dy := mnlData(uint64(n)+4, rows*n, 0, 1)
				dx := mnlOut(dt, rows, n)
				var dg *Tensor
				if withGamma {
					dg = mnlOut(dt, n)
				}
				be.RMSNormGrad(dx, dg, mnlTensor(dt, dy, rows, n), xt, rstd, mnlOpt(dt, gamma))
				wdx, sdx := make([]float64, rows*n), make([]float64, rows*n)
				wdg, sdg := make([]float64, n), make([]float64, n)
				xh := make([]float64, n)
				for r := 0; r < rows; r++ {
					for j := 0; j < n; j++ {
						xh[j] = x[r*n+j] * sr[r]
						wdg[j] += dy[r*n+j] * xh[j]
						sdg[j] += math.Abs(dy[r*n+j] * xh[j])
					}
					// d xhat_j / d x_k = rstd*(delta_jk - xhat_j*xhat_k/n)
					for k := 0; k < n; k++ {
						s, a := 0.0, 0.0
						for j := 0; j < n; j++ {
							jac, ja := -xh[j]*xh[k]/float64(n), math.Abs(xh[j]*xh[k])/float64(n)
							if j == k {
								jac, ja = jac+1, ja+1
							}
							c := dy[r*n+j] * mnlAt(gamma, j) * sr[r]
							s += c * jac
							a += math.Abs(c) * ja
						}
						wdx[r*n+k], sdx[r*n+k] = s, a
					}
				}
				mnlCheck(t, "RMSNormGrad dx "+what, dt, dx.Float64s(), wdx, sdx)
				if withGamma {
					mnlCheck(t, "RMSNormGrad dgamma "+what, dt, dg.Float64s(), wdg, sdg)
				}
			}
		}
	}
}

// mnlSigmoid is the logistic function in the form that is accurate for
// negative x (e^x/(1+e^x)), unlike the kernels' 1/(1+e^-x) there.
func mnlSigmoid(x float64) float64 {
	if x < 0 {
		e := math.Exp(x)
		return e / (1 + e)
	}
	return 1 / (1 + math.Exp(-x))
}

func TestNormSwiGLU(t *testing.T) {
	be := CPU.Backend()
	for _, dt := range mnlDTypes {
		for _, n := range []int{1, 7, 1000, 70000} {
			what := fmt.Sprintf("%v n=%d", dt, n)
			g := mnlData(uint64(n)+5, n, 0, 3)
			if n >= 7 { // saturated gates
				g[0], g[1], g[2], g[3] = 30, -30, 100, -100
			}
			u := mnlData(uint64(n)+6, n, 0, 1)
			dy := mnlData(uint64(n)+7, n, 0, 1)
			gt, ut := mnlTensor(dt, g, n), mnlTensor(dt, u, n)
			out := mnlOut(dt, n)
			be.SwiGLU(out, gt, ut)
			want := make([]float64, n)
			wdg, sdg, wdu := make([]float64, n), make([]float64, n), make([]float64, n)
			for i := range want {
				s := mnlSigmoid(g[i])
				want[i] = g[i] * s * u[i]
				wdg[i] = dy[i] * u[i] * (s + g[i]*s*(1-s))
				sdg[i] = math.Abs(dy[i]*u[i]) * s * (1 + math.Abs(g[i]))
				wdu[i] = dy[i] * g[i] * s
			}
			mnlCheck(t, "SwiGLU "+what, dt, out.Float64s(), want, nil)
			dg, du := mnlOut(dt, n), mnlOut(dt, n)
			be.SwiGLUGrad(dg, du, mnlTensor(dt, dy, n), gt, ut)
			mnlCheck(t, "SwiGLUGrad dgate "+what, dt, dg.Float64s(), wdg, sdg)
			mnlCheck(t, "SwiGLUGrad dup "+what, dt, du.Float64s(), wdu, nil)
		}
	}
}

func TestNormWorkersBitIdentical(t *testing.T) {
	for _, dt := range mnlDTypes {
		const rows, n = 3000, 96
		x := mnlRand(60, dt, rows, n)
		dy := mnlRand(61, dt, rows, n)
		gamma, beta := mnlRand(62, dt, n), mnlRand(63, dt, n)
		runs := mnlWorkerRuns(func() []*Tensor {
			sm := Softmax(x)
			lsm := LogSoftmax(x)
			ln, mean, rstd := LayerNorm(x, gamma, beta, 1e-5)
			lnx, lng, lnb := LayerNormGrad(dy, x, mean, rstd, gamma, true)
			rms, rr := RMSNorm(x, gamma, 1e-5)
			rmx, rmg := RMSNormGrad(dy, x, rr, gamma)
			sw := SwiGLU(x, dy)
			swg, swu := SwiGLUGrad(gamma.Expand(rows, n), x, dy)
			return []*Tensor{sm, lsm, SoftmaxGrad(sm, dy, false), SoftmaxGrad(lsm, dy, true),
				ln, mean, rstd, lnx, lng, lnb, rms, rr, rmx, rmg, sw, swg, swu}
		})
		mnlSameBits(t, fmt.Sprintf("%v norms", dt), runs)
	}
}

func TestNormShapePanics(t *testing.T) {
	expectPanic(t, []string{"SoftmaxGrad", "[3 4]", "[3 5]"}, func() { SoftmaxGrad(Zeros(3, 4), Zeros(3, 5), false) })
	expectPanic(t, []string{"LayerNorm", "[5]", "[3 4]"}, func() { LayerNorm(Zeros(3, 4), Zeros(5), nil, 1e-5) })
	expectPanic(t, []string{"LayerNormGrad", "[3 4]", "[4 3]"}, func() {
		LayerNormGrad(Zeros(4, 3), Zeros(3, 4), Zeros(3), Zeros(3), nil, true)
	})
	expectPanic(t, []string{"RMSNorm", "[3]", "[2 4]"}, func() { RMSNorm(Zeros(2, 4), Zeros(3), 1e-5) })
	expectPanic(t, []string{"RMSNormGrad", "[2 4]", "[2 5]"}, func() { RMSNormGrad(Zeros(2, 5), Zeros(2, 4), Zeros(2), nil) })
	expectPanic(t, []string{"SwiGLU", "[2 4]", "[2 3]"}, func() { SwiGLU(Zeros(2, 4), Zeros(2, 3)) })
	expectPanic(t, []string{"SwiGLUGrad", "[2 4]", "[4 2]"}, func() { SwiGLUGrad(Zeros(4, 2), Zeros(2, 4), Zeros(2, 4)) })
}
