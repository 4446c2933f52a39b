//go:build cuda

package tensor

import (
	"math"

	"github.com/nori-ml/nori/kernels/cuda"
)

// Attention on the GPU (kernels/cuda: AttentionFwd, AttentionBwd; they pick
// the short-sequence kernels for Nk <= 128 and the flash kernels above). q,
// k and v are passed with their strides over B, H and rows (their last axis
// has unit stride, or size 1, by AttentionBackend's contract), so heads that
// are views of a packed QKV projection are read in place; out, lse, dq, dk,
// dv, dout, qscale and dqscale are contiguous.

// attnShape describes q [B,H,Nq,D] and k, v [B,H,Nk,D] to the launchers.
func attnShape(q, k, v *Tensor) cuda.AttnShape {
	st := func(t *Tensor) [3]int64 {
		return [3]int64{int64(t.strides[0]), int64(t.strides[1]), int64(t.strides[2])}
	}
	return cuda.AttnShape{B: q.shape[0], H: q.shape[1], Nq: q.shape[2], Nk: k.shape[2], D: q.shape[3],
		QStride: st(q), KStride: st(k), VStride: st(v)}
}

func (b cudaBackend) Attention(out, lse, q, k, v, qscale *Tensor, scale float64) {
	defer keep(out, lse, q, k, v, qscale)
	const op = "Attention"
	b.need32(op, out, lse, q, k, v, qscale)
	if out.Numel() == 0 {
		if lse.Numel() > 0 { // D == 0: every score is 0, lse = log(Nk)
			b.Fill(lse, math.Log(float64(k.shape[2])))
		}
		return
	}
	b.check(op, b.d.rt.AttentionFwd(b.ptr(op, out), b.ptr(op, lse), b.ptr(op, q), b.ptr(op, k), b.ptr(op, v),
		b.ptr(op, qscale), attnShape(q, k, v), scale))
}

func (b cudaBackend) AttentionGrad(dq, dk, dv, dqscale, dout, q, k, v, qscale, out, lse *Tensor, scale float64) {
	defer keep(dq, dk, dv, dqscale, dout, q, k, v, qscale, out, lse)
	const op = "AttentionGrad"
	b.need32(op, dq, dk, dv, dqscale, dout, q, k, v, qscale, out, lse)
	// No queries (Nq == 0) or heads of dimension 0: every gradient is 0.
	if q.Numel() == 0 || k.Numel() == 0 {
		for _, t := range []*Tensor{dq, dk, dv, dqscale} {
			if t != nil && t.Numel() > 0 {
				b.Fill(t, 0)
			}
		}
		return
	}
	b.check(op, b.d.rt.AttentionBwd(b.ptr(op, dq), b.ptr(op, dk), b.ptr(op, dv), b.ptr(op, dqscale),
		b.ptr(op, dout), b.ptr(op, q), b.ptr(op, k), b.ptr(op, v), b.ptr(op, qscale), b.ptr(op, out), b.ptr(op, lse),
		attnShape(q, k, v), scale))
}
