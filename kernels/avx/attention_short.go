package avx

import (
	"fmt"
	"math"

	"github.com/nori-ml/nori/kernels/ref"
)

// The short-sequence path: feature attention runs thousands of heads of 3 to
// 100 tokens, where the tiled kernels of attention.go waste up to 31 of the
// 32 lanes of a block, rescale an online softmax for nothing and transpose
// their outputs back. Here a whole head is one tile:
//
//	forward:  S^T = K Q^T ([Nk][w], the head's queries across w lanes,
//	          w = Nq rounded up to 8), the exact two-pass softmax down
//	          each lane (max, then exponentials and their sum, then the
//	          normalisation, no rescaling), out = P V written row-major;
//	backward: S^T = K Q^T and dP^T = V dO^T, P = exp(s x - lse),
//	          dS = P (dP - D) on the lanes, then dq = (s dS) K,
//	          dk = (s dS)^T Q and dv = P^T dO written row-major.
//
// The row-major products put the head dimension across the lanes (no waste
// for D a multiple of 8) and read q, k, v, dout in place (strided rows); only
// Q^T (and dO^T) is packed. A task runs whole heads with one scratch (no
// allocation per head), and every output of a head is computed by the one
// call for that head in a fixed order, so results do not depend on how heads
// are spread over workers. They do differ from the tiled path's bits (the
// softmax normalises P before the product; dq sums s*dS): which path runs
// depends only on the shape (AttnShort).
//
// Precision as the tiled path (attention.go): float32 products with fused
// multiply-adds, exponentials within about 1 ulp, D_i = dout_i . out_i in
// float64, dqscale's centred form.

// AttnShortMax is the most queries and keys a head may have for the short path.
const AttnShortMax = 128

// AttnShort reports whether heads of nq queries, nk keys and dimension d run
// on the short path: at most AttnShortMax queries and keys (at least one
// key), d a positive multiple of 8.
func AttnShort(nq, nk, d int) bool {
	return nq >= 1 && nq <= AttnShortMax && nk >= 1 && nk <= AttnShortMax && d > 0 && d%8 == 0
}

// attnShortW returns the lane width of a head of nq queries.
func attnShortW(nq int) int { return (nq + 7) &^ 7 }

// AttentionShortScratchFloats returns the scratch floats AttentionShortForward
// (fwd) or AttentionShortBackward takes for a head of nq queries, nk keys and
// dimension d (what AttnScratch.Grow should reserve).
func AttentionShortScratchFloats(nq, nk, d int, fwd bool) int {
	w := attnShortW(nq)
	if fwd {
		return 16 + d*w + nk*w + 3*w + 64
	}
	return 16 + 2*d*w + 3*nk*w + 7*w + 96
}

// Grow makes s hold at least n floats (plus alignment), so later calls that
// need no more than that do not allocate.
func (s *AttnScratch) Grow(n int) {
	if n += 16; cap(s.buf) < n {
		s.buf = make([]float32, n)
	}
}

// attnShortCheck panics unless h suits the short path.
func attnShortCheck(op string, h *ref.AttnHead[float32]) {
	attnCheckHead(op, h)
	if !AttnShort(h.Nq, h.Nk, h.D) {
		panic(fmt.Sprintf("avx.%s: head Nq %d, Nk %d, D %d is not short (AttnShort)", op, h.Nq, h.Nk, h.D))
	}
}

// attnShortScales fills vec[0:w] with the rows' s_i (0 on padding lanes).
func attnShortScales(vec []float32, h *ref.AttnHead[float32], w int) {
	for r := 0; r < w; r++ {
		vec[r] = 0
		if r < h.Nq {
			vec[r] = attnRowScale(h, r)
		}
	}
}

