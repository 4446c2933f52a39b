package ref

import "math"

// Backward of the flash attention of attention.go. The probabilities are
// recomputed tile by tile from the saved lse, never stored: with
// P_ij = exp(z_ij - lse_i), D_i = dout_i . out_i and
// dS_ij = P_ij (dout_i . v_j - D_i),
//
//	dq_i      = s_i * sum_j dS_ij k_j
//	dk_j      = sum_i s_i dS_ij q_i
//	dv_j      = sum_i P_ij dout_i
//	dqscale_i = scale * sum_j dS_ij (q_i . k_j - c_i),  c_i = sum_j P_ij (q_i . k_j) / sum_j P_ij
//
// The centring by c_i changes nothing in exact arithmetic (sum_j dS_ij = 0)
// but removes the error that the rounding of the saved out (through D_i)
// adds to every dS_ij in proportion to P_ij: q . k can be large (scores in
// the thousands), and uncentred that error is multiplied by it.
//
// dq sums over keys while dk and dv sum over queries, so a deterministic
// parallel backward cannot split both ways at once without atomics or
// partial buffers. Two forms, bit-identical to each other:
//   - AttentionBackward, one fused pass over a whole head (key tiles outer,
//     query blocks inner, dq accumulated in a float64 [Nq, D] buffer): 5
//     products of the forward's QK^T size (QK^T, dO V^T, dS K, P^T dO,
//     dS^T Q), 2.5x the forward's 2, as FlashAttention-2. Parallel over
//     heads only.
//   - AttentionBackwardQ over query ranges (dq, dqscale) plus
//     AttentionBackwardKV over key ranges (dk, dv): each owns one reduction
//     and recomputes QK^T and dO V^T for itself, 7 products (1.4x the fused
//     form, twice the forward's recompute), but both split any head into
//     blocks for parallelism.
// They agree bit for bit because every element is accumulated in the same
// order in both: dq and the dqscale sums key tile by key tile in order (keys
// in groups of four within a tile for dq, one by one for the sums), dk and
// dv query block by query block in order (rows in groups of four within a
// block), from the same P and dS values.

// AttentionBackwardWorkspace returns the number of float64s of scratch that
// AttentionBackward needs for a head of nq queries and dimension d:
// AttentionWorkspace(d) plus a float64 dq accumulator and four sums per query.
func AttentionBackwardWorkspace(nq, d int) int { return AttentionWorkspace(d) + nq*(d+4) }

// gradScratch holds one query block of the backward and its tiles.
type gradScratch struct {
	qf, dof      []float64 // q and dout rows, widened (AttnQueryBlock x D)
	sc, dp, sdp  []float64 // AttnQueryBlock x AttnKeyTile tiles
	s, lse, dsum []float64 // per row: s_i, lse_i, D_i
}

func newGradScratch(w *workspace, d int) *gradScratch {
	const bq, bk = AttnQueryBlock, AttnKeyTile
	return &gradScratch{
		qf: w.take(bq * d), dof: w.take(bq * d),
		sc: w.take(bq * bk), dp: w.take(bq * bk), sdp: w.take(bq * bk),
		s: w.take(bq), lse: w.take(bq), dsum: w.take(bq),
	}
}

// load widens query rows [i0, i0+nb) and their dout rows and fills s_i,
// lse_i and D_i = dout_i . out_i (summed in index order).
func loadGradBlock[T Float](g *gradScratch, dout, out, lse []T, h *AttnHead[T], i0, nb int) {
	d := h.D
	widen(g.qf, h.Q, h.QStride, i0, nb, d)
	widen(g.dof, dout, d, i0, nb, d)
	for r := 0; r < nb; r++ {
		i := i0 + r
		g.s[r] = h.rowScale(i)
		g.lse[r] = float64(lse[i])
		o, gr := out[i*d:][:d], g.dof[r*d:][:d]
		t := 0.0
		for c, x := range o {
			t += gr[c] * float64(x)
		}
		g.dsum[r] = t
	}
}

