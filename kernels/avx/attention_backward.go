package avx

import (
	"fmt"

	"github.com/nori-ml/nori/kernels/ref"
)

// Backward of the fused attention (formulas as kernels/ref's
// attention_backward.go): the probabilities are recomputed tile by tile from
// the saved lse, P = exp(s_i q_i.k_j - lse_i), never stored; with
// D_i = dout_i . out_i and dS = P (dout_i . v_j - D_i):
//
//	dq_i = s_i sum_j dS_ij k_j,  dk_j = sum_i s_i dS_ij q_i,  dv_j = sum_i P_ij dout_i,
//	dqscale_i = scale * (sum_j dS_ij x_ij - (sum_j dS_ij) (sum_j P_ij x_ij / sum_j P_ij)),  x = q.k
//
// (the centred form, which removes the error the rounding of the saved out
// adds through D_i in proportion to the large x).
//
// The query side of a head is packed once (AttnGradPrep): q and dout
// transposed for the score products and row-major (columns padded to a
// multiple of 16) for the dk and dv products, with s_i, lse_i and D_i.
// Two deterministic forms, bit-identical to each other:
//   - AttentionBackward: one fused pass over a head, query blocks outer and
//     key tiles inner, five products per (block, tile): S = Q K^T,
//     dP = dO V^T, dq += dS K, dv += P^T dO, dk += (s dS)^T Q (2.5 times the
//     forward's two, as FlashAttention-2 counts). dk and dv accumulate in
//     float32 [Nk, D] buffers, query block after query block.
//   - AttentionBackwardQ over query ranges (three products) plus
//     AttentionBackwardKV over key ranges (four, recomputing S, dP and dS):
//     seven in all, but any head splits into blocks for parallelism.
// Every element is accumulated in the same order in both: dq and the dqscale
// sums key by key in order, dk and dv query block by query block in order
// (rows in order within a block), from the same P and dS values (which depend
// only on their row and key).

// AttnGradPrep holds the packed query side of a set of heads of the same
// shape for AttentionBackwardQ and AttentionBackwardKV (O(Nq*D) per head).
type AttnGradPrep struct {
	mem            AttnScratch // backing memory
	data           []float32   // the packed blocks, 64-byte aligned
	heads, nq, d   int
	dp, blk, nblks int
}

// attnPadD returns d rounded up to a multiple of 16 (the padded row width of
// the row-major packs and the dk/dv accumulators).
func attnPadD(d int) int { return (d + 15) &^ 15 }

// attnPrepBlock returns the floats one packed query block takes: qt and dot
// [d][32], qp and dop [32][dp], and s, lse, D [3][32].
func attnPrepBlock(d int) int { return 2*d*attnLanes + 2*attnLanes*attnPadD(d) + 3*attnLanes }

// Reset sizes p for heads heads of nq queries of dimension d, reusing its
// memory when large enough; contents are undefined until Prepare.
func (p *AttnGradPrep) Reset(heads, nq, d int) {
	p.heads, p.nq, p.d, p.dp = heads, nq, d, attnPadD(d)
	p.blk, p.nblks = attnPrepBlock(d), (nq+attnLanes-1)/attnLanes
	cv := p.mem.reserve(heads * p.nblks * p.blk)
	p.data = cv.take(heads * p.nblks * p.blk)
}

// AttnGradPrepFloats returns the floats an AttnGradPrep sized by
// Reset(heads, nq, d) holds (what Grow should reserve).
func AttnGradPrepFloats(heads, nq, d int) int {
	return 32 + heads*((nq+attnLanes-1)/attnLanes)*attnPrepBlock(d)
}

// Grow makes p's memory hold at least n floats, so a later Reset that needs
// no more does not allocate.
func (p *AttnGradPrep) Grow(n int) { p.mem.Grow(n) }

// Bytes returns the memory p holds.
func (p *AttnGradPrep) Bytes() int { return 4 * cap(p.mem.buf) }

// attnPackedBlock is one packed query block.
type attnPackedBlock struct{ qt, dot, qp, dop, vec []float32 }

func (p *AttnGradPrep) block(head, b int) attnPackedBlock {
	const L = attnLanes
	d, dp := p.d, p.dp
	x := p.data[(head*p.nblks+b)*p.blk:][:p.blk]
	return attnPackedBlock{
		qt: x[:d*L], dot: x[d*L : 2*d*L],
		qp: x[2*d*L:][:L*dp], dop: x[2*d*L+L*dp:][:L*dp],
		vec: x[2*d*L+2*L*dp:][:3*L],
	}
}

