package avx

import "math"

// The short-sequence kernels (attention_short.go). Score tiles are stored
// key-major with the query rows of a whole head across the lanes: row j of a
// tile holds w floats (w = Nq rounded up to a multiple of 8), one per query.
// Products that produce [rows][D] outputs (out, dq, dk, dv) run row-major
// with the head dimension across the lanes (gemm), so they waste no lanes and
// write the caller's rows directly.

// attnShortKernels is one level's implementation of the short-path kernels.
type attnShortKernels struct {
	// gemm: C[i*cs+x] = (accum ? C[i*cs+x] : 0) + sum_{j<k} A[i*ai+j*aj] *
	// B[j*bs+x] for i < m, x < n (a multiple of 8), one chain per element in
	// j order.
	gemm func(c []float32, cs int, a []float32, ai, aj int, b []float32, bs, m, n, k int, accum bool)
	// softmax: the exact two-pass softmax down the nk rows of st (stride
	// floats apart) for each of w lanes (see attnSoftmaxTGeneric).
	softmax func(st []float32, stride, nk, w int, vec []float32)
	// grad: the backward's elementwise step down nk rows on w lanes (see
	// attnGradTGeneric).
	grad func(st, dp, sds []float32, stride, nk, w int, vec []float32)
	// pack: dst[c*w+r] = src[r*stride+c] for r < n, c < d (a multiple of
	// 8), and 0 for n <= r < w.
	pack func(dst, src []float32, stride, n, d, w int)
}

var attnShortGeneric = attnShortKernels{gemm: attnGemmGeneric, softmax: attnSoftmaxTGeneric, grad: attnGradTGeneric,
	pack: func(dst, src []float32, stride, n, d, w int) { attnPackTWRows(dst, src, stride, 0, n, d, w) }}

// attnPackTWRows writes rows [r0, n) of src (row stride stride, d columns)
// into dst transposed, dst[c*w+r], and zeroes lanes n <= r < w.
func attnPackTWRows(dst, src []float32, stride, r0, n, d, w int) {
	for c := 0; c < d; c++ {
		clear(dst[c*w+n : (c+1)*w])
	}
	for r := r0; r < n; r++ {
		for c, x := range src[r*stride:][:d] {
			dst[c*w+r] = x
		}
	}
}

func attnGemmGeneric(c []float32, cs int, a []float32, ai, aj int, b []float32, bs, m, n, k int, accum bool) {
	for i := 0; i < m; i++ {
		row := c[i*cs:][:n]
		if !accum {
			clear(row)
		}
		for j := 0; j < k; j++ {
			x := a[i*ai+j*aj]
			for c, y := range b[j*bs:][:n] {
				row[c] += x * y
			}
		}
	}
}

// attnSoftmaxTGeneric: per lane l < w, with s = vec[l] and x_j = st[j*stride+l]:
// z_j = s*x_j, m = max_j z_j, p_j = exp(z_j - m), l = sum_j p_j in key order,
// st_j = p_j * (1/l); vec[w+l] = m, vec[2w+l] = l.
func attnSoftmaxTGeneric(st []float32, stride, nk, w int, vec []float32) {
	for l := 0; l < w; l++ {
		s, mx := vec[l], float32(math.Inf(-1))
		for j := 0; j < nk; j++ {
			z := s * st[j*stride+l]
			st[j*stride+l] = z
			mx = max(mx, z)
		}
		var sum float32
		for j := 0; j < nk; j++ {
			p := attnExp32(st[j*stride+l] - mx)
			st[j*stride+l] = p
			sum += p
		}
		r := 1 / sum
		for j := 0; j < nk; j++ {
			st[j*stride+l] *= r
		}
		vec[w+l], vec[2*w+l] = mx, sum
	}
}

// attnGradTGeneric: per lane l < w, with s, lse, D = vec rows 0, 1, 2 (w floats
// each), x_j = st row j and dP_j = dp row j: p = exp(s*x - lse),
// dS = p*(dP - D); st_j = p, dp_j = dS, sds_j = s*dS, and vec rows 3..6 +=
// dS*x, dS, p*x, p in key order.
func attnGradTGeneric(st, dp, sds []float32, stride, nk, w int, vec []float32) {
	for l := 0; l < w; l++ {
		s, lse, dsum := vec[l], vec[w+l], vec[2*w+l]
		a, b, c, e := vec[3*w+l], vec[4*w+l], vec[5*w+l], vec[6*w+l]
		for j := 0; j < nk; j++ {
			o := j*stride + l
			x := st[o]
			p := float32(math.Exp(float64(s)*float64(x) - float64(lse)))
			ds := p * (dp[o] - dsum)
			a += ds * x
			b += ds
			c += p * x
			e += p
			st[o], dp[o], sds[o] = p, ds, s*ds
		}
		vec[3*w+l], vec[4*w+l], vec[5*w+l], vec[6*w+l] = a, b, c, e
	}
}