// tile computes, for the loaded query block (nb rows) and a widened key tile
// kf, vf (nt keys): sc = P, dp = dS and sdp = s_i dS, and adds the tile's
// dqscale sums into sums[0..3][r] (dS.qk, dS, P.qk, P).
func (g *gradScratch) tile(kf, vf []float64, nb, nt, d int, sums *[4][]float64) {
	const bk = AttnKeyTile
	dotTile(g.sc, bk, g.qf, nb, kf, nt, d)
	dotTile(g.dp, bk, g.dof, nb, vf, nt, d)
	for r := 0; r < nb; r++ {
		row, dpr, sdr := g.sc[r*bk:][:nt], g.dp[r*bk:][:nt], g.sdp[r*bk:][:nt]
		s, lse, dsum := g.s[r], g.lse[r], g.dsum[r]
		var a, b, c, e float64
		for j, x := range row {
			p := math.Exp(s*x - lse)
			t := dpr[j] - dsum
			ds := p * t
			a += ds * x
			b += ds
			c += p * x
			e += p
			row[j], dpr[j], sdr[j] = p, ds, s*p*t
		}
		sums[0][r] += a
		sums[1][r] += b
		sums[2][r] += c
		sums[3][r] += e
	}
}

// takeSums returns four zeroed per-row sums of n rows from w.
func takeSums(w *workspace, n int) [4][]float64 {
	var s [4][]float64
	for k := range s {
		s[k] = w.take(n)
		clear(s[k])
	}
	return s
}

// sumsFrom returns the sums of rows [i0, ...).
func sumsFrom(s [4][]float64, i0 int) [4][]float64 {
	for k := range s {
		s[k] = s[k][i0:]
	}
	return s
}

// writeDQ stores dq_i = s_i * acc_i and dqscale_i for query rows
// [i0, i0+nb), from acc (rows from i0) and sums (rows from i0).
func writeDQ[T Float](dq, dqscale []T, acc []float64, sums [4][]float64, h *AttnHead[T], i0, nb int) {
	d := h.D
	for r := 0; r < nb; r++ {
		i := i0 + r
		s := h.rowScale(i)
		a, g := acc[r*d:][:d], dq[i*d:][:d]
		for c, x := range a {
			g[c] = T(s * x)
		}
		if dqscale != nil {
			dqscale[i] = T(h.Scale * (sums[0][r] - sums[1][r]*(sums[2][r]/sums[3][r])))
		}
	}
}

// writeKV stores dk and dv rows [j0, j0+nt) from the accumulators.
func writeKV[T Float](dk, dv []T, dka, dva []float64, j0, nt, d int) {
	for j := 0; j < nt; j++ {
		a, b := dka[j*d:][:d], dva[j*d:][:d]
		gk, gv := dk[(j0+j)*d:][:d], dv[(j0+j)*d:][:d]
		for c := range a {
			gk[c] = T(a[c])
			gv[c] = T(b[c])
		}
	}
}

// AttentionBackward computes dq, dk, dv and (when dqscale is non-nil)
// dqscale of one whole head in one fused pass, from dout and out (the head's
// contiguous [Nq, D] rows) and lse ([Nq]) of the forward; dq is contiguous
// [Nq, D], dk and dv [Nk, D], dqscale [Nq]. ws is scratch of
// AttentionBackwardWorkspace(Nq, D) float64s (nil or short: allocated).
// Bit-identical to AttentionBackwardQ plus AttentionBackwardKV; see the file
// comment for the algorithm, cost and accumulation order.
func AttentionBackward[T Float](dq, dk, dv, dqscale, dout, out, lse []T, h AttnHead[T], ws []float64) {
	const bq, bk = AttnQueryBlock, AttnKeyTile
	d, nq, nk := h.D, h.Nq, h.Nk
	w := newWorkspace(ws, AttentionBackwardWorkspace(nq, d))
	g := newGradScratch(&w, d)
	kf, vf, dka, dva := w.take(bk*d), w.take(bk*d), w.take(bk*d), w.take(bk*d)
	dqa := w.take(nq * d)
	clear(dqa)
	sums := takeSums(&w, nq)
	for j0 := 0; j0 < nk; j0 += bk {
		nt := min(bk, nk-j0)
		widen(kf, h.K, h.KStride, j0, nt, d)
		widen(vf, h.V, h.VStride, j0, nt, d)
		clear(dka[:nt*d])
		clear(dva[:nt*d])
		for i0 := 0; i0 < nq; i0 += bq {
			nb := min(bq, nq-i0)
			loadGradBlock(g, dout, out, lse, &h, i0, nb)
			blockSums := sumsFrom(sums, i0)
			g.tile(kf, vf, nb, nt, d, &blockSums)
			accumulate(dqa[i0*d:], g.dp, bk, kf, nb, nt, d)
			accumulateT(dva, g.sc, bk, g.dof, nb, nt, d)
			accumulateT(dka, g.sdp, bk, g.qf, nb, nt, d)
		}
		writeKV(dk, dv, dka, dva, j0, nt, d)
	}
	writeDQ(dq, dqscale, dqa, sums, &h, 0, nq)
}

