package ref

import "math"

// Scaled dot-product attention, flash style (FlashAttention-2's algorithm on
// the CPU): the Nq x Nk score matrix is never stored. For one head, query row
// i and key j,
//
//	z_ij  = s_i * (q_i . k_j),  s_i = scale * qscale[i]  (or scale when qscale is nil)
//	out_i = sum_j softmax_j(z_i) v_j
//	lse_i = log sum_j exp(z_ij)
//
// Precision: every kernel widens its inputs to float64 tile by tile and does
// all its arithmetic (dot products, exponentials, softmax sums, accumulators)
// in float64, rounding once when it writes a result. float32 results are
// therefore the correctly rounded float64 computation (within about 1 ulp of
// float32 of the exact value) and float64 results carry float64 rounding
// error only (about Nk*D*2^-53 relative to the magnitudes summed). Widening
// costs nothing in plain Go, whose loops run on scalar SSE either way.
//
// Blocking: queries are taken AttnQueryBlock rows at a time and keys
// AttnKeyTile at a time. Key tiles (forward, BackwardQ) and query blocks
// (BackwardKV) are counted from row 0 of the head, and no output row's
// arithmetic depends on which other rows share its block, so splitting a head
// into any [lo, hi) ranges gives results bit-identical to one call over the
// whole head.
const (
	AttnQueryBlock = 16 // query rows per block
	AttnKeyTile    = 64 // keys per streamed K/V tile
)

// AttnHead describes one attention head: a query set of Nq rows and a
// key/value set of Nk rows, each row D contiguous elements. Row i of Q starts
// at Q[i*QStride], row j of K at K[j*KStride], row j of V at V[j*VStride];
// the strides let heads be views of a packed QKV projection. QScale is nil or
// holds Nq per-row query scales.
type AttnHead[T Float] struct {
	Q, K, V                   []T
	QStride, KStride, VStride int
	QScale                    []T
	Nq, Nk, D                 int
	Scale                     float64
}

// AttentionWorkspace returns the number of float64s of scratch that the
// attention kernels need for head dimension d: O(tile), independent of Nq and
// Nk.
func AttentionWorkspace(d int) int {
	const bq, bk = AttnQueryBlock, AttnKeyTile
	return 4*bk*d + 3*bq*d + 2*bq*bk + 7*bq
}

// workspace hands out consecutive pieces of a scratch slice.
type workspace []float64

func (w *workspace) take(n int) []float64 {
	s := (*w)[:n:n]
	*w = (*w)[n:]
	return s
}

func newWorkspace(ws []float64, d int) workspace {
	if n := AttentionWorkspace(d); len(ws) < n {
		ws = make([]float64, n)
	}
	return workspace(ws)
}

// rowScale returns s_i.
func (h *AttnHead[T]) rowScale(i int) float64 {
	if h.QScale == nil {
		return h.Scale
	}
	return h.Scale * float64(h.QScale[i])
}

// widen copies n rows of d elements starting at row r0 of src (row stride
// stride) into dst as a dense n x d float64 block.
func widen[T Float](dst []float64, src []T, stride, r0, n, d int) {
	for r := 0; r < n; r++ {
		row := src[(r0+r)*stride:][:d]
		out := dst[r*d:][:d]
		for c, x := range row {
			out[c] = float64(x)
		}
	}
}