// Prepare packs query rows [lo, hi) of head number head (lo a multiple of
// AttnBlockRows) from the head h, dout and out (the head's contiguous [Nq, D]
// rows) and lse ([Nq]) of the forward.
func (p *AttnGradPrep) Prepare(head int, dout, out, lse []float32, h ref.AttnHead[float32], lo, hi int) {
	const L = attnLanes
	if lo%L != 0 || head < 0 || head >= p.heads || h.Nq != p.nq || h.D != p.d || hi > p.nq {
		panic(fmt.Sprintf("avx.AttnGradPrep.Prepare: head %d rows [%d, %d) of Nq %d, D %d: prep sized for %d heads, Nq %d, D %d, ranges starting at multiples of %d",
			head, lo, hi, h.Nq, h.D, p.heads, p.nq, p.d, L))
	}
	attnCheckHead("AttnGradPrep.Prepare", &h)
	d, dp := p.d, p.dp
	if len(dout) < h.Nq*d || len(out) < h.Nq*d || len(lse) < h.Nq {
		panic(fmt.Sprintf("avx.AttnGradPrep.Prepare: dout %d, out %d, lse %d values for Nq %d, D %d", len(dout), len(out), len(lse), h.Nq, d))
	}
	for i0 := lo; i0 < hi; i0 += L {
		nb := min(L, hi-i0)
		b := p.block(head, i0/L)
		attnPackT(b.qt, h.Q, h.QStride, i0, nb, d)
		attnPackT(b.dot, dout, d, i0, nb, d)
		clear(b.qp)
		clear(b.dop)
		clear(b.vec)
		for r := 0; r < nb; r++ {
			i := i0 + r
			copy(b.qp[r*dp:], h.Q[i*h.QStride:][:d])
			g, o := dout[i*d:][:d], out[i*d:][:d]
			copy(b.dop[r*dp:], g)
			t := 0.0
			for c, x := range o {
				t += float64(g[c]) * float64(x)
			}
			b.vec[r], b.vec[L+r], b.vec[2*L+r] = attnRowScale(&h, i), lse[i], float32(t)
		}
	}
}

// attnGradTiles holds the score tiles and per-row vectors of one backward task.
type attnGradTiles struct {
	st, dp, sds []float32 // [attnTile][32]: x then P, dP then dS, s*dS
	vec         []float32 // [7][32]: s, lse, D, then the dqscale sums
}

func newAttnGradTiles(cv *attnCarve) attnGradTiles {
	const L = attnLanes
	return attnGradTiles{st: cv.take(attnTile * L), dp: cv.take(attnTile * L), sds: cv.take(attnTile * L), vec: cv.take(7 * L)}
}

// load sets the per-row vectors from block b (zeroing the sums).
func (g *attnGradTiles) load(b attnPackedBlock) {
	copy(g.vec, b.vec)
	clear(g.vec[3*attnLanes:])
}

// tile recomputes P, dS and s*dS for block b and key tile [j0, j0+nt),
// adding the tile's dqscale sums into g.vec.
func (g *attnGradTiles) tile(kern *attnKernels, b attnPackedBlock, h *ref.AttnHead[float32], j0, nt, nb int) {
	d := h.D
	kern.qk(g.st, b.qt, attnRows(h.K, j0, h.KStride), h.KStride, nt, d, nb)
	kern.qk(g.dp, b.dot, attnRows(h.V, j0, h.VStride), h.VStride, nt, d, nb)
	kern.grad(g.st, g.dp, g.sds, nt, g.vec, nb)
}

// kv adds the tile's dv += P^T dO and dk += (s dS)^T Q into the accumulator
// rows of the tile (dka, dva: [.][dp] from the tile's first key), padding
// the tile to a multiple of 4 keys with zero weights.
func (g *attnGradTiles) kv(kern *attnKernels, b attnPackedBlock, dka, dva []float32, nt, nb, dp int) {
	const L = attnLanes
	nt4 := (nt + 3) &^ 3
	clear(g.st[nt*L : nt4*L])
	clear(g.sds[nt*L : nt4*L])
	kern.ptv(dva, g.st, b.dop, nb, nt4, dp)
	kern.ptv(dka, g.sds, b.qp, nb, nt4, dp)
}

