package tensor

import (
	"fmt"

	"github.com/nori-ml/nori/kernels/avx"
	"github.com/nori-ml/nori/kernels/ref"
)

// Pinball sums the loss over the flat [N*Q] elements with ReduceFloat64
// (fixed chunks added in order) and divides by N*Q. Float32 runs the SIMD
// kernels of kernels/avx above the Generic level (ref's float64 arithmetic;
// within a chunk the terms are added per row in 16 lanes, so the sum can
// differ from ref's in the last float64 bits; the gradient gives ref's
// bits).
func (cpuBackend) Pinball(pred, target, taus *Tensor) float64 {
	switch pred.DType() {
	case Float32:
		return pinballCPU[float32](pred, target, taus)
	case Float64:
		return pinballCPU[float64](pred, target, taus)
	}
	panic(fmt.Sprintf("tensor: Pinball kernel on dtype %v", pred.DType()))
}

func pinballCPU[T Float](pred, target, taus *Tensor) float64 {
	total, q := pred.Numel(), pred.shape[1]
	p, y, u := cpuData[T](pred), cpuData[T](target), cpuData[T](taus)
	if p32, ok := simd32(p); ok {
		y32, u32 := f32s(y), f32s(u)
		return ReduceFloat64(total, func(lo, hi int) float64 { return avx.PinballSum(p32, y32, u32, q, lo, hi) }) / float64(total)
	}
	s := ReduceFloat64(total, func(lo, hi int) float64 { return ref.PinballSum(p, y, u, q, lo, hi) })
	return s / float64(total)
}

// PinballGrad writes dpred = g/(N*Q) * d rho/d pred elementwise.
func (cpuBackend) PinballGrad(dpred, pred, target, taus *Tensor, g float64) {
	switch pred.DType() {
	case Float32:
		pinballGradCPU[float32](dpred, pred, target, taus, g)
	case Float64:
		pinballGradCPU[float64](dpred, pred, target, taus, g)
	default:
		panic(fmt.Sprintf("tensor: PinballGrad kernel on dtype %v", pred.DType()))
	}
}

func pinballGradCPU[T Float](dpred, pred, target, taus *Tensor, g float64) {
	total, q := pred.Numel(), pred.shape[1]
	d, p, y, u := cpuData[T](dpred), cpuData[T](pred), cpuData[T](target), cpuData[T](taus)
	scale := g / float64(total)
	if d32, ok := simd32(d); ok {
		p32, y32, u32 := f32s(p), f32s(y), f32s(u)
		Parallel(total, elemGrain, func(lo, hi int) { avx.PinballGrad(d32, p32, y32, u32, q, scale, lo, hi) })
		return
	}
	Parallel(total, elemGrain, func(lo, hi int) { ref.PinballGrad(d, p, y, u, q, scale, lo, hi) })
}