// AttentionForward computes out rows and lse entries [lo, hi) of one head.
// out is the head's contiguous [Nq, D] output (row i at out[i*D]) and lse its
// [Nq] log-sum-exps; ws is scratch of AttentionWorkspace(D) float64s (nil or
// short: allocated).
//
// Algorithm (online softmax): for each block of AttnQueryBlock query rows,
// stream K and V in tiles of AttnKeyTile keys; per row keep the running
// maximum m and sum l of exp(z - m) and an accumulator a = sum exp(z - m) v.
// When a tile raises the maximum to m', l and a are rescaled by exp(m - m')
// before the tile's terms are added, so no exponential ever overflows and
// only O(tile) memory is used. Finally out = a / l and lse = m + log l.
//
// Accumulation order: each dot product q_i . k_j is summed over the head
// dimension in index order; l and a add the tiles in key order, and within a
// tile a adds keys in groups of four (fixed by key index) in order.
func AttentionForward[T Float](out, lse []T, h AttnHead[T], lo, hi int, ws []float64) {
	const bq, bk = AttnQueryBlock, AttnKeyTile
	d, nk := h.D, h.Nk
	w := newWorkspace(ws, d)
	qf, acc := w.take(bq*d), w.take(bq*d)
	kf, vf := w.take(bk*d), w.take(bk*d)
	sc := w.take(bq * bk)
	m, l, s := w.take(bq), w.take(bq), w.take(bq)
	for i0 := lo; i0 < hi; i0 += bq {
		nb := min(bq, hi-i0)
		widen(qf, h.Q, h.QStride, i0, nb, d)
		for r := 0; r < nb; r++ {
			s[r] = h.rowScale(i0 + r)
			m[r], l[r] = math.Inf(-1), 0
		}
		clear(acc[:nb*d])
		for j0 := 0; j0 < nk; j0 += bk {
			nt := min(bk, nk-j0)
			widen(kf, h.K, h.KStride, j0, nt, d)
			widen(vf, h.V, h.VStride, j0, nt, d)
			dotTile(sc, bk, qf, nb, kf, nt, d)
			for r := 0; r < nb; r++ {
				row := sc[r*bk:][:nt]
				mx := m[r]
				for j, x := range row {
					z := s[r] * x
					row[j] = z
					mx = max(mx, z)
				}
				sum := 0.0
				for j, z := range row {
					p := math.Exp(z - mx)
					row[j] = p
					sum += p
				}
				if mx != m[r] { // the maximum rose: rescale what came before
					alpha := math.Exp(m[r] - mx) // 0 on the first tile (m = -Inf)
					l[r] *= alpha
					scaleRow(acc[r*d:][:d], alpha)
					m[r] = mx
				}
				l[r] += sum
			}
			accumulate(acc, sc, bk, vf, nb, nt, d)
		}
		for r := 0; r < nb; r++ {
			i := i0 + r
			a, o := acc[r*d:][:d], out[i*d:][:d]
			for c, x := range a {
				o[c] = T(x / l[r])
			}
			lse[i] = T(m[r] + math.Log(l[r]))
		}
	}
}

// AttentionBackwardQ computes, for query rows [lo, hi) of one head, dq (the
// head's contiguous [Nq, D] gradient) and, when dqscale is non-nil, dqscale
// ([Nq]), from dout and out (contiguous [Nq, D]) and lse ([Nq]) of the
// forward pass. ws as for AttentionForward.
//
// With P_ij = exp(z_ij - lse_i) recomputed tile by tile from lse,
// D_i = dout_i . out_i and dS_ij = P_ij (dout_i . v_j - D_i):
//
//	dq_i      = s_i * sum_j dS_ij k_j
//	dqscale_i = scale * sum_j dS_ij (q_i . k_j - c_i),  c_i = sum_j P_ij (q_i . k_j) / sum_j P_ij
//
// The centring by c_i changes nothing in exact arithmetic (sum_j dS_ij = 0)
// but removes the error that the rounding of the saved out (through D_i)
// adds to every dS_ij in proportion to P_ij: q . k can be large (scores in
// the thousands), and uncentred that error is multiplied by it.
//
// Both sums run over keys, so each query row's result is owned by one call:
// no races, no atomics. Accumulation: keys in tile order, within a tile in
// groups of four (dq) or one by one (dqscale's sums); D_i in index order.
func AttentionBackwardQ[T Float](dq, dqscale, dout, out, lse []T, h AttnHead[T], lo, hi int, ws []float64) {
	const bq, bk = AttnQueryBlock, AttnKeyTile
	d, nk := h.D, h.Nk
	w := newWorkspace(ws, d)
	qf, dof, acc := w.take(bq*d), w.take(bq*d), w.take(bq*d)
	kf, vf := w.take(bk*d), w.take(bk*d)
	sc, dp := w.take(bq*bk), w.take(bq*bk)
	s, ls, dl := w.take(bq), w.take(bq), w.take(bq)
	// Per-row sums for dqscale: dS.dot, dS, P.dot, P.
	sds, sd, spd, sp := w.take(bq), w.take(bq), w.take(bq), w.take(bq)
	for i0 := lo; i0 < hi; i0 += bq {
		nb := min(bq, hi-i0)
		loadQueryBlock(qf, dof, s, ls, dl, dout, out, lse, &h, i0, nb)
		clear(acc[:nb*d])
		clear(sds[:nb])
		clear(sd[:nb])
		clear(spd[:nb])
		clear(sp[:nb])
		for j0 := 0; j0 < nk; j0 += bk {
			nt := min(bk, nk-j0)
			widen(kf, h.K, h.KStride, j0, nt, d)
			widen(vf, h.V, h.VStride, j0, nt, d)
			dotTile(sc, bk, qf, nb, kf, nt, d)
			dotTile(dp, bk, dof, nb, vf, nt, d)
			for r := 0; r < nb; r++ {
				row, dpr := sc[r*bk:][:nt], dp[r*bk:][:nt]
				var a, b, c, e float64
				for j, x := range row {
					p := math.Exp(s[r]*x - ls[r])
					ds := p * (dpr[j] - dl[r])
					a += ds * x
					b += ds
					c += p * x
					e += p
					row[j] = ds
				}
				sds[r] += a
				sd[r] += b
				spd[r] += c
				sp[r] += e
			}
			accumulate(acc, sc, bk, kf, nb, nt, d)
		}
		for r := 0; r < nb; r++ {
			i := i0 + r
			a, g := acc[r*d:][:d], dq[i*d:][:d]
			for c, x := range a {
				g[c] = T(s[r] * x)
			}
			if dqscale != nil {
				dqscale[i] = T(h.Scale * (sds[r] - sd[r]*(spd[r]/sp[r])))
			}
		}
	}
}

