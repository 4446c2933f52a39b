package tensor

import (
	"github.com/nori-ml/nori/kernels/avx"
	"github.com/nori-ml/nori/kernels/ref"
)

// CPU optimizer updates: contiguous operands, elementwise kernels split over
// fixed element ranges (elements are independent, so the split cannot
// change the result). Float32 AdamW runs avx.AdamW above the Generic level,
// which gives ref.AdamW's bits (the same float64 arithmetic, vectorised).

func (cpuBackend) Axpby(y, x *Tensor, a, b float64) {
	if y.DType() == Float64 {
		axpbyCPU[float64](y, x, a, b)
	} else {
		axpbyCPU[float32](y, x, a, b)
	}
}

func axpbyCPU[T Float](y, x *Tensor, a, b float64) {
	n := y.Numel()
	yd, xd := cpuData[T](y)[:n], cpuData[T](x)[:n]
	if y32, ok := simd32(yd); ok && a == 1 && b == 1 {
		// y += x, the autograd tape's gradient accumulation: the SIMD
		// saxpy with alpha 1 rounds x+y once in float32, which equals
		// ref.Axpby's float64 sum rounded to float32 (double rounding is
		// innocuous for a sum when 53 >= 2*24+2 bits).
		x32 := f32s(xd)
		Parallel(n, elemGrain, func(lo, hi int) {
			avx.Implementation{}.Saxpy(hi-lo, 1, x32[lo:hi], 1, y32[lo:hi], 1)
		})
		return
	}
	Parallel(n, elemGrain, func(lo, hi int) {
		ref.Axpby(yd[lo:hi], xd[lo:hi], a, b)
	})
}

func (cpuBackend) AdamW(param, grad, m, v *Tensor, lr, beta1, beta2, eps, wd, bc1, bc2 float64) {
	if param.DType() == Float64 {
		adamWCPU[float64](param, grad, m, v, lr, beta1, beta2, eps, wd, bc1, bc2)
	} else {
		adamWCPU[float32](param, grad, m, v, lr, beta1, beta2, eps, wd, bc1, bc2)
	}
}

func adamWCPU[T Float](param, grad, m, v *Tensor, lr, beta1, beta2, eps, wd, bc1, bc2 float64) {
	n := param.Numel()
	pd, gd := cpuData[T](param)[:n], cpuData[T](grad)[:n]
	md, vd := cpuData[T](m)[:n], cpuData[T](v)[:n]
	if p32, ok := simd32(pd); ok {
		g32, m32, v32 := f32s(gd), f32s(md), f32s(vd)
		Parallel(n, elemGrain, func(lo, hi int) {
			avx.AdamW(p32[lo:hi], g32[lo:hi], m32[lo:hi], v32[lo:hi], lr, beta1, beta2, eps, wd, bc1, bc2)
		})
		return
	}
	// A quarter of the elementwise grain: the update costs a square root and
	// a division per element.
	Parallel(n, elemGrain/4, func(lo, hi int) {
		ref.AdamW(pd[lo:hi], gd[lo:hi], md[lo:hi], vd[lo:hi], lr, beta1, beta2, eps, wd, bc1, bc2)
	})
}