// AttentionShortForward computes one whole short head (AttnShort): out its
// contiguous [Nq, D] output, lse its [Nq] log-sum-exps; ws the task's scratch.
func AttentionShortForward(out, lse []float32, h ref.AttnHead[float32], ws *AttnScratch) {
	attnShortCheck("AttentionShortForward", &h)
	d, nq, nk := h.D, h.Nq, h.Nk
	if len(out) < nq*d || len(lse) < nq {
		panic(fmt.Sprintf("avx.AttentionShortForward: out %d, lse %d values for Nq %d, D %d", len(out), len(lse), nq, d))
	}
	kern := attnShortKernelsFor(Current())
	w := attnShortW(nq)
	cv := ws.reserve(d*w, nk*w, 3*w)
	qt, st, vec := cv.take(d*w), cv.take(nk*w), cv.take(3*w)
	kern.pack(qt, h.Q, h.QStride, nq, d, w)
	kern.gemm(st, w, h.K, h.KStride, 1, qt, w, nk, w, d, false)
	attnShortScales(vec, &h, w)
	kern.softmax(st, w, nk, w, vec)
	kern.gemm(out, d, st, 1, w, h.V, h.VStride, nq, d, nk, false)
	for i := 0; i < nq; i++ {
		lse[i] = float32(float64(vec[w+i]) + math.Log(float64(vec[2*w+i])))
	}
}

// AttentionShortBackward computes dq, dk, dv and (when non-nil) dqscale of
// one whole short head (AttnShort) from dout and out (the head's contiguous
// [Nq, D] rows) and lse ([Nq]): dq contiguous [Nq, D], dk and dv [Nk, D],
// dqscale [Nq].
func AttentionShortBackward(dq, dk, dv, dqscale, dout, out, lse []float32, h ref.AttnHead[float32], ws *AttnScratch) {
	attnShortCheck("AttentionShortBackward", &h)
	d, nq, nk := h.D, h.Nq, h.Nk
	if len(dq) < nq*d || len(dk) < nk*d || len(dv) < nk*d || (dqscale != nil && len(dqscale) < nq) ||
		len(dout) < nq*d || len(out) < nq*d || len(lse) < nq {
		panic(fmt.Sprintf("avx.AttentionShortBackward: dq %d, dk %d, dv %d, dqscale %d, dout %d, out %d, lse %d values for Nq %d, Nk %d, D %d",
			len(dq), len(dk), len(dv), len(dqscale), len(dout), len(out), len(lse), nq, nk, d))
	}
	kern := attnShortKernelsFor(Current())
	w := attnShortW(nq)
	cv := ws.reserve(d*w, d*w, nk*w, nk*w, nk*w, 7*w)
	qt, dot := cv.take(d*w), cv.take(d*w)
	st, dpt, sds, vec := cv.take(nk*w), cv.take(nk*w), cv.take(nk*w), cv.take(7*w)
	kern.pack(qt, h.Q, h.QStride, nq, d, w)
	kern.pack(dot, dout, d, nq, d, w)
	kern.gemm(st, w, h.K, h.KStride, 1, qt, w, nk, w, d, false)
	kern.gemm(dpt, w, h.V, h.VStride, 1, dot, w, nk, w, d, false)
	attnShortScales(vec, &h, w)
	clear(vec[w:])
	for i := 0; i < nq; i++ {
		g, o := dout[i*d:][:d], out[i*d:][:d]
		t := 0.0
		for c, x := range o {
			t += float64(g[c]) * float64(x)
		}
		vec[w+i], vec[2*w+i] = lse[i], float32(t)
	}
	kern.grad(st, dpt, sds, w, nk, w, vec)
	// dq_i = sum_j (s_i dS_ij) k_j; dk_j = sum_i (s_i dS_ij) q_i; dv_j = sum_i P_ij dout_i.
	kern.gemm(dq, d, sds, 1, w, h.K, h.KStride, nq, d, nk, false)
	kern.gemm(dk, d, sds, w, 1, h.Q, h.QStride, nk, d, nq, false)
	kern.gemm(dv, d, st, w, 1, dout, d, nk, d, nq, false)
	if dqscale != nil {
		for i := 0; i < nq; i++ {
			a, b, c, e := float64(vec[3*w+i]), float64(vec[4*w+i]), float64(vec[5*w+i]), float64(vec[6*w+i])
			dqscale[i] = float32(h.Scale * (a - b*(c/e)))
		}
	}
}
