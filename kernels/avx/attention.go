package avx

import (
	"fmt"
	"math"
	"unsafe"

	"github.com/nori-ml/nori/kernels/ref"
)

// Fused flash attention in float32 on the CPU: the algorithm of
// kernels/ref's AttentionForward and AttentionBackward (same head
// description, same formulas, same dqscale centring), with the tiles computed
// by the SIMD kernels of attn_*.go at the level Current() returns. Heads are
// ref.AttnHead[float32]: strided q, k, v rows (unit last stride), optional
// per-row qscale.
//
// Blocking: query rows are taken attnLanes (32) at a time and lie across the
// vector lanes (see attn_generic.go); keys are streamed attnTile (64) at a
// time, tiles counted from key 0. Every query row's arithmetic is the same
// whatever block it shares and wherever a [lo, hi) split falls, and the
// backward's per-key sums run over the query blocks in order, so the results
// are bit-identical for any split of the work (and between the fused backward
// and its two-pass form). They do depend on the level (FMA versus separate
// multiply and add in the pure-Go kernels, and the exponential).
//
// Precision: float32 arithmetic with fused multiply-adds, exponentials within
// about 1 ulp; dot products over the head dimension and sums over keys
// accumulate in float32 (rounding error about sqrt(n)*2^-24 relative to the
// magnitudes summed), the dqscale sums too, D_i = dout_i . out_i and the final
// divisions and logarithms in float64. tensor/attention_test.go and
// attention_test.go here state the tolerances against the float64 reference.
//
// Memory: a forward task needs O(attnTile*attnLanes + D*attnLanes) scratch;
// the backward packs the query side of a head (q and dout, transposed and
// row-major: about 4*Nq*D floats) and the fused form holds float32 dk and dv
// accumulators (2*Nk*D): linear in the sequence lengths, never Nq*Nk.

const (
	attnLanes = 32 // query rows per block (the lanes of the score vectors)
	attnTile  = 64 // keys per K/V tile
)

// AttnBlockRows is the number of query rows the kernels process together; a
// split of a head's query rows into [lo, hi) ranges for AttnGradPrep.Prepare
// and AttentionBackwardQ must start each range at a multiple of it.
const AttnBlockRows = attnLanes

// AttnScratch is reusable scratch memory for the attention kernels (one per
// concurrent task); the zero value is ready to use and grows as needed.
type AttnScratch struct{ buf []float32 }

// attnCarve hands out 64-byte aligned, consecutive pieces of a scratch buffer.
type attnCarve struct{ buf []float32 }

// reserve returns a attnCarve with room for pieces of the given sizes.
func (s *AttnScratch) reserve(sizes ...int) attnCarve {
	n := 16
	for _, m := range sizes {
		n += (max(m, 1) + 15) &^ 15
	}
	if cap(s.buf) < n {
		s.buf = make([]float32, n)
	}
	b := s.buf[:n]
	if off := int(uintptr(unsafe.Pointer(&b[0])) & 63); off != 0 {
		b = b[(64-off)/4:]
	}
	return attnCarve{b}
}

// take returns the next piece of n floats (at least one, so kernels always
// get a valid pointer), contents arbitrary.
func (c *attnCarve) take(n int) []float32 {
	r := (max(n, 1) + 15) &^ 15
	p := c.buf[:max(n, 1):r]
	c.buf = c.buf[r:]
	return p
}

// attnRowScale returns s_i = Scale*QScale[i] (or Scale) in float32.
func attnRowScale(h *ref.AttnHead[float32], i int) float32 {
	if h.QScale == nil {
		return float32(h.Scale)
	}
	return float32(h.Scale * float64(h.QScale[i]))
}