// AttentionBackwardKV computes dk and dv (the head's contiguous [Nk, D]
// gradients) for key rows [lo, hi), with the notation of AttentionBackwardQ:
//
//	dv_j = sum_i P_ij dout_i
//	dk_j = sum_i s_i dS_ij q_i
//
// Each tile of AttnKeyTile keys loops over all queries in order, recomputing
// P and dS, so every dk/dv row is owned by one call and summed in query
// order (blocks of AttnQueryBlock in order, rows within a block in order).
// ws as for AttentionForward.
func AttentionBackwardKV[T Float](dk, dv, dout, out, lse []T, h AttnHead[T], lo, hi int, ws []float64) {
	const bq, bk = AttnQueryBlock, AttnKeyTile
	d, nq := h.D, h.Nq
	w := newWorkspace(ws, d)
	qf, dof := w.take(bq*d), w.take(bq*d)
	kf, vf, dka, dva := w.take(bk*d), w.take(bk*d), w.take(bk*d), w.take(bk*d)
	sc, dp := w.take(bq*bk), w.take(bq*bk)
	s, ls, dl := w.take(bq), w.take(bq), w.take(bq)
	for j0 := lo; j0 < hi; j0 += bk {
		nt := min(bk, hi-j0)
		widen(kf, h.K, h.KStride, j0, nt, d)
		widen(vf, h.V, h.VStride, j0, nt, d)
		clear(dka[:nt*d])
		clear(dva[:nt*d])
		for i0 := 0; i0 < nq; i0 += bq {
			nb := min(bq, nq-i0)
			loadQueryBlock(qf, dof, s, ls, dl, dout, out, lse, &h, i0, nb)
			dotTile(sc, bk, qf, nb, kf, nt, d)
			dotTile(dp, bk, dof, nb, vf, nt, d)
			for r := 0; r < nb; r++ {
				row, dpr := sc[r*bk:][:nt], dp[r*bk:][:nt]
				for j, x := range row {
					p := math.Exp(s[r]*x - ls[r])
					row[j] = p
					dpr[j] = s[r] * p * (dpr[j] - dl[r]) // s_i dS_ij
				}
			}
			accumulateT(dva, sc, bk, dof, nb, nt, d)
			accumulateT(dka, dp, bk, qf, nb, nt, d)
		}
		for j := 0; j < nt; j++ {
			a, b := dka[j*d:][:d], dva[j*d:][:d]
			gk, gv := dk[(j0+j)*d:][:d], dv[(j0+j)*d:][:d]
			for c := range a {
				gk[c] = T(a[c])
				gv[c] = T(b[c])
			}
		}
	}
}

// AttentionBackward computes dq, dk, dv and (when dqscale is non-nil)
// dqscale of one whole head: AttentionBackwardQ over all queries, then
// AttentionBackwardKV over all keys.
//
// Cost: the two passes each recompute the scores q.k and dout.v, so the
// backward does 7 products of the forward's size (QK^T and dO V^T twice,
// dS K, P^T dO, dS^T Q) where FlashAttention-2 does 5 and accumulates dq with
// atomic adds: 3.5x the forward's 2 instead of 2.5x, i.e. 1.4x FA2's backward
// and twice the forward's recompute. The price buys determinism without
// O(Nq x D) partial buffers per key block: dq sums over keys and dk, dv sum
// over queries, and each pass owns one of the two reductions outright.
func AttentionBackward[T Float](dq, dk, dv, dqscale, dout, out, lse []T, h AttnHead[T]) {
	ws := make([]float64, AttentionWorkspace(h.D))
	AttentionBackwardQ(dq, dqscale, dout, out, lse, h, 0, h.Nq, ws)
	AttentionBackwardKV(dk, dv, dout, out, lse, h, 0, h.Nk, ws)
}

// loadQueryBlock widens query rows [i0, i0+nb) and their dout rows and fills
// the per-row scale s, lse and D_i = dout_i . out_i (summed in index order).
func loadQueryBlock[T Float](qf, dof, s, ls, dl []float64, dout, out, lse []T, h *AttnHead[T], i0, nb int) {
	d := h.D
	widen(qf, h.Q, h.QStride, i0, nb, d)
	widen(dof, dout, d, i0, nb, d)
	for r := 0; r < nb; r++ {
		i := i0 + r
		s[r] = h.rowScale(i)
		ls[r] = float64(lse[i])
		o, g := out[i*d:][:d], dof[r*d:][:d]
		t := 0.0
		for c, x := range o {
			t += g[c] * float64(x)
		}
		dl[r] = t
	}
}