// writeDQ stores dq_i = s_i acc_i and dqscale_i for the rows of block b
// starting at query i0.
func (g *attnGradTiles) writeDQ(dq, dqscale, acc []float32, h *ref.AttnHead[float32], i0, nb int) {
	const L = attnLanes
	d := h.D
	for r := 0; r < nb; r++ {
		i := i0 + r
		s := g.vec[r]
		o := dq[i*d:][:d]
		for c := range o {
			o[c] = s * acc[c*L+r]
		}
		if dqscale != nil {
			a, bs, c, e := float64(g.vec[3*L+r]), float64(g.vec[4*L+r]), float64(g.vec[5*L+r]), float64(g.vec[6*L+r])
			dqscale[i] = float32(h.Scale * (a - bs*(c/e)))
		}
	}
}

// attnWriteKV stores dk and dv rows [j0, j0+n) from accumulators of row width dp.
func attnWriteKV(dk, dv, dka, dva []float32, j0, n, d, dp int) {
	for j := 0; j < n; j++ {
		copy(dk[(j0+j)*d:][:d], dka[j*dp:][:d])
		copy(dv[(j0+j)*d:][:d], dva[j*dp:][:d])
	}
}

func attnCheckPrep(op string, p *AttnGradPrep, head int, h *ref.AttnHead[float32]) {
	if head < 0 || head >= p.heads || h.Nq != p.nq || h.D != p.d {
		panic(fmt.Sprintf("avx.%s: head %d with Nq %d, D %d: prep holds %d heads of Nq %d, D %d", op, head, h.Nq, h.D, p.heads, p.nq, p.d))
	}
	attnCheckHead(op, h)
}

// AttentionBackwardQ computes dq (the head's contiguous [Nq, D]) and, when
// non-nil, dqscale ([Nq]) for query rows [lo, hi) of head number head of p
// (lo a multiple of AttnBlockRows): each query block streams every key tile.
func AttentionBackwardQ(dq, dqscale []float32, p *AttnGradPrep, head int, h ref.AttnHead[float32], lo, hi int, ws *AttnScratch) {
	if lo >= hi {
		return
	}
	attnCheckPrep("AttentionBackwardQ", p, head, &h)
	if lo%attnLanes != 0 || hi > h.Nq || len(dq) < h.Nq*h.D || (dqscale != nil && len(dqscale) < h.Nq) {
		panic(fmt.Sprintf("avx.AttentionBackwardQ: rows [%d, %d) of %d, dq %d values, dqscale %d", lo, hi, h.Nq, len(dq), len(dqscale)))
	}
	const L = attnLanes
	kern := attnKernelsFor(Current())
	d := h.D
	cv := ws.reserve(attnTile*L, attnTile*L, attnTile*L, 7*L, d*L)
	g := newAttnGradTiles(&cv)
	acc := cv.take(d * L)
	for i0 := lo; i0 < hi; i0 += L {
		nb := min(L, hi-i0)
		b := p.block(head, i0/L)
		g.load(b)
		clear(acc[:d*L])
		for j0 := 0; j0 < h.Nk; j0 += attnTile {
			nt := min(attnTile, h.Nk-j0)
			g.tile(kern, b, &h, j0, nt, nb)
			kern.pv(acc, g.dp, attnRows(h.K, j0, h.KStride), h.KStride, nt, d, nb)
		}
		g.writeDQ(dq, dqscale, acc, &h, i0, nb)
	}
}

// AttentionBackwardKV computes dk and dv (the head's contiguous [Nk, D]) for
// key rows [lo, hi) of head number head of p: the keys' tiles loop over every
// query block in order.
func AttentionBackwardKV(dk, dv []float32, p *AttnGradPrep, head int, h ref.AttnHead[float32], lo, hi int, ws *AttnScratch) {
	if lo >= hi {
		return
	}
	attnCheckPrep("AttentionBackwardKV", p, head, &h)
	if hi > h.Nk || len(dk) < h.Nk*h.D || len(dv) < h.Nk*h.D {
		panic(fmt.Sprintf("avx.AttentionBackwardKV: keys [%d, %d) of %d, dk %d, dv %d values", lo, hi, h.Nk, len(dk), len(dv)))
	}
	const L = attnLanes
	kern := attnKernelsFor(Current())
	d, dp := h.D, p.dp
	n4 := (hi - lo + 3) &^ 3
	cv := ws.reserve(attnTile*L, attnTile*L, attnTile*L, 7*L, n4*dp, n4*dp)
	g := newAttnGradTiles(&cv)
	dka, dva := cv.take(n4*dp), cv.take(n4*dp)
	clear(dka[:n4*dp])
	clear(dva[:n4*dp])
	for i0 := 0; i0 < h.Nq; i0 += L {
		nb := min(L, h.Nq-i0)
		b := p.block(head, i0/L)
		g.load(b)
		for j0 := lo; j0 < hi; j0 += attnTile {
			nt := min(attnTile, hi-j0)
			g.tile(kern, b, &h, j0, nt, nb)
			g.kv(kern, b, dka[(j0-lo)*dp:], dva[(j0-lo)*dp:], nt, nb, dp)
		}
	}
	attnWriteKV(dk, dv, dka, dva, lo, hi-lo, d, dp)
}

