package tensor

import "github.com/nori-ml/nori/kernels/ref"

// CPU optimizer updates: contiguous operands, elementwise kernels from
// kernels/ref split over fixed element ranges (elements are independent, so
// the split cannot change the result).

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
	// A quarter of the elementwise grain: the update costs a square root and
	// a division per element.
	Parallel(n, elemGrain/4, func(lo, hi int) {
		ref.AdamW(pd[lo:hi], gd[lo:hi], md[lo:hi], vd[lo:hi], lr, beta1, beta2, eps, wd, bc1, bc2)
	})
}