// dotTile sets dst[r*ld+j] = a_r . b_j for the rows of the dense blocks a
// (na x d) and b (nb x d). Each dot product is summed in index order (the
// register blocking only interleaves independent sums), so its value does
// not depend on the block shapes.
func dotTile(dst []float64, ld int, a []float64, na int, b []float64, nb int, d int) {
	r := 0
	for ; r+2 <= na; r += 2 {
		a0, a1 := a[r*d:][:d], a[(r+1)*d:][:d]
		o0, o1 := dst[r*ld:][:nb], dst[(r+1)*ld:][:nb]
		j := 0
		for ; j+4 <= nb; j += 4 {
			b0, b1, b2, b3 := b[j*d:][:d], b[(j+1)*d:][:d], b[(j+2)*d:][:d], b[(j+3)*d:][:d]
			var s00, s01, s02, s03, s10, s11, s12, s13 float64
			for c, x0 := range a0 {
				x1 := a1[c]
				y0, y1, y2, y3 := b0[c], b1[c], b2[c], b3[c]
				s00 += x0 * y0
				s01 += x0 * y1
				s02 += x0 * y2
				s03 += x0 * y3
				s10 += x1 * y0
				s11 += x1 * y1
				s12 += x1 * y2
				s13 += x1 * y3
			}
			o0[j], o0[j+1], o0[j+2], o0[j+3] = s00, s01, s02, s03
			o1[j], o1[j+1], o1[j+2], o1[j+3] = s10, s11, s12, s13
		}
		for ; j < nb; j++ {
			bj := b[j*d:][:d]
			var s0, s1 float64
			for c, y := range bj {
				s0 += a0[c] * y
				s1 += a1[c] * y
			}
			o0[j], o1[j] = s0, s1
		}
	}
	for ; r < na; r++ {
		ar, o := a[r*d:][:d], dst[r*ld:][:nb]
		for j := range o {
			bj := b[j*d:][:d]
			t := 0.0
			for c, y := range bj {
				t += ar[c] * y
			}
			o[j] = t
		}
	}
}

// accumulate adds acc_r += sum_j w[r*ld+j] x_j for r < na, j < nb, where acc
// (na x d) and x (nb x d) are dense. Keys are added in groups of four,
// ((w0 x0 + w1 x1) + w2 x2) + w3 x3, then the group to acc, group after
// group; the groups are fixed by j, so the result does not depend on na.
func accumulate(acc, w []float64, ld int, x []float64, na, nb, d int) {
	for r := 0; r < na; r++ {
		a, wr := acc[r*d:][:d], w[r*ld:][:nb]
		j := 0
		for ; j+4 <= nb; j += 4 {
			w0, w1, w2, w3 := wr[j], wr[j+1], wr[j+2], wr[j+3]
			x0, x1, x2, x3 := x[j*d:][:d], x[(j+1)*d:][:d], x[(j+2)*d:][:d], x[(j+3)*d:][:d]
			for c := range a {
				a[c] += w0*x0[c] + w1*x1[c] + w2*x2[c] + w3*x3[c]
			}
		}
		for ; j < nb; j++ {
			wj, xj := wr[j], x[j*d:][:d]
			for c := range a {
				a[c] += wj * xj[c]
			}
		}
	}
}

// accumulateT adds acc_j += sum_r w[r*ld+j] x_r for j < nb, r < na, where acc
// (nb x d) and x (na x d) are dense: the transposed product of accumulate.
// Rows are added in groups of four in the same pattern, fixed by r.
func accumulateT(acc, w []float64, ld int, x []float64, na, nb, d int) {
	for j := 0; j < nb; j++ {
		a := acc[j*d:][:d]
		r := 0
		for ; r+4 <= na; r += 4 {
			w0, w1, w2, w3 := w[r*ld+j], w[(r+1)*ld+j], w[(r+2)*ld+j], w[(r+3)*ld+j]
			x0, x1, x2, x3 := x[r*d:][:d], x[(r+1)*d:][:d], x[(r+2)*d:][:d], x[(r+3)*d:][:d]
			for c := range a {
				a[c] += w0*x0[c] + w1*x1[c] + w2*x2[c] + w3*x3[c]
			}
		}
		for ; r < na; r++ {
			wr, xr := w[r*ld+j], x[r*d:][:d]
			for c := range a {
				a[c] += wr * xr[c]
			}
		}
	}
}

// scaleRow multiplies a by f.
func scaleRow(a []float64, f float64) {
	for c := range a {
		a[c] *= f
	}
}
