package tensor

import (
	"fmt"

	"github.com/nori-ml/nori/kernels/avx"
	"github.com/nori-ml/nori/kernels/ref"
)

// Row normalisations and SwiGLU: every tensor is contiguous (see
// NormBackend), so the kernels run on flat slices, split over rows (or
// elements for SwiGLU) by Parallel: float32 on the SIMD kernels of
// kernels/avx when the CPU level is above Generic (same algorithms and
// float64 row statistics; accuracy stated there), else, and for float64,
// the kernels of kernels/ref. Each row is computed by one task,
// so the results do not depend on the worker count; the reductions over rows
// for dgamma and dbeta use fixed row chunks whose partial sums are added in
// chunk order (normParamGrad).

func (cpuBackend) Softmax(dst, x *Tensor, log bool) {
	switch x.DType() {
	case Float32:
		softmaxCPU[float32](dst, x, log)
	case Float64:
		softmaxCPU[float64](dst, x, log)
	default:
		normBadDType("Softmax", x)
	}
}

func softmaxCPU[T Float](dst, x *Tensor, log bool) {
	n := lastDim(x.shape)
	d, xs := cpuData[T](dst), cpuData[T](x)
	if d32, ok := simd32(d); ok {
		x32 := any(xs).([]float32)
		Parallel(rowCount(x.shape), grainRows(n), func(lo, hi int) { avx.Softmax(d32, x32, n, lo, hi, log) })
		return
	}
	Parallel(rowCount(x.shape), grainRows(n), func(lo, hi int) { ref.Softmax(d, xs, n, lo, hi, log) })
}

// simd32 returns d as []float32 and true when T is float32 and the CPU
// level runs SIMD kernels (avx.Current() above Generic).
func simd32[T Float](d []T) ([]float32, bool) {
	d32, ok := any(d).([]float32)
	return d32, ok && avx.Current() != avx.Generic
}

// f32s returns the []float32 behind a []T known to be float32 (nil stays
// nil).
func f32s[T Float](v []T) []float32 {
	if v == nil {
		return nil
	}
	return any(v).([]float32)
}

func (cpuBackend) SoftmaxGrad(dx, y, dy *Tensor, log bool) {
	switch y.DType() {
	case Float32:
		softmaxGradCPU[float32](dx, y, dy, log)
	case Float64:
		softmaxGradCPU[float64](dx, y, dy, log)
	default:
		normBadDType("SoftmaxGrad", y)
	}
}

func softmaxGradCPU[T Float](dx, y, dy *Tensor, log bool) {
	n := lastDim(y.shape)
	d, ys, gs := cpuData[T](dx), cpuData[T](y), cpuData[T](dy)
	if d32, ok := simd32(d); ok {
		y32, g32 := f32s(ys), f32s(gs)
		Parallel(rowCount(y.shape), grainRows(n), func(lo, hi int) { avx.SoftmaxGrad(d32, y32, g32, n, lo, hi, log) })
		return
	}
	Parallel(rowCount(y.shape), grainRows(n), func(lo, hi int) { ref.SoftmaxGrad(d, ys, gs, n, lo, hi, log) })
}

func (cpuBackend) LayerNorm(dst, mean, rstd, x, gamma, beta *Tensor, eps float64) {
	switch x.DType() {
	case Float32:
		layerNormCPU[float32](dst, mean, rstd, x, gamma, beta, eps)
	case Float64:
		layerNormCPU[float64](dst, mean, rstd, x, gamma, beta, eps)
	default:
		normBadDType("LayerNorm", x)
	}
}

func layerNormCPU[T Float](dst, mean, rstd, x, gamma, beta *Tensor, eps float64) {
	n := lastDim(x.shape)
	d, mu, rs, xs := cpuData[T](dst), cpuData[T](mean), cpuData[T](rstd), cpuData[T](x)
	g, b := optData[T](gamma), optData[T](beta)
	if d32, ok := simd32(d); ok {
		mu32, rs32, x32, g32, b32 := f32s(mu), f32s(rs), f32s(xs), f32s(g), f32s(b)
		Parallel(rowCount(x.shape), grainRows(n), func(lo, hi int) { avx.LayerNormRows(d32, mu32, rs32, x32, g32, b32, n, lo, hi, eps) })
		return
	}
	Parallel(rowCount(x.shape), grainRows(n), func(lo, hi int) { ref.LayerNorm(d, mu, rs, xs, g, b, n, lo, hi, eps) })
}

