package autograd

import "github.com/nori-ml/nori/tensor"

// Attention computes scaled dot-product attention of q [B, H, Nq, D] over
// k, v [B, H, Nk, D] (see tensor.Attention): row i of the output is
// softmax(s_i * q_i . K^T) V with s_i = scale * qscale[b,h,i]. qscale
// (broadcastable to [B, H, Nq]) may be nil. q, k and v may be strided views,
// e.g. heads sliced from a packed QKV projection.
//
// The forward pass's per-row log-sum-exp is saved on the tape; the backward
// pass recomputes the probabilities from it (tensor.AttentionGrad).
func (tp *Tape) Attention(q, k, v, qscale *Var, scale float64) *Var {
	qs := value(qscale)
	out, lse := tensor.Attention(q.Value, k.Value, v.Value, qs, scale)
	o := tp.result(out, true, func(g *tensor.Tensor) {
		dq, dk, dv, dqs := tensor.AttentionGrad(g, q.Value, k.Value, v.Value, qs, out, lse, scale)
		tp.give(q, dq)
		tp.give(k, dk)
		tp.give(v, dv)
		tp.give(qscale, dqs)
	}, q, k, v, qscale)
	tp.keep(o.requiresGrad, lse)
	return o
}
