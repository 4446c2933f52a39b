package tensor

import "fmt"

// Softmax returns the softmax of x over its last axis.
func Softmax(x *Tensor) *Tensor { return softmax("Softmax", x, false) }

// LogSoftmax returns the log-softmax of x over its last axis.
func LogSoftmax(x *Tensor) *Tensor { return softmax("LogSoftmax", x, true) }

func softmax(op string, x *Tensor, log bool) *Tensor {
	checkCompute(op, x)
	checkMinRank(op, x, 1)
	x = x.Contiguous()
	out := emptyLike(x, x.shape...)
	x.Backend().Softmax(out, x, log)
	return out
}

// SoftmaxGrad returns dx for y = softmax(x) (or log-softmax when log is set)
// given the forward output y and the upstream gradient dy.
func SoftmaxGrad(y, dy *Tensor, log bool) *Tensor {
	checkCompute("SoftmaxGrad", y, dy)
	checkSameShape("SoftmaxGrad", y, dy)
	y, dy = y.Contiguous(), dy.Contiguous()
	dx := emptyLike(y, y.shape...)
	y.Backend().SoftmaxGrad(dx, y, dy, log)
	return dx
}

// normRows checks a row normalisation's input and parameter shapes and returns
// contiguous x plus its row count and width.
func normRows(op string, x, gamma, beta *Tensor) (*Tensor, int, int) {
	checkCompute(op, x, gamma, beta)
	checkMinRank(op, x, 1)
	n := lastDim(x.shape)
	for _, p := range []*Tensor{gamma, beta} {
		if p != nil && !(len(p.shape) == 1 && p.shape[0] == n) {
			panic(fmt.Sprintf("tensor.%s: parameter of shape %v for input %v, want [%d]", op, p.shape, x.shape, n))
		}
	}
	return x.Contiguous(), rowCount(x.shape), n
}

// LayerNorm normalises x over its last axis: (x-mean)/sqrt(var+eps)*gamma +
// beta (biased variance). gamma and beta ([last]) may be nil. It also returns
// the per-row mean and rstd ([rows], flattened leading axes) for LayerNormGrad.
func LayerNorm(x, gamma, beta *Tensor, eps float64) (out, mean, rstd *Tensor) {
	x, rows, _ := normRows("LayerNorm", x, gamma, beta)
	out, mean, rstd = emptyLike(x, x.shape...), emptyLike(x, rows), emptyLike(x, rows)
	x.Backend().LayerNorm(out, mean, rstd, x, contig(gamma), contig(beta), eps)
	return out, mean, rstd
}

// LayerNormGrad returns dx and, when withParams is set, dgamma and dbeta.
func LayerNormGrad(dy, x, mean, rstd, gamma *Tensor, withParams bool) (dx, dgamma, dbeta *Tensor) {
	x, rows, n := normRows("LayerNormGrad", x, gamma, nil)
	checkSameShape("LayerNormGrad", x, dy)
	checkShape("LayerNormGrad", "mean", mean, Shape{rows})
	checkShape("LayerNormGrad", "rstd", rstd, Shape{rows})
	dx = emptyLike(x, x.shape...)
	if withParams {
		dgamma, dbeta = like(x, n), like(x, n)
	}
	x.Backend().LayerNormGrad(dx, dgamma, dbeta, dy.Contiguous(), x, mean.Contiguous(), rstd.Contiguous(), contig(gamma))
	return dx, dgamma, dbeta
}

// RMSNorm returns x/sqrt(mean(x^2)+eps)*gamma over the last axis (gamma may
// be nil: no scale) and the per-row rstd ([rows]).
func RMSNorm(x, gamma *Tensor, eps float64) (out, rstd *Tensor) {
	x, rows, _ := normRows("RMSNorm", x, gamma, nil)
	out, rstd = emptyLike(x, x.shape...), emptyLike(x, rows)
	x.Backend().RMSNorm(out, rstd, x, contig(gamma), eps)
	return out, rstd
}

// RMSNormGrad returns dx and, when gamma is non-nil, dgamma.
func RMSNormGrad(dy, x, rstd, gamma *Tensor) (dx, dgamma *Tensor) {
	x, rows, n := normRows("RMSNormGrad", x, gamma, nil)
	checkSameShape("RMSNormGrad", x, dy)
	checkShape("RMSNormGrad", "rstd", rstd, Shape{rows})
	dx = emptyLike(x, x.shape...)
	if gamma != nil {
		dgamma = like(x, n)
	}
	x.Backend().RMSNormGrad(dx, dgamma, dy.Contiguous(), x, rstd.Contiguous(), contig(gamma))
	return dx, dgamma
}

// SwiGLU returns silu(gate) * up.
func SwiGLU(gate, up *Tensor) *Tensor {
	checkCompute("SwiGLU", gate, up)
	checkSameShape("SwiGLU", gate, up)
	out := emptyLike(gate, gate.shape...)
	gate.Backend().SwiGLU(out, gate.Contiguous(), up.Contiguous())
	return out
}

// SwiGLUGrad returns the gradients of SwiGLU with respect to gate and up.
func SwiGLUGrad(dy, gate, up *Tensor) (dgate, dup *Tensor) {
	checkCompute("SwiGLUGrad", dy, gate, up)
	checkSameShape("SwiGLUGrad", gate, up)
	checkSameShape("SwiGLUGrad", gate, dy)
	dgate, dup = emptyLike(gate, gate.shape...), emptyLike(gate, gate.shape...)
	gate.Backend().SwiGLUGrad(dgate, dup, dy.Contiguous(), gate.Contiguous(), up.Contiguous())
	return dgate, dup
}

func contig(t *Tensor) *Tensor {
	if t == nil {
		return nil
	}
	return t.Contiguous()
}