// AttentionBackwardQ computes, for query rows [lo, hi) of one head, dq and
// (when non-nil) dqscale, with the arguments of AttentionBackward; ws is
// scratch of AttentionWorkspace(D) float64s. Each query block streams all key
// tiles, so every row's result is owned by one call.
func AttentionBackwardQ[T Float](dq, dqscale, dout, out, lse []T, h AttnHead[T], lo, hi int, ws []float64) {
	const bq, bk = AttnQueryBlock, AttnKeyTile
	d, nk := h.D, h.Nk
	w := newWorkspace(ws, AttentionWorkspace(d))
	g := newGradScratch(&w, d)
	kf, vf, acc := w.take(bk*d), w.take(bk*d), w.take(bq*d)
	sums := takeSums(&w, bq)
	for i0 := lo; i0 < hi; i0 += bq {
		nb := min(bq, hi-i0)
		loadGradBlock(g, dout, out, lse, &h, i0, nb)
		clear(acc[:nb*d])
		for k := range sums {
			clear(sums[k])
		}
		for j0 := 0; j0 < nk; j0 += bk {
			nt := min(bk, nk-j0)
			widen(kf, h.K, h.KStride, j0, nt, d)
			widen(vf, h.V, h.VStride, j0, nt, d)
			g.tile(kf, vf, nb, nt, d, &sums)
			accumulate(acc, g.dp, bk, kf, nb, nt, d)
		}
		writeDQ(dq, dqscale, acc, sums, &h, i0, nb)
	}
}

// AttentionBackwardKV computes dk and dv for key rows [lo, hi) of one head,
// with the arguments of AttentionBackward; ws is scratch of
// AttentionWorkspace(D) float64s. Each key tile loops over all query blocks
// in order, recomputing P and dS, so every dk/dv row is owned by one call.
func AttentionBackwardKV[T Float](dk, dv, dout, out, lse []T, h AttnHead[T], lo, hi int, ws []float64) {
	const bq, bk = AttnQueryBlock, AttnKeyTile
	d, nq := h.D, h.Nq
	w := newWorkspace(ws, AttentionWorkspace(d))
	g := newGradScratch(&w, d)
	kf, vf, dka, dva := w.take(bk*d), w.take(bk*d), w.take(bk*d), w.take(bk*d)
	sums := takeSums(&w, bq) // computed by tile, unused here
	for j0 := lo; j0 < hi; j0 += bk {
		nt := min(bk, hi-j0)
		widen(kf, h.K, h.KStride, j0, nt, d)
		widen(vf, h.V, h.VStride, j0, nt, d)
		clear(dka[:nt*d])
		clear(dva[:nt*d])
		for i0 := 0; i0 < nq; i0 += bq {
			nb := min(bq, nq-i0)
			loadGradBlock(g, dout, out, lse, &h, i0, nb)
			g.tile(kf, vf, nb, nt, d, &sums)
			accumulateT(dva, g.sc, bk, g.dof, nb, nt, d)
			accumulateT(dka, g.sdp, bk, g.qf, nb, nt, d)
		}
		writeKV(dk, dv, dka, dva, j0, nt, d)
	}
}
