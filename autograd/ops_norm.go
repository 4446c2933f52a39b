package autograd

import "github.com/nori-ml/nori/tensor"

// Row-wise ops over the last axis: softmax, normalisations and SwiGLU. Their
// gradients are the fused tensor.*Grad kernels; statistics saved by the
// forward pass (mean, rstd) belong to the tape when the op is recorded and
// are freed at once otherwise.

// Softmax returns the softmax of a over its last axis.
func (tp *Tape) Softmax(a *Var) *Var { return tp.softmax(a, false) }

// LogSoftmax returns the log-softmax of a over its last axis.
func (tp *Tape) LogSoftmax(a *Var) *Var { return tp.softmax(a, true) }

func (tp *Tape) softmax(a *Var, log bool) *Var {
	var out *tensor.Tensor
	if log {
		out = tensor.LogSoftmax(a.Value)
	} else {
		out = tensor.Softmax(a.Value)
	}
	return tp.result(out, true, func(g *tensor.Tensor) {
		tp.give(a, tensor.SoftmaxGrad(out, g, log))
	}, a)
}

// LayerNorm normalises x over its last axis, (x-mean)/sqrt(var+eps)*gamma +
// beta with the biased variance; gamma and beta ([last]) may be nil.
func (tp *Tape) LayerNorm(x, gamma, beta *Var, eps float64) *Var {
	gv := value(gamma)
	out, mean, rstd := tensor.LayerNorm(x.Value, gv, value(beta), eps)
	o := tp.result(out, true, func(g *tensor.Tensor) {
		dx, dg, db := tensor.LayerNormGrad(g, x.Value, mean, rstd, gv, needs(gamma) || needs(beta))
		tp.give(x, dx)
		tp.give(gamma, dg) // freed when gamma is nil or frozen
		tp.give(beta, db)
	}, x, gamma, beta)
	tp.keep(o.requiresGrad, mean, rstd)
	return o
}

// RMSNorm returns x/sqrt(mean(x^2)+eps)*gamma over the last axis; gamma
// ([last]) may be nil (no scale).
func (tp *Tape) RMSNorm(x, gamma *Var, eps float64) *Var {
	gv := value(gamma)
	out, rstd := tensor.RMSNorm(x.Value, gv, eps)
	o := tp.result(out, true, func(g *tensor.Tensor) {
		dx, dg := tensor.RMSNormGrad(g, x.Value, rstd, gv)
		tp.give(x, dx)
		tp.give(gamma, dg)
	}, x, gamma)
	tp.keep(o.requiresGrad, rstd)
	return o
}

// SwiGLU returns silu(gate) * up (same shapes).
func (tp *Tape) SwiGLU(gate, up *Var) *Var {
	out := tensor.SwiGLU(gate.Value, up.Value)
	return tp.result(out, true, func(g *tensor.Tensor) {
		dgate, dup := tensor.SwiGLUGrad(g, gate.Value, up.Value)
		tp.give(gate, dgate)
		tp.give(up, dup)
	}, gate, up)
}
