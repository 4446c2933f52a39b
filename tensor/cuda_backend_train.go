//go:build cuda

package tensor

import "math"

// Loss and optimizer updates on the GPU (kernels/cuda: Pinball, PinballGrad,
// AdamW, Axpby). All operands are contiguous (LossBackend, OptimBackend).

// Pinball returns the mean pinball loss over pred [N, Q], summed in float64
// by the kernel's deterministic two-stage reduction (the order differs from
// the CPU's chunks, so the last float64 bits may too).
func (b cudaBackend) Pinball(pred, target, taus *Tensor) float64 {
	defer keep(pred, target, taus)
	const op = "Pinball"
	b.need32(op, pred, target, taus)
	n, q := pred.shape[0], pred.shape[1]
	if n*q == 0 {
		return math.NaN() // the mean of nothing, as on the CPU (0/0)
	}
	v, err := b.d.rt.Pinball(b.ptr(op, pred), b.ptr(op, target), b.ptr(op, taus), n, q)
	b.check(op, err)
	return v
}

// PinballGrad writes dpred = g * d(mean loss)/d pred.
func (b cudaBackend) PinballGrad(dpred, pred, target, taus *Tensor, g float64) {
	defer keep(dpred, pred, target, taus)
	const op = "PinballGrad"
	b.need32(op, dpred, pred, target, taus)
	n, q := pred.shape[0], pred.shape[1]
	if n*q == 0 {
		return
	}
	b.check(op, b.d.rt.PinballGrad(b.ptr(op, dpred), b.ptr(op, pred), b.ptr(op, target), b.ptr(op, taus), n, q, g))
}

func (b cudaBackend) Axpby(y, x *Tensor, alpha, beta float64) {
	defer keep(y, x)
	const op = "Axpby"
	b.need32(op, y, x)
	n := y.Numel()
	if n == 0 {
		return
	}
	b.check(op, b.d.rt.Axpby(b.ptr(op, y), b.ptr(op, x), n, alpha, beta))
}

func (b cudaBackend) AdamW(param, grad, m, v *Tensor, lr, beta1, beta2, eps, wd, bc1, bc2 float64) {
	defer keep(param, grad, m, v)
	const op = "AdamW"
	b.need32(op, param, grad, m, v)
	n := param.Numel()
	if n == 0 {
		return
	}
	b.check(op, b.d.rt.AdamW(b.ptr(op, param), b.ptr(op, grad), b.ptr(op, m), b.ptr(op, v), n,
		lr, beta1, beta2, eps, wd, bc1, bc2))
}