func (cpuBackend) LayerNormGrad(dx, dgamma, dbeta, dy, x, mean, rstd, gamma *Tensor) {
	switch x.DType() {
	case Float32:
		layerNormGradCPU[float32](dx, dgamma, dbeta, dy, x, mean, rstd, gamma)
	case Float64:
		layerNormGradCPU[float64](dx, dgamma, dbeta, dy, x, mean, rstd, gamma)
	default:
		normBadDType("LayerNormGrad", x)
	}
}

func layerNormGradCPU[T Float](dx, dgamma, dbeta, dy, x, mean, rstd, gamma *Tensor) {
	n := lastDim(x.shape)
	d, gs, xs, mu, rs, g := cpuData[T](dx), cpuData[T](dy), cpuData[T](x), cpuData[T](mean), cpuData[T](rstd), optData[T](gamma)
	if d32, ok := simd32(d); ok {
		g32, x32, mu32, rs32, gm32 := f32s(gs), f32s(xs), f32s(mu), f32s(rs), f32s(g)
		normParamGrad(rowCount(x.shape), n, optData[T](dgamma), optData[T](dbeta), func(dg, db []float64, lo, hi int) {
			avx.LayerNormGrad(d32, dg, db, g32, x32, mu32, rs32, gm32, n, lo, hi)
		})
		return
	}
	normParamGrad(rowCount(x.shape), n, optData[T](dgamma), optData[T](dbeta), func(dg, db []float64, lo, hi int) {
		ref.LayerNormGrad(d, dg, db, gs, xs, mu, rs, g, n, lo, hi)
	})
}

func (cpuBackend) RMSNorm(dst, rstd, x, gamma *Tensor, eps float64) {
	switch x.DType() {
	case Float32:
		rmsNormCPU[float32](dst, rstd, x, gamma, eps)
	case Float64:
		rmsNormCPU[float64](dst, rstd, x, gamma, eps)
	default:
		normBadDType("RMSNorm", x)
	}
}

func rmsNormCPU[T Float](dst, rstd, x, gamma *Tensor, eps float64) {
	n := lastDim(x.shape)
	d, rs, xs, g := cpuData[T](dst), cpuData[T](rstd), cpuData[T](x), optData[T](gamma)
	if d32, ok := simd32(d); ok {
		rs32, x32, g32 := f32s(rs), f32s(xs), f32s(g)
		Parallel(rowCount(x.shape), grainRows(n), func(lo, hi int) { avx.RMSNorm(d32, rs32, x32, g32, n, lo, hi, eps) })
		return
	}
	Parallel(rowCount(x.shape), grainRows(n), func(lo, hi int) { ref.RMSNorm(d, rs, xs, g, n, lo, hi, eps) })
}

func (cpuBackend) RMSNormGrad(dx, dgamma, dy, x, rstd, gamma *Tensor) {
	switch x.DType() {
	case Float32:
		rmsNormGradCPU[float32](dx, dgamma, dy, x, rstd, gamma)
	case Float64:
		rmsNormGradCPU[float64](dx, dgamma, dy, x, rstd, gamma)
	default:
		normBadDType("RMSNormGrad", x)
	}
}

func rmsNormGradCPU[T Float](dx, dgamma, dy, x, rstd, gamma *Tensor) {
	n := lastDim(x.shape)
	d, gs, xs, rs, g := cpuData[T](dx), cpuData[T](dy), cpuData[T](x), cpuData[T](rstd), optData[T](gamma)
	if d32, ok := simd32(d); ok {
		g32, x32, rs32, gm32 := f32s(gs), f32s(xs), f32s(rs), f32s(g)
		normParamGrad(rowCount(x.shape), n, optData[T](dgamma), nil, func(dg, _ []float64, lo, hi int) {
			avx.RMSNormGrad(d32, dg, g32, x32, rs32, gm32, n, lo, hi)
		})
		return
	}
	normParamGrad(rowCount(x.shape), n, optData[T](dgamma), nil, func(dg, _ []float64, lo, hi int) {
		ref.RMSNormGrad(d, dg, gs, xs, rs, g, n, lo, hi)
	})
}