// attnCheckHead panics unless the head's slices hold the rows its sizes and
// strides address (the assembly kernels do not check bounds).
func attnCheckHead(op string, h *ref.AttnHead[float32]) {
	need := func(what string, s []float32, n, stride int) {
		if n > 0 && h.D > 0 && len(s) < (n-1)*stride+h.D {
			panic(fmt.Sprintf("avx.%s: %s holds %d values, %d rows of stride %d and width %d need %d", op, what, len(s), n, stride, h.D, (n-1)*stride+h.D))
		}
	}
	need("Q", h.Q, h.Nq, h.QStride)
	need("K", h.K, h.Nk, h.KStride)
	need("V", h.V, h.Nk, h.VStride)
	if h.QScale != nil && len(h.QScale) < h.Nq {
		panic(fmt.Sprintf("avx.%s: QScale holds %d values for %d queries", op, len(h.QScale), h.Nq))
	}
	if h.Nk == 0 && h.Nq > 0 {
		panic(fmt.Sprintf("avx.%s: no keys for %d queries", op, h.Nq))
	}
}

// attnRows returns s from row r of stride stride (s itself when that is past
// its end, which only happens when the kernels read nothing: D = 0).
func attnRows(s []float32, r, stride int) []float32 {
	if o := r * stride; o < len(s) {
		return s[o:]
	}
	return s
}

// attnPackT writes rows [i0, i0+nb) of src (row stride stride, d columns) into
// dst transposed, dst[c*attnLanes+r], zeroing lanes r >= nb.
func attnPackT(dst, src []float32, stride, i0, nb, d int) {
	for r := 0; r < nb; r++ {
		row := src[(i0+r)*stride:][:d]
		for c, x := range row {
			dst[c*attnLanes+r] = x
		}
	}
	if nb < attnLanes {
		for c := 0; c < d; c++ {
			clear(dst[c*attnLanes+nb : (c+1)*attnLanes])
		}
	}
}

// AttentionForward computes out rows and lse entries [lo, hi) of one head:
// out is the head's contiguous [Nq, D] output and lse its [Nq] log-sum-exps;
// ws is the task's scratch. For each block of 32 query rows it streams K and
// V in tiles of 64 keys: S = s_i q_i.k_j for the tile (qk), the online
// softmax step (running max m and sum l per row, the accumulator rescaled by
// exp(m - m') when the max rises), then acc += P V (pv); finally out = acc/l
// and lse = m + log l.
func AttentionForward(out, lse []float32, h ref.AttnHead[float32], lo, hi int, ws *AttnScratch) {
	if lo >= hi {
		return
	}
	attnCheckHead("AttentionForward", &h)
	const L = attnLanes
	kern := attnKernelsFor(Current())
	d, nk := h.D, h.Nk
	cv := ws.reserve(d*L, d*L, attnTile*L, 3*L)
	qt, acc, st, vec := cv.take(d*L), cv.take(d*L), cv.take(attnTile*L), cv.take(3*L)
	for i0 := lo; i0 < hi; i0 += L {
		nb := min(L, hi-i0)
		attnPackT(qt, h.Q, h.QStride, i0, nb, d)
		for r := 0; r < L; r++ {
			vec[r], vec[L+r], vec[2*L+r] = 0, float32(math.Inf(-1)), 0
			if r < nb {
				vec[r] = attnRowScale(&h, i0+r)
			}
		}
		clear(acc[:d*L])
		for j0 := 0; j0 < nk; j0 += attnTile {
			nt := min(attnTile, nk-j0)
			kern.qk(st, qt, attnRows(h.K, j0, h.KStride), h.KStride, nt, d, nb)
			kern.softmax(st, nt, vec, acc, d, nb)
			kern.pv(acc, st, attnRows(h.V, j0, h.VStride), h.VStride, nt, d, nb)
		}
		for r := 0; r < nb; r++ {
			i := i0 + r
			l := vec[2*L+r]
			o := out[i*d:][:d]
			for c := range o {
				o[c] = acc[c*L+r] / l
			}
			lse[i] = float32(float64(vec[L+r]) + math.Log(float64(l)))
		}
	}
}
