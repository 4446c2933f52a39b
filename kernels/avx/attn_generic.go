package avx

import (
	"math"
	"unsafe"
)

// The attention tile kernels. A query block holds attnLanes query rows; its
// per-row data lives "transposed", one float32 per query row in each
// attnLanes-wide row of a buffer, so that the query rows lie across the SIMD
// lanes and the softmax (maximum, exponentials, sums) is elementwise across
// keys, with no horizontal reductions:
//
//	qt  [d][attnLanes]        q (or dout) of the block, transposed
//	st  [nt][attnLanes]       one key tile's scores, then probabilities
//	acc [d][attnLanes]        output (or dq) accumulator, transposed
//	vec [rows][attnLanes]     per-row scalars (scale, max, sum, lse, ...)
//
// Keys, values and the row-major packed q/dout of the backward are read as
// rows and broadcast one element at a time. Each level implements the same
// contracts (below, as the pure-Go versions); the kernels for a row never
// depend on the other rows of its block, nor on how the keys are grouped into
// tiles except through the online-softmax rescaling of the forward, whose
// tiles are counted from key 0.

// attnKernels is one level's implementation of the tile kernels. nb is the
// number of real query rows of the block: lanes at or above it hold padding
// and may be skipped (implementations that compute them must keep them
// finite: padded q rows are zero).
type attnKernels struct {
	// qk: dst[j][l] = sum_{c<d} k[j*ks+c] * qt[c][l] for j < nt.
	qk func(dst, qt, k []float32, ks, nt, d, nb int)
	// pv: acc[c][l] += sum_{j<nt} v[j*vs+c] * p[j][l] for c < d.
	pv func(acc, p, v []float32, vs, nt, d, nb int)
	// ptv: acc[j*dp+c] += sum_{i<nb} w[j][i] * x[i*dp+c] for j < nt4 (a
	// multiple of 4) and c < dp (a multiple of 16): the transposed product
	// (dk, dv), query rows summed in order.
	ptv func(acc, w, x []float32, nb, nt4, dp int)
	// softmax: one online-softmax step for a tile of nt scores (see
	// attnSoftmaxGeneric); vec rows 0, 1, 2 are s, m, l.
	softmax func(st []float32, nt int, vec, acc []float32, d, nb int)
	// grad: the backward's elementwise step (see attnGradGeneric); vec rows 0..6
	// are s, lse, D and the four dqscale sums.
	grad func(st, dp, sds []float32, nt int, vec []float32, nb int)
}

// attnGeneric is the pure-Go implementation: the contracts in plain loops,
// exponentials by math.Exp in float64 (the assembly's polynomial is within
// about 1 ulp of it).
var attnGeneric = attnKernels{qk: attnQKGeneric, pv: attnPVGeneric, ptv: attnPTVGeneric, softmax: attnSoftmaxGeneric, grad: attnGradGeneric}

func attnQKGeneric(dst, qt, k []float32, ks, nt, d, nb int) {
	for j := 0; j < nt; j++ {
		row := dst[j*attnLanes:][:nb]
		clear(row)
		if d == 0 {
			continue
		}
		for c, x := range k[j*ks:][:d] {
			q := qt[c*attnLanes:][:nb]
			for l := range row {
				row[l] += x * q[l]
			}
		}
	}
}

func attnPVGeneric(acc, p, v []float32, vs, nt, d, nb int) {
	for c := 0; c < d; c++ {
		a := acc[c*attnLanes:][:nb]
		for j := 0; j < nt; j++ {
			x, pj := v[j*vs+c], p[j*attnLanes:][:nb]
			for l := range a {
				a[l] += x * pj[l]
			}
		}
	}
}

func attnPTVGeneric(acc, w, x []float32, nb, nt4, dp int) {
	for j := 0; j < nt4; j++ {
		a := acc[j*dp:][:dp]
		for i := 0; i < nb; i++ {
			wi, xi := w[j*attnLanes+i], x[i*dp:][:dp]
			for c := range a {
				a[c] += wi * xi[c]
			}
		}
	}
}

// attnSoftmaxGeneric: per lane, with s, m, l = vec rows 0, 1, 2 and x_j = st row
// j: z_j = s*x_j, m' = max(m, max_j z_j), alpha = exp(m - m'), st_j =
// p_j = exp(z_j - m'), l = l*alpha + p_0 + p_1 + ... (in key order), m = m',
// and acc rows c < d scaled by alpha (exactly 1 where the maximum did not
// rise; 0 on the first tile, where m = -Inf).
func attnSoftmaxGeneric(st []float32, nt int, vec, acc []float32, d, nb int) {
	const L = attnLanes
	for l := 0; l < nb; l++ {
		s, m, sum := vec[l], vec[L+l], vec[2*L+l]
		mx := m
		for j := 0; j < nt; j++ {
			z := s * st[j*L+l]
			st[j*L+l] = z
			if z > mx {
				mx = z
			}
		}
		alpha := attnExp32(m - mx)
		sum *= alpha
		for j := 0; j < nt; j++ {
			p := attnExp32(st[j*L+l] - mx)
			st[j*L+l] = p
			sum += p
		}
		vec[L+l], vec[2*L+l] = mx, sum
		for c := 0; c < d; c++ {
			acc[c*L+l] *= alpha
		}
	}
}

// attnGradGeneric: per lane, with s, lse, D = vec rows 0, 1, 2, x_j = st row j
// (q.k) and dP_j = dp row j (dout.v), for j < nt: p = exp(s*x - lse),
// dS = p*(dP - D); st_j = p, dp_j = dS, sds_j = s*dS, and vec rows 3..6
// (the dqscale sums) += dS*x, dS, p*x, p in key order.
func attnGradGeneric(st, dp, sds []float32, nt int, vec []float32, nb int) {
	const L = attnLanes
	for l := 0; l < nb; l++ {
		s, lse, dsum := vec[l], vec[L+l], vec[2*L+l]
		a, b, c, e := vec[3*L+l], vec[4*L+l], vec[5*L+l], vec[6*L+l]
		for j := 0; j < nt; j++ {
			x := st[j*L+l]
			p := float32(math.Exp(float64(s)*float64(x) - float64(lse)))
			ds := p * (dp[j*L+l] - dsum)
			a += ds * x
			b += ds
			c += p * x
			e += p
			st[j*L+l], dp[j*L+l], sds[j*L+l] = p, ds, s*ds
		}
		vec[3*L+l], vec[4*L+l], vec[5*L+l], vec[6*L+l] = a, b, c, e
	}
}

func attnExp32(x float32) float32 { return float32(math.Exp(float64(x))) }

// attnAt returns a pointer to s[i] for the assembly kernels; s must hold more
// than i elements unless the kernel will not read it (d = 0).
func attnAt(s []float32, i int) *float32 {
	if i < len(s) {
		return &s[i]
	}
	return unsafe.SliceData(s)
}