func (cpuBackend) SwiGLU(dst, gate, up *Tensor) {
	switch gate.DType() {
	case Float32:
		swigluCPU[float32](dst, gate, up)
	case Float64:
		swigluCPU[float64](dst, gate, up)
	default:
		normBadDType("SwiGLU", gate)
	}
}

func swigluCPU[T Float](dst, gate, up *Tensor) {
	d, g, u := cpuData[T](dst), cpuData[T](gate), cpuData[T](up)
	if d32, ok := simd32(d); ok {
		g32, u32 := f32s(g), f32s(u)
		Parallel(gate.Numel(), elemGrain, func(lo, hi int) { avx.SwiGLU(d32[lo:hi], g32[lo:hi], u32[lo:hi]) })
		return
	}
	// exp per element: a quarter of the plain elementwise grain.
	Parallel(gate.Numel(), elemGrain/4, func(lo, hi int) { ref.SwiGLU(d, g, u, lo, hi) })
}

func (cpuBackend) SwiGLUGrad(dgate, dup, dy, gate, up *Tensor) {
	switch gate.DType() {
	case Float32:
		swigluGradCPU[float32](dgate, dup, dy, gate, up)
	case Float64:
		swigluGradCPU[float64](dgate, dup, dy, gate, up)
	default:
		normBadDType("SwiGLUGrad", gate)
	}
}

func swigluGradCPU[T Float](dgate, dup, dy, gate, up *Tensor) {
	dg, du, d, g, u := cpuData[T](dgate), cpuData[T](dup), cpuData[T](dy), cpuData[T](gate), cpuData[T](up)
	if dg32, ok := simd32(dg); ok {
		du32, d32, g32, u32 := f32s(du), f32s(d), f32s(g), f32s(u)
		Parallel(gate.Numel(), elemGrain, func(lo, hi int) {
			avx.SwiGLUGrad(dg32[lo:hi], du32[lo:hi], d32[lo:hi], g32[lo:hi], u32[lo:hi])
		})
		return
	}
	Parallel(gate.Numel(), elemGrain/4, func(lo, hi int) { ref.SwiGLUGrad(dg, du, d, g, u, lo, hi) })
}

// normParamGrad runs grad over all rows, split over the workers. When dgamma
// or dbeta ([n]) is non-nil, rows are cut into fixed chunks (normChunkRows,
// a function of rows only); grad adds each chunk's column sums into its own
// zeroed float64 partials, which are then added in chunk order and rounded
// into dgamma and dbeta (overwritten). The partials never depend on the
// worker count, so neither do the results.
func normParamGrad[T Float](rows, n int, dgamma, dbeta []T, grad func(dg, db []float64, lo, hi int)) {
	if dgamma == nil && dbeta == nil {
		Parallel(rows, grainRows(n), func(lo, hi int) { grad(nil, nil, lo, hi) })
		return
	}
	cr := normChunkRows(rows)
	nc := (rows + cr - 1) / cr
	var pg, pb []float64
	if dgamma != nil {
		pg = make([]float64, nc*n)
	}
	if dbeta != nil {
		pb = make([]float64, nc*n)
	}
	part := func(p []float64, c int) []float64 {
		if p == nil {
			return nil
		}
		return p[c*n : (c+1)*n]
	}
	Parallel(nc, max(1, grainRows(n)/cr), func(c0, c1 int) {
		for c := c0; c < c1; c++ {
			grad(part(pg, c), part(pb, c), c*cr, min(rows, (c+1)*cr))
		}
	})
	for _, o := range []struct {
		dst []T
		p   []float64
	}{{dgamma, pg}, {dbeta, pb}} {
		if o.dst == nil {
			continue
		}
		for j := 0; j < n; j++ {
			s := 0.0
			for c := 0; c < nc; c++ {
				s += o.p[c*n+j]
			}
			o.dst[j] = T(s)
		}
	}
}

// normChunkRows is the row chunk of the dgamma/dbeta reductions: at least 32
// rows, and at most 256 chunks so the partials stay small. Part of the
// numeric contract (it fixes the summation order).
func normChunkRows(rows int) int { return max(32, (rows+255)/256) }

// optData returns t's data, or nil for a nil tensor (optional parameters).
func optData[T Float](t *Tensor) []T {
	if t == nil {
		return nil
	}
	return cpuData[T](t)
}

func normBadDType(op string, t *Tensor) {
	panic(fmt.Sprintf("tensor: %s kernel on dtype %v", op, t.DType()))
}
