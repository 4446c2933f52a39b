//go:build cuda

package tensor

import "math"

// Row normalisations and SwiGLU on the GPU (kernels/cuda: SoftmaxFwd/Bwd,
// LayerNormFwd/Bwd, RMSNormFwd/Bwd, SwiGLUFwd/Bwd). Every operand is
// contiguous (NormBackend's contract), so each op is one launch over
// [rows, cols] = [rowCount, lastDim]; nil gamma, beta, dgamma and dbeta are
// passed as null pointers, which the launchers read as "none". The
// parameter gradients are reduced deterministically (per-block partial sums
// added in a fixed order, no atomics).

// normShape returns the [rows, cols] view of x's shape.
func normShape(x *Tensor) (rows, cols int) { return rowCount(x.shape), lastDim(x.shape) }

// emptyRows writes what the CPU kernels leave for an empty [rows, cols]
// problem (the launchers reject the null pointers of empty tensors): row
// statistics over no columns are 0/0 = NaN, parameter gradients summed over
// no rows are 0.
func (b cudaBackend) emptyRows(rows, cols int, outs ...*Tensor) {
	for _, t := range outs {
		switch {
		case t == nil || t.Numel() == 0:
		case rows == 0:
			b.Fill(t, 0)
		default:
			b.Fill(t, math.NaN())
		}
	}
}

func (b cudaBackend) Softmax(dst, x *Tensor, log bool) {
	defer keep(dst, x)
	b.need32("Softmax", dst, x)
	rows, cols := normShape(x)
	if rows*cols == 0 {
		return
	}
	b.check("Softmax", b.d.rt.SoftmaxFwd(b.ptr("Softmax", dst), b.ptr("Softmax", x), rows, cols, log))
}

func (b cudaBackend) SoftmaxGrad(dx, y, dy *Tensor, log bool) {
	defer keep(dx, y, dy)
	b.need32("SoftmaxGrad", dx, y, dy)
	rows, cols := normShape(y)
	if rows*cols == 0 {
		return
	}
	b.check("SoftmaxGrad", b.d.rt.SoftmaxBwd(b.ptr("SoftmaxGrad", dx), b.ptr("SoftmaxGrad", y), b.ptr("SoftmaxGrad", dy), rows, cols, log))
}

func (b cudaBackend) LayerNorm(dst, mean, rstd, x, gamma, beta *Tensor, eps float64) {
	defer keep(dst, mean, rstd, x, gamma, beta)
	b.need32("LayerNorm", dst, mean, rstd, x, gamma, beta)
	rows, cols := normShape(x)
	if rows == 0 || cols == 0 {
		b.emptyRows(rows, cols, mean, rstd)
		return
	}
	const op = "LayerNorm"
	b.check(op, b.d.rt.LayerNormFwd(b.ptr(op, dst), b.ptr(op, mean), b.ptr(op, rstd), b.ptr(op, x),
		b.ptr(op, gamma), b.ptr(op, beta), rows, cols, eps))
}

func (b cudaBackend) LayerNormGrad(dx, dgamma, dbeta, dy, x, mean, rstd, gamma *Tensor) {
	defer keep(dx, dgamma, dbeta, dy, x, mean, rstd, gamma)
	b.need32("LayerNormGrad", dx, dgamma, dbeta, dy, x, mean, rstd, gamma)
	rows, cols := normShape(x)
	if rows == 0 || cols == 0 {
		b.emptyRows(rows, cols, dgamma, dbeta)
		return
	}
	const op = "LayerNormGrad"
	b.check(op, b.d.rt.LayerNormBwd(b.ptr(op, dx), b.ptr(op, dgamma), b.ptr(op, dbeta), b.ptr(op, dy), b.ptr(op, x),
		b.ptr(op, mean), b.ptr(op, rstd), b.ptr(op, gamma), rows, cols))
}

func (b cudaBackend) RMSNorm(dst, rstd, x, gamma *Tensor, eps float64) {
	defer keep(dst, rstd, x, gamma)
	b.need32("RMSNorm", dst, rstd, x, gamma)
	rows, cols := normShape(x)
	if rows == 0 || cols == 0 {
		b.emptyRows(rows, cols, rstd)
		return
	}
	const op = "RMSNorm"
	b.check(op, b.d.rt.RMSNormFwd(b.ptr(op, dst), b.ptr(op, rstd), b.ptr(op, x), b.ptr(op, gamma), rows, cols, eps))
}

func (b cudaBackend) RMSNormGrad(dx, dgamma, dy, x, rstd, gamma *Tensor) {
	defer keep(dx, dgamma, dy, x, rstd, gamma)
	b.need32("RMSNormGrad", dx, dgamma, dy, x, rstd, gamma)
	rows, cols := normShape(x)
	if rows == 0 || cols == 0 {
		b.emptyRows(rows, cols, dgamma)
		return
	}
	const op = "RMSNormGrad"
	b.check(op, b.d.rt.RMSNormBwd(b.ptr(op, dx), b.ptr(op, dgamma), b.ptr(op, dy), b.ptr(op, x),
		b.ptr(op, rstd), b.ptr(op, gamma), rows, cols))
}

func (b cudaBackend) SwiGLU(dst, gate, up *Tensor) {
	defer keep(dst, gate, up)
	b.need32("SwiGLU", dst, gate, up)
	n := dst.Numel()
	if n == 0 {
		return
	}
	b.check("SwiGLU", b.d.rt.SwiGLUFwd(b.ptr("SwiGLU", dst), b.ptr("SwiGLU", gate), b.ptr("SwiGLU", up), n))
}

func (b cudaBackend) SwiGLUGrad(dgate, dup, dy, gate, up *Tensor) {
	defer keep(dgate, dup, dy, gate, up)
	b.need32("SwiGLUGrad", dgate, dup, dy, gate, up)
	n := dy.Numel()
	if n == 0 {
		return
	}
	const op = "SwiGLUGrad"
	b.check(op, b.d.rt.SwiGLUBwd(b.ptr(op, dgate), b.ptr(op, dup), b.ptr(op, dy), b.ptr(op, gate), b.ptr(op, up), n))
}
