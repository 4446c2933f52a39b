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
// costs a few percent (the copies): plain Go runs float32 and float64 loops
// on the same scalar SSE instructions, so the arithmetic is no slower.
//
// Blocking: queries are taken AttnQueryBlock rows at a time and keys
// AttnKeyTile at a time. Key tiles and query blocks are counted from row 0 of
// the head, and no output row's arithmetic depends on which other rows share
// its block, so splitting a head into any [lo, hi) ranges gives results
// bit-identical to one call over the whole head (and the backward's fused
// and two-pass forms agree bit for bit; see attention_backward.go).
const (
	AttnQueryBlock = 32 // query rows per block
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

// AttentionWorkspace returns the number of float64s of scratch that
// AttentionForward, AttentionBackwardQ and AttentionBackwardKV need for head
// dimension d: O(tile), independent of Nq and Nk.
func AttentionWorkspace(d int) int {
	const bq, bk = AttnQueryBlock, AttnKeyTile
	return 4*bk*d + 3*bq*d + 3*bq*bk + 7*bq
}

// workspace hands out consecutive pieces of a scratch slice.
type workspace []float64

func (w *workspace) take(n int) []float64 {
	s := (*w)[:n:n]
	*w = (*w)[n:]
	return s
}

// newWorkspace returns ws as a workspace, or a new one if ws is shorter than n.
func newWorkspace(ws []float64, n int) workspace {
	if len(ws) < n {
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
	w := newWorkspace(ws, AttentionWorkspace(d))
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
					if z > mx { // not the max builtin: its NaN and -0 rules cost a branch chain
						mx = z
					}
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

// dotTile sets dst[r*ld+j] = a_r . b_j for the rows of the dense blocks a
// (na x d) and b (nb x d). Each dot product is summed in index order (the
// 2 x 2 register blocking only interleaves independent sums; larger blocks
// spill in Go's 15 float registers), so its value does not depend on the
// block shapes.
func dotTile(dst []float64, ld int, a []float64, na int, b []float64, nb int, d int) {
	r := 0
	for ; r+2 <= na; r += 2 {
		a0, a1 := a[r*d:][:d], a[(r+1)*d:][:d]
		o0, o1 := dst[r*ld:][:nb], dst[(r+1)*ld:][:nb]
		j := 0
		for ; j+2 <= nb; j += 2 {
			b0, b1 := b[j*d:][:d], b[(j+1)*d:][:d]
			var s00, s01, s10, s11 float64
			for c, x0 := range a0 {
				x1, y0, y1 := a1[c], b0[c], b1[c]
				s00 += x0 * y0
				s01 += x0 * y1
				s10 += x1 * y0
				s11 += x1 * y1
			}
			o0[j], o0[j+1], o1[j], o1[j+1] = s00, s01, s10, s11
		}
		if j < nb {
			bj := b[j*d:][:d]
			var s0, s1 float64
			for c, y := range bj {
				s0 += a0[c] * y
				s1 += a1[c] * y
			}
			o0[j], o1[j] = s0, s1
		}
	}
	if r < na {
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
// group; the groups are fixed by j, and rows are computed in pairs only to
// share the loads of x, so the result does not depend on na.
func accumulate(acc, w []float64, ld int, x []float64, na, nb, d int) {
	r := 0
	for ; r+2 <= na; r += 2 {
		a0, w0 := acc[r*d:][:d], w[r*ld:][:nb]
		a1, w1 := acc[(r+1)*d:][:d], w[(r+1)*ld:][:nb]
		j := 0
		for ; j+4 <= nb; j += 4 {
			p0, p1, p2, p3 := w0[j], w0[j+1], w0[j+2], w0[j+3]
			q0, q1, q2, q3 := w1[j], w1[j+1], w1[j+2], w1[j+3]
			x0, x1, x2, x3 := x[j*d:][:d], x[(j+1)*d:][:d], x[(j+2)*d:][:d], x[(j+3)*d:][:d]
			for c := range a0 {
				y0, y1, y2, y3 := x0[c], x1[c], x2[c], x3[c]
				a0[c] += p0*y0 + p1*y1 + p2*y2 + p3*y3
				a1[c] += q0*y0 + q1*y1 + q2*y2 + q3*y3
			}
		}
		for ; j < nb; j++ {
			p, q, xj := w0[j], w1[j], x[j*d:][:d]
			for c, y := range xj {
				a0[c] += p * y
				a1[c] += q * y
			}
		}
	}
	if r < na {
		a, wr := acc[r*d:][:d], w[r*ld:][:nb]
		j := 0
		for ; j+4 <= nb; j += 4 {
			p0, p1, p2, p3 := wr[j], wr[j+1], wr[j+2], wr[j+3]
			x0, x1, x2, x3 := x[j*d:][:d], x[(j+1)*d:][:d], x[(j+2)*d:][:d], x[(j+3)*d:][:d]
			for c := range a {
				a[c] += p0*x0[c] + p1*x1[c] + p2*x2[c] + p3*x3[c]
			}
		}
		for ; j < nb; j++ {
			p, xj := wr[j], x[j*d:][:d]
			for c, y := range xj {
				a[c] += p * y
			}
		}
	}
}

// accumulateT adds acc_j += sum_r w[r*ld+j] x_r for j < nb, r < na, where acc
// (nb x d) and x (na x d) are dense: the transposed product of accumulate.
// Rows are added in groups of four in the same pattern, fixed by r; keys are
// computed in pairs only to share the loads of x.
func accumulateT(acc, w []float64, ld int, x []float64, na, nb, d int) {
	j := 0
	for ; j+2 <= nb; j += 2 {
		a0, a1 := acc[j*d:][:d], acc[(j+1)*d:][:d]
		r := 0
		for ; r+4 <= na; r += 4 {
			w0, w1, w2, w3 := w[r*ld+j:][:2], w[(r+1)*ld+j:][:2], w[(r+2)*ld+j:][:2], w[(r+3)*ld+j:][:2]
			p0, p1, p2, p3 := w0[0], w1[0], w2[0], w3[0]
			q0, q1, q2, q3 := w0[1], w1[1], w2[1], w3[1]
			x0, x1, x2, x3 := x[r*d:][:d], x[(r+1)*d:][:d], x[(r+2)*d:][:d], x[(r+3)*d:][:d]
			for c := range a0 {
				y0, y1, y2, y3 := x0[c], x1[c], x2[c], x3[c]
				a0[c] += p0*y0 + p1*y1 + p2*y2 + p3*y3
				a1[c] += q0*y0 + q1*y1 + q2*y2 + q3*y3
			}
		}
		for ; r < na; r++ {
			wr, xr := w[r*ld+j:][:2], x[r*d:][:d]
			p, q := wr[0], wr[1]
			for c, y := range xr {
				a0[c] += p * y
				a1[c] += q * y
			}
		}
	}
	if j < nb {
		a := acc[j*d:][:d]
		r := 0
		for ; r+4 <= na; r += 4 {
			p0, p1, p2, p3 := w[r*ld+j], w[(r+1)*ld+j], w[(r+2)*ld+j], w[(r+3)*ld+j]
			x0, x1, x2, x3 := x[r*d:][:d], x[(r+1)*d:][:d], x[(r+2)*d:][:d], x[(r+3)*d:][:d]
			for c := range a {
				a[c] += p0*x0[c] + p1*x1[c] + p2*x2[c] + p3*x3[c]
			}
		}
		for ; r < na; r++ {
			p, xr := w[r*ld+j], x[r*d:][:d]
			for c, y := range xr {
				a[c] += p * y
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
