package tensor

import "fmt"

// Attention computes scaled dot-product attention of the query set q
// [B, H, Nq, D] over the key/value set k, v [B, H, Nk, D]:
//
//	out[b,h,i] = sum_j softmax_j(s_i * q[b,h,i].k[b,h,j]) v[b,h,j],  s_i = scale*qscale[b,h,i]
//
// Queries and keys are separate sets, so context rows attend to context rows
// (q, k, v all from the context) and query rows attend to the context only (q
// from the query rows, k and v from the context); no query sees another.
// qscale ([B, H, Nq], or broadcastable to it) may be nil. It also returns the
// per-row log-sum-exp of the scaled scores ([B, H, Nq]) for AttentionGrad.
// q, k and v may be strided views (e.g. heads of a packed QKV projection) as
// long as their last axis is contiguous.
func Attention(q, k, v, qscale *Tensor, scale float64) (out, lse *Tensor) {
	q, k, v, qscale = attnArgs("Attention", q, k, v, qscale)
	s := q.shape
	out = emptyLike(q, s...)
	lse = emptyLike(q, s[0], s[1], s[2])
	q.Backend().Attention(out, lse, q, k, v, qscale, scale)
	return out, lse
}

// AttentionGrad returns the gradients of Attention with respect to q, k, v and
// (when qscale is non-nil, else nil) qscale, given dout and the forward's out
// and lse (the probabilities are recomputed, not stored).
func AttentionGrad(dout, q, k, v, qscale, out, lse *Tensor, scale float64) (dq, dk, dv, dqscale *Tensor) {
	qs0 := qscale
	q, k, v, qscale = attnArgs("AttentionGrad", q, k, v, qscale)
	checkCompute("AttentionGrad", q, dout, out, lse)
	checkSameShape("AttentionGrad", q, dout)
	checkSameShape("AttentionGrad", q, out)
	s := q.shape
	checkShape("AttentionGrad", "lse", lse, Shape{s[0], s[1], s[2]})
	dq, dk, dv = like(q, s...), like(k, k.shape...), like(v, v.shape...)
	if qscale != nil {
		dqscale = like(q, s[0], s[1], s[2])
	}
	q.Backend().AttentionGrad(dq, dk, dv, dqscale, dout.Contiguous(), q, k, v, qscale, out.Contiguous(), lse.Contiguous(), scale)
	if qs0 != nil && !qs0.shape.Equal(dqscale.shape) {
		dqscale = SumTo(dqscale, qs0.shape)
	}
	return dq, dk, dv, dqscale
}

func attnArgs(op string, q, k, v, qscale *Tensor) (*Tensor, *Tensor, *Tensor, *Tensor) {
	checkCompute(op, q, k, v, qscale)
	if len(q.shape) != 4 || len(k.shape) != 4 || !k.shape.Equal(v.shape) ||
		q.shape[0] != k.shape[0] || q.shape[1] != k.shape[1] || q.shape[3] != k.shape[3] {
		panic(fmt.Sprintf("tensor.%s: q %v, k %v, v %v: want q [B,H,Nq,D] and k, v [B,H,Nk,D]", op, q.shape, k.shape, v.shape))
	}
	if k.shape[2] == 0 && q.shape[2] > 0 {
		panic(fmt.Sprintf("tensor.%s: no keys (k %v) for %d queries", op, k.shape, q.shape[2]))
	}
	unit := func(t *Tensor) *Tensor {
		if t.strides[3] != 1 && t.shape[3] != 1 {
			return t.Clone()
		}
		return t
	}
	if qscale != nil {
		s := Shape{q.shape[0], q.shape[1], q.shape[2]}
		if b, err := BroadcastShapes(qscale.shape, s); err != nil || !b.Equal(s) {
			panic(fmt.Sprintf("tensor.%s: qscale %v does not broadcast to %v", op, qscale.shape, s))
		}
		qscale = qscale.Expand(s...).Contiguous()
	}
	return unit(q), unit(k), unit(v), qscale
}