// AttentionBackward computes dq, dk, dv and (when non-nil) dqscale of one
// whole head in one fused pass, from dout and out (the head's contiguous
// [Nq, D] rows) and lse ([Nq]); dq is contiguous [Nq, D], dk and dv [Nk, D],
// dqscale [Nq]. ws holds the head's packed query side and the float32 dk, dv
// accumulators. Bit-identical to AttentionBackwardQ plus AttentionBackwardKV.
func AttentionBackward(dq, dk, dv, dqscale, dout, out, lse []float32, h ref.AttnHead[float32], ws *AttnScratch) {
	if h.Nq == 0 {
		clear(dk[:h.Nk*h.D])
		clear(dv[:h.Nk*h.D])
		return
	}
	attnCheckHead("AttentionBackward", &h)
	if len(dq) < h.Nq*h.D || len(dk) < h.Nk*h.D || len(dv) < h.Nk*h.D || (dqscale != nil && len(dqscale) < h.Nq) {
		panic(fmt.Sprintf("avx.AttentionBackward: dq %d, dk %d, dv %d, dqscale %d values for Nq %d, Nk %d, D %d", len(dq), len(dk), len(dv), len(dqscale), h.Nq, h.Nk, h.D))
	}
	const L = attnLanes
	kern := attnKernelsFor(Current())
	d, nq, nk := h.D, h.Nq, h.Nk
	dp, nk4 := attnPadD(d), (nk+3)&^3
	nblks := (nq + L - 1) / L
	cv := ws.reserve(attnTile*L, attnTile*L, attnTile*L, 7*L, d*L, nk4*dp, nk4*dp, nblks*attnPrepBlock(d))
	g := newAttnGradTiles(&cv)
	acc, dka, dva := cv.take(d*L), cv.take(nk4*dp), cv.take(nk4*dp)
	p := AttnGradPrep{heads: 1, nq: nq, d: d, dp: dp, blk: attnPrepBlock(d), nblks: nblks}
	p.data = cv.take(nblks * p.blk)
	p.Prepare(0, dout, out, lse, h, 0, nq)
	clear(dka[:nk4*dp])
	clear(dva[:nk4*dp])
	for i0 := 0; i0 < nq; i0 += L {
		nb := min(L, nq-i0)
		b := p.block(0, i0/L)
		g.load(b)
		clear(acc[:d*L])
		for j0 := 0; j0 < nk; j0 += attnTile {
			nt := min(attnTile, nk-j0)
			g.tile(kern, b, &h, j0, nt, nb)
			kern.pv(acc, g.dp, attnRows(h.K, j0, h.KStride), h.KStride, nt, d, nb)
			g.kv(kern, b, dka[j0*dp:], dva[j0*dp:], nt, nb, dp)
		}
		g.writeDQ(dq, dqscale, acc, &h, i0, nb)
	}
	attnWriteKV(dk, dv, dka, dva, 0, nk, d, dp)
}

// AttentionBackwardScratchBytes returns the scratch bytes AttentionBackward
// takes for a head of nq queries, nk keys and dimension d: linear in nq and
// nk.
func AttentionBackwardScratchBytes(nq, nk, d int) int {
	const L = attnLanes
	dp := attnPadD(d)
	return 4 * (3*attnTile*L + 7*L + d*L + 2*((nk+3)&^3)*dp + (nq+L-1)/L*attnPrepBlock(d))
}

// AttentionForwardScratchBytes returns the scratch bytes AttentionForward
// takes for head dimension d, whatever the sequence lengths.
func AttentionForwardScratchBytes(d int) int {
	const L = attnLanes
	return 4 * (2*d*L + attnTile*L + 3*L)
}
